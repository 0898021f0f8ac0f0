"""`studio-tui serve`: the terminal UI in a web browser, through textual-serve.

Each browser tab that connects gets its own `python -m studio_tui` process, with the
environment of this one (plus `env`). There is no login on the page in local mode, so the
server binds to loopback unless told otherwise, and refuses pages from other sites.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from studio_tui.services.errors import ConfigError, ConflictError, ValidationError

if TYPE_CHECKING:
    from aiohttp import web

TITLE = "studio-tui"
# Set for the apps the server starts: the server's process id (see `end_with_server`).
SERVER_PID_ENV = "STUDIO_TUI_SERVED_BY"
TEMPLATES = Path(__file__).parent / "templates"
# How long the app processes get to quit once the server is stopping.
APP_QUIT_SECONDS = 5.0
REMOTE_WARNING = (
    "studio-tui: warning: serving on {where}, beyond this machine. In local mode the page has "
    "no login of its own: anyone who reaches this port gets the app, with this user's saved "
    "connections. In team mode, the sign-in still applies."
)


def serve(*, host: str = "127.0.0.1", port: int = 8000, allow_remote: bool = False,
          app_args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
    """Serve `python -m studio_tui <app_args>` on http://host:port until ctrl+c (or SIGTERM).

    Raises ValidationError for a bad host or port, or a non-loopback host without
    `allow_remote`; ConflictError when the port is taken; ConfigError without textual-serve."""
    try:
        from textual_serve.server import Server  # noqa: F401
    except ImportError:
        raise ConfigError(
            "serving in a browser needs textual-serve: pip install 'studio-tui[serve]'") from None
    loopback = _check_host(host, allow_remote)
    _check_port(port)
    listeners = _listen(host, port)
    if not loopback:
        print(REMOTE_WARNING.format(where=_url(_reachable_name(host), port)), file=sys.stderr)
    # textual-serve runs it through `sh -c`: exec leaves one process per tab, not two.
    command = "exec " + shlex.join([sys.executable, "-m", "studio_tui", *app_args])
    server = _make_server(command, host, listeners, loopback=loopback)
    with _environment({**(env or {}), SERVER_PID_ENV: str(os.getpid())}):
        server.serve_on(listeners)


def end_with_server() -> None:
    """In an app that `serve` started: end when the server is gone, even killed outright,
    rather than hold database connections for a tab nobody can reach any more."""
    served_by = os.environ.pop(SERVER_PID_ENV, None)
    if not served_by or not served_by.isdigit():
        return

    def watch() -> None:
        # The app is the server's child (sh execs it); an orphan gets a new parent.
        while os.getppid() == int(served_by):
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="end-with-server", daemon=True).start()


def _check_host(host: str, allow_remote: bool) -> bool:
    """Whether `host` is loopback only; refuses what cannot be bound, and remote binds
    unless allowed."""
    if not host or host != host.strip():
        raise ValidationError("give --host an address, such as 127.0.0.1 (this machine only) "
                              "or 0.0.0.0 (every interface)", field_errors={"host": "empty"})
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        raise ValidationError(f"--host {host!r} is neither an address nor a name this machine "
                              f"resolves ({error})", field_errors={"host": "unknown"}) from None
    loopback = all(_is_loopback(str(info[4][0])) for info in infos)
    if not loopback and not allow_remote:
        raise ValidationError(
            f"--host {host} is reachable from other machines, and the page has no login of "
            "its own in local mode: anyone who reaches it gets your saved connections. Add "
            "--allow-remote to do it anyway, or keep 127.0.0.1 and reach it through an SSH "
            "tunnel (ssh -L 8000:127.0.0.1:8000 this-machine)",
            field_errors={"host": "not loopback"})
    return loopback


def _is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback


def _check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValidationError(f"--port {port} is not a TCP port (1 to 65535)",
                              field_errors={"port": "out of range"})


def _listen(host: str, port: int) -> list[socket.socket]:
    """Bind every address `host` names before anything is printed, so a taken port is one
    clear line rather than a traceback after a banner."""
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
            listener = socket.socket(family, kind, proto)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # "localhost" names both ::1 and 127.0.0.1: each gets its own socket.
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind(address)
            listener.listen(128)
            listener.setblocking(False)
    except OSError as error:
        for listener in listeners:
            listener.close()
        where = _url(host, port)
        if error.errno == errno.EADDRINUSE:
            raise ConflictError(f"{where} is in use by another program; choose another "
                                "--port") from None
        if error.errno == errno.EACCES:
            raise ValidationError(f"{where}: ports below 1024 need administrator rights; "
                                  "choose --port 1024 or above",
                                  field_errors={"port": "privileged"}) from None
        raise ValidationError(f"cannot listen on {where}: {error.strerror}",
                              field_errors={"host": error.strerror or "bind failed"}) from None
    return listeners


def _url(host: str, port: int) -> str:
    return f"http://{_bracketed(host)}:{port}"


def _reachable_name(host: str) -> str:
    """What to open for `host`: 0.0.0.0 and :: are every interface, not an address to visit."""
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_unspecified:
            return socket.gethostname()
    return host


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextlib.contextmanager
def _environment(extra: Mapping[str, str]) -> Iterator[None]:
    """textual-serve starts each app with a copy of this process's environment."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _make_server(command: str, host: str, listeners: list[socket.socket], *, loopback: bool):
    from aiohttp import web
    from textual_serve.server import Server

    ports = {listener.getsockname()[1] for listener in listeners}
    # What a browser on this machine may call a loopback server (its Host header); any
    # other name is a DNS-rebinding page.
    local_names = {"localhost", "127.0.0.1", "[::1]", _bracketed(host)}
    local_hosts = {f"{name}:{port}" for name in local_names for port in ports}
    if 80 in ports:  # a browser leaves the default port out of Host
        local_hosts |= local_names

    class StudioServer(Server):
        """textual-serve's server, with a page whose addresses are relative (textual-serve
        builds them from the bind address: wrong for 0.0.0.0, a name, or behind a TLS proxy)
        and makes no third-party requests, origin checks on the websocket, and a prompt stop."""

        def __init__(self) -> None:
            super().__init__(command, host=host, port=min(ports), title=TITLE,
                             templates_path=TEMPLATES)
            self.public_url = _url(_reachable_name(host), min(ports))
            # Each open tab: its request, and the task that relays it to its app process.
            self.sessions: dict[asyncio.Task[Any], web.Request] = {}

        def initialize_logging(self) -> None:
            pass  # studio-tui's own logging is configured already

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self.guard)
            return app

        @web.middleware
        async def guard(self, request: web.Request, handler) -> web.StreamResponse:
            if loopback and request.host not in local_hosts:
                raise web.HTTPMisdirectedRequest(
                    text=f"studio-tui serves this machine only: open {self.public_url}\n")
            if request.path == "/ws":
                origin = request.headers.get("Origin")
                # Browsers always send Origin on a websocket; a page from another site must
                # not drive the app with this user's connections.
                if origin is not None and urlsplit(origin).netloc != request.host:
                    raise web.HTTPForbidden(text="websocket from another origin refused\n")
                task = asyncio.current_task()
                assert task is not None
                self.sessions[task] = request
                try:
                    return await handler(request)
                finally:
                    del self.sessions[task]
            return await handler(request)

        async def handle_index(self, request: web.Request) -> web.Response:
            import aiohttp_jinja2

            context = {"title": TITLE,
                       "font_size": _font_size(request.query.get("fontsize"))}
            return aiohttp_jinja2.render_template("serve.html", request, context)

        async def on_startup(self, app: web.Application) -> None:
            where = " (every interface)" if _reachable_name(host) != host else ""
            print(f"studio-tui: serving on {self.public_url}{where}; ctrl+c stops it",
                  flush=True)

        async def on_shutdown(self, app: web.Application) -> None:
            # A tab whose connection drops tells its app to quit, as when it is closed. Without
            # this the server would wait for every open tab to close.
            for request in self.sessions.values():
                if request.transport is not None:
                    request.transport.close()
            if self.sessions:
                await asyncio.wait(list(self.sessions), timeout=APP_QUIT_SECONDS)
            for task in list(self.sessions):
                task.cancel()

        def serve_on(self, sockets: list[socket.socket]) -> None:
            loop = asyncio.new_event_loop()
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                # Not possible off the main thread: ctrl+c then ends it as KeyboardInterrupt.
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, self.request_exit)
            try:
                # run_app closes the loop, and its signal handlers with it.
                web.run_app(self._make_app(), sock=sockets, handle_signals=False, loop=loop,
                            print=None, access_log=None, shutdown_timeout=APP_QUIT_SECONDS)
            finally:
                asyncio.set_event_loop(None)

    return StudioServer()


def _font_size(text: str | None) -> int:
    try:
        return max(6, min(int(text or 16), 48))
    except ValueError:
        return 16
