"""UFO interop: task files import, trajectories export to UFO's execution schema."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from lam_kedro.agent.schema import Step, Trajectory
from lam_kedro.agent.ufo import (
    clean_step,
    export_execution_record,
    from_ufo_app_agent_response,
    import_ufo_folder,
    import_ufo_task,
    to_ufo_app_agent_response,
)


def test_import_bulleted(ufo_dir: Path) -> None:
    plan = import_ufo_task(ufo_dir / "bulleted.json")
    assert plan.task_id == "5" and plan.app == "word" and plan.source == "ufo"
    assert plan.task == "Turning lines of text into a bulleted list in Word"
    assert plan.plan[0].startswith("Place the cursor at the beginning")
    assert len(plan.plan) == 2


def test_import_watermark_strips_numbers_and_bold(ufo_dir: Path) -> None:
    plan = import_ufo_task(ufo_dir / "watermark.json")
    assert plan.plan == [
        "On the Design tab, select Watermark.",
        "Select Custom Watermark.",
        "Choose Text watermark and type your text in the Text box.",
        "Select OK.",
    ]


def test_clean_step_keeps_decimals() -> None:
    assert clean_step("2. Set spacing to 1.5 lines") == "Set spacing to 1.5 lines"
    assert clean_step("1.5 line spacing is common") == "1.5 line spacing is common"


def test_paper_shape_imports() -> None:
    plan = import_ufo_task(
        {"task_id": "7", "task": "Center the title", "plan": ["1. Select it", "2. Click Center"]}
    )
    assert plan.task_id == "7" and plan.plan == ["Select it", "Click Center"] and plan.source == "imported"


@pytest.mark.parametrize(("item", "names"), [
    ({"task_id": 7, "task": "Center it", "plan": ["a"]}, "'task_id' must be a string, got int"),
    ({"task_id": {"a": 1}, "task": "Center it", "plan": ["a"]}, "'task_id' must be a string, got dict"),
    ({"task_id": "a", "task": True, "plan": ["a"]}, "'task' must be a string, got bool"),
    ({"task_id": "a", "task": "Center it", "plan": ["a", 3]}, "'plan[1]' must be a string, got int"),
    ({"task_id": "a", "task": "Center it", "plan": {"x": 1}}, "'plan' must be a list of strings"),
    ({"task_id": "a", "task": "Center it", "plan": ["a"], "source": "generated"}, "cannot claim"),
    ({"app": "excel", "unique_id": "a", "task": "Sum it", "refined_steps": ["a"]}, "only ['word']"),
    ({"task_id": "../../x", "task": "Center it", "plan": ["a"]}, "character '/'"),
    ({"task_id": "/abs/path", "task": "Center it", "plan": ["a"]}, "character '/'"),
    ({"task_id": "x" * 1_000_000, "task": "Center it", "plan": ["a"]}, "more than 200"),
    ({"task_id": "a", "task": "Center\x00 it", "plan": ["a"]}, "control character"),
    ({"task_id": "a\x00", "task": "Center it", "plan": ["a"]}, "character '\\x00'"),
])
def test_wrong_types_and_unsafe_values_are_rejected_not_coerced(item: dict, names: str) -> None:
    with pytest.raises(ValueError, match=re.escape(names)):
        import_ufo_task(item)


def test_folder_rejects_bad_files_and_keeps_good(tmp_path: Path, ufo_dir: Path) -> None:
    shutil.copy(ufo_dir / "bulleted.json", tmp_path)
    shutil.copy(ufo_dir / "watermark.json", tmp_path)
    (tmp_path / "no_steps.json").write_text(json.dumps({"app": "word", "unique_id": "9", "task": "x"}))
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "dup.json").write_text((ufo_dir / "bulleted.json").read_text())

    plans, rejects = import_ufo_folder(tmp_path)
    assert sorted(p.task_id for p in plans) == ["108", "5"]
    by_file = {Path(r["file"]).name: r["reason"] for r in rejects}
    assert set(by_file) == {"no_steps.json", "broken.json", "dup.json"}  # files are read in sorted order
    assert "duplicate task id '5'" in by_file["dup.json"]
    assert "refined_steps" in by_file["no_steps.json"] and "no_steps.json" in by_file["no_steps.json"]
    assert "JSON" in by_file["broken.json"]


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"app": "word", "unique_id": "1", "task": "", "refined_steps": ["a"]}))
    with pytest.raises(ValueError, match=r"t\.json.*'task'"):
        import_ufo_task(path)


def test_export_validates_against_ufo_schema(ufo_dir: Path, trajectory: Trajectory) -> None:
    schema = json.loads((ufo_dir / "execution_schema.json").read_text())
    record = export_execution_record(trajectory)
    jsonschema.validate(record, schema)
    assert record["unique_id"] == "t1"
    assert record["execution_result"]["result"]["complete"] == "yes"
    plan = record["instantiation_result"]["prefill"]["result"]["instantiated_plan"]
    assert [p["Function"] for p in plan] == ["select_text", "click_input"]
    json.dumps(record)  # plain JSON

    failed = trajectory.model_copy(
        update={"outcome": trajectory.outcome.model_copy(update={"success": False}), "steps": []}
    )
    jsonschema.validate(export_execution_record(failed), schema)
    assert export_execution_record(failed)["execution_result"]["result"]["complete"] == "no"


def test_app_agent_response_round_trip(trajectory: Trajectory) -> None:
    step: Step = trajectory.steps[1]
    camel = to_ufo_app_agent_response(step)
    assert list(camel) == [
        "Observation",
        "Thought",
        "ControlLabel",
        "ControlText",
        "Function",
        "Args",
        "Status",
        "Plan",
        "Comment",
    ]
    snake = from_ufo_app_agent_response(camel)
    for key in ("thought", "control_label", "control_name", "function", "args", "status", "plan"):
        assert snake[key] == getattr(step, key)
    assert to_ufo_app_agent_response(snake) == camel


def test_from_ufo_names_missing_key_and_splits_plan() -> None:
    with pytest.raises(ValueError, match="Function"):
        from_ufo_app_agent_response({"ControlLabel": "1", "Args": {}, "Status": "CONTINUE"})
    d = from_ufo_app_agent_response(
        {"ControlLabel": None, "Function": "", "Args": None, "Status": "FINISH", "Plan": "1. a\n2. b"}
    )
    assert d["plan"] == ["a", "b"] and d["control_label"] == "" and d["args"] == {}
