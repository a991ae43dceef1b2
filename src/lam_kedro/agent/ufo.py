"""Interop with Microsoft UFO: task files in, execution records and AppAgent responses out.

UFO's task files are ``{app, unique_id, task, refined_steps}`` (numbered, with markdown bold);
the paper's task-plan data is ``{task_id, task, plan}``. Both import into ``TaskPlan``. A
finished trajectory exports as a record valid against UFO's execution schema
(``shared/interop/ufo/execution_schema.json``), so UFO's tooling can read our runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lam_kedro.agent.prompt import strip_step_marker, summarize_action
from lam_kedro.agent.schema import Step, TaskPlan, Trajectory

__all__ = [
    "import_ufo_task",
    "import_ufo_folder",
    "clean_step",
    "export_execution_record",
    "to_ufo_app_agent_response",
    "from_ufo_app_agent_response",
    "UFO_KEYS",
]

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")


def clean_step(line: str) -> str:
    """``"1.On the **Design** tab, ..."`` -> ``"On the Design tab, ..."``."""
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), strip_step_marker(line))
    return " ".join(text.replace("**", "").split())


def _require(d: Mapping[str, Any], key: str, where: str) -> Any:
    value = d.get(key)
    if value is None or (isinstance(value, (str, list)) and not value):
        raise ValueError(f"{where}: missing or empty field {key!r}")
    return value


def _from_mapping(d: Mapping[str, Any], where: str) -> TaskPlan:
    if not isinstance(d, Mapping):
        raise ValueError(f"{where}: expected a JSON object, got {type(d).__name__}")
    if "refined_steps" in d or "unique_id" in d:  # UFO's shape
        task_id, steps_key, source = str(_require(d, "unique_id", where)), "refined_steps", "ufo"
    else:  # the paper's {task_id, task, plan}
        task_id, steps_key, source = (
            str(_require(d, "task_id", where)),
            "plan",
            str(d.get("source") or "imported"),
        )
    task = _require(d, "task", where)
    raw_steps = _require(d, steps_key, where)
    if isinstance(raw_steps, str):
        raw_steps = raw_steps.splitlines()
    if not isinstance(task, str) or not isinstance(raw_steps, list):
        raise ValueError(f"{where}: field 'task' must be a string and {steps_key!r} a list of strings")
    plan = [clean_step(str(s)) for s in raw_steps]
    plan = [s for s in plan if s]
    if not plan:
        raise ValueError(f"{where}: field {steps_key!r} has no non-empty step")
    try:
        return TaskPlan(
            task_id=task_id,
            app=str(d.get("app") or "word").lower(),
            task=" ".join(task.split()),
            plan=plan,
            source=source,
            family=d.get("family"),
        )
    except ValidationError as err:
        raise ValueError(f"{where}: {err}") from err


def import_ufo_task(path_or_dict: Path | str | Mapping[str, Any]) -> TaskPlan:
    """One UFO (or paper-shaped) task as a ``TaskPlan``; errors name the file and the field."""
    if isinstance(path_or_dict, Mapping):
        return _from_mapping(path_or_dict, "<dict>")
    path = Path(path_or_dict)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: cannot read as JSON: {err}") from err
    return _from_mapping(data, str(path))


def import_ufo_folder(folder: Path | str) -> tuple[list[TaskPlan], list[dict[str, Any]]]:
    """Every ``*.json`` under ``folder`` (sorted); a bad file is a reject ``{file, reason}``.

    A file may hold one task or a list of tasks (each item judged on its own). A repeated
    task id is rejected, since it would make two different tasks indistinguishable downstream.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"UFO task folder {folder} does not exist")
    plans: list[TaskPlan] = []
    rejects: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            rejects.append({"file": str(path), "reason": f"cannot read as JSON: {err}"})
            continue
        items = list(enumerate(data)) if isinstance(data, list) else [(None, data)]
        for i, item in items:
            where = str(path) if i is None else f"{path}[{i}]"
            try:
                plan = _from_mapping(item, where)
            except ValueError as err:
                rejects.append({"file": where, "reason": str(err)})
                continue
            if plan.task_id in seen:
                rejects.append(
                    {
                        "file": where,
                        "reason": f"duplicate task id {plan.task_id!r} (first in {seen[plan.task_id]})",
                    }
                )
                continue
            seen[plan.task_id] = where
            plans.append(plan)
    return plans, rejects


# -- export --------------------------------------------------------------------------------------
def _instantiated_plan(traj: Trajectory) -> list[dict[str, Any]]:
    rows = []
    for step in traj.steps:
        rows.append(
            {
                "Step": step.index + 1,
                "Subtask": step.thought or summarize_action(step),
                "ControlLabel": step.control_label or None,
                "ControlText": step.control_name,
                "Function": step.function,
                "Args": dict(step.args),
                "Success": step.error is None,
                "MatchedControlText": step.control_name
                if step.control_label and step.error is None
                else None,
            }
        )
    return rows


