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
from lam_kedro.agent.schema import ACTION_FIELDS, Step, TaskPlan, Trajectory, action_fields
from lam_kedro.env.safe_paths import id_problem

__all__ = [
    "import_ufo_task",
    "import_ufo_folder",
    "import_task_files",
    "TaskFileError",
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


#: Sources only the pipeline itself gives; an imported row claiming one would skip checks.
RESERVED_SOURCES = frozenset({"generated", "evolved"})
#: The applications whose tasks the simulated Word can run.
SUPPORTED_APPS = frozenset({"word"})
#: Bounds on what one imported task may hold (a task file is outside data).
MAX_TASK_CHARS = 2000
MAX_STEP_CHARS = 2000
MAX_STEPS = 200
#: A task file larger than this is refused unread.
MAX_TASK_FILE_BYTES = 5_000_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class TaskFileError(ValueError):
    """A task file or item that cannot be imported; the message names the file, item and field."""


def _require(d: Mapping[str, Any], key: str, where: str) -> Any:
    value = d.get(key)
    if value is None or (isinstance(value, (str, list)) and not value):
        raise TaskFileError(f"{where}: missing or empty field {key!r}")
    return value


def _text(value: Any, where: str, key: str, limit: int) -> str:
    """A string field, checked (no coercion: a number or an object is an error naming the field)."""
    if not isinstance(value, str):
        raise TaskFileError(f"{where}: field {key!r} must be a string, got {type(value).__name__}")
    if _CONTROL.search(value):
        raise TaskFileError(f"{where}: field {key!r} contains a control character "
                            f"{_CONTROL.search(value).group()!r}")  # type: ignore[union-attr]
    if len(value) > limit:
        raise TaskFileError(f"{where}: field {key!r} has {len(value)} characters, more than {limit}")
    return value


def _from_mapping(d: Mapping[str, Any], where: str) -> TaskPlan:
    if not isinstance(d, Mapping):
        raise TaskFileError(f"{where}: expected a JSON object, got {_json_type(d)}")
    if "refined_steps" in d or "unique_id" in d:  # UFO's shape
        id_key, steps_key, source = "unique_id", "refined_steps", "ufo"
    else:  # the paper's {task_id, task, plan}
        id_key, steps_key = "task_id", "plan"
        raw_source = d.get("source", "imported")
        source = _text(raw_source, where, "source", 40) if raw_source is not None else "imported"
        if source in RESERVED_SOURCES or id_problem(source) is not None:
            raise TaskFileError(f"{where}: field 'source' is {source!r}; an imported task cannot claim "
                                f"{sorted(RESERVED_SOURCES)} (and a source is a plain word)")
    task_id = _require(d, id_key, where)
    problem = id_problem(task_id)
    if problem is not None:
        raise TaskFileError(f"{where}: field {id_key!r} {problem}")
    app = d.get("app", "word")
    app = _text(app, where, "app", 40).lower() if app is not None else "word"
    if app not in SUPPORTED_APPS:
        raise TaskFileError(f"{where}: field 'app' is {app!r}; only {sorted(SUPPORTED_APPS)} tasks can run here")
    task = _text(_require(d, "task", where), where, "task", MAX_TASK_CHARS)
    raw_steps = _require(d, steps_key, where)
    if isinstance(raw_steps, str):
        raw_steps = raw_steps.splitlines()
    if not isinstance(raw_steps, list):
        raise TaskFileError(f"{where}: field {steps_key!r} must be a list of strings, got {_json_type(raw_steps)}")
    if len(raw_steps) > MAX_STEPS:
        raise TaskFileError(f"{where}: field {steps_key!r} has {len(raw_steps)} steps, more than {MAX_STEPS}")
    plan = [clean_step(_text(s, where, f"{steps_key}[{i}]", MAX_STEP_CHARS)) for i, s in enumerate(raw_steps)]
    plan = [s for s in plan if s]
    if not plan:
        raise TaskFileError(f"{where}: field {steps_key!r} has no non-empty step")
    family = d.get("family")
    if family is not None:
        family = _text(family, where, "family", 80)
    if not " ".join(task.split()):
        raise TaskFileError(f"{where}: field 'task' is blank")
    try:
        return TaskPlan(task_id=task_id, app=app, task=" ".join(task.split()), plan=plan, source=source,
                        family=family)
    except ValidationError as err:
        raise TaskFileError(f"{where}: {err}") from err


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _read_json(path: Path, max_bytes: int = MAX_TASK_FILE_BYTES) -> Any:
    """The file's JSON; ``TaskFileError`` naming the file for every way it can fail."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TaskFileError(f"{path}: {size} bytes, more than the limit of {max_bytes} for a task file")
        raw = path.read_bytes()
    except OSError as err:
        raise TaskFileError(f"{path}: cannot read: {err}") from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise TaskFileError(f"{path}: cannot read as JSON: not UTF-8 text (byte {err.start})") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise TaskFileError(f"{path}: cannot read as JSON: {err}") from err
    except RecursionError as err:
        raise TaskFileError(f"{path}: cannot read as JSON: nested too deeply") from err
    except ValueError as err:  # e.g. an integer of more than 4300 digits
        raise TaskFileError(f"{path}: cannot read as JSON: {err}") from err


def import_ufo_task(path_or_dict: Path | str | Mapping[str, Any]) -> TaskPlan:
    """One UFO (or paper-shaped) task as a ``TaskPlan``; errors name the file and the field."""
    if isinstance(path_or_dict, Mapping):
        return _from_mapping(path_or_dict, "<dict>")
    path = Path(path_or_dict)
    return _from_mapping(_read_json(path), str(path))


def import_ufo_folder(folder: Path | str) -> tuple[list[TaskPlan], list[dict[str, Any]]]:
    """Every ``*.json`` under ``folder`` (sorted); a bad file or item is a reject ``{file, reason}``.

    (``import_task_files`` also accounts for the files it ignores; this keeps the older shape.)
    """
    found = import_task_files(folder)
    return found["plans"], found["rejects"]


def import_task_files(folder: Path | str) -> dict[str, Any]:
    """Every file under ``folder``, accounted for: ``{"plans", "rejects", "ignored", "counts"}``.

    ``*.json`` files (any case) import; a file may hold one task or a list of tasks (each item
    judged on its own, named ``file[i]``). A file that is not JSON, holds an empty list or
    something that is neither an object nor a list, or an item that is not a valid task, is a
    reject ``{file, reason}``; a repeated task id is a reject too, since it would make two tasks
    indistinguishable downstream. Any other file is ignored *with its reason*. ``counts`` adds
    up: ``seen == imported + rejected + ignored``, where a unit is a task item, or a file that
    held no item (ignored, unreadable, empty).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"task file folder {folder} does not exist")
    plans: list[TaskPlan] = []
    rejects: list[dict[str, Any]] = []
    ignored: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    files = units = 0
    for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
        files += 1
        units += 1  # the file itself, until it turns out to hold items
        if path.name == ".gitkeep":
            ignored.append({"file": str(path), "reason": "placeholder that keeps the folder in git"})
            continue
        if path.suffix.lower() != ".json":
            ignored.append({"file": str(path), "reason": f"not a task file: only *.json files import "
                                                         f"(this one ends in {path.suffix or 'no extension'!r})"})
            continue
        if not path.is_file():
            rejects.append({"file": str(path), "reason": f"{path}: not a regular file"})
            continue
        try:
            data = _read_json(path)
        except TaskFileError as err:
            rejects.append({"file": str(path), "reason": str(err)})
            continue
        if isinstance(data, list):
            if not data:
                rejects.append({"file": str(path), "reason": f"{path}: an empty list, no task in it"})
                continue
            items: list[tuple[int | None, Any]] = list(enumerate(data))
        else:
            items = [(None, data)]
        units += len(items) - 1  # the file counts as its items
        for i, item in items:
            where = str(path) if i is None else f"{path}[{i}]"
            try:
                plan = _from_mapping(item, where)
            except (TaskFileError, ValueError, RecursionError) as err:
                reason = str(err) if not isinstance(err, RecursionError) else f"{where}: nested too deeply"
                rejects.append({"file": where, "reason": reason})
                continue
            if plan.task_id in seen:
                rejects.append({"file": where,
                                "reason": f"{where}: duplicate task id {plan.task_id!r} (first in {seen[plan.task_id]})"})
                continue
            seen[plan.task_id] = where
            plans.append(plan)
    counts = {"files": files, "imported": len(plans), "rejected": len(rejects), "ignored": len(ignored)}
    counts["seen"] = units
    return {"plans": plans, "rejects": rejects, "ignored": ignored, "counts": counts}


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
    **{f.name: f.ufo for f in ACTION_FIELDS},
    "comment": "Comment",
}
_REQUIRED_UFO = tuple(UFO_KEYS[k] for k in ("control_label", "function", "args", "status"))


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
        **{UFO_KEYS[k]: v for k, v in action_fields(src).items()},
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
    src = {f.name: d[f.ufo] for f in ACTION_FIELDS if f.ufo in d}
    # UFO writes null for "no control" and may leave the control text or the function empty.
    src["control_label"] = "" if d["ControlLabel"] is None else d["ControlLabel"]
    src["control_name"] = d.get("ControlText") or ""
    src["function"] = d["Function"] or ""
    src["plan"] = plan
    return {"observation": d.get("Observation", ""), **action_fields(src), "comment": d.get("Comment", "") or ""}
