"""Schema models and JSONL: round trips, loud typos, errors that name file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from lam_kedro.agent.jsonl import JsonlError, read_jsonl, read_jsonl_with_rejects, write_jsonl
from lam_kedro.agent.schema import InstantiatedTask, Step, TaskPlan, Trajectory
from lam_kedro.env.types import Task


def test_trajectory_jsonl_round_trip(tmp_path: Path, trajectory: Trajectory) -> None:
    path = tmp_path / "sub" / "traj.jsonl"
    other = trajectory.model_copy(update={"trajectory_id": "t1-expert-1"})
    assert write_jsonl(path, [trajectory, other]) == 2
    back = read_jsonl(path, Trajectory)
    assert back == [trajectory, other]
    assert not list(tmp_path.glob("sub/.*.tmp")), "the temporary file is renamed, not left behind"


def test_a_repeated_trajectory_id_is_an_error_naming_both_lines(tmp_path: Path, trajectory: Trajectory) -> None:
    path = tmp_path / "traj.jsonl"
    write_jsonl(path, [trajectory, trajectory])
    with pytest.raises(JsonlError, match=r"traj\.jsonl:2: duplicate trajectory_id 't1-expert-0' \(first on line 1\)"):
        read_jsonl(path, Trajectory)
    records, rejects = read_jsonl_with_rejects(path, Trajectory)
    assert records == [trajectory] and [r["line_no"] for r in rejects] == [2]


def test_task_plan_round_trip_and_dict_records(tmp_path: Path) -> None:
    plan = TaskPlan(
        task_id="1", task="Bold the title", plan=["Select the title", "Click Bold"], family="bold"
    )
    path = tmp_path / "plans.jsonl"
    write_jsonl(path, [plan, plan.model_dump()])
    assert read_jsonl(path, TaskPlan) == [plan, plan]


def test_extra_key_is_rejected_by_name() -> None:
    with pytest.raises(ValidationError, match="thougth"):
        Step.model_validate({"index": 0, "observation": {}, "thougth": "typo"})


@pytest.mark.parametrize(
    ("field", "value"),
    [("function", "click"), ("status", "DONE"), ("index", -1)],
)
def test_step_validators_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Step.model_validate({"index": 0, "observation": {}, field: value})


def test_task_plan_needs_a_non_empty_plan() -> None:
    with pytest.raises(ValidationError, match="plan"):
        TaskPlan(task_id="1", task="x", plan=[])
    with pytest.raises(ValidationError, match="empty"):
        TaskPlan(task_id="1", task="x", plan=["ok", "  "])


def test_instantiated_task_to_env_task_and_back() -> None:
    task = Task(task_id="a", family="bold_text", request="Bold it", params={"text": "it"}, template="memo")
    inst = InstantiatedTask.from_env_task(task, plan=["Click Bold"])
    assert inst.to_env_task() == task
    free = inst.model_copy(update={"family": None})  # a request without a checker runs too
    assert free.to_env_task().family is None
    assert InstantiatedTask.from_env_task(free.to_env_task(), plan=["Click Bold"]) == free


def test_jsonl_reader_names_file_and_line(tmp_path: Path, trajectory: Trajectory) -> None:
    path = tmp_path / "bad.jsonl"
    good = trajectory.model_dump_json()
    bad_row = json.loads(good)
    bad_row["steps"][1]["functon"] = "click_input"
    path.write_text(
        "\n".join([good, "", "{not json", json.dumps(bad_row), "[1, 2]"]) + "\n", encoding="utf-8"
    )

    with pytest.raises(JsonlError) as info:
        read_jsonl(path, Trajectory)
    assert info.value.line_no == 3
    assert str(path) in str(info.value) and ":3:" in str(info.value)

    records, rejects = read_jsonl_with_rejects(path, Trajectory)
    assert records == [trajectory]
    assert [r["line_no"] for r in rejects] == [3, 4, 5]
    assert "steps.1.functon" in rejects[1]["reason"]
    assert "JSON object" in rejects[2]["reason"]
    assert rejects[0]["raw"] == "{not json"
