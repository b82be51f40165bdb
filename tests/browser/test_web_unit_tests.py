"""The web apps' own unit tests (vitest, pure TypeScript helpers) run with the Python suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"


def test_vitest_unit_tests_pass() -> None:
    vitest = WEB / "node_modules" / ".bin" / "vitest"
    if shutil.which("node") is None or not vitest.exists():
        pytest.fail("web dependencies not installed: run make web")
    run = subprocess.run([str(vitest), "run", "--reporter=dot"], cwd=WEB, capture_output=True, text=True, timeout=120,
                         env={"PATH": f"{WEB / 'node_modules' / '.bin'}:/usr/local/bin:/usr/bin:/bin", "CI": "1",
                              "NO_COLOR": "1"})
    assert run.returncode == 0, run.stdout + run.stderr
