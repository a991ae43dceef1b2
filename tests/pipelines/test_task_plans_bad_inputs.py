"""Bad task files: every one is quarantined with a reason naming the file and item, the run goes on,
and the counts add up (imported + quarantined + ignored == files and items seen); generated
garbage never crashes the reader nor vanishes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lam_kedro.agent.ufo import import_task_files
from lam_kedro.env import builtin_templates, load_template
from lam_kedro.pipelines.task_plans.datasets import TaskFilesDataset
from lam_kedro.pipelines.task_plans.nodes import filter_task_plans, source_task_plans

GOOD = {"task_id": "p1", "task": "Center the title of the report", "plan": ["On the Home tab, click Center."]}


def _write(folder: Path, name: str, content: str | bytes) -> None:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.fixture(scope="module")
def templates():
    docs = {t.name: load_template(t.name) for t in builtin_templates()[:3]}
    return {name: (lambda d=d: d.copy()) for name, d in docs.items()}


def test_every_bad_file_of_the_issue_is_quarantined_and_the_run_goes_on(tmp_path: Path, templates) -> None:
    folder = tmp_path / "task_files"
    folder.mkdir()
    _write(folder, "good.json", json.dumps(GOOD))
    _write(folder, "UPPER.JSON", json.dumps({**GOOD, "task_id": "p2", "task": "Center the heading of the memo"}))
    _write(folder, "empty_list.json", "[]")
    _write(folder, "notes.txt", "not a task")
    _write(folder, "deep.json", "[" * 200_000 + "]" * 200_000)
    _write(folder, "bigint.json", json.dumps({**GOOD, "task_id": "p3"})[:-1] + ', "n": ' + "9" * 5000 + "}")
    _write(folder, "latin1.json", b'{"task_id": "p4", "task": "Caf\xe9", "plan": ["a"]}')
    _write(folder, "obj_id.json", json.dumps({**GOOD, "task_id": {"a": 1}}))
    _write(folder, "bool_task.json", json.dumps({**GOOD, "task_id": "p5", "task": True}))
    _write(folder, "generated.json", json.dumps({**GOOD, "task_id": "p6", "source": "generated"}))
    _write(folder, "excel.json", json.dumps({"app": "excel", "unique_id": "p7", "task": "Sum the column",
                                             "refined_steps": ["Click AutoSum"]}))
    _write(folder, "traversal.json", json.dumps([{**GOOD, "task_id": "../../x"}, {**GOOD, "task_id": "/abs/path"}]))
    _write(folder, "huge_id.json", json.dumps({**GOOD, "task_id": "x" * 1_000_000}))
    _write(folder, "nul.json", json.dumps({**GOOD, "task_id": "p8", "task": "Center\u0000 the title"}))

    loaded = TaskFilesDataset(str(folder)).load()
    pairs, rejects, stats = source_task_plans(templates, loaded, {"n_pairs": 3})
    imported = sorted(p.task_id for p in pairs if p.source != "generated")
    assert imported == ["p1", "p2"]  # .JSON imports too
    reasons = {Path(r["file"]).name: r["message"] for r in rejects}
    expected = {
        "empty_list.json": "an empty list", "deep.json": "nested too deeply", "bigint.json": "4300",
        "latin1.json": "not UTF-8", "obj_id.json": "'task_id' must be a string, got dict",
        "bool_task.json": "'task' must be a string, got bool", "generated.json": "cannot claim",
        "excel.json": "'app' is 'excel'", "traversal.json[0]": "character '/'", "traversal.json[1]": "character '/'",
        "huge_id.json": "more than 200", "nul.json": "control character",
    }
    assert set(reasons) == set(expected)
    for name, needle in expected.items():
        assert needle in reasons[name], (name, reasons[name])
        assert name.split("[")[0] in reasons[name], "the reason names the file"
    ignored = {Path(r["file"]).name: r["reason"] for r in stats["import_ignored"]}
    assert set(ignored) == {"notes.txt"} and ".txt" in ignored["notes.txt"]
    counts = stats["import_counts"]
    assert counts["files"] == 14 and counts["seen"] == 15  # traversal.json holds two items
    assert counts["seen"] == len(imported) + len(rejects) + len(ignored)
    kept, quarantine, _ = filter_task_plans(pairs, [], rejects, [], {})
    assert {"p1", "p2"} <= {p.task_id for p in kept}
    assert len(quarantine) >= len(rejects)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_task_like = st.fixed_dictionaries(
    {}, optional={"task_id": _json | st.text(max_size=30), "unique_id": _json, "task": _json | st.text(),
                  "plan": _json | st.lists(st.text(max_size=30), max_size=3), "refined_steps": _json,
                  "app": _json | st.sampled_from(["word", "Word", "excel"]), "source": _json, "family": _json})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.one_of(st.binary(max_size=200), _json.map(json.dumps), _task_like.map(json.dumps),
                                st.lists(_task_like, max_size=3).map(json.dumps)), min_size=1, max_size=5),
       suffixes=st.lists(st.sampled_from([".json", ".JSON", ".txt", ""]), min_size=5, max_size=5))
def test_generated_garbage_never_crashes_and_nothing_vanishes(tmp_path_factory, files, suffixes) -> None:
    folder = tmp_path_factory.mktemp("garbage")
    for i, content in enumerate(files):
        _write(folder, f"f{i}{suffixes[i]}", content)
    found = import_task_files(folder)
    counts = found["counts"]
    assert counts["files"] == len(files)
    assert counts["seen"] == len(found["plans"]) + len(found["rejects"]) + len(found["ignored"])
    assert all(r["reason"] and r["file"] for r in found["rejects"] + found["ignored"])
