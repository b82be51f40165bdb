"""Parley's four services; `python -m services` runs all of them in one process."""
