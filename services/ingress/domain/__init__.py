"""Ingress rules as plain Python: provider connections and how providers' messages read."""
