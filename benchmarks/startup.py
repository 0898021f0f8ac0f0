"""Time to first frame of studio-tui against a bare Textual app, measured in the same run.

Both are launched in a real tmux pty by shared/bench/first-frame, which polls the screen for a
marker. Prints medians and the ratios; the goal is studio-tui / bare <= 1.5.

    python benchmarks/startup.py [--runs 7] [--size 120x40] [--demo]

With --demo it also times `studio-tui demo` (three servers started, the shop loaded and
registered) to its organizations listed, against plain studio-tui's in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def first_frame_tool() -> Path:
    candidates = [Path(os.environ.get("FIRST_FRAME", "")), REPO.parent / "shared/bench/first-frame"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SystemExit("first-frame not found; set FIRST_FRAME=/path/to/first-frame")


def median_ms(marker: str, command: list[str], runs: int, size: str, env: dict) -> float:
    result = subprocess.run([sys.executable, str(first_frame_tool()), "--runs", str(runs),
                             "--size", size, marker, "--", "env",
                             *[f"{k}={v}" for k, v in env.items()], *command],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"first-frame failed for {marker!r}:\n{result.stdout}{result.stderr}")
    return float(re.search(r"median_ms=(\d+)", result.stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--demo", action="store_true", help="also time `studio-tui demo`")
    args = parser.parse_args()
    studio = str(Path(sys.executable).parent / "studio-tui")
    # A session kept open for the whole run: otherwise the tmux server exits between runs and
    # the next launch can race its shutdown ("server exited unexpectedly").
    subprocess.run(["tmux", "new-session", "-d", "-s", "studio-bench-keepalive"], check=True)
    try:
        measure(args, studio)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", "studio-bench-keepalive"],
                       capture_output=True)


def measure(args: argparse.Namespace, studio: str) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {"STUDIO_TUI_HOME": home}
        # First run creates the key, the catalog and the personal organization: not timed.
        median_ms("(personal)", [studio], 1, args.size, env)
        bare = median_ms("BARE-READY", [sys.executable, str(HERE / "bare_app.py")], args.runs,
                         args.size, {})
        frame = median_ms("Organizations", [studio], args.runs, args.size, env)
        data = median_ms("(personal)", [studio], args.runs, args.size, env)
    print(f"bare textual app   first frame  median {bare:.0f} ms")
    print(f"studio-tui         first frame  median {frame:.0f} ms   ratio {frame / bare:.2f}x")
    print(f"studio-tui   organizations shown median {data:.0f} ms   ratio {data / bare:.2f}x")
    print(f"goal: first frame <= 1.5x bare -> {'met' if frame / bare <= 1.5 else 'NOT met'}")
    if args.demo:
        # Its own throwaway home; "(personal)" shows once its organizations are listed. Closing
        # the pty (SIGHUP) stops its servers, as a user's closed terminal would.
        demo = median_ms("(personal)", [studio, "demo"], args.runs, args.size, {})
        print(f"studio-tui demo organizations shown median {demo:.0f} ms   "
              f"{demo - data:+.0f} ms against plain studio-tui")


if __name__ == "__main__":
    main()
