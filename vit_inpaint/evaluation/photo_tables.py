"""The tables and the figure of the photo evaluation (evaluation/photos.py): the summary the
targets are stated in, the pooled tables (each method's error with its seconds per megapixel
beside it), a row per photograph and kind, the CSV and the MSE-against-coverage figure.
"""

from __future__ import annotations

import csv
import io
import math
import statistics

from vit_inpaint.evaluation.photos import TARGET_COVERAGE, Result, coverage_text

# The classical fills the model must beat on every photograph and kind (target 1).
BEST_OF = ("biharmonic", "telea", "navier_stokes")


def pooled(results: list[Result]) -> list[Result]:
    """The rows pooled over the photographs."""
    return [r for r in results if r.photo == "all"]


def summary(results: list[Result]) -> list[str]:
    """The targets: model / method as the geometric mean over kinds and bins up to 30% (or the
    user's masks, whatever their coverage), per scale, and each kind's own geometric mean
    against biharmonic; then how many photograph x kind rows the model loses to the best
    classical fill on."""
    every, results = results, pooled(results)
    lines = []
    by = {(r.scale, r.kind, r.low, r.method): r.mse for r in results}
    for scale in sorted({r.scale for r in results}, reverse=True):
        kept = {
            (r.kind, r.low, r.high)
            for r in results
            if r.scale == scale and (r.kind == "user" or r.high <= TARGET_COVERAGE + 1e-9)
        }
        cases = sorted((kind, low) for kind, low, _ in kept)
        # Say the coverage that was run: fewer bins stop below the targets' 30%.
        reach = max((high for _, _, high in kept), default=0.0)
        over = f"geometric mean over {len(cases)} kind x bin cases up to {reach:.0%}"
        if [kind for kind, _ in cases] == ["user"]:  # one case: its ratio, nothing to average
            over = f"the user's masks, {reach:.0%} of the pixels hidden"
        for method in sorted({r.method for r in results} - {"model"}):
            ratios = [
                by[(scale, kind, low, "model")] / by[(scale, kind, low, method)]
                for kind, low in cases
            ]
            if ratios:
                lines.append(
                    f"- scale 1/{scale}: model / {method} = {_geomean(ratios):.3f} ({over})"
                )
        for kind in sorted({k for k, _ in cases} - {"user"}):  # user: the lines above
            ratios = [
                by[(scale, kind, low, "model")] / by[(scale, kind, low, "biharmonic")]
                for k2, low in cases
                if k2 == kind and (scale, kind, low, "biharmonic") in by
            ]
            if ratios:
                lines.append(f"  - {kind}: model / biharmonic = {_geomean(ratios):.3f}")
        rows = per_photo(every, scale)
        lost = [row for row in rows if row["best"] is not None and row["ratio"] > 1.0]
        if rows and rows[0]["best"] is not None:
            lines.append(
                f"  - worse than the best of biharmonic, Telea and Navier-Stokes on {len(lost)} "
                f"of {len(rows)} photograph x kind rows (up to {TARGET_COVERAGE:.0%})"
                + "".join(f"; {r['photo']} {r['kind']} {r['ratio']:.3f}" for r in lost[:12])
            )
    return lines


def per_photo(results: list[Result], scale: int) -> list[dict]:
    """A row per photograph and kind at a scale: each method's MSE pooled over the coverage
    bins up to TARGET_COVERAGE (or the user's masks), and the model's over the best classical
    fill's (BEST_OF; None when none of them was run)."""
    kept = [
        r for r in results
        if r.scale == scale and r.photo != "all"
        and (r.kind == "user" or r.high <= TARGET_COVERAGE + 1e-9)
    ]  # fmt: skip
    table: dict[tuple[str, str], dict[str, list]] = {}
    for r in kept:
        cell = table.setdefault((r.photo, r.kind), {}).setdefault(r.method, [0.0, 0, 0.0, 0.0])
        for k, value in enumerate((r.squared_error, r.hidden, r.seconds, r.megapixels)):
            cell[k] += value
    rows = []
    for (photo, kind), cells in table.items():
        mse = {method: sq / n for method, (sq, n, _, _) in cells.items()}
        speed = {method: sec / mp for method, (_, _, sec, mp) in cells.items()}
        classical = [m for m in BEST_OF if m in mse]
        best = min(classical, key=mse.get) if classical else None
        ratio = mse["model"] / mse[best] if best and mse[best] > 0 else float("nan")
        rows.append({"photo": photo, "kind": kind, "mse": mse, "speed": speed, "best": best,
                     "ratio": ratio})  # fmt: skip
    return rows


