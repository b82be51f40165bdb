"""Accounts, subaccounts and HTTP Basic auth: the one schema every service reads."""
