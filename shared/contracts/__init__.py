"""Message contracts: pydantic models of every broker message, grouped by the producing service."""
