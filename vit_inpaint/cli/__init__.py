"""The commands: `python -m vit_inpaint.cli.<command>` (inpaint, evaluate, report, bench,
bench_mae; training is `python train.py`). Each parses its arguments, turns a refusal into one
`error:` line (exit status 2) and prints; the work is done by the library modules it calls."""
