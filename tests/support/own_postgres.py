"""A PostgreSQL cluster of the test's own (Debian's pg_createcluster, on a free 127.0.0.1 port), so a test may
crash and restart its database. The machine's own server is never touched; the cluster is dropped after."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.runtime import free_port


def postgres_version() -> str:
    versions = sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    if not versions:
        raise RuntimeError("no PostgreSQL cluster configuration under /etc/postgresql (Debian's postgresql package)")
    return versions[-1].name


@dataclass
class OwnPostgres:
    version: str
    name: str
    port: int

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/parley"

    def _ctl(self, *args: str) -> None:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, *args],
                       check=True, capture_output=True, timeout=120)

    def crash(self) -> None:
        """As a power cut would: no checkpoint, every connection dropped."""
        self._ctl("stop", "-m", "immediate")

    def start(self) -> None:
        self._ctl("start")


@contextlib.contextmanager
def own_postgres(**configuration: str) -> Iterator[OwnPostgres]:
    """`configuration`: postgresql.conf settings of the new cluster (e.g. max_connections="300")."""
    cluster = OwnPostgres(version=postgres_version(), name=f"parley_{secrets.token_hex(4)}", port=free_port())
    options = [f"--pgoption={name}={value}" for name, value in configuration.items()]
    subprocess.run(["pg_createcluster", cluster.version, cluster.name, "-p", str(cluster.port), *options, "--start",
                    "--", "--auth=trust"], check=True, capture_output=True, timeout=180)
    try:
        yield cluster
    finally:
        subprocess.run(["pg_dropcluster", "--stop", cluster.version, cluster.name], capture_output=True, timeout=180)
