"""Hyperparameter searches that outgrow one process: an Optuna study kept in a database (SQLite
in the sweep folder by default), resumed by running the same command again, shared by several
workers at once (study.py), and the Hydra sweeper that runs its trials (sweeper.py)."""
