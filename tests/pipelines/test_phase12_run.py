"""`kedro run --env test` of base_model -> phase1 -> phase2 on the real project: folders, MLflow, registry."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow

from lam_kedro.agent.jsonl import write_jsonl
from tests.conftest import run_cli
from tests.training.phase12_data import expert_data

INPUTS = {"task_plans_train": "data/05_model_input/task_plans/train.jsonl",
          "train_trajectories": "data/05_model_input/trajectories/train_trajectories.jsonl"}


def write_inputs(project: Path) -> None:
    """The data-collection outputs Phases 1-2 read, at the catalog's paths (scripted-expert successes)."""
    plans, trajs = expert_data()
    for name, rows in (("task_plans_train", plans), ("train_trajectories", trajs)):
        write_jsonl(project / INPUTS[name], [r.model_dump(mode="json") for r in rows])


def test_base_model_phase1_phase2_run_alone_and_register_each_generation(project: Path):
    write_inputs(project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "base_model,phase1"], project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "phase2"], project)  # alone, given its inputs on disk

    models = project / "data/06_models"
    for folder in ("base", "lam1", "lam2"):
        assert (models / folder / "config.json").is_file() and (models / folder / "lam_info.json").is_file()
    info = json.loads((models / "lam2/lam_info.json").read_text())
    assert (info["generation"], info["parent"], info["base"]) == ("lam2", "lam1", "tiny")
    assert not (models / "checkpoints/lam2").exists()  # finished runs leave no checkpoints behind
    summary = json.loads((project / "data/08_reporting/base_model.json").read_text())
    assert summary["parameters"] > 0 and summary["step_prompt_tokens_mean"] > 0
    for phase in ("phase1", "phase2"):
        report = json.loads((project / f"data/08_reporting/{phase}.json").read_text())
        assert report["sft"]["final_loss"] < report["sft"]["first_loss"], report

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}",
                                 registry_uri=f"sqlite:///{project / 'mlflow.db'}")
    v1, v2 = (client.get_model_version_by_alias("lam", a) for a in ("lam1", "lam2"))
    assert (v1.tags["generation"], v2.tags["generation"], v2.tags["parent"]) == ("lam1", "lam2", "lam1")
    runs = client.search_runs([client.get_experiment_by_name("lam").experiment_id])
    metrics = {k for r in runs for k in r.data.metrics}
    for phase in ("phase1", "phase2"):
        assert {f"{phase}.loss", f"{phase}.eval_loss", f"{phase}.sft.final_loss"} <= metrics
    history = client.get_metric_history(v2.run_id, "phase2.loss")
    assert len(history) >= 3 and history[-1].value < history[0].value
