"""A generation in the MLflow Model Registry: save logs + registers + aliases it, load resolves the alias.

In the catalog it wraps the generation's folder dataset, as kedro-mlflow's ``MlflowArtifactDataset``
wraps another: ``dataset: {type: lam_kedro.datasets.HFModelDataset, path: ...}``. Then ``save`` writes
the folder (what DVC tracks and the next phase loads) and registers the generation; ``load`` reads
the folder. So a phase's node returns its model once, and no node exists only to register it.

``save(bundle)`` logs the bundle's HF folder as an MLflow pyfunc model (``serving.pyfunc.
LAMPyfuncModel``) to the *active* run (the one kedro-mlflow opened for ``kedro run``), registers
a new version of ``registered_model_name``, points ``alias`` at it (``lam1`` ... ``lam4``, default
the bundle's generation) and tags the version with its provenance (``generation``, ``base``,
``parent``, ``task``, ``adapter``) and its training summary. The summary goes to the logged
model's metrics too, under the same names for every generation, so the UI compares them column
by column. Without ``dataset``, ``load()`` downloads ``models:/<name>@<alias>`` and returns the
``ModelBundle``.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import parse_dataset_definition

from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.policy import decode_config

__all__ = ["MlflowRegisteredModelDataset", "default_pip_requirements"]

logger = logging.getLogger(__name__)

_PROVENANCE = ("generation", "base", "parent", "task", "adapter", "source")


def default_pip_requirements() -> list[str]:
    """The serving environment, pinned to what trained the model (no slow requirement inference)."""
    import mlflow
    import torch
    import transformers

    from lam_kedro import __version__

    return [f"lam-kedro=={__version__}", f"torch=={torch.__version__.split('+')[0]}",
            f"transformers=={transformers.__version__}", f"mlflow=={mlflow.__version__}"]


class MlflowRegisteredModelDataset(AbstractDataset[ModelBundle, ModelBundle]):
    """One alias of a registered model (``lam@lam1``; the reward model is ``lam-reward@...``).

    ``task`` (``causal_lm`` | ``seq_cls``) is used on load; left out, it comes from the bundle's
    ``lam_info.json`` or its architecture. ``generate`` is the ``model.policy.DecodeConfig`` the
    served pyfunc decodes with (its ``model_config``: the keys given, validated here so that a bad
    key fails at once; none given: ``DecodeConfig()``, ``evaluation.generate``'s default). ``tags``
    are added to every version. ``dataset`` is the wrapped folder dataset's config (see the module).
    """

    def __init__(
        self,
        registered_model_name: str = "lam",
        alias: str | None = None,
        task: str | None = None,
        artifact_path: str = "model",
        generate: dict[str, Any] | None = None,
        pip_requirements: list[str] | None = None,
        tags: dict[str, str] | None = None,
        dataset: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._name = registered_model_name
        self._alias = alias
        self._task = task
        self._artifact_path = artifact_path
        where = f"MlflowRegisteredModelDataset({registered_model_name}).generate"
        self._generate = decode_config(generate, where).model_dump(mode="json", exclude_unset=True)
        self._pip = pip_requirements
        self._tags = dict(tags or {})
        self._dataset: AbstractDataset | None = None
        if dataset is not None:
            cls, kwargs = parse_dataset_definition(dict(dataset))
            self._dataset = cls(**kwargs)
        self.metadata = metadata

    @property
    def uri(self) -> str:
        """``models:/<name>@<alias>``, what ``mlflow.pyfunc.load_model`` and the server take."""
        if not self._alias:
            raise DatasetError(f"MlflowRegisteredModelDataset({self._name}): set `alias` to load a version")
        return f"models:/{self._name}@{self._alias}"

    def _save(self, data: ModelBundle) -> None:
        import mlflow
        from mlflow import MlflowClient

        from lam_kedro.model.loading import save_bundle
        from lam_kedro.serving.pyfunc import LAMPyfuncModel, signature_for

        if not isinstance(data, ModelBundle):
            raise DatasetError(f"MlflowRegisteredModelDataset saves a ModelBundle, got {type(data).__name__}")
        if mlflow.active_run() is None:
            raise DatasetError(
                f"registering {self._name!r} needs an active MLflow run: run it through `kedro run` "
                "(kedro-mlflow opens one) or inside `mlflow.start_run()`"
            )
        if self._dataset is not None:
            self._dataset.save(data)  # the folder first: DVC's output and the next phase's input
        alias = self._alias or data.generation
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "hf_model"
            save_bundle(data, folder)
            info = mlflow.pyfunc.log_model(
                name=self._artifact_path,
                python_model=LAMPyfuncModel(),
                artifacts={"hf_model": str(folder)},
                model_config=self._generate,
                signature=signature_for(str(data.info.get("task") or self._task or "causal_lm")),
                pip_requirements=self._pip or default_pip_requirements(),
                registered_model_name=self._name,
            )
        version = str(info.registered_model_version)
        client = MlflowClient()
        client.set_registered_model_alias(self._name, alias, version)
        tags = {k: str(data.info.get(k)) for k in _PROVENANCE if data.info.get(k) is not None}
        metrics = {k: float(v) for k, v in (data.info.get("metrics") or {}).items() if isinstance(v, (int, float))}
        tags.update({f"train.{k}": f"{v:.6g}" for k, v in metrics.items()})
        for key, value in {**tags, **self._tags}.items():
            client.set_model_version_tag(self._name, version, key, value)
        if metrics and getattr(info, "model_id", None):
            mlflow.log_metrics({f"train.{k}": v for k, v in metrics.items()}, model_id=info.model_id)
        logger.info("registered %s version %s as @%s (%s)", self._name, version, alias, data.generation)

    def _load(self) -> ModelBundle:
        import mlflow
        from mlflow.exceptions import MlflowException

        from lam_kedro.model.loading import load_bundle

        if self._dataset is not None:
            return self._dataset.load()
        try:
            local = mlflow.artifacts.download_artifacts(artifact_uri=self.uri)
        except MlflowException as err:
            raise DatasetError(f"cannot load {self.uri} from the registry ({mlflow.get_registry_uri()}): {err}") from err
        return load_bundle(Path(local) / "artifacts" / "hf_model", self._task)

    def _exists(self) -> bool:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        if self._dataset is not None:
            return self._dataset.exists()
        if not self._alias:
            return False
        try:
            MlflowClient().get_model_version_by_alias(self._name, self._alias)
        except MlflowException:
            return False
        return True

    def _describe(self) -> dict[str, Any]:
        return {"registered_model_name": self._name, "alias": self._alias, "task": self._task,
                "dataset": self._dataset._describe() if self._dataset is not None else None}
