"""The sweep report's section on an Optuna search (vit_inpaint/search/): the best trial as a
command to copy, every trial in a table, and figures of the search: Optuna's matplotlib
optimisation history, and the parameter importances Optuna computes.

The study is found from a trial's record: its `.hydra/hydra.yaml` names the sweeper, the storage
(null: `<sweep folder>/study.db`) and the study. optuna is imported only for a search's folder.
"""

from __future__ import annotations

import io
import shlex
import warnings
from pathlib import Path

import yaml

HISTORY = "optimization_history.png"
IMPORTANCES = "param_importances.png"
FIGURE_NOTES = {
    HISTORY: "Optuna's optimisation history: each finished trial's value of the optimised "
    "metric, in trial order, and the best value so far",
    IMPORTANCES: "Optuna's parameter importances (a random forest's mean decrease in impurity "
    "over the finished trials): how much of the metric's variation each searched setting "
    "explains",
}
SEARCH_SWEEPER = "hydra_plugins.vit_inpaint_search.resumable_optuna.ResumableOptunaSweeper"
# Overrides that make a launch a search, left out of the best trial's command.
SEARCH_ONLY = ("hparams_search",)


def find_search(sweep_dir: Path, job_dirs: list[Path]) -> tuple[str, str] | None:
    """(storage URL, study name) of the search whose trials are in sweep_dir, else None."""
    from vit_inpaint.search.study import STUDY_FILE, storage_url

    for job in job_dirs:
        try:
            hydra = yaml.safe_load((job / ".hydra" / "hydra.yaml").read_text())["hydra"]
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            continue
        sweeper = hydra.get("sweeper") or {}
        if sweeper.get("_target_") != SEARCH_SWEEPER:
            return None
        storage = sweeper.get("storage")
        if storage is None and not (sweep_dir / STUDY_FILE).is_file():
            return None
        return storage_url(storage, sweep_dir), sweeper.get("study_name") or "search"
    return None


def search_section(
    sweep_dir: Path, job_dirs: list[Path], files: dict[str, io.BytesIO]
) -> tuple[list[str], dict[str, str | None]]:
    """The report's lines on the search in sweep_dir and its figures (drawn into `files`: name
    -> PNG; figure name -> None if drawn, else why not); nothing for a folder of no search."""
    found = find_search(sweep_dir, job_dirs)
    if found is None:
        return [], {}
    url, name = found
    try:
        study = _load(url, name)
    except Exception as error:  # the report of the runs must not depend on the database
        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        return [f"## Search: study {name}", "", f"The study could not be read: {why}.", ""], {}
    metric = _optimized_metric(job_dirs)
    lines = [f"## Search: study {name}", "", *_summary(study, url, metric, sweep_dir), ""]
    lines += ["Every trial (a retried trial names the interrupted one it re-runs):", ""]
    lines += [_trials_table(study, metric), ""]
    figures = {
        HISTORY: _draw(_history, study, metric, files.setdefault(HISTORY, io.BytesIO())),
        IMPORTANCES: _draw(
            _importances, study, metric, files.setdefault(IMPORTANCES, io.BytesIO())
        ),
    }
    return lines, figures


def _load(url: str, name: str):
    import optuna

    from vit_inpaint.search.study import open_storage

    return optuna.load_study(study_name=name, storage=open_storage(url))


def _optimized_metric(job_dirs: list[Path]) -> str:
    for job in job_dirs:
        try:
            config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
            return str(config["optimized_metric"])
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            continue
    return "value"


