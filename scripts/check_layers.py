"""Fails on an import that goes back up a layer of the package (`make lint` runs it).

The layers, lowest first: a module may import its own layer and the ones below, never one above.
Every import counts, at the top of a file or inside a function (a lazy import is still a
dependency); only those under `if TYPE_CHECKING:` are left out (they never run).

    python scripts/check_layers.py            # prints each import that climbs, exit status 1
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = "vit_inpaint"
# Lowest first. A module belongs to the longest entry its dotted name starts with. Within a
# layer imports go either way; scripts/import_cycles-style circles are the other check.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("vit_inpaint.errors", "vit_inpaint.storage"),  # all-or-nothing files, run folders
    ("vit_inpaint.config",),  # torch-free names, resolvers, one-line config errors
    ("vit_inpaint.data",),  # sources, masks, seeds, data modules
    ("vit_inpaint.models",),  # networks and the model registry
    ("vit_inpaint.tasks",),  # LightningModules, metrics they log, checkpoints, the task registry
    ("vit_inpaint.viz",),  # pictures and TensorBoard callbacks, which know no task
    ("vit_inpaint.evaluation",),  # baselines, classical fills, the photo evaluation
    ("vit_inpaint.report", "vit_inpaint.search.study"),  # a sweep's report; a search's study
    # schemas, checks, Hydra callbacks, the search's sweeper, train()
    ("vit_inpaint.launch", "vit_inpaint.search", "vit_inpaint.training"),
    ("vit_inpaint.fill", "vit_inpaint.benchmarks"),  # whole images filled; timed loops
    ("vit_inpaint.cli", "vit_inpaint.explore", "vit_inpaint"),  # commands, pages, the front door
)


def layer_of(module: str) -> int | None:
    """The layer of a dotted module name; None outside the package."""
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    return best[0] if best else None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(tree: ast.AST, this: str, is_package: bool):
    """(line, imported module) of every import that runs, relative ones made absolute."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = this.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep] + ([base] if base else []))
            for alias in node.names:
                # `from pkg import module` imports pkg.module when it is one.
                yield node.lineno, f"{base}.{alias.name}" if base else alias.name
        stack.extend(ast.iter_child_nodes(node))


def climbs(root: Path) -> list[str]:
    found = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        this = module_name(path, root)
        here = layer_of(this)
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, target in imports_of(tree, this, path.name == "__init__.py"):
            there = layer_of(target)
            if there is None or here is None or there <= here:
                continue
            found.append(f"{path.relative_to(root)}:{line}: {this} imports {target} (up a layer)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    found = climbs(args.root)
    for line in found:
        print(line)
    if found:
        print(f"error: {len(found)} import(s) go back up a layer (scripts/check_layers.py LAYERS)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
