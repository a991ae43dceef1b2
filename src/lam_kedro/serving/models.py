"""Where serving gets its model: a registry URI (``models:/lam@champion``) or a local folder.

``lam agent``, ``lam serve`` and the benchmarks all call ``load_lam``; the tracking store is the
project's own (``conf/base/mlflow.yml``, default ``sqlite:///mlflow.db``) unless
``MLFLOW_TRACKING_URI`` or ``--tracking-uri`` says otherwise. The decoder is
``model.policy.lam_generate`` from a ``DecodeConfig`` (the one way every LAM acts, re-exported
here): constrained action decoding by default, or plain ``generate``.
"""

from __future__ import annotations

import os
from pathlib import Path

from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.policy import DecodeConfig, decode_config, lam_generate

__all__ = ["DEFAULT_MODEL_URI", "DecodeConfig", "ModelNotFoundError", "decode_config", "lam_generate", "load_lam",
           "resolve_tracking_uri"]

#: What ``lam agent`` and ``lam serve`` load when no ``--model`` is given.
DEFAULT_MODEL_URI = "models:/lam@champion"


class ModelNotFoundError(RuntimeError):
    """The model URI or folder does not resolve; the message says what was looked up where."""


def resolve_tracking_uri(tracking_uri: str | None = None, project: Path | str | None = None) -> str:
    """``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the project's ``mlflow.yml`` (kedro-mlflow's
    ``server.mlflow_tracking_uri``, read with Kedro's config loader: ``serving.project_conf``).

    A relative ``sqlite:///mlflow.db`` is made absolute against the project folder (default: the
    current directory), so the command works from anywhere inside a project checkout.
    """
    if tracking_uri:
        return tracking_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    root = Path(project) if project else Path.cwd()
    from lam_kedro.serving.project_conf import tracking_uri as project_uri

    uri = project_uri(root) or "sqlite:///mlflow.db"
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        uri = prefix + str((root / uri[len(prefix):]).resolve())
    return uri


def load_lam(model: str = DEFAULT_MODEL_URI, tracking_uri: str | None = None, dtype: str | None = None) -> ModelBundle:
    """A ``ModelBundle`` from ``models:/<name>@<alias>`` / ``models:/<name>/<version>`` or an HF folder."""
    from lam_kedro.model.loading import load_bundle

    if not model.startswith(("models:/", "runs:/")):
        path = Path(model)
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"{model} is neither a registry URI (models:/lam@champion) nor a Hugging Face model folder "
                "(no config.json there)"
            )
        return load_bundle(path, dtype=dtype)

    import mlflow
    from mlflow.exceptions import MlflowException

    uri = resolve_tracking_uri(tracking_uri)
    db = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else None
    if db and not Path(db).is_file():  # opening it would create an empty store as a side effect
        raise ModelNotFoundError(
            f"cannot load {model}: the tracking store {uri} does not exist (no {db}). Train and evaluate "
            "first (`kedro run`), pass --tracking-uri, or pass --model with a model folder")
    mlflow.set_tracking_uri(uri)
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model))
    except MlflowException as err:
        raise ModelNotFoundError(
            f"cannot load {model} from the registry at {uri}: {err.message if hasattr(err, 'message') else err}. "
            "Train and evaluate first (`kedro run`, then `kedro run --pipelines evaluation`, which sets "
            "@champion), or pass --model with another alias or a model folder"
        ) from err
    folder = local / "artifacts" / "hf_model"
    if not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"{model} (downloaded to {local}) has no artifacts/hf_model folder")
    return load_bundle(folder, dtype=dtype)
