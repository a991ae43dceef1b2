"""The small value types every part of the environment shares.

Kept in one module with no imports of the rest of the package, so the document model, the UI,
the task families and the agent runtime can all depend on it without cycles. All are frozen or
slotted dataclasses: an environment step creates several, so they must be cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: What an agent may say about the episode after an action.
STATUSES: tuple[str, ...] = ("CONTINUE", "FINISH", "FAIL")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)`` into ``Document.text()``."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Control:
    """One visible control, as UI Automation would report it."""

    label: str
    control_text: str
    control_type: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "control_text": self.control_text, "control_type": self.control_type}


@dataclass(frozen=True, slots=True)
class Observation:
    """What the agent sees after a step: text only, as in the paper."""

    title: str
    controls: tuple[Control, ...]
    document: str
    selection: str = ""
    error: str | None = None

    def find(self, control_text: str, control_type: str | None = None) -> Control | None:
        """The first visible control with this text (and type, when given), else ``None``."""
        for c in self.controls:
            if c.control_text == control_text and (control_type is None or c.control_type == control_type):
                return c
        return None

    def by_label(self, label: str) -> Control | None:
        for c in self.controls:
            if c.label == label:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "controls": [c.to_dict() for c in self.controls],
            "document": self.document,
            "selection": self.selection,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Observation:
        return cls(
            title=d["title"],
            controls=tuple(Control(**c) for c in d["controls"]),
            document=d["document"],
            selection=d.get("selection", ""),
            error=d.get("error"),
        )


@dataclass(frozen=True, slots=True)
class Action:
    """One AppAgent call: ``function(**args)`` on the control labelled ``control_label``.

    ``status`` FINISH or FAIL ends the episode after the action; ``function=""`` only changes
    the status. Validation against the current UI happens in ``WordEnv.step`` (an invalid
    action is an error in the next observation, never an exception).
    """

    control_label: str
    function: str
    args: dict[str, Any] = field(default_factory=dict)
    status: str = "CONTINUE"

    def to_dict(self) -> dict[str, Any]:
        return {"control_label": self.control_label, "function": self.function, "args": dict(self.args), "status": self.status}


@dataclass(frozen=True, slots=True)
class UIStep:
    """A scripted step named by what a person reads on screen, resolved to a label at run time.

    ``control_type`` disambiguates when two visible controls share a text (e.g. the ``Font``
    ComboBox and the ``Font`` dialog title). ``status`` lets the last step say FINISH.
    """

    control_text: str
    function: str
    args: dict[str, Any] = field(default_factory=dict)
    control_type: str | None = None
    status: str = "CONTINUE"


@dataclass(frozen=True, slots=True)
class Task:
    """A concrete task: plain data, so it round-trips through JSONL.

    ``template`` names the starting document: a built-in template name (see
    ``lam_kedro.env.templates``) or a path to a .docx file. ``family`` names the task family
    whose checker judges the episode; ``None`` is a request without a checker (free text).
    """

    task_id: str
    family: str | None
    request: str
    params: dict[str, Any]
    template: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "family": self.family,
            "request": self.request,
            "params": dict(self.params),
            "template": self.template,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        return cls(
            task_id=str(d["task_id"]),
            family=d["family"],
            request=d["request"],
            params=dict(d.get("params", {})),
            template=d["template"],
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A checker's verdict with the reason, so a failure explains itself."""

    success: bool
    reason: str

    def __bool__(self) -> bool:
        return self.success
