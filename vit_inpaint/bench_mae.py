"""`python -m vit_inpaint.bench_mae`: the earlier spelling of `python -m vit_inpaint.cli.bench_mae`,
kept so that commands and scripts written for it keep working (the command is in cli/)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("vit_inpaint.cli.bench_mae", run_name="__main__", alter_sys=True)
