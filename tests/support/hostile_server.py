"""A server on 127.0.0.1 that answers every HTTP request with a 200 whose body never ends, and counts the
body bytes it got out before the caller dropped the connection.

Its own buffers are kept small (an 8 KiB socket send buffer, an 8 KiB write buffer, 8 KiB writes), so the
count is what the caller was sent, give or take a few of those: a caller that reads whatever it is given
is seen reading gigabytes; one that stops at a limit is seen stopping there.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field

CHUNK = b"x" * 8192
CLAIMED_LENGTH = 400 * 1024 * 1024  # what the answer says it will send: 400 MB


@dataclass
class Answer:
    """One endless answer: the request line it answered, the body bytes sent, and whether the caller hung up."""

    request_line: str
    sent: int = 0
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class EndlessAnswers:
    answers: list[Answer] = field(default_factory=list)
    port: int = 0
    content_type: str = "application/octet-stream"
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()

    async def first_hung_up(self, timeout: float = 30.0) -> Answer:
        """The first answer, once its caller has dropped the connection."""
        await asyncio.wait_for(self._arrived.wait(), timeout)
        await asyncio.wait_for(self.answers[0].hung_up.wait(), timeout)
        return self.answers[0]

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, len(CHUNK))
        writer.transport.set_write_buffer_limits(high=len(CHUNK))
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        answer = Answer(request_line=head.split(b"\r\n", 1)[0].decode(errors="replace"))
        self.answers.append(answer)
        self._arrived.set()
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        try:
            await reader.readexactly(length)
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\n"
                         f"Content-Length: {CLAIMED_LENGTH}\r\n\r\n".encode())
            while answer.sent < CLAIMED_LENGTH:
                writer.write(CHUNK)
                await writer.drain()
                answer.sent += len(CHUNK)
                await asyncio.sleep(0.0005)  # a fast sender, and still slower than a caller that reads
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            answer.hung_up.set()
            with contextlib.suppress(ConnectionError):
                writer.close()
