"""The Hydra sweeper of `hparams_search=optuna` (conf/hparams_search/optuna.yaml): Hydra takes
sweepers only from the hydra_plugins package, and imports every module here at start-up, so this
one imports nothing heavy; the search itself is vit_inpaint/search/sweeper.py."""

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper


class ResumableOptunaSweeper(OptunaSweeper):
    """hydra-optuna-sweeper's sweeper and configuration, over a study on disk that a second
    launch resumes and several workers share (vit_inpaint.search.sweeper.ResumableSearch)."""

    def __init__(self, **settings) -> None:  # the plugin's own keys (OptunaSweeperConf)
        from vit_inpaint.search.sweeper import ResumableSearch

        self.sweeper = ResumableSearch(**settings)
