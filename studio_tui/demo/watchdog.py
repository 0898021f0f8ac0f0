"""The demo's last line of defence: a process of its own that waits for the demo to end, however
it ends (a SIGKILL included), then kills what is left of the demo's servers and deletes the
demo's temp dir. The demo holds the write end of a pipe on its standard input: end of file means
the demo has gone. Run as ``python -m studio_tui.demo.watchdog BASE_DIR [--keep]``."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path


def processes_using(base: Path) -> list[int]:
    """Processes whose command line names ``base`` (each demo server names its work dir)."""
    marker = os.fsencode(str(base))
    found: list[int] = []
    if not Path("/proc").is_dir():  # not Linux: the servers' own parent-death handling only
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def clean_up(base: Path, *, keep: bool, wait: float = 5.0) -> None:
    deadline = time.monotonic() + wait
    while (pids := processes_using(base)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    while not keep and base.exists() and time.monotonic() < deadline:
        # A server's last child may still be writing a file as it exits: try again.
        shutil.rmtree(base, ignore_errors=True)
        if base.exists():
            time.sleep(0.05)


def main(argv: list[str]) -> int:
    base = Path(argv[0])
    for number in (signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)  # the demo's terminal going away ends the demo
    sys.stdin.buffer.read()
    clean_up(base, keep="--keep" in argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
