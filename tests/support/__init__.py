"""Test support: real infrastructure, Parley on a free port, HTTP servers standing in for the outside world."""
