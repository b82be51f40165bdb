"""The conversations service."""
