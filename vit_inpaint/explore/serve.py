"""Starts the explorer page: `python -m vit_inpaint.explore [--port 7860] [--run RUN]`.

Gradio is an optional extra (`pip install -e ".[explore]"`, which `make explore` runs): without
it the command says so in one `error:` line. The page is served on localhost only, with a queue
that answers two browsers at once (each has its own image, mask and photo), and prints the time
from the command's start to the moment it answers, which `make explore` promises under 10 s.
"""

from __future__ import annotations

import argparse
import sys
import time

STARTED = time.perf_counter()


def parse(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m vit_inpaint.explore", description=__doc__)
    parser.add_argument("--port", type=int, default=7860, help="port on localhost (7860)")
    parser.add_argument("--run", default=None,
                        help="a run folder (outputs/runs/<time>) or .ckpt to show beside the "
                             "shipped models")  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error(f"argument --port: {args.port} is not a port (1-65535)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    try:
        import gradio  # noqa: F401
    except ImportError:
        sys.exit('error: the page needs Gradio: make explore installs it, or .venv/bin/python -m '
                 'pip install -e ".[explore]"')  # fmt: skip
    from vit_inpaint.explore.app import build

    demo = build(args.run)
    demo.queue(default_concurrency_limit=2)
    try:
        demo.launch(server_name="127.0.0.1", server_port=args.port, prevent_thread_lock=True,
                    quiet=True, footer_links=[])  # fmt: skip
    except OSError as err:
        sys.exit(f"error: cannot serve on port {args.port}: {err} (give another with PORT=)")
    print(f"ready on http://localhost:{args.port} in {time.perf_counter() - STARTED:.1f} s "
          "(Ctrl+C stops it)", flush=True)  # fmt: skip
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        demo.close()
