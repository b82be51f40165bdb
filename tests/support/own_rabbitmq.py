"""A RabbitMQ node of the test's own (the machine's rabbitmq-server package, on free 127.0.0.1 ports, its data and
logs in a temporary directory), so a test may kill -9 its broker and start it again. The machine's own node is
never touched: ours has its own node name (registered with the shared epmd under it), its own ports, its own
Erlang cookie (HOME is the temporary directory) and no plugins; it is stopped and its directory removed after."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.runtime import free_port

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
BOOT_TIMEOUT_SECONDS = 120


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@dataclass
class OwnRabbitMQ:
    port: int
    dist_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def node(self) -> str:
        return f"parley-chaos-{self.port}@localhost"

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _environment(self) -> dict[str, str]:
        home = self.directory
        return {
            **{key: value for key, value in os.environ.items() if not key.startswith(("RABBITMQ_", "ERL_"))},
            "HOME": str(home),  # the Erlang cookie of this node and of the rabbitmqctl that talks to it
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(home / "log"),
            "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),  # not the machine's /etc/rabbitmq one
            "RABBITMQ_PID_FILE": str(home / "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args], env=self._environment(),
                              capture_output=True, timeout=timeout)

    def write_configuration(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            "log.file.level = warning\n"
            "log.console = false\n")
        (self.directory / "enabled_plugins").write_text("[].\n")  # no management or prometheus listeners
        (self.directory / "rabbitmq-env.conf").write_text("")

    def start(self) -> None:
        """Boot the node (on the data it kept, after a kill) and wait until it serves AMQP."""
        log = (self.directory / "server.out").open("ab")
        self.process = subprocess.Popen([str(RABBITMQ_BIN / "rabbitmq-server")], env=self._environment(), cwd=self.directory,
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited ({self.process.returncode}); see {self.directory}/server.out")
            if _answers(self.port):  # the AMQP listener opens once the node has booted
                return
            time.sleep(0.2)
        raise RuntimeError(f"RabbitMQ node {self.node} did not boot in {BOOT_TIMEOUT_SECONDS}s")

    def _beam_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.directory / "rabbitmq.pid").read_text().strip())
        return None

    def kill(self) -> None:
        """kill -9 of the Erlang VM itself (the script around it then exits): no clean shutdown of anything."""
        pid = self._beam_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        (self.directory / "rabbitmq.pid").unlink(missing_ok=True)
        deadline = time.monotonic() + 30
        while _answers(self.port) and time.monotonic() < deadline:  # the VM dies a moment after the signal
            time.sleep(0.05)

    def refuse_publishes(self) -> None:
        """A memory alarm at once: the node blocks every publishing connection, so no publish is confirmed."""
        self.ctl("set_vm_memory_high_watermark", "0")

    def take_publishes(self) -> None:
        self.ctl("set_vm_memory_high_watermark", "0.4")

    def stop(self) -> None:
        if self.ctl("stop", timeout=60).returncode != 0:
            self.kill()
        elif self.process is not None:
            self.process.wait(timeout=30)


@contextlib.contextmanager
def own_rabbitmq() -> Iterator[OwnRabbitMQ]:
    directory = Path(tempfile.mkdtemp(prefix="parley-own-rabbitmq-node-"))
    node = OwnRabbitMQ(port=free_port(), dist_port=free_port(), directory=directory)
    node.write_configuration()
    try:
        node.start()
        yield node
    finally:
        with contextlib.suppress(Exception):
            node.stop()
        shutil.rmtree(directory, ignore_errors=True)
