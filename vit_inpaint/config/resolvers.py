"""Where a launch writes: config resolvers that train.py registers before Hydra composes.

`hydra.run.dir` follows a resumed checkpoint into its run's folder; `hydra.output_subdir` and
the log file's name go through the launch's claim on its folder (storage/launch_folders.py), so a
launch never rewrites an earlier run's record. The claim is the one thing a resolver here makes
on disk, and only once Hydra starts a job (it reads hydra.output_subdir just before writing the
record there): composing a config, `--cfg job` included, has no output folder to claim. No
public Hydra hook runs between a multirun job's composition and its record, hence a resolver.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from vit_inpaint.storage.launch_folders import current
from vit_inpaint.storage.resume_last import LAST, find_unfinished_run
from vit_inpaint.storage.run_folder import run_of_checkpoint


def run_dir(ckpt_path: str | None, default: str, overrides=()) -> str:
    """hydra.run.dir: the checkpoint's run folder when resuming one; for ckpt_path=last, the
    newest unfinished run launched with the same `overrides` (storage/resume_last.py); else
    `default`."""
    if ckpt_path == LAST:
        run = find_unfinished_run(Path(default).parent, overrides)
        return str(run) if run is not None else default
    run = run_of_checkpoint(ckpt_path)
    return str(run) if run is not None else default


def output_subdir(output_dir: str, ckpt_path: str | None, stamp: str, job="run") -> str:
    """hydra.output_subdir: `.hydra` for a folder's first launch, else the launch's own
    `.hydra/resumed-<stamp>` (resuming the folder's run) or `.hydra/attempt-<stamp>-<pid>`.
    job: hydra.job.num in a multirun (a claim belongs to one job), else "run"."""
    return current().claim(output_dir, ckpt_path, stamp, str(job)).record


def log_file(output_dir: str, subdir: str | None, job_name: str, job="run") -> str:
    """hydra.job_logging.handlers.file.filename. With no record (hydra.output_subdir=null, as
    Lightning sets for DDP's extra processes) the log is <output_dir>/<job name>.log, so rank 1
    logs to train_ddp_process_1.log beside rank 0's train.log."""
    claim = current().claim_of(output_dir, str(job)) if subdir is not None else None
    if claim is None:
        return str(Path(output_dir) / f"{job_name}.log")
    return str(claim.log_file(job_name))


def folder_name(name) -> str:
    """hydra.sweep.subdir through `${folder_name:'...'}`: a job folder's name made from values
    (hydra.job.override_dirname, ...) kept one name inside the sweep folder, whatever the values
    hold: `/` becomes %2F (and `%` %25, so names stay apart), a name of dots only is escaped too.
    `optimized_metric=val/nmse` is then the folder `optimized_metric=val%2Fnmse`, not
    `optimized_metric=val/` + `nmse`, and `init_from=conf/../../../x` stays in the sweep folder."""
    name = str(name).replace("%", "%25").replace("/", "%2F")
    return name.replace(".", "%2E") if name.strip(".") == "" and name else name


def search_dir(study_name: str | None, stamp: str) -> str:
    """hydra.sweep.dir of an Optuna search: outputs/searches/<study_name> for a named study, so
    that the same command finds it again; else a new outputs/multiruns/<time>."""
    if study_name is None:
        return f"outputs/multiruns/{stamp}"
    return f"outputs/searches/{study_name}"


def register() -> None:
    OmegaConf.register_new_resolver("search_dir", search_dir, replace=True)
    OmegaConf.register_new_resolver("folder_name", folder_name, replace=True)
    OmegaConf.register_new_resolver("resume_run_dir", run_dir, replace=True)
    OmegaConf.register_new_resolver("launch_record", output_subdir, replace=True)
    OmegaConf.register_new_resolver("launch_log", log_file, replace=True)
