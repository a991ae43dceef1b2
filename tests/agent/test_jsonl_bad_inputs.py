"""Trajectory JSONL: bad lines are errors naming file and line, the lenient reader returns every
line as a record or a reject (never crashes, never loses one), ids are checked where data enters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lam_kedro.agent.jsonl import JsonlError, read_jsonl, read_jsonl_with_rejects, write_jsonl
from lam_kedro.agent.schema import InstantiatedTask, TaskPlan, Trajectory
from lam_kedro.datasets import JSONLDataset


@pytest.mark.parametrize(("line", "needle"), [
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"trajectory_id": ' + b"9" * 5000 + b"}", "4300"),
    (b'{"a": ', "invalid JSON"),
    (b"[1, 2]", "expected a JSON object"),
])
def test_a_bad_line_names_file_and_line_in_both_readers(tmp_path: Path, trajectory: Trajectory, line: bytes,
                                                       needle: str) -> None:
    path = tmp_path / "t.jsonl"
    write_jsonl(path, [trajectory])
    with path.open("ab") as fh:
        fh.write(line + b"\n")
    with pytest.raises(JsonlError, match=r"t\.jsonl:2: ") as err:
        read_jsonl(path, Trajectory)
    assert needle in str(err.value)
    records, rejects = read_jsonl_with_rejects(path, Trajectory)
    assert records == [trajectory] and len(rejects) == 1
    assert rejects[0]["line_no"] == 2 and needle in rejects[0]["reason"] and rejects[0]["file"] == str(path)
    with pytest.raises(Exception, match=r"t\.jsonl:2: "):  # kedro wraps it in a DatasetError
        JSONLDataset(str(path), model="lam_kedro.agent.schema.Trajectory").load()


@pytest.mark.parametrize("bad_id", ["../../x", "/abs/path", "a/b", "a\\b", "", ".", "..", "x" * 201, "a\x00b",
                                    "tab\there", "new\nline", "sp ace"])
def test_ids_are_checked_where_data_enters(bad_id: str) -> None:
    with pytest.raises(ValueError, match="id"):
        TaskPlan(task_id=bad_id, task="Bold it", plan=["Click Bold"])
    with pytest.raises(ValueError, match="id"):
        InstantiatedTask(task_id=bad_id, task="Bold it", template="one_line")
    with pytest.raises(ValueError, match="id"):
        TaskPlan(task_id="ok", parent_task_id=bad_id, task="Bold it", plan=["Click Bold"])


def test_a_trajectory_id_with_a_path_is_rejected_on_read(tmp_path: Path, trajectory: Trajectory) -> None:
    path = tmp_path / "t.jsonl"
    row = json.loads(trajectory.model_dump_json())
    row["trajectory_id"] = "../../escape"
    path.write_text(json.dumps(row) + "\n")
    records, rejects = read_jsonl_with_rejects(path, Trajectory)
    assert records == [] and "trajectory_id" in rejects[0]["reason"] and "'/'" in rejects[0]["reason"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.binary(max_size=80).filter(lambda b: b"\n" not in b and b"\r" not in b),
                                _json.map(lambda v: json.dumps(v).encode())), max_size=8))
def test_generated_garbage_is_a_record_or_a_reject_per_line(tmp_path_factory, trajectory: Trajectory,
                                                            lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "g.jsonl"
    good = trajectory.model_dump_json().encode()
    path.write_bytes(b"\n".join([good, *lines, good.replace(b'"t1-expert-0"', b'"t1-expert-9"')]) + b"\n")
    records, rejects = read_jsonl_with_rejects(path, Trajectory)
    non_blank = sum(1 for raw in path.read_bytes().split(b"\n") if raw.strip(b" \t\r\n"))
    assert len(records) + len(rejects) == non_blank
    assert {r.trajectory_id for r in records} >= {"t1-expert-0", "t1-expert-9"}
    assert all(r["reason"] and r["line_no"] >= 1 for r in rejects)
