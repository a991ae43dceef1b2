"""The reward model separates steps of successful trajectories from steps of failed ones on held-out tasks."""

from __future__ import annotations

import math

import pytest
import torch

from lam_kedro.agent import RandomPolicy, ScriptedPolicy, StepsPolicy, run_episode
from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env import WordEnv, builtin_templates, get_family
from lam_kedro.env.tasks import sample_tasks
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.loading import build_tiny_model
from lam_kedro.model.tokenizer import train_bpe_tokenizer
from lam_kedro.training.reward import (
    balance_rows,
    heldout_metrics,
    reward_rows,
    reward_text,
    score_steps,
    source_heldout_metrics,
    split_by_task,
    train_reward_model,
)

PARAMS = {
    "seed": 0,
    "heldout_fraction": 0.3,
    "max_length": 192,
    "lora": {"r": 8, "lora_alpha": 32, "lora_dropout": 0.1},
    "training": {"num_train_epochs": 2, "per_device_train_batch_size": 8, "learning_rate": 1e-3,
                 "logging_steps": 5, "use_cpu": True, "disable_tqdm": True},
}


@pytest.fixture(scope="module")
def trajectories() -> tuple[list, list]:
    """Scripted solutions (successes) and, per task, a near miss or random actions (failures)."""
    env = WordEnv(max_steps=12)
    good, bad = [], []
    for i, t in enumerate(sample_tasks([x.name for x in builtin_templates()], 40, seed=3)):
        plan = get_family(t.family).plan(t.params)
        task = InstantiatedTask.from_env_task(t, plan=plan)
        good.append(run_episode(env, ScriptedPolicy(), task, seed=0, trajectory_id=f"{t.task_id}-ok"))
        policy = (StepsPolicy(get_family(t.family).wrong_solution(t.params), name="wrong") if i % 2
                  else RandomPolicy(seed=i))
        bad.append(run_episode(env, policy, task, seed=0, trajectory_id=f"{t.task_id}-bad"))
    return good, [b for b in bad if not b.outcome.success]


@pytest.fixture(scope="module")
def base(trajectories) -> ModelBundle:
    """A tiny LM (random weights) with the project's BPE tokenizer, standing in for LAM3."""
    good, bad = trajectories
    texts = [m["content"] for r in reward_rows(good[:10] + bad[:10], "x") for m in r["messages"]]
    texts += [r["target"] for r in reward_rows(good + bad, "x")]
    tok = train_bpe_tokenizer(texts, vocab_size=1024)
    model = build_tiny_model(tok, "llama", {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                            "num_attention_heads": 4, "num_key_value_heads": 2,
                                            "max_position_embeddings": 1024}, seed=0)
    return ModelBundle(model, tok, {"generation": "lam3", "base": "tiny"})


def test_rows_label_every_step_by_the_trajectory_verdict(trajectories):
    good, bad = trajectories
    rows = reward_rows(good[:3], "expert") + reward_rows(bad[:3], "lam3")
    assert {r["label"] for r in rows[: sum(len(t.steps) for t in good[:3])]} == {1.0}
    assert {r["label"] for r in rows[sum(len(t.steps) for t in good[:3]):]} == {-1.0}
    assert all(r["target"].startswith('{"thought"') for r in rows)


def test_split_is_by_task_and_keeps_both_labels(trajectories):
    good, bad = trajectories
    rows = reward_rows(good, "expert") + reward_rows(bad, "lam3")
    train, held = split_by_task(rows, 0.3, seed=0)
    assert not {r["task_id"] for r in train} & {r["task_id"] for r in held}
    assert {r["label"] for r in held} == {1.0, -1.0}
    assert len(train) + len(held) == len(rows)


def test_split_holds_out_lam3s_own_successes_and_failures(trajectories):
    good, bad = trajectories
    lam3_good = [t.model_copy(update={"trajectory_id": t.trajectory_id + "-lam3"}) for t in good[20:26]]
    rows = reward_rows(good[:20], "expert") + reward_rows(lam3_good, "lam3") + reward_rows(bad[:12], "lam3")
    train, held = split_by_task(rows, 0.2, seed=0)
    assert {(r["source"], r["label"]) for r in held} == {("expert", 1.0), ("lam3", 1.0), ("lam3", -1.0)}
    assert not {r["task_id"] for r in train} & {r["task_id"] for r in held}


