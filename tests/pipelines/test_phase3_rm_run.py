"""Phase 3 and the reward model: the SFT node on a tiny model, then both pipelines through `kedro run`."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from lam_kedro.agent import RandomPolicy, ScriptedPolicy, run_episode
from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env import WordEnv, builtin_templates, get_family
from lam_kedro.env.tasks import sample_tasks
from lam_kedro.pipelines.phase3.nodes import report_phase3, train_lam3
from tests.conftest import REPO, run_cli

UPSTREAM = ("templates", "task_plans", "trajectories", "base_model", "phase1", "phase2")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_train_lam3_continues_from_lam2_and_its_loss_falls(tmp_path: Path):
    from lam_kedro.model.bundle import ModelBundle
    from lam_kedro.model.formatting import step_rows
    from lam_kedro.model.loading import build_tiny_model
    from lam_kedro.model.tokenizer import train_bpe_tokenizer

    env = WordEnv(max_steps=10)
    tasks = [InstantiatedTask.from_env_task(t, plan=get_family(t.family).plan(t.params))
             for t in sample_tasks([x.name for x in builtin_templates()], 10, seed=2)]
    expert = [run_episode(env, ScriptedPolicy(), t, seed=0) for t in tasks[:7]]
    explored = [run_episode(env, RandomPolicy(seed=1, name="lam2"), tasks[7], seed=0, trajectory_id="x-a0"),
                run_episode(env, ScriptedPolicy(name="lam2"), tasks[7], seed=0, trajectory_id="x-a1"),
                run_episode(env, ScriptedPolicy(name="lam2"), tasks[8], seed=0, trajectory_id="y-a0")]
    texts = [m["content"] for r in step_rows(expert, {"system_prompt": False}) for m in r["prompt"]]
    tok = train_bpe_tokenizer(texts, vocab_size=800)
    model = build_tiny_model(tok, "llama", {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                                            "num_attention_heads": 4, "num_key_value_heads": 2,
                                            "max_position_embeddings": 2048})
    lam2 = ModelBundle(model, tok, {"generation": "lam2", "base": "tiny", "task": "causal_lm", "system_prompt": False})
    params = {"seed": 0, "eval_fraction": 0.0, "resume": False,
              "sft": {"max_steps": 10, "per_device_train_batch_size": 4,
                      "learning_rate": 3e-3, "max_length": 512, "logging_steps": 2, "save_strategy": "no",
                      "use_cpu": True, "disable_tqdm": True}}
    lam3, curves = train_lam3(lam2, expert, explored, params, tmp_path / "ckpt")

    losses = [p["value"] for p in curves["loss"]]
    assert losses[-1] < losses[0] - 0.25, losses
    assert lam3.info["generation"] == "lam3" and lam3.info["parent"] == "lam2"
    assert lam3.info["phase3"] == {"expert_trajectories": 7, "new_trajectories": 2}  # one per newly solved task
    expert_failed = [run_episode(env, RandomPolicy(seed=5, name="expert"), t, seed=0, max_steps=2) for t in tasks[7:9]]
    assert not any(t.outcome.success for t in expert_failed)
    report, metrics, families = report_phase3(
        {"exploration_tasks": 2, "exploration_solved": 2, "exploration_success_rate": 1.0, "attempts": 3,
         "successful_attempts": 2, "avg_steps": 2.0, "invalid_rate": 0.1},
        lam3, explored, [*expert, *expert_failed], expert)
    assert metrics["exploration_solved"] == {"value": 2.0, "step": 0} and "sft.final_loss" in metrics
    assert report["sft"]["final_loss"] < report["sft"]["first_loss"]
    assert report["explored_expert_failed"] == 2 and metrics["explored_expert_failed"]["value"] == 2.0
    assert report["expert_check"]["all_expert_failures"] and report["expert_check"]["note"].startswith(
        "all 2 explored tasks are expert failures")
    assert families["explored"].sum() == 2 and families["solved"].sum() == 2 and families["attempts"].sum() == 3
    assert families["expert_failed"].sum() == 2
    assert report["families"] == {r["family"]: {k: v for k, v in r.items() if k != "family"}
                                  for r in families.to_dict("records")}
    # an explored task the expert solved is named, not hidden
    report, _, _ = report_phase3({"exploration_tasks": 2, "exploration_solved": 2, "exploration_success_rate": 1.0,
                                  "attempts": 3, "successful_attempts": 2, "avg_steps": 2.0, "invalid_rate": 0.1},
                                 lam3, explored, [*expert, *expert_failed], [*expert, explored[1]])
    assert not report["expert_check"]["all_expert_failures"] and report["explored_expert_failed"] == 1


def _shrink_upstream(project: Path) -> None:
    """Fewer optimizer steps for LAM1/LAM2 in this copy of conf/test: Phase 3 needs a LAM2, not a good one."""
    for phase in ("phase1", "phase2"):
        path = project / f"conf/test/parameters_{phase}.yml"
        conf = yaml.safe_load(path.read_text())
        training = conf[phase]["training"]
        training.update(max_train_rows=32, max_eval_rows=4)
        training["sft"].update(max_steps=3, eval_strategy="no", eval_on_start=False)
        path.write_text(yaml.safe_dump(conf))


def _pipelines_exist(names: tuple[str, ...]) -> bool:
    return all((REPO / "src/lam_kedro/pipelines" / n / "pipeline.py").is_file() for n in names)


@pytest.mark.skipif(not _pipelines_exist(UPSTREAM), reason="the base_model/phase1/phase2 pipelines are not there yet")
def test_phase3_then_reward_model_run_and_register(project: Path):
    _shrink_upstream(project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", ",".join(UPSTREAM)], project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "phase3"], project)

    data = project / "data"
    explored = _lines(data / "07_model_output/phase3/lam2_exploration_trajectories.jsonl")
    failed = _lines(data / "05_model_input/trajectories/exploration_tasks.jsonl")
    report = json.loads((data / "08_reporting/phase3.json").read_text())
    assert report["exploration_tasks"] == min(4, len(failed))
    assert report["exploration_solved"] == len({t["task"]["task_id"] for t in explored if t["outcome"]["success"]})
    assert all(t["actor"] == "lam2" for t in explored)
    assert (data / "06_models/lam3/config.json").is_file()
    assert json.loads((data / "06_models/lam3/lam_info.json").read_text())["parent"] == "lam2"
    assert report["sft"]["final_loss"] < report["sft"]["first_loss"]
    # every explored task is one the expert failed, checked against the expert's own episodes
    expert = _lines(data / "07_model_output/trajectories/expert_trajectories.jsonl")
    expert_failed = {t["task"]["task_id"] for t in expert if not t["outcome"]["success"]}
    explored_ids = {t["task"]["task_id"] for t in explored}
    assert report["explored_expert_failed"] == len(explored_ids & expert_failed) == len(explored_ids)
    assert report["expert_check"]["all_expert_failures"] and report["expert_check"]["expert_solved"] == []
    families = pd.read_csv(data / "08_reporting/phase3_families.csv")
    assert families["explored"].sum() == report["exploration_tasks"]
    assert families["solved"].sum() == report["exploration_solved"]
    assert families["expert_failed"].sum() == report["explored_expert_failed"]
    assert set(families["family"]) == {t["task"]["family"] for t in explored}

    run_cli(["kedro", "run", "--env", "test", "--pipelines", "reward_model"], project)
    rollouts = _lines(data / "07_model_output/reward_model/lam3_rollouts.jsonl")
    assert rollouts and all(t["actor"] == "lam3" for t in rollouts)
    rm_report = json.loads((data / "08_reporting/reward_model.json").read_text())
    assert rm_report["heldout_steps"] > 0 and rm_report["train_steps"] > 0
    # the reward model on LAM3's own held-out rollouts: numbers when both classes are there, else why not
    steps = pd.read_csv(data / "07_model_output/reward_model/steps.csv")
    own = steps[(steps["split"] == "heldout") & (steps["source"] == "lam3")]
    lam3 = rm_report["lam3_heldout"]
    assert lam3["steps"] == len(own) and lam3["success_steps"] == int((own["label"] > 0).sum())
    if 0 < lam3["success_steps"] < lam3["steps"]:
        assert rm_report["lam3_heldout_accuracy"] == lam3["accuracy"] == round(
            float(((own["score"] > 0) == (own["label"] > 0)).mean()), 6)
        assert 0 <= lam3["auc"] <= 1
    else:
        assert lam3["accuracy"] is None and lam3["auc"] is None and lam3["note"].startswith("not measured")
    assert json.loads((data / "06_models/reward_model/lam_info.json").read_text())["task"] == "seq_cls"

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    assert client.get_model_version_by_alias("lam", "lam3").version
    assert client.get_model_version_by_alias("lam-reward", "lam3").version
    runs = client.search_runs([client.get_experiment_by_name("lam").experiment_id])
    metrics = {k for r in runs for k in r.data.metrics}
    assert {"phase3.exploration_solved", "phase3.exploration_success_rate", "phase3.exploration_tasks",
            "reward_model.heldout_accuracy"} <= metrics


def test_lam3_rows_keep_every_step_of_the_new_successes_within_the_budget():
    from lam_kedro.model.formatting import step_rows
    from lam_kedro.pipelines.phase3.nodes import lam3_rows
    from lam_kedro.training.params import RowSplit

    env = WordEnv(max_steps=10)
    tasks = [InstantiatedTask.from_env_task(t, plan=get_family(t.family).plan(t.params))
             for t in sample_tasks([x.name for x in builtin_templates()], 30, seed=3)]
    expert = [run_episode(env, ScriptedPolicy(), t, seed=0) for t in tasks[:27]]
    new = [run_episode(env, ScriptedPolicy(name="lam2"), t, seed=0, trajectory_id=f"new-{i}")
           for i, t in enumerate(tasks[27:])]
    new_steps = sum(len(t.steps) for t in new)
    expert_steps = sum(len(t.steps) for t in expert)
    assert expert_steps > 30 + new_steps  # the budget below keeps only some of the expert's steps
    split = RowSplit(seed=0, eval_fraction=0.1, max_train_rows=30, max_eval_rows=4)
    train, evals = lam3_rows(expert, new, {"system_prompt": False}, split)

    assert len(train) == 30 and len(evals) == 4
    info = {"system_prompt": False}
    assert train[:new_steps] == step_rows(new, info)  # every step of every new success, however small the budget
    expert_rows = step_rows(expert, info)
    assert all(r in expert_rows for r in train[new_steps:] + evals)  # the rest, and the eval rows, are the expert's
    # no budget: the new steps plus every expert step not held out for eval
    train_all, evals_all = lam3_rows(expert, new, info, split.model_copy(update={"max_train_rows": None, "max_eval_rows": None}))
    assert len(train_all) + len(evals_all) == expert_steps + new_steps
