"""Runs every benchmark module (bench/bench_*.py), or those named: `python -m bench export`."""

import importlib
import pkgutil
import sys
import time

import bench
from bench import seed


def main(names: list[str]) -> int:
    modules = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    chosen = [m for m in modules if not names or m.removeprefix("bench_") in names]
    if not chosen:
        print(f"no benchmark among {modules} matches {names}")
        return 2
    # The database first, then Django: the benchmark modules import the apps at their top.
    seed.setup()
    for name in chosen:
        started = time.monotonic()
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(f"bench.{name}").run()
        print(f"({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
