"""Plumbing every Parley service needs: contracts, settings, auth, broker and database. No business rules."""
