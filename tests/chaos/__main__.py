"""`make chaos`: the full chaos run (every fault, 20 to 30 minutes) on a cluster of its own; prints the table and
exits 1 when anything was lost, repeated, reordered or parked. `--short` runs the plan `make test` runs."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tests.chaos.faults import FULL, SHORT
from tests.chaos.run import run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the short plan (one kill -9, one PostgreSQL crash)")
    parser.add_argument("--directory", type=Path, help="where the processes' logs go (default: a new temporary one)")
    args = parser.parse_args()
    directory = args.directory or Path(tempfile.mkdtemp(prefix="parley-chaos-"))
    print(f"logs in {directory}", flush=True)
    outcome = asyncio.run(run_chaos(SHORT if args.short else FULL, directory,
                                    say=lambda line: print(line, flush=True)))
    report = outcome.render()
    (directory / "table.md").write_text(report + "\n")
    print(report)
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
