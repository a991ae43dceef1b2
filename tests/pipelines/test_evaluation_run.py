"""`kedro run --env test --pipelines evaluation` on the real project after data collection, with one
generation present (lam2) and three missing; then DVC's metrics/plots and the notebook on its outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from lam_kedro.datasets import HFModelDataset
from tests.conftest import REPO, _copy_project, run_cli
from tests.evaluation.conftest import tiny_bundle
from tests.pipelines.test_trajectories_run import _write_task_plans


def _register_lam2(project: Path) -> tuple[mlflow.MlflowClient, str, str]:
    """Model ``lam`` with one version aliased ``lam2`` (as the phases' registry dataset leaves it)."""
    uri = f"sqlite:///{project / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.get_experiment_by_name("lam")
    exp_id = exp.experiment_id if exp else client.create_experiment("lam")
    run = client.create_run(exp_id, run_name="phase2")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("lam")
    version = client.create_model_version("lam", f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("lam", "lam2", version.version)
    return client, run.info.run_id, version.version


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    project = _copy_project(tmp_path_factory.mktemp("evaluation") / "project")
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "templates"], project)
    _write_task_plans(project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "trajectories"], project)
    HFModelDataset(path=str(project / "data/06_models/lam2")).save(tiny_bundle())  # as Phase 2 writes it
    client, run_id, version = _register_lam2(project)
    proc = run_cli(["kedro", "run", "--env", "test", "--pipelines", "evaluation"], project)
    return {"project": project, "client": client, "run_id": run_id, "version": version, "log": proc.stderr}


def test_evaluation_pipeline_reports_skips_and_logs_to_mlflow(evaluated: dict):
    project, client = evaluated["project"], evaluated["client"]
    rep = project / "data/08_reporting"
    metrics = json.loads((rep / "evaluation_metrics.json").read_text())
    assert set(metrics["offline"]) == {"lam2"} and set(metrics["online"]) == {"lam2", "expert", "random"}
    assert metrics["online"]["expert"]["tasks"] == 8
    assert 0 < metrics["online"]["expert"]["task_success_rate"] <= 1
    # a random model, decoded under the action grammar (the default): scored, never unparseable
    assert metrics["offline"]["lam2"]["parse_error_rate"] == 0
    table = (rep / "evaluation_table.csv").read_text()
    assert table.startswith("section,metric,label,lam1,lam2,lam3,lam4,expert,random,paper") and "skipped" in table
    md = (rep / "evaluation.md").read_text()
    assert "offline / lam1: no trained model" in md and "LAM4 87.8" in md
    # the held-out tasks evaluated, every family with a column per actor, each generation's invalid actions
    assert "Tasks: 8 of " in md and "(stratified: every family first, then a seeded fill)" in md
    assert "| family | tasks | lam1 | lam2 | lam3 | lam4 | expert | random |" in md
    assert "Invalid actions (%)" in table and "## Invalid actions per task family (%, LAM generations)" in md
    families = pd.read_csv(rep / "evaluation_families.csv")
    assert set(families["actor"]) == {"lam2", "expert", "random"}
    assert families.groupby("actor")["tasks"].sum().to_dict() == {"lam2": 8, "expert": 8, "random": 8}
    assert {"invalid_action_rate", "steps"} <= set(families.columns)
    online_results = json.loads((project / "data/07_model_output/evaluation/online_results.json").read_text())
    coverage = online_results["lam2"]["coverage"]
    assert coverage["tasks"] == 8 and coverage["families"] == families["family"].nunique()
    assert coverage["families"] == min(8, coverage["held_out_families"])   # every family first
    # the champion moves only to a generation that solves something
    solved = metrics["online"]["lam2"]["task_success_rate"] > 0
    assert ("Champion: **lam2**" in md) == solved and ("Champion: none (no generation solved" in md) == (not solved)
    for name in ("evaluation_phases.png", "evaluation_families.png", "evaluation_phases.csv", "evaluation_families.csv"):
        assert (rep / name).stat().st_size > 100, name

    online = [json.loads(line) for line in
              (project / "data/07_model_output/evaluation/online_trajectories.jsonl").read_text().splitlines()]
    assert [t["actor"] for t in online] == ["lam2"] * 8 + ["expert"] * 8 + ["random"] * 8

    # each generation's own run gets the same names; the pipeline's run gets them per actor
    assert client.get_run(evaluated["run_id"]).data.metrics["offline.object_acc"] == metrics["offline"]["lam2"][
        "object_acc"]
    if solved:
        assert client.get_model_version_by_alias("lam", "champion").version == evaluated["version"]
    else:
        with pytest.raises(mlflow.exceptions.MlflowException):
            client.get_model_version_by_alias("lam", "champion")
    runs = client.search_runs([client.get_experiment_by_name("lam").experiment_id])
    run = next(r for r in runs if "evaluation.expert.online.task_success_rate" in r.data.metrics)
    assert "evaluation.lam2.offline.step_success_rate" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"evaluation.md", "evaluation_table.csv", "evaluation_phases.png", "evaluation_families.png"} <= artifacts


def test_dvc_shows_the_metrics_and_plots(evaluated: dict):
    project = evaluated["project"]
    run_cli(["dvc", "init", "--no-scm", "-q"], project)
    shown = json.loads(run_cli(["dvc", "metrics", "show", "--json"], project).stdout)
    files = next(iter(shown.values()))["data"]
    assert files["data/08_reporting/evaluation_metrics.json"]["data"]["online"]["expert"]["tasks"] == 8
    plots = json.loads(run_cli(["dvc", "plots", "show", "--json"], project).stdout)
    assert {"data/08_reporting/evaluation_phases.csv", "data/08_reporting/evaluation_families.csv"} <= set(plots["data"])


def test_notebook_runs_top_to_bottom(evaluated: dict):
    project = evaluated["project"]
    (project / "notebooks").mkdir(exist_ok=True)
    shutil.copy2(REPO / "notebooks/trajectories_and_failures.ipynb", project / "notebooks")
    run_cli(["jupyter", "nbconvert", "--to", "notebook", "--execute", "--output", "executed.ipynb",
             "notebooks/trajectories_and_failures.ipynb"], project, env={"KEDRO_ENV": "test"})
    executed = json.loads((project / "notebooks/executed.ipynb").read_text())
    text = "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                   for c in executed["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert "lam1: skipped" in text and "expert trajectories" in text
