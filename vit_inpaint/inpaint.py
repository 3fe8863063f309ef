"""`python -m vit_inpaint.inpaint`: the earlier spelling of `python -m vit_inpaint.cli.inpaint`,
kept so that commands and scripts written for it keep working (the command is in cli/)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("vit_inpaint.cli.inpaint", run_name="__main__", alter_sys=True)
