"""The Kedro hook that gates every configured dataset with Great Expectations before it is saved."""

from __future__ import annotations

import logging
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl
from pydantic import ValidationError

from lam_kedro.validation.config import ValidationConfig
from lam_kedro.validation.gate import validate_dataset

logger = logging.getLogger(__name__)


class DataValidationHooks:
    """Reads ``validation*.yml`` at start-up and validates each listed dataset before saving it.

    Each top-level key of those files is a catalog dataset name with its suite, so every
    pipeline keeps its suites in its own file (``validation_<pipeline>.yml``); the reserved key
    ``validation_options`` holds ``enabled`` and ``max_examples``.
    """

    def __init__(self) -> None:
        self.config = ValidationConfig()

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        try:
            raw = context.config_loader["validation"]
        except (KeyError, MissingConfigException):
            raw = {}
        raw = dict(raw)
        options = raw.pop("validation_options", {})
        try:
            self.config = ValidationConfig(**options, datasets=raw)
        except ValidationError as err:
            raise ValueError(f"conf/*/validation*.yml is invalid:\n{err}") from err

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        suite = self.config.datasets.get(dataset_name)
        if not self.config.enabled or suite is None:
            return
        validate_dataset(dataset_name, data, suite, self.config.max_examples)
