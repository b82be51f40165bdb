"""How many realtime WebSockets one client may hold open at once, in one ingress replica.

Two caps, each a count of the sockets open now (not a rate): per identity of an account, from the moment
a socket authenticates, and per client address, from the moment its handshake arrives, so that sockets
which never authenticate count against the address that opened them.

Per identity rather than per token: a token is cheap to replace (the web-chat widget and the desk refresh
theirs before they expire, and a guest may ask for more), so a cap per token would grow with every refresh;
an identity is the person, whose tabs all count together, whichever tokens they carry.

Counts are kept in memory, per replica: behind a load balancer spreading over N replicas, a client may hold
up to N times a cap in all. They are a brake on floods, not an accounting.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class OpenSockets(Generic[K]):
    """The sockets open now per key; one more is admitted only below `cap`."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: dict[K, int] = {}

    def admit(self, key: K) -> bool:
        """Counts one more socket for `key`, or answers False (and counts nothing) when it holds `cap`."""
        held = self._open.get(key, 0)
        if held >= self.cap:
            return False
        self._open[key] = held + 1
        return True

    def release(self, key: K) -> None:
        """One socket of `key` closed; a key with none left is forgotten, so the table never outgrows the sockets."""
        held = self._open.get(key, 0) - 1
        if held > 0:
            self._open[key] = held
        else:
            self._open.pop(key, None)
