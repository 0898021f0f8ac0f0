"""A TCP proxy that injects network faults between the app and a real server.

It listens on a free loopback port and forwards to the server, in a thread with its own event
loop: it keeps working while the app's loop is busy, and a blackhole holds whatever the app does.
Every control applies at once, to open connections as well as to new ones:

- ``delay(seconds)``: each chunk waits that long before it is forwarded, each way;
- ``bandwidth(bytes_per_second)``: forwarding is paced to that rate, each way;
- ``reset()``: every open connection is reset (RST, through SO_LINGER 0), both sides;
- ``blackhole()``: sockets are accepted and kept, nothing is forwarded (held, as an unplugged
  network cable would);
- ``close_after(n)``: a connection is closed once ``n`` more bytes went through it in either
  direction (counted per connection and direction, from the moment of the call);
- ``refuse()``: the listening socket closes, so new connections are refused (ECONNREFUSED);
- ``normal()``: all of the above undone (held bytes flow again, the port listens again).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

HOST = "127.0.0.1"
CHUNK = 65536


@dataclass
class _Faults:
    delay: float = 0.0
    bandwidth: float = 0.0  # bytes per second; 0 is unlimited
    blackhole: bool = False
    close_after: int | None = None
    refuse: bool = False


@dataclass(eq=False)
class _Link:
    """One proxied connection: the app's side and the server's side."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    counted: list[int] = field(default_factory=lambda: [0, 0])  # bytes since close_after
    tasks: list[asyncio.Task] = field(default_factory=list)

    def writers(self) -> Iterator[asyncio.StreamWriter]:
        yield self.client
        if self.server is not None:
            yield self.server


def _rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.faults = _Faults()
        self.accepted = 0  # connections accepted so far
        self.forwarded = [0, 0]  # bytes app → server, server → app
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy",
                                        daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._changed: asyncio.Event | None = None

    # -- life cycle (from the test's thread) -----------------------------------------------
    @classmethod
    def to(cls, url: str) -> "FaultProxy":
        """A started proxy to the server ``url`` names."""
        parts = urlsplit(url)
        return cls(parts.hostname or HOST, parts.port or 0).start()

    def start(self) -> "FaultProxy":
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's (credentials, path and query
        kept)."""
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@{HOST}:{self.port}" if auth else f"{HOST}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    @property
    def open_connections(self) -> int:
        return len(self._links)

    # -- controls --------------------------------------------------------------------------
    def delay(self, seconds: float) -> None:
        self._set(delay=seconds)

    def bandwidth(self, bytes_per_second: float) -> None:
        self._set(bandwidth=bytes_per_second)

    def blackhole(self, on: bool = True) -> None:
        self._set(blackhole=on)

    def close_after(self, n: int) -> None:
        def restart_counts() -> None:
            for link in self._links:
                link.counted = [0, 0]
        self._call(self._apply(restart_counts, close_after=n))

    def refuse(self, on: bool = True) -> None:
        self._set(refuse=on)

    def reset(self) -> None:
        """RST every open connection (new ones are accepted as usual)."""
        def reset_all() -> None:
            for link in list(self._links):
                self._drop(link, rst=True)
        self._call(self._apply(reset_all))

    def normal(self) -> None:
        self._set(**vars(_Faults()))

    # -- inside the proxy's loop -----------------------------------------------------------
    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def _set(self, **faults) -> None:
        self._call(self._apply(None, **faults))

    async def _apply(self, then, **faults) -> None:
        for name, value in faults.items():
            setattr(self.faults, name, value)
        if then is not None:
            then()
        if self.faults.refuse and self._server is not None:
            self._server.close()
            self._server = None
        elif not self.faults.refuse and self._server is None:
            await self._listen()
        self._changed.set()
        self._changed = asyncio.Event()

    async def _listen(self) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        self._server = await asyncio.start_server(self._accept, HOST, self.port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            self._drop(link, rst=False)
        tasks = [task for link in self._links for task in link.tasks]
        for task in tasks:
            task.cancel()

    async def _until_changed(self) -> None:
        await self._changed.wait()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(writer, tasks=[asyncio.current_task()])
        self._links.add(link)
        try:
            while self.faults.blackhole:  # accepted and kept, not even connected onwards
                await self._until_changed()
            if link not in self._links:
                return
            try:
                server_reader, link.server = await asyncio.open_connection(*self.target)
            except OSError:
                self._drop(link, rst=True)  # the server is down: so is this connection
                return
            if link not in self._links:  # reset while connecting
                _rst(link.server)
                return
            upstream = asyncio.create_task(self._pump(link, reader, link.server, 0))
            link.tasks.append(upstream)
            await self._pump(link, server_reader, writer, 1)
            await upstream
        except asyncio.CancelledError:
            pass
        finally:
            self._drop(link, rst=False)

    async def _pump(self, link: _Link, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter, direction: int) -> None:
        faults = self.faults
        try:
            while link in self._links:
                while faults.blackhole:
                    await self._until_changed()
                size = CHUNK if not faults.bandwidth else max(1, int(faults.bandwidth / 20))
                data = await reader.read(size)
                if not data:
                    break
                while data and link in self._links:
                    while faults.blackhole:  # read before the hole opened: held
                        await self._until_changed()
                    if faults.delay:
                        await asyncio.sleep(faults.delay)
                    piece = data
                    if faults.close_after is not None:
                        piece = data[:max(0, faults.close_after - link.counted[direction])]
                    if faults.bandwidth:
                        piece = piece[:max(1, int(faults.bandwidth / 20))]
                    if piece:
                        # Counted before it is sent: a test reading the count after the other
                        # end got the bytes must see them.
                        link.counted[direction] += len(piece)
                        self.forwarded[direction] += len(piece)
                        writer.write(piece)
                        await writer.drain()
                        data = data[len(piece):]
                    if faults.close_after is not None and \
                            link.counted[direction] >= faults.close_after:
                        self._drop(link, rst=False)
                        return
                    if faults.bandwidth and piece:
                        await asyncio.sleep(len(piece) / faults.bandwidth)
        except (ConnectionError, OSError):
            pass
        finally:
            # One side ended: end the other (half-open connections confuse drivers less than
            # they confuse tests).
            self._drop(link, rst=False)

    def _drop(self, link: _Link, *, rst: bool) -> None:
        if link not in self._links:
            return
        self._links.discard(link)
        for writer in link.writers():
            if rst:
                _rst(writer)
            else:
                with contextlib.suppress(Exception):
                    writer.close()
        current = asyncio.current_task()
        for task in link.tasks:
            if task is not current:
                task.cancel()