def _summary(study, url: str, metric: str, sweep_dir: Path) -> list[str]:
    from optuna.trial import TrialState

    from vit_inpaint.search.study import shown

    trials = study.get_trials(deepcopy=False)
    count = {s: sum(t.state == s for t in trials) for s in TrialState}
    direction = study.direction.name.lower()
    lines = [
        f"{len(trials)} trial(s) in `{shown(url)}`: {count[TrialState.COMPLETE]} finished, "
        f"{count[TrialState.FAIL]} failed or interrupted, {count[TrialState.RUNNING]} running; "
        f"{direction} {metric}. The same command runs what is left of the search "
        "(hydra.sweeper.n_trials is its total).",
        "",
    ]
    if not count[TrialState.COMPLETE]:
        return lines + ["No trial finished yet."]
    best = study.best_trial
    lines += [
        f"Best: trial {best.number}, {metric} = {best.value:.4g}, in "
        f"`{best.user_attrs.get('folder', '?')}`. Trained again on its own:",
        "",
        "```bash",
        best_command(sweep_dir / str(best.user_attrs.get("folder", ""))),
        "```",
    ]
    return lines


def best_command(trial_dir: Path) -> str:
    """`python train.py <the trial's overrides>`, without those that made it a search."""
    try:
        overrides = yaml.safe_load((trial_dir / ".hydra" / "overrides.yaml").read_text()) or []
    except (OSError, yaml.YAMLError):
        return "(the trial's record .hydra/overrides.yaml is missing)"
    kept = [
        o
        for o in map(str, overrides)
        if o.partition("=")[0].lstrip("+~") not in SEARCH_ONLY and not o.startswith("hydra.")
    ]
    return " ".join(["python", "train.py", *map(shlex.quote, kept)])


def _trials_table(study, metric: str) -> str:
    trials = study.get_trials(deepcopy=False)
    params = sorted({p for t in trials for p in t.params})
    header = ["trial", "state", metric, *params, "folder"]
    rows = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    best = study.best_trial.number if any(t.value is not None for t in trials) else None
    for t in trials:
        value = "" if t.value is None else f"{t.value:.4g}"
        if t.number == best:
            value = f"**{value}**"
        state = t.state.name.lower()
        if "failed_trial" in t.system_attrs:
            state += f" (re-runs {t.system_attrs['failed_trial']})"
        cells = [str(t.number), state, value]
        cells += [_cell(t.params.get(p, "")) for p in params]
        cells.append(f"`{t.user_attrs.get('folder', '')}`")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _cell(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _draw(plot, study, metric: str, out: io.BytesIO) -> str | None:
    """Draws `plot(study, metric)` into `out`; None when drawn, else why not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna

    # Optuna's plots switch matplotlib to its "ggplot" style for good: kept to these figures.
    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            axes = plot(study, metric)
        except Exception as error:  # too few finished trials, a single value searched, ...
            plt.close("all")
            why = str(error).splitlines()[0] if str(error) else type(error).__name__
            return f"Optuna could not draw it: {why}"
        figure = axes.figure
        figure.set_size_inches(7, 4)
        figure.tight_layout()
        figure.savefig(out, format="png", dpi=100)
        plt.close(figure)
    return None


def _history(study, metric: str):
    from matplotlib.ticker import MaxNLocator
    from optuna.visualization.matplotlib import plot_optimization_history

    axes = plot_optimization_history(study)
    axes.set_ylabel(metric)
    axes.set_xlabel("trial")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return axes


def _importances(study, metric: str):
    """Optuna's parameter importances as bars. Optuna 2.x's own plot_param_importances calls
    matplotlib.cm.get_cmap, which matplotlib 3.9 removed, and its default evaluator, fANOVA,
    fails on numpy 2; its mean-decrease-in-impurity evaluator works, drawn here."""
    import matplotlib.pyplot as plt
    from optuna.importance import MeanDecreaseImpurityImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 2:
        raise ValueError("it needs two finished trials")
    evaluator = MeanDecreaseImpurityImportanceEvaluator(seed=0)
    importances = get_param_importances(study, evaluator=evaluator)
    names = list(importances)[::-1]  # the most important on top
    figure, axes = plt.subplots()
    axes.barh(names, [importances[n] for n in names], color="tab:blue")
    for y, name in enumerate(names):
        axes.text(importances[name], y, f" {importances[name]:.2f}", va="center")
    axes.set_xlabel(f"importance for {metric} (sums to 1)")
    axes.set_title("Parameter importances")
    axes.set_xlim(0, max(importances.values(), default=1) * 1.15 or 1)
    return axes
