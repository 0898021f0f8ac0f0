"""Opening a database, by every path, in the running app: from the keypress to its first content
on screen, against pushing an empty screen in the same app, in the same run.

    python benchmarks/open.py [--keys 1000000] [--rounds 5] [--kinds redis,mongodb,postgres]

The app runs in a real tmux pty at 120x40 (keys sent with send-keys, the screen read with
capture-pane every 5 ms, so the reading costs the app nothing). It starts warm: the databases
list on screen, which imports the drivers ahead. Each kind has one entry per path, all on one
server started here, so each path's first open is also its entry's first use (a new pool).
Paths:

- row: `enter` on the entry's row of the databases list (found with the list's `/` filter);
- open: `enter` on `:open <entry>` typed in the command bar;
- palette: `enter` on the entry picked in the command palette (ctrl+p).

"First content" is a marker on screen: a key of the first SCAN page for Redis, the server's round
trip for kinds whose browser is still the connection overview. The floor is `f12` pushing an
empty screen (a binding this script adds to the same app). Prints, per kind and path, the first
open and the median of the later ones (pool already open), in ms and as a ratio to the floor.
The goal is every path at or under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent.parent / "tests"))

PATHS = ("row", "open", "palette")
GOAL_MS = 300.0
FLOOR_MARKER = "EMPTY-SCREEN-MARKER"
LIST_MARKER = "All databases"


def serve() -> None:
    """The app as `studio-tui` runs it, plus `f12` to push an empty screen (the floor)."""
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets import Static

    from studio_tui.app import make_app
    from studio_tui.services.settings import Settings

    class EmptyScreen(Screen[None]):
        BINDINGS = [Binding("escape", "app.pop_screen")]

        def compose(self):
            yield Static(FLOOR_MARKER)

    app = make_app(Settings.load(os.environ), os.environ)
    app.bind("f12", "push_screen('empty')")
    app.install_screen(EmptyScreen(), "empty")
    app.run()


class Pane:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.name = f"open-bench-{os.getpid()}"
        launch = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + \
            shlex.join(command)
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "40",
                        launch], check=True)

    def text(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name],
                              capture_output=True, text=True).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []),
                        *keys], check=True)

    def wait(self, marker: str, *, gone: bool = False, limit: float = 30.0) -> float:
        started = time.perf_counter()
        while (marker in self.text()) == gone:
            if time.perf_counter() - started > limit:
                raise SystemExit(f"{marker!r} {'still' if gone else 'not'} on screen after "
                                 f"{limit}s:\n{self.text()}")
            time.sleep(0.005)
        return (time.perf_counter() - started) * 1000

    def timed(self, key: str, marker: str) -> float:
        started = time.perf_counter()
        self.keys(key)
        while marker not in self.text():
            if time.perf_counter() - started > 30:
                raise SystemExit(f"{marker!r} not on screen after 30s:\n{self.text()}")
            time.sleep(0.005)
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def open_by(pane: Pane, path: str, name: str, marker: str) -> float:
    if path == "row":
        pane.keys("/")
        pane.wait("filter…")
        pane.keys(name, literal=True)
        pane.keys("Enter")  # ends the filter; the cursor is on the one row left
        time.sleep(0.3)
    elif path == "open":
        pane.keys(":")
        pane.wait(":dbs")  # the command bar's placeholder
        pane.keys(f"open {name}", literal=True)
        time.sleep(0.3)
    else:
        pane.keys("C-p")
        time.sleep(0.3)
        pane.keys(name, literal=True)
        pane.wait(f"Database {name}")
        time.sleep(0.3)
    ms = pane.timed("Enter", marker)
    time.sleep(0.5)  # let the rest of the screen (details, values) settle
    pane.keys("Escape")
    pane.wait(LIST_MARKER)
    pane.wait(marker, gone=True)
    if path == "row":
        pane.keys("Escape")  # clears the filter
        time.sleep(0.3)
    return ms


def measure(urls: dict, rounds: int) -> dict:
    from ui import seed

    results: dict = {}
    with tempfile.TemporaryDirectory() as home:
        entries = [(f"{kind}-{path}", url) for kind, (url, _) in urls.items() for path in PATHS]
        asyncio.run(seed(Path(home), {"Bench": {"bench": entries}}))
        env = {"STUDIO_TUI_HOME": home, "PATH": os.environ["PATH"], "TERM": "xterm-256color",
               "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        (Path(home) / "config").mkdir(exist_ok=True)
        (Path(home) / "config" / "settings.toml").write_text(
            "[connections]\ncheck_on_list = false\n")
        pane = Pane([sys.executable, os.environ.get("OPEN_BENCH_SERVE", str(HERE)), "--serve"], env)
        try:
            pane.wait("(personal)")
            pane.keys(":")
            pane.wait(":dbs")
            pane.keys("dbs", literal=True)
            pane.keys("Enter")
            pane.wait(LIST_MARKER)
            time.sleep(1.5)  # the drivers are imported ahead while the list shows
            floor = []
            for _ in range(rounds):
                floor.append(pane.timed("F12", FLOOR_MARKER))
                pane.keys("Escape")
                pane.wait(FLOOR_MARKER, gone=True)
            results["floor"] = statistics.median(floor)
            for kind, (_, marker) in urls.items():
                for path in PATHS:
                    times = [open_by(pane, path, f"{kind}-{path}", marker) for _ in range(rounds)]
                    print(f"  {kind} {path}: {', '.join(f'{t:.0f}' for t in times)} ms",
                          file=sys.stderr)
                    results[(kind, path)] = (times[0], statistics.median(times[1:] or times))
        finally:
            pane.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", default="redis,mongodb,postgres")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    import realservers

    kinds = args.kinds.split(",")
    servers, urls = [], {}
    try:
        if "redis" in kinds:
            server = realservers.start_redis(extra=["--enable-debug-command", "yes"])
            servers.append(server)
            import redis

            with redis.Redis.from_url(server.url) as client:
                client.execute_command("DEBUG", "POPULATE", args.keys, "key")
            urls["redis"] = (server.url, "key:")  # any key of the first page
        if "mongodb" in kinds:
            servers.append(realservers.start_mongo())
            urls["mongodb"] = (servers[-1].url, "Round trip")
        if "postgres" in kinds:
            servers.append(realservers.start_postgres())
            urls["postgres"] = (servers[-1].url, "Round trip")
        results = measure(urls, args.rounds)
    finally:
        for server in servers:
            server.stop()
    floor = results.pop("floor")
    print(f"empty screen pushed (the floor): {floor:.0f} ms")
    print(f"{'kind':<9} {'path':<8} {'first open':>19} {'later (median)':>21}   goal ≤ "
          f"{GOAL_MS:.0f} ms")
    worst = 0.0
    for (kind, path), (first, later) in results.items():
        worst = max(worst, first, later)
        print(f"{kind:<9} {path:<8} {first:>8.0f} ms ({first / floor:4.1f}x) "
              f"{later:>9.0f} ms ({later / floor:4.1f}x)")
    print(f"slowest: {worst:.0f} ms · {'met' if worst <= GOAL_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
