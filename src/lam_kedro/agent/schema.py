"""The one trajectory schema: task plans, instantiated tasks, steps and trajectories.

Every stage (data collection, exploration, evaluation, serving) reads and writes these models,
so a record written by one is valid input to the next. ``extra="forbid"`` makes a typo in a
field name fail loudly, and pydantic's errors name the offending field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lam_kedro.env.action_table import ACTIONS
from lam_kedro.env.safe_paths import check_id
from lam_kedro.env.types import STATUSES, Task

__all__ = ["ACTION_FIELDS", "ACTION_KEYS", "ActionField", "TaskPlan", "InstantiatedTask", "Step", "Outcome",
           "Trajectory", "action_fields"]


class ActionField(NamedTuple):
    """One field of the action a LAM emits: our key, UFO AppAgent's CamelCase key, the value when a
    record lacks it, and how a record's value is normalised."""

    name: str
    ufo: str
    default: Any
    coerce: Callable[[Any], Any]


def _same(v: Any) -> Any:
    return v


#: The action fields in the order the model emits them (the prompt shows this order, ``Step``
#: declares these fields, the UFO adapter maps them): the one list of them.
ACTION_FIELDS: tuple[ActionField, ...] = (
    ActionField("thought", "Thought", "", _same),
    ActionField("control_label", "ControlLabel", "", str),
    ActionField("control_name", "ControlText", "", _same),
    ActionField("function", "Function", "", _same),
    ActionField("args", "Args", None, lambda v: dict(v or {})),
    ActionField("status", "Status", "CONTINUE", _same),
    ActionField("plan", "Plan", None, lambda v: list(v or [])),
)
#: Key order of the action JSON the model is trained to emit.
ACTION_KEYS: tuple[str, ...] = tuple(f.name for f in ACTION_FIELDS)


def action_fields(src: Mapping[str, Any]) -> dict[str, Any]:
    """The action fields of a snake_case mapping, in ``ACTION_KEYS`` order, defaults filled in."""
    return {f.name: f.coerce(src.get(f.name, f.default)) for f in ACTION_FIELDS}


class _Strict(BaseModel):
    """Base of every record: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TaskPlan(_Strict):
    """A task and its natural-language plan (paper's ``{task_id, task, plan}``): Phase 1 data.

    ``family``, ``params`` and ``template`` make a row *executable* (instantiable and checkable
    in the environment); an evolved row composed of sub-tasks has family ``sequence`` and params
    ``{"parts": [{family, params}, ...]}``. Imported plans (UFO task files) have none of these.
    """

    task_id: str
    app: str = "word"
    task: str = Field(min_length=1)
    plan: list[str] = Field(min_length=1)
    source: str = "generated"
    family: str | None = None
    template: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    operator: str | None = None
    parent_task_id: str | None = None

    @field_validator("task_id", "parent_task_id")
    @classmethod
    def _safe_ids(cls, v: str | None) -> str | None:
        return v if v is None else check_id(v, "id")

    @property
    def executable(self) -> bool:
        """Whether the trajectories half can instantiate and check this row."""
        return bool(self.family and self.template)

    @field_validator("plan")
    @classmethod
    def _no_empty_steps(cls, plan: list[str]) -> list[str]:
        for i, s in enumerate(plan):
            if not s.strip():
                raise ValueError(f"plan step {i} is empty")
        return plan


class InstantiatedTask(_Strict):
    """A task made concrete to one template document, runnable in the environment.

    ``family`` and ``params`` are what the environment's checker needs; a task without a
    family (imported verbatim from UFO, a user's free-text request) runs without a checker: its
    episode ends with no verdict (``lam_kedro.env.episode.NO_CHECKER``).
    """

    task_id: str
    app: str = "word"
    task: str = Field(min_length=1)
    plan: list[str] = Field(default_factory=list)
    template: str
    template_description: str = ""
    family: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    source_task_id: str | None = None

    @field_validator("task_id", "source_task_id")
    @classmethod
    def _safe_ids(cls, v: str | None) -> str | None:
        return v if v is None else check_id(v, "id")

    def to_env_task(self) -> Task:
        """The environment's plain ``Task`` (``family`` ``None`` when no checker judges it)."""
        return Task(
            task_id=self.task_id,
            family=self.family or None,
            request=self.task,
            params=dict(self.params),
            template=self.template,
        )

    @classmethod
    def from_env_task(
        cls,
        task: Task,
        plan: list[str] | None = None,
        template_description: str = "",
        source_task_id: str | None = None,
    ) -> InstantiatedTask:
        """Wrap an environment ``Task`` so a trajectory can carry it."""
        return cls(
            task_id=task.task_id,
            task=task.request,
            plan=list(plan or []),
            template=task.template,
            template_description=template_description,
            family=task.family,
            params=dict(task.params),
            source_task_id=source_task_id,
        )


class Step(_Strict):
    """One agent step: what it saw (before acting), what it decided, and what came of it."""

    index: int = Field(ge=0)
    observation: dict[str, Any]
    thought: str = ""
    control_label: str = ""
    control_name: str = ""
    function: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    status: str = "CONTINUE"
    plan: list[str] = Field(default_factory=list)
    result: Any | None = None
    error: str | None = None
    raw_output: str | None = None
    latency_s: float | None = None

    @field_validator("function")
    @classmethod
    def _known_function(cls, v: str) -> str:
        if v and v not in ACTIONS:
            raise ValueError(f"unknown function {v!r}; expected one of {', '.join(ACTIONS)} or ''")
        return v

    @field_validator("status")
    @classmethod
    def _known_status(cls, v: str) -> str:
        if v not in STATUSES:
            raise ValueError(f"unknown status {v!r}; expected one of {', '.join(STATUSES)}")
        return v


class Outcome(_Strict):
    """How an episode ended, as the environment's checker (never the agent) judged it."""

    success: bool
    reason: str
    terminated: bool
    truncated: bool
    steps: int = Field(ge=0)
    invalid_actions: int = Field(ge=0)
    duration_s: float = Field(ge=0)


class Trajectory(_Strict):
    """A whole episode: the task, every step, the outcome, and who acted (``actor``)."""

    trajectory_id: str
    task: InstantiatedTask
    steps: list[Step]
    outcome: Outcome
    actor: str
    seed: int | None = None

    @field_validator("trajectory_id")
    @classmethod
    def _safe_id(cls, v: str) -> str:
        return check_id(v, "id")
