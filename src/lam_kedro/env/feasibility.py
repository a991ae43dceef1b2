"""Refusing tasks the environment cannot do without flattening the document.

The model holds a document's text, formats, tables' text, one section's setup, header, footer and
comments; the package it was read from holds more (``docx_loss``). A task is infeasible on a
document when it names text only that "more" holds (a text box, a nested table, a note), or when
doing it (the family's scripted solution, played in the environment) would make saving lose
something the model cannot represent (``docx_patch.flattening``): a paragraph merge that cannot
keep a section break, an edit that cannot be patched in place ... Such a task is refused with
the reason, never run into a flattened document. Documents built in code, and .docx files with
none of those features, are never refused, so nothing changes for them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InfeasibleTask", "infeasibility"]


class InfeasibleTask(ValueError):
    """The task needs what the document model cannot represent; the message says what."""


def _play(family: str, params: dict[str, Any], doc: Any) -> Any:
    """The document after the family's scripted solution, played step by step in a ``WordEnv``."""
    from lam_kedro.env.tasks import get_family
    from lam_kedro.env.types import Action, Task
    from lam_kedro.env.word_env import WordEnv

    steps = get_family(family).solution(params)
    env = WordEnv(max_steps=len(steps) + 2, templates={"document": doc}, check_feasible=False)
    obs, _ = env.reset(Task("feasibility", family, "", dict(params), "document"))
    for step in steps:
        control = obs.find(step.control_text, step.control_type)
        if control is None:
            break
        obs, _, terminated, truncated, _ = env.step(Action(control.label, step.function, dict(step.args)))
        if terminated or truncated:
            break
    return env.document


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def infeasibility(family: str, params: dict[str, Any], doc: Any) -> str | None:
    """Why the task (``family`` with ``params``) cannot be done on ``doc`` without flattening it,
    or ``None`` when it can."""
    src = getattr(doc, "source", None)
    if src is None or not src.unmodeled:
        return None
    shown = doc.summary_text()
    for text in _strings(params):
        if len(text.strip()) < 2 or text in shown:
            continue
        where = next((w for w, hidden in src.hidden_text if text in hidden), None)
        if where is not None:
            return (f"the text {text[:60]!r} is in {where}, which the environment does not represent, so the "
                    "task cannot act on it")
    from lam_kedro.env.docx_patch import flattening

    losses = flattening(_play(family, params, doc))
    if losses:
        return ("doing it would flatten what the environment cannot represent: " + "; ".join(losses))
    return None


def check_feasible(family: str, params: dict[str, Any], doc: Any, what: str = "the task") -> None:
    """Raise ``InfeasibleTask`` naming ``what`` and the reason when it is infeasible on ``doc``."""
    reason = infeasibility(family, params, doc)
    if reason is not None:
        raise InfeasibleTask(f"{what} is infeasible: {reason}")
