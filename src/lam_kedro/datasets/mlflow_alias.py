"""Registry-side datasets of the evaluation: the ``champion`` alias, and metrics into each generation's run.

Nodes may not call MLflow, so what evaluation does to the registry is a catalog entry:

- ``MlflowAliasDataset``: saving ``{"generation": "lam3", ...}`` moves ``alias`` (``champion``) of the
  registered model to the version that carries the alias ``lam3``; the phases' registry dataset
  sets one alias per generation on model ``lam``.
- ``MlflowGenerationMetricsDataset``: saving ``{"lam3": {"offline.object_acc": 0.8, ...}, ...}``
  logs the metrics into the run that produced each generation's model version (and sets them as
  version tags), so every generation's run carries the same metric names and the MLflow UI
  compares generations column by column.

Both use ``MlflowClient()``, i.e. the tracking and registry URIs kedro-mlflow configured for the
session. A generation the registry does not know is skipped with a warning naming the model and
alias (``on_missing: error`` makes it an error), so evaluating local folders never fails on a
registry that was not filled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from kedro.io import AbstractDataset, DatasetError

__all__ = ["MlflowAliasDataset", "MlflowGenerationMetricsDataset"]

logger = logging.getLogger(__name__)


def _client() -> Any:
    from mlflow import MlflowClient

    return MlflowClient()


def _version_by_alias(client: Any, model: str, alias: str, on_missing: str) -> Any | None:
    """The model version ``alias`` points to, or ``None`` (warned or raised per ``on_missing``)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model, alias)
    except MlflowException as err:
        message = (f"registered model {model!r} has no version with alias {alias!r} in the registry "
                   f"({mlflow.get_registry_uri()}); register the generation first (its phase pipeline does)")
        if on_missing == "error":
            raise DatasetError(message) from err
        logger.warning("%s; skipping it", message)
        return None


def _check_on_missing(value: str) -> str:
    if value not in ("warn", "error"):
        raise DatasetError(f"on_missing must be 'warn' or 'error', not {value!r}")
    return value


class MlflowAliasDataset(AbstractDataset[dict[str, Any] | None, Mapping[str, Any]]):
    """Moves ``alias`` of ``registered_model`` to the version of ``data["generation"]``.

    ``data["generation"]`` names a generation alias (``lam1`` ... ``lam4``); ``None`` means there is
    no generation to promote (none was evaluated) and nothing moves. Other keys of ``data``
    (``metric``, ``value``) become tags of the promoted version. Loading returns the version the
    alias points to now (``{alias, version, run_id, tags}``) or ``None``.
    """

    def __init__(self, registered_model: str = "lam", alias: str = "champion", on_missing: str = "warn",
                 metadata: dict[str, Any] | None = None) -> None:
        self._model = registered_model
        self._alias = alias
        self._on_missing = _check_on_missing(on_missing)
        self.metadata = metadata

    def _save(self, data: Mapping[str, Any]) -> None:
        generation = data.get("generation") if isinstance(data, Mapping) else None
        if not generation:
            current = self._load()
            logger.warning("alias %r of %r not moved (%s): %s", self._alias, self._model,
                           f"it stays at version {current['version']}" if current else "it points to no version",
                           (data or {}).get("reason", "none was evaluated"))
            return
        client = _client()
        version = _version_by_alias(client, self._model, str(generation), self._on_missing)
        if version is None:
            return
        client.set_registered_model_alias(self._model, self._alias, version.version)
        for key, value in data.items():
            if key not in ("generation", "reason") and value is not None:
                client.set_model_version_tag(self._model, version.version, f"{self._alias}.{key}", str(value))
        logger.info("alias %r of %r -> version %s (%s)", self._alias, self._model, version.version, generation)

    def _load(self) -> dict[str, Any] | None:
        client = _client()
        version = _version_by_alias(client, self._model, self._alias, "warn")
        if version is None:
            return None
        return {"alias": self._alias, "version": version.version, "run_id": version.run_id,
                "tags": dict(version.tags or {})}

    def _describe(self) -> dict[str, Any]:
        return {"registered_model": self._model, "alias": self._alias, "on_missing": self._on_missing}


class MlflowGenerationMetricsDataset(AbstractDataset[dict[str, dict[str, float]], Mapping[str, Mapping[str, float]]]):
    """Logs ``{generation: {metric: value}}`` into each generation's model-version run (and version tags).

    The generation is found by its alias on ``registered_model``; ``step`` is the metric step.
    Loading returns ``{generation: {metric: value}}`` read back from those runs (the metrics under
    the names this dataset writes: those starting with one of ``prefixes``).
    """

    def __init__(self, registered_model: str = "lam", generations: list[str] | None = None, step: int = 0,
                 prefixes: tuple[str, ...] | list[str] = ("offline.", "online.", "planning."),
                 tag_versions: bool = True, on_missing: str = "warn",
                 metadata: dict[str, Any] | None = None) -> None:
        self._model = registered_model
        self._generations = list(generations or ["lam1", "lam2", "lam3", "lam4"])
        self._step = step
        self._prefixes = tuple(prefixes)
        self._tag = tag_versions
        self._on_missing = _check_on_missing(on_missing)
        self.metadata = metadata

    def _save(self, data: Mapping[str, Mapping[str, float]]) -> None:
        from mlflow.entities import Metric

        client = _client()
        now = int(time.time() * 1000)
        for generation, metrics in data.items():
            if not metrics:
                continue
            version = _version_by_alias(client, self._model, generation, self._on_missing)
            if version is None:
                continue
            if version.run_id:
                # model_id links the values to the logged model too (MLflow 3's model page shows them)
                model_id = getattr(version, "model_id", None)
                client.log_batch(version.run_id, metrics=[Metric(k, float(v), now, self._step, model_id=model_id)
                                                          for k, v in sorted(metrics.items())])
            else:
                logger.warning("version %s of %r (%s) has no run; its metrics go to version tags only",
                               version.version, self._model, generation)
            if self._tag or not version.run_id:
                for k, v in sorted(metrics.items()):
                    client.set_model_version_tag(self._model, version.version, k, f"{float(v):.6g}")

    def _load(self) -> dict[str, dict[str, float]]:
        client = _client()
        out: dict[str, dict[str, float]] = {}
        for generation in self._generations:
            version = _version_by_alias(client, self._model, generation, "warn")
            if version is None or not version.run_id:
                continue
            metrics = client.get_run(version.run_id).data.metrics
            out[generation] = {k: v for k, v in metrics.items() if k.startswith(self._prefixes)}
        return out

    def _describe(self) -> dict[str, Any]:
        return {"registered_model": self._model, "generations": self._generations, "step": self._step}