def _geomean(values):
    return math.exp(statistics.fmean(math.log(v) for v in values))


def markdown(results: list[Result], header: str) -> str:
    """The summary, then per scale the pooled table (MSE, PSNR and seconds per megapixel of each
    method) and the table of a row per photograph and kind."""
    every, results = results, pooled(results)
    methods = list(dict.fromkeys(r.method for r in results))
    lines = [header, "", "## Summary (hidden-pixel MSE ratios; below 1: the model is better)", ""]
    lines += summary(every) + [""]
    for scale in sorted({r.scale for r in results}, reverse=True):
        lines += [
            f"## Scale 1/{scale}: hidden-pixel MSE (PSNR dB, seconds per megapixel), pooled over "
            "the photographs", "",
            "| mask | coverage | " + " | ".join(methods) + " |",
            "| --- | --- | " + " | ".join("---" for _ in methods) + " |",
        ]  # fmt: skip
        cases = dict.fromkeys((r.kind, r.low, r.high) for r in results if r.scale == scale)
        for kind, low, high in cases:
            row = {r.method: r for r in results if (r.scale, r.kind, r.low) == (scale, kind, low)}
            cells = [
                f"{row[m].mse:.3g} ({row[m].psnr:.1f} dB, {row[m].seconds_per_megapixel:.3g} s/MP)"
                for m in methods
            ]
            lines.append(f"| {kind} | {coverage_text(low, high)} | " + " | ".join(cells) + " |")
        lines += ["", *_photo_table(every, scale, methods), ""]
    return "\n".join(lines)


def _photo_table(results: list[Result], scale: int, methods: list[str]) -> list[str]:
    rows = per_photo(results, scale)
    if not rows:
        return []
    lines = [
        f"Scale 1/{scale}, a row per photograph and kind (MSE pooled over the bins up to "
        f"{TARGET_COVERAGE:.0%}; s/MP: the model's seconds per megapixel; last column: the "
        "model over the best of biharmonic, Telea and Navier-Stokes, above 1 in bold):", "",
        "| photograph | mask | " + " | ".join(methods) + " | model s/MP | model / best |",
        "| --- | --- | " + " | ".join("---" for _ in methods) + " | --- | --- |",
    ]  # fmt: skip
    for row in rows:
        cells = [f"{row['mse'][m]:.3g}" for m in methods]
        ratio = row["ratio"]
        shown = "" if row["best"] is None else f"{ratio:.3f} ({row['best']})"
        shown = f"**{shown}**" if ratio > 1.0 else shown
        lines.append(
            f"| {row['photo']} | {row['kind']} | " + " | ".join(cells)
            + f" | {row['speed']['model']:.3g} | {shown} |"
        )  # fmt: skip
    return lines


CSV_COLUMNS = "scale kind coverage_low coverage_high method photo mse psnr seconds_per_megapixel"


def csv_text(results: list[Result]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS.split(), "hidden_pixels"])
    for r in results:
        scores = (f"{r.mse:.6g}", f"{r.psnr:.3f}", f"{r.seconds_per_megapixel:.4g}")
        writer.writerow([r.scale, r.kind, r.low, r.high, r.method, r.photo, *scores, r.hidden])
    return out.getvalue()


def figure_png(results: list[Result]) -> bytes:
    from vit_inpaint.viz.figures import new_figure

    results = pooled(results)
    scales = sorted({r.scale for r in results}, reverse=True)
    kinds = list(dict.fromkeys(r.kind for r in results))
    methods = list(dict.fromkeys(r.method for r in results))
    figure = new_figure(3.2 * len(kinds), 2.8 * len(scales) + 0.6)
    grid = figure.subplots(len(scales), len(kinds), squeeze=False)
    for i, scale in enumerate(scales):
        for j, kind in enumerate(kinds):
            axes = grid[i, j]
            for m, method in enumerate(methods):
                points = [
                    r for r in results if (r.scale, r.kind, r.method) == (scale, kind, method)
                ]
                axes.plot(
                    [100 * (r.low + r.high) / 2 for r in points],
                    [r.mse for r in points],
                    marker="o",
                    markersize=3,
                    label=method,
                    color=f"C{m}",
                    linewidth=2.5 if method == "model" else 1.2,
                )
            axes.set_yscale("log")
            axes.set_title(f"{kind}, scale 1/{scale}", fontsize="small")
            axes.set_xlabel("coverage (%)", fontsize="small")
            if j == 0:
                axes.set_ylabel("hidden-pixel MSE", fontsize="small")
            axes.grid(alpha=0.3)
    grid[0, -1].legend(fontsize="x-small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()