def export_execution_record(traj: Trajectory) -> dict[str, Any]:
    """A UFO execution record of a finished trajectory (validates against execution_schema.json).

    UFO's judge says yes/no/unsure; ours is the environment's checker, so ``complete`` is
    "yes" or "no" and the checker's reason is the record's reason.
    """
    task, out = traj.task, traj.outcome
    return {
        "unique_id": task.task_id,
        "app": task.app,
        "original": {"original_task": task.task, "original_steps": list(task.plan)},
        "execution_result": {
            "result": {
                "reason": out.reason,
                "sub_scores": {
                    "checker": "yes" if out.success else "no",
                    "terminated": "yes" if out.terminated else "no",
                    "truncated": "yes" if out.truncated else "no",
                    "steps": str(out.steps),
                    "invalid_actions": str(out.invalid_actions),
                    "actor": traj.actor,
                },
                "complete": "yes" if out.success else "no",
            },
            "error": None,
        },
        "instantiation_result": {
            "choose_template": {"result": task.template, "error": None},
            "prefill": {
                "result": {"instantiated_request": task.task, "instantiated_plan": _instantiated_plan(traj)},
                "error": None,
            },
            "instantiation_evaluation": {
                "result": {
                    "judge": True,
                    "thought": f"instantiated on template {task.template!r}; checked by the {task.family} checker",
                    "request_type": task.family or "unknown",
                },
                "error": None,
            },
        },
        "time_cost": {
            "choose_template": None,
            "prefill": None,
            "instantiation_evaluation": None,
            "execute": out.duration_s,
            "execute_eval": None,
            "total": out.duration_s,
        },
    }


# -- AppAgent responses ----------------------------------------------------------------------
#: Our snake_case key -> UFO AppAgent's CamelCase key.
UFO_KEYS: dict[str, str] = {
    "observation": "Observation",
    "thought": "Thought",
    "control_label": "ControlLabel",
    "control_name": "ControlText",
    "function": "Function",
    "args": "Args",
    "status": "Status",
    "plan": "Plan",
    "comment": "Comment",
}
_REQUIRED_UFO = ("ControlLabel", "Function", "Args", "Status")


def _observation_text(obs: Mapping[str, Any]) -> str:
    """UFO's Observation is prose about the screenshot; ours says what the text state shows."""
    n = len(obs.get("controls", ()))
    sel = obs.get("selection") or ""
    text = f"Window {obs.get('title', '')!r} shows {n} controls"
    return text + (f"; selected: {sel!r}" if sel else "; nothing selected")


def to_ufo_app_agent_response(step: Step | Mapping[str, Any]) -> dict[str, Any]:
    """A step (or a snake_case action dict) as UFO AppAgent's response, CamelCase keys."""
    if isinstance(step, Step):
        src: dict[str, Any] = step.model_dump(include=set(UFO_KEYS))
        src["observation"] = _observation_text(step.observation)
        src["comment"] = step.error or ""
    else:
        src = dict(step)
    return {
        "Observation": str(src.get("observation") or ""),
        "Thought": src.get("thought", ""),
        "ControlLabel": str(src.get("control_label", "")),
        "ControlText": src.get("control_name", ""),
        "Function": src.get("function", ""),
        "Args": dict(src.get("args") or {}),
        "Status": src.get("status", "CONTINUE"),
        "Plan": list(src.get("plan") or []),
        "Comment": str(src.get("comment") or ""),
    }


def from_ufo_app_agent_response(d: Mapping[str, Any]) -> dict[str, Any]:
    """UFO AppAgent's CamelCase response as our snake_case dict; a missing key raises naming it.

    UFO's ``Plan`` may be one newline-separated string; it becomes a list of steps.
    """
    missing = [k for k in _REQUIRED_UFO if k not in d]
    if missing:
        raise ValueError(f"UFO AppAgent response lacks key(s) {', '.join(missing)}")
    plan = d.get("Plan") or []
    if isinstance(plan, str):
        plan = [s for s in (strip_step_marker(x) for x in plan.splitlines()) if s]
    return {
        "observation": d.get("Observation", ""),
        "thought": d.get("Thought", ""),
        "control_label": "" if d["ControlLabel"] is None else str(d["ControlLabel"]),
        "control_name": d.get("ControlText", "") or "",
        "function": d["Function"] or "",
        "args": dict(d["Args"] or {}),
        "status": d["Status"],
        "plan": list(plan),
        "comment": d.get("Comment", "") or "",
    }
