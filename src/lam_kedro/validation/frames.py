"""Turn what a node returns into the pandas frame a suite validates.

A suite names a frame builder: ``records`` flattens a list of records (dicts or pydantic
models); the others derive the columns an expectation needs (e.g. one row per step with
"is the chosen label in this step's observation"), so the expectation stays declarative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd


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
    return pd.DataFrame(rows)


FRAMES: dict[str, Callable[[Any], pd.DataFrame]] = {
    "records": records_frame,
    "trajectory_steps": trajectory_steps_frame,
}
