"""The real project, run the way users run it: `kedro run` (both spellings), DVC, MLflow, GX."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import mlflow
import pytest

from tests.conftest import run_cli


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_kedro_run_templates_and_env_check_log_to_mlflow(project: Path, shared_dir: Path):
    user = project / "data/01_raw/user_templates"
    shutil.copy2(shared_dir / "corpus/docx/simple-list.docx", user / "simple-list.docx")
    (user / "corrupt.docx").write_bytes(b"not a zip at all")

    run_cli(["kedro", "run", "--env", "test", "--pipeline=templates"], project)  # the form people type
    index = _lines(project / "data/02_intermediate/template_index.jsonl")
    assert "user_simple-list" in {row["name"] for row in index}
    quarantine = _lines(project / "data/02_intermediate/templates_quarantine.jsonl")
    assert [row["name"] for row in quarantine] == ["corrupt"]
    assert len(list((project / "data/02_intermediate/templates").glob("*.docx"))) == len(index)

    run_cli(["kedro", "run", "--env", "test", "--pipelines", "env_check"], project)  # Kedro 1.7's spelling
    summary = json.loads((project / "data/08_reporting/env_check_summary.json").read_text())
    assert summary["scripted"]["success_rate"] == 1.0, summary
    assert summary["random"]["success_rate"] < 0.2, summary
    assert summary["scripted"]["tasks"] >= 30

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lam")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    metrics = {k: v for r in runs for k, v in r.data.metrics.items()}
    assert metrics["env_check.scripted.success_rate"] == 1.0


def test_gx_gate_stops_the_pipeline_on_a_failing_suite(project: Path):
    (project / "conf/test/validation.yml").write_text(
        "template_index:\n  expectations:\n"
        "    - expect_table_row_count_to_be_between: {min_value: 100000}\n"
    )
    proc = run_cli(["kedro", "run", "--env", "test", "--pipelines", "templates"], project, check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "dataset 'template_index' failed its Great Expectations suite" in output
    assert "expect_table_row_count_to_be_between" in output
    assert not (project / "data/02_intermediate/template_index.jsonl").exists()


def test_dvc_repro_runs_then_does_nothing(project: Path):
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    run_cli(["dvc", "init", "-q"], project)
    tiny = {"KEDRO_ENV": "test"}  # every stage's `kedro run` on the conf/test sizes
    first = run_cli(["dvc", "repro"], project, env=tiny)
    for stage in ("templates", "env_check", "task_plans", "trajectories"):
        assert f"Running stage '{stage}'" in first.stdout
    assert (project / "data/07_model_output/env_check/scripted_trajectories.jsonl").exists()
    assert (project / "data/05_model_input/trajectories/train_trajectories.jsonl").exists()
    second = run_cli(["dvc", "repro"], project, env=tiny)
    assert "Running stage" not in second.stdout, second.stdout
    metrics = run_cli(["dvc", "metrics", "show", "--json"], project)
    assert "success_rate" in metrics.stdout


def test_sqlite_store_is_a_file_in_the_project(project: Path):
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "templates"], project)
    db = project / "mlflow.db"
    assert db.exists()
    with sqlite3.connect(db) as con:
        names = {row[0] for row in con.execute("select name from experiments")}
    assert "lam" in names


@pytest.mark.parametrize("family", ["bold_text"])
def test_lam_env_demo_prints_the_episode(family: str, project: Path):
    proc = run_cli(["lam", "env", "demo", "--family", family], project)
    assert "SUCCESS" in proc.stdout
    assert "action: click_input" in proc.stdout
