"""Runs all four services in one process on one port: the same as `parley run` (what `make run` uses)."""

import sys

from shared.cli import main

if __name__ == "__main__":
    sys.exit(main(["run"]))
