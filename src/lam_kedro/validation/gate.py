"""Run a dataset's suite with Great Expectations and turn a failure into a readable error."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import pandas as pd

from lam_kedro.validation.config import DatasetSuite, expectation_class
from lam_kedro.validation.frames import FRAMES

logger = logging.getLogger(__name__)


class DataValidationError(ValueError):
    """A dataset failed its Great Expectations suite; the message says which rows and why."""


@lru_cache(maxsize=1)
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _batch(frame: pd.DataFrame, name: str) -> Any:
    context = _context()
    source = context.data_sources.add_or_update_pandas("lam_kedro")
    asset = source.add_dataframe_asset(name=f"{name}_{id(frame)}")
    definition = asset.add_batch_definition_whole_dataframe("whole")
    return definition.get_batch(batch_parameters={"dataframe": frame})


def validate_dataset(dataset_name: str, data: Any, suite: DatasetSuite, max_examples: int = 5) -> int:
    """Validate ``data`` against ``suite``; return how many expectations ran, raise on failure."""
    import great_expectations as gx

    frame = FRAMES[suite.frame](data)
    _context()  # GX builds suites only inside an active data context
    gx_suite = gx.ExpectationSuite(name=f"{dataset_name}_suite")
    for item in suite.expectations:
        ((name, kwargs),) = item.items()
        gx_suite.add_expectation(expectation_class(name)(**kwargs))
    result = _batch(frame, dataset_name).validate(gx_suite, result_format={"result_format": "COMPLETE"})
    if result.success:
        logger.info("dataset '%s': %d expectations passed on %d rows", dataset_name, len(suite.expectations), len(frame))
        return len(suite.expectations)
    lines = [f"dataset '{dataset_name}' failed its Great Expectations suite ({len(frame)} rows):"]
    for res in result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)}
        detail = res.result or {}
        rows = (detail.get("unexpected_index_list") or [])[:max_examples]
        count = detail.get("unexpected_count")
        lines.append(f"  - {cfg.type}({kwargs}): " + (f"{count} unexpected" if count is not None else "failed"))
        if "observed_value" in detail and detail["observed_value"] is not None:
            lines.append(f"      observed: {detail['observed_value']}")
        if rows:
            example = frame.loc[rows].to_dict(orient="records")
            lines.append(f"      example rows {rows}: {example}")
    raise DataValidationError("\n".join(lines))
