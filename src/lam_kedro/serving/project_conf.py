"""What ``lam agent`` and ``lam serve`` read of the project: its conf, through Kedro's config loader.

The settings are the evaluation's (``params:evaluation``, validated by its pydantic model, so a
typo fails naming the file and key instead of falling back to a default): the decode block
``generate``, the step limit ``online.max_steps`` and ``online.use_task_plan``. The data paths are
the catalog's (``instantiated_tasks``, ``trajectory_splits``, ``templates``). ``env`` selects the
conf environment as ``kedro run --env`` does (default ``$KEDRO_ENV``, else ``local`` when
``conf/local`` exists, else ``base`` alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lam_kedro.evaluation.params import EvaluationParams, parse_params
from lam_kedro.model.policy import DecodeConfig
from lam_kedro.project_conf import config_loader

__all__ = ["AgentSettings", "agent_settings", "tracking_uri"]

#: The catalog entries whose paths ``lam agent`` reads (``catalog_trajectories.yml``, ``catalog_templates.yml``).
TASKS, SPLITS, TEMPLATES = "instantiated_tasks", "trajectory_splits", "templates"


@dataclass(frozen=True)
class AgentSettings:
    """How the online evaluation runs a LAM, and where the project's tasks and templates are."""

    decode: DecodeConfig
    max_steps: int
    use_task_plan: bool
    task_file: Path | None = None
    splits_file: Path | None = None
    templates_dir: Path | None = None
    source: str = "the evaluation's defaults (no conf/base)"

    @classmethod
    def of(cls, evaluation: EvaluationParams, **paths: Any) -> AgentSettings:
        return cls(decode=evaluation.generate, max_steps=evaluation.online.max_steps,
                   use_task_plan=evaluation.online.use_task_plan, **paths)


def tracking_uri(project: Path | None = None, env: str | None = None) -> str | None:
    """``server.mlflow_tracking_uri`` of the project's ``mlflow.yml`` (kedro-mlflow's config), read with
    the same loader and env; ``None`` outside a project or when it is not set."""
    from kedro.config import MissingConfigException

    conf = (project or Path.cwd()).resolve() / "conf"
    if not (conf / "base").is_dir():
        return None
    loader, _ = config_loader(conf, env)
    try:
        server = (loader["mlflow"] or {}).get("server") or {}
    except MissingConfigException:
        return None
    return server.get("mlflow_tracking_uri") or None


def _catalog_path(catalog: dict[str, Any], name: str, key: str, project: Path) -> Path | None:
    entry = catalog.get(name) or {}
    value = entry.get(key) if isinstance(entry, dict) else None
    return None if value is None else project / str(value)


def agent_settings(project: Path | None = None, env: str | None = None) -> AgentSettings:
    """The settings from ``<project>/conf`` (default: the current directory) in conf environment ``env``.

    Without a ``conf/base`` folder (``lam agent`` run outside a project) the evaluation's defaults
    apply and there is no default task file or templates folder. A parameters or catalog file that
    does not parse, or an evaluation block with an unknown key, raises ``ValueError`` naming it.
    """
    from kedro.config import MissingConfigException

    project = (project or Path.cwd()).resolve()
    conf = project / "conf"
    if not (conf / "base").is_dir():
        return AgentSettings.of(EvaluationParams())
    loader, env = config_loader(conf, env)
    where = f"conf/{env}" if env != "base" else "conf/base"
    try:
        parameters = loader["parameters"]
        catalog = dict(loader["catalog"])
    except MissingConfigException as err:
        raise ValueError(f"{conf}: {err}") from err
    try:
        evaluation = parse_params(parameters.get("evaluation"))
    except ValueError as err:
        raise ValueError(f"{where}/parameters_evaluation.yml (over conf/base): {err}") from err
    return AgentSettings.of(
        evaluation,
        task_file=_catalog_path(catalog, TASKS, "filepath", project),
        splits_file=_catalog_path(catalog, SPLITS, "filepath", project),
        templates_dir=_catalog_path(catalog, TEMPLATES, "path", project),
        source=f"{project / where}",
    )
