"""A RabbitMQ node of the test's own (on free 127.0.0.1 ports, its data in a temporary directory), so a test may
stop its broker or stop it from confirming. The machine's own node is never touched; the node is stopped after.

Run as the `rabbitmq` user (the packaged scripts switch to it), so it shares that user's Erlang cookie with
`rabbitmqctl`; its own config file, since the machine's names the machine's port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from shared.runtime import free_port

START_TIMEOUT_SECONDS = 120.0


@dataclass
class OwnRabbitMQ:
    node: str
    port: int
    directory: Path
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["rabbitmqctl", "-n", self.node, *args], check=check, capture_output=True, text=True,
                              timeout=120)

    def refuse_publishes(self) -> None:
        """A memory alarm at once: the node blocks every publishing connection, so no publish is confirmed
        (the connection stays up; what was sent waits in it)."""
        self.ctl("set_vm_memory_high_watermark", "0")

    def take_publishes(self) -> None:
        self.ctl("set_vm_memory_high_watermark", "0.4")

    def start(self) -> None:
        """Start the node (again: its queues and messages are kept in its directory) and wait until it runs."""
        subprocess.run(["rabbitmq-server", "-detached"], env=self.environment, check=True, capture_output=True,
                       timeout=60)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        # `-detached` returns before the node is known to epmd, when await_startup fails at once: ask again.
        while self.ctl("await_startup", "--timeout", "30", check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ node {self.node} did not start; logs in {self.directory / 'log'}")
            time.sleep(0.5)

    def stop(self) -> None:
        self.ctl("stop", check=False)


def _environment(directory: Path, node: str, port: int) -> dict[str, str]:
    (directory / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{port}\n")
    (directory / "rabbitmq-env.conf").write_text("")
    (directory / "enabled_plugins").write_text("[].\n")  # no management plugin: its port is the machine node's
    return {
        **os.environ,
        "RABBITMQ_NODENAME": node, "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_DIST_PORT": str(free_port()),
        "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"), "RABBITMQ_LOG_BASE": str(directory / "log"),
        "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
        "RABBITMQ_CONF_ENV_FILE": str(directory / "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(directory / "pid"),
    }


@contextlib.contextmanager
def own_rabbitmq() -> Iterator[OwnRabbitMQ]:
    port = free_port()
    broker = OwnRabbitMQ(node=f"parley-test-{port}@localhost", port=port,
                         directory=Path(tempfile.mkdtemp(prefix="parley-rabbitmq-")))
    try:
        broker.environment = _environment(broker.directory, broker.node, port)
        if os.geteuid() == 0:  # the scripts will run the node as `rabbitmq`
            for path in [broker.directory, *broker.directory.iterdir()]:
                shutil.chown(path, "rabbitmq", "rabbitmq")
        broker.start()
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.directory, ignore_errors=True)
