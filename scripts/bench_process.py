"""The report's default run against the leanest plain loop, whole process against whole process.

    python scripts/bench_process.py [--rounds 3] [-- TRAIN_OVERRIDES...]

Times `python train.py` (start-up, checks, run folder, fit, test, records: everything a user
waits for) and `python scripts/plain_loop.py` (the same data, model and steps in plain PyTorch),
in alternation, round after round, so that a noisy shared machine slows both alike; prints each
round's times, the medians and the ratio train.py / plain loop (issue 19's target: <= 1.2).
Each train.py run writes into its own temporary folder, removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=_env())
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds


def _env() -> dict[str, str]:
    # The checkout's package, whether or not it is installed (as `make` runs it from the root).
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("overrides", nargs="*", help="extra train.py overrides")
    args = parser.parse_args(argv)

    times: dict[str, list[float]] = {"train.py": [], "plain loop": []}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            # Alternate which goes first, so neither always meets the other's leftovers.
            order = ["train.py", "plain loop"] if round_ % 2 == 0 else ["plain loop", "train.py"]
            for name in order:
                if name == "train.py":
                    run_dir = Path(scratch) / f"run{round_}"
                    command = [
                        sys.executable,
                        "train.py",
                        f"hydra.run.dir={run_dir}",
                        *args.overrides,
                    ]
                else:
                    command = [sys.executable, "scripts/plain_loop.py"]
                times[name].append(timed(command))
            print(
                f"round {round_ + 1}: train.py {times['train.py'][-1]:.1f} s, "
                f"plain loop {times['plain loop'][-1]:.1f} s",
                flush=True,
            )
    train, plain = (statistics.median(times[k]) for k in ("train.py", "plain loop"))
    ratio = train / plain
    print(f"median of {args.rounds}: train.py {train:.1f} s, plain loop {plain:.1f} s")
    print(f"ratio train.py / plain loop: {ratio:.2f} (target <= 1.2)")
    return ratio


if __name__ == "__main__":
    main()
