"""The report's default run against the leanest plain loop, whole process against whole process.

    python scripts/bench_process.py [--rounds 3] [-- TRAIN_OVERRIDES...]
    python scripts/bench_process.py --rounds 5 --epochs 30 5

Times `python train.py` (start-up, checks, run folder, fit, test, records: everything a user
waits for) and `python scripts/plain_loop.py` (the same data, model and steps in plain PyTorch),
in alternation, round after round, so that a noisy shared machine slows both alike; prints each
round's times, the medians and the ratio train.py / plain loop (issue 19's target: <= 1.2).
Each train.py run writes into its own temporary folder, removed afterwards.

With two epoch counts (`--epochs 30 5`) both run at each, and the cost is split in two from the
medians: the cost of an epoch, (T(30) - T(5)) / 25, and the fixed cost, T(30) - 30 x that (start-
up, checks, test, records); each round also times `python -c "import lightning"` and `import
torch`, so the fixed cost train.py adds beyond what importing Lightning itself adds is printed
(issue 28's targets: an epoch <= 1.15x the plain loop's, that fixed cost <= 0.5 s).
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


def commands(name: str, epochs: int | None, run_dir: Path, overrides: list[str]) -> list[str]:
    if name == "train.py":
        extra = [] if epochs is None else [f"trainer.max_epochs={epochs}"]
        return [sys.executable, "train.py", f"hydra.run.dir={run_dir}", *extra, *overrides]
    if name == "plain loop":
        return [sys.executable, "scripts/plain_loop.py"] + (
            [] if epochs is None else ["--epochs", str(epochs)]
        )
    return [sys.executable, "-c", f"import {name.split()[-1]}"]  # "import torch", ...


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--epochs", type=int, nargs=2, default=[], metavar=("MANY", "FEW"),
        help="two epoch counts: split the cost (train.py overrides after them: after a --)",
    )  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="extra train.py overrides")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"argument --rounds: at least 1, got {args.rounds}")
    if args.epochs and (args.epochs[0] == args.epochs[1] or min(args.epochs) < 1):
        parser.error(f"argument --epochs: two different positive counts, got {args.epochs}")
    counts = args.epochs or [None]
    programs = ["train.py", "plain loop"]
    extra = ["import lightning", "import torch"] if args.epochs else []
    times: dict[tuple, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            # Alternate which goes first, so neither always meets the other's leftovers.
            order = programs if round_ % 2 == 0 else programs[::-1]
            jobs = [(name, epochs) for epochs in counts for name in order] + [
                (name, None) for name in extra
            ]
            for name, epochs in jobs:
                run_dir = Path(scratch) / f"run{round_}_{epochs}"
                seconds = timed(commands(name, epochs, run_dir, args.overrides))
                times.setdefault((name, epochs), []).append(seconds)
            print(f"round {round_ + 1}: " + ", ".join(
                f"{name}{'' if e is None else f' ({e} epochs)'} {t[-1]:.1f} s"
                for (name, e), t in times.items()
            ), flush=True)  # fmt: skip
    median = {key: statistics.median(value) for key, value in times.items()}
    first = counts[0]
    train, plain = median[("train.py", first)], median[("plain loop", first)]
    print(f"median of {args.rounds}: train.py {train:.1f} s, plain loop {plain:.1f} s")
    ratio = train / plain
    print(f"ratio train.py / plain loop: {ratio:.2f} (target <= 1.2)")
    if args.epochs:
        split(median, *args.epochs)
    return ratio


def split(median: dict, many: int, few: int) -> None:
    """The per-epoch and fixed costs of each program, from its medians at two epoch counts."""
    cost = {}
    for name in ("train.py", "plain loop"):
        per_epoch = (median[(name, many)] - median[(name, few)]) / (many - few)
        cost[name] = (per_epoch, median[(name, many)] - many * per_epoch)
        print(f"{name}: {per_epoch:.3f} s an epoch, {cost[name][1]:.2f} s fixed")
    print(f"an epoch: train.py / plain loop {cost['train.py'][0] / cost['plain loop'][0]:.2f} "
          "(target <= 1.15)")  # fmt: skip
    lightning = median[("import lightning", None)] - median[("import torch", None)]
    beyond = cost["train.py"][1] - cost["plain loop"][1] - lightning
    print(f"fixed cost train.py - plain loop: {cost['train.py'][1] - cost['plain loop'][1]:.2f} s, "
          f"of which importing Lightning beyond torch {lightning:.2f} s; beyond that "
          f"{beyond:.2f} s (target <= 0.5 s)")  # fmt: skip


if __name__ == "__main__":
    main()
