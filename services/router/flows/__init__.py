"""Studio-like flows (`/parley/v1/Flows`): their definition, templating and execution."""
