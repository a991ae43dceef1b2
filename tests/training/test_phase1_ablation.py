"""benchmarks/phase1_ablation.py: Phase 2 from the base model and from LAM1, same rows and budget, really run."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.phase1_ablation import main, summarize

from lam_kedro.model.loading import build_base_model, save_bundle
from tests.training.phase12_data import base_params, expert_data


def _run(start: str, loss: float, acc: float) -> dict:
    return {"start": start, "start_eval_loss": 9.0, "start_eval_token_accuracy": 0.0, "final_eval_loss": loss,
            "final_eval_token_accuracy": acc, "first_loss": 9.0, "final_loss": loss}


def test_summary_means_differences_and_verdict():
    s = summarize([_run("base", 4.0, 0.3), _run("base", 5.0, 0.4), _run("lam1", 3.0, 0.5)])
    assert s["mean"]["base"]["final_eval_loss"] == 4.5 and s["lam1_minus_base"]["final_eval_loss"] == -1.5
    assert s["lam1_minus_base"]["final_eval_token_accuracy"] == 0.15 and s["verdict"].startswith("Phase 1 helps")
    assert summarize([_run("base", 3.0, 0.5), _run("lam1", 4.0, 0.3)])["verdict"].startswith("Phase 1 does not help")
    assert summarize([_run("base", 3.0, 0.3), _run("lam1", 4.0, 0.5)])["verdict"].startswith("mixed")


def test_ablation_trains_both_starts_on_the_same_rows(tmp_path: Path):
    plans, trajs = expert_data(12)
    base = build_base_model(list(plans), list(trajs), base_params())
    save_bundle(base, tmp_path / "base")
    base.info["generation"] = "lam1"
    save_bundle(base, tmp_path / "lam1")      # the same weights: both starts must measure the same at step 0
    (tmp_path / "train.jsonl").write_text("".join(t.model_dump_json() + "\n" for t in trajs))
    params = tmp_path / "project/conf/base/parameters_phase2.yml"   # the benchmark reads a project's conf
    params.parent.mkdir(parents=True)
    params.write_text(json.dumps({"phase2": {"training": {"seed": 0, "eval_fraction": 0.1, "sft": {
        "per_device_train_batch_size": 4, "per_device_eval_batch_size": 4, "learning_rate": 1e-3,
        "max_length": 1024, "completion_only_loss": True, "use_cpu": True, "bf16": False}}}}))
    result = main(["--base", str(tmp_path / "base"), "--lam1", str(tmp_path / "lam1"), "--trajectories",
                   str(tmp_path / "train.jsonl"), "--project", str(tmp_path / "project"), "--max-steps", "2", "--max-train-rows",
                   "16", "--max-eval-rows", "4", "--no-bf16", "--out", str(tmp_path / "out" / "ablation")])
    assert [(r["start"], r["steps"]) for r in result["runs"]] == [("base", 2), ("lam1", 2)]
    s = result["summary"]
    assert s["lam1_minus_base"]["start_eval_loss"] == 0.0
    assert s["mean"]["base"]["final_eval_loss"] < s["mean"]["base"]["start_eval_loss"]
    assert (tmp_path / "out/ablation.md").read_text().startswith("# Phase 1 ablation")
    assert json.loads((tmp_path / "out/ablation.json").read_text())["config"]["eval_rows"] == 4
