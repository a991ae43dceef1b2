"""Turn what a node returns into the pandas frame a suite validates.

A suite names a frame builder: ``records`` flattens a list of records (dicts or pydantic
models); the others derive the columns an expectation needs (e.g. one row per step with
"is the chosen label in this step's observation"), so the expectation stays declarative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd


def _fixed(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame that keeps its columns when there are no rows, so column expectations still run
    on a dataset that may rightly be empty (nothing quarantined, no failures)."""
    return pd.DataFrame([{k: r.get(k) for k in columns} for r in rows], columns=list(columns))


def _as_dict(record: Any) -> dict[str, Any]:
    if hasattr(record, "model_dump"):
        return record.model_dump(mode="json")
    if hasattr(record, "to_dict"):
        return record.to_dict()
    if isinstance(record, dict):
        return record
    raise TypeError(f"cannot validate a record of type {type(record).__name__}")


def records_frame(data: Any) -> pd.DataFrame:
    """A list of records, a dict of records, a single record, or a DataFrame, one row each."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict) and not all(isinstance(v, dict) for v in data.values()):
        data = [data]
    elif isinstance(data, dict):
        data = list(data.values())
    return pd.json_normalize([_as_dict(r) for r in data], max_level=1)


STEP_COLUMNS = ("trajectory_id", "index", "index_matches_position", "function", "status", "control_label",
                "label_in_observation")
TASK_PLAN_COLUMNS = ("task_id", "task", "source", "family", "operator", "template", "parent_task_id", "n_steps",
                     "longest_step", "executable")
TASK_PLAN_QUARANTINE_COLUMNS = ("stage", "reason", "message", "file", "task_id", "task", "source", "operator")
TASK_COLUMNS = ("task_id", "task", "template", "family", "plan_steps", "source_task_id")
TASK_QUARANTINE_COLUMNS = ("task_id", "task", "family", "split", "stage", "reason", "detail")


def task_plans_frame(data: Any) -> pd.DataFrame:
    """One row per task-plan pair with its plan length (GX would measure a list's string form)."""
    rows = []
    for record in data:
        d = _as_dict(record)
        plan = d.get("plan") or []
        rows.append({**d, "n_steps": len(plan), "longest_step": max((len(s) for s in plan), default=0),
                     "executable": bool(d.get("family") and d.get("template"))})
    return _fixed(rows, TASK_PLAN_COLUMNS)


def task_records_frame(data: Any) -> pd.DataFrame:
    """One row per instantiated task, with ``plan_steps`` (the plan's length) for range checks."""
    return _fixed([{**(d := _as_dict(r)), "plan_steps": len(d.get("plan") or [])} for r in data], TASK_COLUMNS)


def trajectory_steps_frame(data: Any) -> pd.DataFrame:
    """One row per step of every trajectory, with the derived checks trajectories need."""
    rows = []
    for traj in data:
        t = _as_dict(traj)
        for position, step in enumerate(t["steps"]):
            labels = {c["label"] for c in step["observation"]["controls"]}
            rows.append(
                {
                    "trajectory_id": t["trajectory_id"],
                    "index": step["index"],
                    "index_matches_position": step["index"] == position,
                    "function": step["function"],
                    "status": step["status"],
                    "control_label": step["control_label"],
                    "label_in_observation": (not step["function"]) or step["control_label"] in labels,
                }
            )
    return _fixed(rows, STEP_COLUMNS)


FRAMES: dict[str, Callable[[Any], pd.DataFrame]] = {
    "records": records_frame,
    "trajectory_steps": trajectory_steps_frame,
    "task_plans": task_plans_frame,
    "task_plans_quarantine": lambda data: _fixed([_as_dict(r) for r in data], TASK_PLAN_QUARANTINE_COLUMNS),
    "task_records": task_records_frame,
    "quarantine": lambda data: _fixed([_as_dict(r) for r in data], TASK_QUARANTINE_COLUMNS),
}
