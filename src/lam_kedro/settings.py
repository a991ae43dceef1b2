"""Kedro project settings: configuration layout and the project's own hooks.

kedro-mlflow registers its hook through its plugin entry point; ours validate the ``params:``
blocks a pipeline reads before it runs (a typo stops the run, naming the key) and datasets with
Great Expectations before they are saved, so a bad dataset stops the run before it lands.
"""

from lam_kedro.pipelines.params import ParamsHooks
from lam_kedro.validation.hooks import DataValidationHooks

HOOKS = (ParamsHooks(), DataValidationHooks())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "validation": ["validation*", "validation*/**"],
    },
}