def test_source_heldout_metrics_are_lam3s_own_and_say_when_a_class_is_missing():
    scored = [{"task_id": "a", "trajectory_id": "a-e", "step": 0, "source": "expert", "label": 1.0, "score": -0.9},
              {"task_id": "b", "trajectory_id": "b-l", "step": 0, "source": "lam3", "label": 1.0, "score": 0.4},
              {"task_id": "b", "trajectory_id": "b-l", "step": 1, "source": "lam3", "label": 1.0, "score": -0.1},
              {"task_id": "c", "trajectory_id": "c-l", "step": 0, "source": "lam3", "label": -1.0, "score": -0.5}]
    m = source_heldout_metrics(scored, "lam3")   # the expert's badly scored step does not count
    assert (m["accuracy"], m["auc"]) == (round(2 / 3, 6), 1.0)
    assert (m["trajectories"], m["successful_trajectories"], m["failed_trajectories"], m["steps"]) == (2, 1, 1, 3)
    # per trajectory (mean step score): b-l 0.15 against c-l -0.5
    assert (m["trajectory_accuracy"], m["trajectory_auc"]) == (1.0, 1.0)
    worse = [*scored, {"task_id": "d", "trajectory_id": "d-l", "step": 0, "source": "lam3", "label": -1.0,
                       "score": 0.3}]
    w = source_heldout_metrics(worse, "lam3")
    assert w["trajectory_auc"] == 0.5 and w["trajectory_accuracy"] == round(2 / 3, 6)
    only_failures = source_heldout_metrics(scored[3:], "lam3")
    assert only_failures["accuracy"] is None and only_failures["auc"] is None
    assert "have no successful trajectory" in only_failures["note"]
    none = source_heldout_metrics(scored[:1], "lam3")
    assert none["auc"] is None and none["steps"] == 0 and "not measured" in none["note"]


def test_heldout_metrics():
    m = heldout_metrics([1, 1, -1, -1], [0.9, 0.2, -0.5, 0.1])
    assert m["heldout_accuracy"] == 0.75 and m["heldout_auc"] == 1.0
    assert math.isnan(heldout_metrics([1, 1], [0.1, 0.2])["heldout_auc"])


def test_reward_model_separates_success_from_failure_on_heldout_tasks(trajectories, base, tmp_path):
    good, bad = trajectories
    rows = reward_rows(good, "expert") + reward_rows(bad, "lam3")
    before = [p.detach().clone() for p in base.model.parameters()]
    rm, log, metrics, scored = train_reward_model(base, rows, PARAMS)

    assert all(torch.equal(a, b) for a, b in zip(before, base.model.parameters(), strict=True))  # input kept
    assert rm.model.config.num_labels == 1 and rm.model.config.problem_type == "regression"
    assert not hasattr(rm.model, "peft_config")  # LoRA merged: a plain sequence classifier
    losses = [e["loss"] for e in log if "loss" in e]
    assert losses[-1] < losses[0]
    assert metrics["heldout_auc"] > 0.7, metrics  # chance is 0.5
    assert metrics["heldout_accuracy"] > 0.6, metrics
    assert {r["label"] for r in scored} == {1.0, -1.0}

    # The saved folder scores the same steps the same way (what Phase 4 loads).
    from transformers import AutoModelForSequenceClassification

    rm.model.save_pretrained(tmp_path / "rm")
    reloaded = ModelBundle(AutoModelForSequenceClassification.from_pretrained(tmp_path / "rm"), rm.tokenizer, rm.info)
    sample = [{"messages": r["messages"], "target": r["target"]} for r in rows[:5]]
    assert score_steps(reloaded, sample) == pytest.approx(score_steps(rm, sample), abs=1e-4)
    assert "<|im_start|>assistant" in reward_text(rm.tokenizer, sample[0], rm.info)
    # TRL prompt-completion rows score the same as step rows.
    trl_rows = [{"prompt": r["messages"], "completion": [{"role": "assistant", "content": r["target"]}]}
                for r in sample]
    assert score_steps(rm, trl_rows) == pytest.approx(score_steps(rm, sample), abs=1e-5)


def test_balance_rows_oversamples_the_scarcer_label_within_the_cap():
    rows = [{"trajectory_id": f"p{i}", "step": 0, "label": 1.0} for i in range(10)]
    rows += [{"trajectory_id": f"n{i}", "step": 0, "label": -1.0} for i in range(3)]
    out = balance_rows(rows, "oversample", None, seed=0)
    assert len(out) == 20 and sum(r["label"] > 0 for r in out) == 10
    assert len({r["trajectory_id"] for r in out if r["label"] < 0}) == 3  # every failure used
    capped = balance_rows(rows, "oversample", 8, seed=0)
    assert len(capped) == 8 and sum(r["label"] > 0 for r in capped) == 4
    assert balance_rows(rows, "none", 5, seed=0) == balance_rows(rows, "none", 5, seed=0)[:5]
    with pytest.raises(ValueError, match="balance"):
        balance_rows(rows, "undersample", None, seed=0)
