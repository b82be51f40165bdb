"""All SQL of the router, one module per resource; functions never open or commit a transaction."""
