"""The sweep report: `python -m vit_inpaint.cli.report <multirun folder>` (or a run's folder).

Writes report.md and the figures into that folder and prints the report
(report/write.py says what it holds). Only the standard library is imported before the
report is written, so `--help` and a bad path answer at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m vit_inpaint.cli.report",
        description="Write report.md and figures into a sweep's folder and print the report.",
    )
    parser.add_argument(
        "sweep_dir",
        type=Path,
        help="a multirun folder (outputs/multiruns/<time>) or a run's (outputs/runs/<time>)",
    )
    args = parser.parse_args(argv)
    from vit_inpaint.report.runs import ReportError
    from vit_inpaint.report.write import write_report

    try:
        markdown = write_report(args.sweep_dir)
    except ReportError as error:
        parser.error(str(error))  # exit code 2, with the usage line
    print(markdown, end="")


if __name__ == "__main__":
    main()
