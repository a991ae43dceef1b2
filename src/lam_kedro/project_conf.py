"""The project's conf, read as ``kedro run`` reads it: Kedro's ``OmegaConfigLoader`` over ``conf/base``
and one environment, every parameters block validated by its pydantic model.

``lam agent`` / ``lam serve`` (``serving.project_conf``) and the scripts in ``benchmarks/`` read their
settings through here rather than parsing YAML themselves, so an environment overlays ``conf/base``
the way it does for a run and a typo fails naming the file and key. ``env`` is chosen as ``kedro run
--env`` does: the argument, else ``$KEDRO_ENV``, else ``local`` when ``conf/local`` exists, else
``base`` alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["config_loader", "project_parameters"]


def config_loader(conf: Path, env: str | None = None) -> tuple[Any, str]:
    """``(OmegaConfigLoader over conf/base + env, env)``; an ``env`` without its folder is an error."""
    from kedro.config import OmegaConfigLoader

    env = env or os.environ.get("KEDRO_ENV") or None
    if env is None:
        env = "local" if (conf / "local").is_dir() else "base"
    elif not (conf / env).is_dir():
        raise ValueError(f"--env {env}: there is no {conf / env} folder")
    # kedro-mlflow reads mlflow*.yml under the key `mlflow` (its hook adds the pattern for kedro run)
    patterns = {"mlflow": ["mlflow*", "mlflow*/**"]}
    return OmegaConfigLoader(str(conf), base_env="base", default_run_env=env, config_patterns=patterns), env


def project_parameters(project: Path | None = None, env: str | None = None,
                       keys: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    """The parameters of ``<project>/conf`` (default: the current directory) in environment ``env``:
    the blocks ``keys`` (default: all), each validated by its model (``pipelines.params.PARAMETERS``)
    and returned as the mapping the pipeline's nodes receive. A missing block or an unknown key is a
    ``ValueError`` naming it."""
    from kedro.config import MissingConfigException

    from lam_kedro.pipelines.params import validate_parameters

    conf = (project or Path.cwd()).resolve() / "conf"
    if not (conf / "base").is_dir():
        raise ValueError(f"{conf}: not a lam-kedro project (no conf/base folder)")
    loader, env = config_loader(conf, env)
    try:
        parameters = dict(loader["parameters"])
    except MissingConfigException as err:
        raise ValueError(f"{conf}: {err}") from err
    wanted = list(parameters) if keys is None else list(keys)
    missing = [k for k in wanted if k not in parameters]
    if missing:
        raise ValueError(f"{conf}/{{base,{env}}}: no parameters block {', '.join(missing)}")
    validate_parameters(parameters, wanted)
    return {k: parameters[k] for k in wanted}
