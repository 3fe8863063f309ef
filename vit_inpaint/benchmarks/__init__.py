"""Timing harnesses behind `python -m vit_inpaint.cli.bench` and `cli.bench_mae`."""
