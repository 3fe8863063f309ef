"""The project's Hydra plugins: the resumable Optuna sweeper (resumable_optuna.py)."""
