"""Phase 4 pipeline: on an in-memory catalog (both methods), then `kedro run --env test --pipelines phase4`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from lam_kedro.agent.schema import InstantiatedTask, Outcome, Step, Trajectory
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.pipelines.phase4 import create_pipeline
from lam_kedro.pipelines.phase4.nodes import select_steps
from tests.conftest import REPO, run_cli

CONTROLS = [{"label": "1", "control_text": "Home", "control_type": "TabItem"},
            {"label": "2", "control_text": "Bold", "control_type": "Button"},
            {"label": "3", "control_text": "Document", "control_type": "Document"}]
OUTPUTS = ["phase4_step_rows", "phase4_steps", "lam4", "phase4_curves", "phase4_report",
           "phase4_metrics"]


def rollout(i: int, success: bool) -> Trajectory:
    """A two-step LAM3 episode on a bold-text task; failures click the wrong control."""
    task = InstantiatedTask(task_id=f"t{i}", task=f"Make word {i} bold", plan=["Select it", "Click Bold"],
                            template="report", family="bold_text", params={"text": f"w{i}"})
    second = ("2", "Bold", "click_input") if success else ("1", "Home", "click_input")
    steps = [
        Step(index=0, observation={"controls": CONTROLS}, thought="select", control_label="3",
             control_name="Document", function="select_text", args={"text": f"w{i}"}, plan=["Click Bold"]),
        Step(index=1, observation={"controls": CONTROLS}, thought="bold", control_label=second[0],
             control_name=second[1], function=second[2], args={}, status="FINISH"),
    ]
    outcome = Outcome(success=success, reason="checked", terminated=True, truncated=False, steps=2,
                      invalid_actions=0, duration_s=0.1)
    return Trajectory(trajectory_id=f"t{i}-lam3-a0", task=task, steps=steps, outcome=outcome, actor="lam3", seed=i)


def lam3_rollouts() -> list[Trajectory]:
    return [rollout(i, success=i % 3 == 0) for i in range(9)]


def tiny_lam3_and_rm() -> tuple[ModelBundle, ModelBundle]:
    """LAM3 as the phases build it (BPE tokenizer + tiny Llama) and a reward model on its backbone."""
    from lam_kedro.model.loading import build_tiny_model
    from lam_kedro.model.tokenizer import corpus_texts, train_bpe_tokenizer
    from lam_kedro.training.reward import reward_backbone

    tok = train_bpe_tokenizer(corpus_texts([], lam3_rollouts()), vocab_size=600)
    model = build_tiny_model(tok, config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                          "num_attention_heads": 4, "num_key_value_heads": 4,
                                          "max_position_embeddings": 1024})
    lam3 = ModelBundle(model, tok, {"generation": "lam3", "base": "tiny", "system_prompt": False})
    rm, rm_tok = reward_backbone(lam3)
    rm = rm.merge_and_unload().eval()
    torch.manual_seed(1)
    with torch.no_grad():  # a reward head far from zero, so the steps get clearly different scores
        rm.score.weight.normal_(0, 1.0)
    reward = ModelBundle(rm, rm_tok, {"generation": "reward", "task": "seq_cls", "max_length": 512})
    return lam3, reward


def test_select_steps_takes_failed_trajectories_for_ppo_and_both_for_kto():
    rows = select_steps(lam3_rollouts(), {"method": "ppo", "data": {"max_trajectories": None}})
    assert len(rows) == 12 and not any(r["success"] for r in rows)  # 6 failed trajectories x 2 steps
    assert [r["step"] for r in rows[:2]] == [0, 1]
    rows = select_steps(lam3_rollouts(), {"method": "kto", "data": {"max_trajectories": 2}})
    assert sum(r["success"] for r in rows) == 4 and sum(not r["success"] for r in rows) == 4
    with pytest.raises(ValueError, match="phase4.method"):
        select_steps(lam3_rollouts(), {"method": "dpo"})
    with pytest.raises(ValueError, match="no failed trajectory"):
        select_steps([rollout(0, True)], {"method": "ppo"})


class Kept(MemoryDataset):
    """A memory dataset the runner cannot release, so the test can read intermediate outputs."""

    def _release(self) -> None:
        pass


def _test_params() -> dict:
    return yaml.safe_load((REPO / "conf/test/parameters_phase4.yml").read_text())["phase4"]


@pytest.mark.parametrize("method", ["ppo", "kto"])
def test_pipeline_on_an_in_memory_catalog(method: str):
    lam3, reward = tiny_lam3_and_rm()
    before = {k: v.clone() for k, v in lam3.model.state_dict().items()}
    params = {**_test_params(), "method": method}
    catalog = DataCatalog({"lam3": MemoryDataset(lam3, copy_mode="assign"),
                           "reward_model": MemoryDataset(reward, copy_mode="assign"),
                           "lam3_rollouts": MemoryDataset(lam3_rollouts()),
                           "params:phase4": MemoryDataset(params),
                           **{name: Kept(copy_mode="assign") for name in OUTPUTS}})
    SequentialRunner().run(create_pipeline(), catalog)

    lam4, steps, curves, report = (catalog.load(n) for n in ("lam4", "phase4_steps", "phase4_curves", "phase4_report"))
    assert lam4.info["generation"] == "lam4" and lam4.info["parent"] == "lam3"
    assert lam4.info["phase4"]["method"] == method
    assert all(torch.equal(v, lam3.model.state_dict()[k]) for k, v in before.items())  # LAM3 untouched
    assert any(not torch.equal(v, before[k]) for k, v in lam4.model.state_dict().items())  # LAM4 moved
    assert report["method"] == method and report["failed_trajectories"] == 6
    metrics = catalog.load("phase4_metrics")
    assert all(set(v) == {"value", "step"} for v in metrics.values())
    if method == "ppo":
        assert len(steps) == 12 and all(-0.5 <= s["reward"] <= 0.5 for s in steps)
        assert min(s["reward"] for s in steps) == -0.5 and max(s["reward"] for s in steps) == 0.5
        assert all(s["advantage"] == s["reward"] for s in steps)  # gamma 0: A_t = r_t
        for name in ("policy_loss", "kl", "clip_fraction", "kl_coef", "mean_ratio"):
            assert [p["step"] for p in curves[name]] == [0, 1, 2, 3], name  # 2 epochs x 2 minibatches of 8 / 4
        assert curves["kl"][0]["value"] == pytest.approx(0.0, abs=1e-6)
        assert curves["mean_ratio"][0]["value"] == pytest.approx(1.0, abs=1e-5)
        assert curves["kl_coef"][0]["value"] == 0.2
    else:
        assert sum(s["success"] for s in steps) == 6 and all(s["score"] is None for s in steps)
        assert curves["loss"]


def _save_inputs(project: Path) -> None:
    """LAM3, the reward model and LAM3's rollouts where the project's catalog says they live."""
    from kedro.config import OmegaConfigLoader

    from lam_kedro.datasets import HFModelDataset, JSONLDataset

    catalog = OmegaConfigLoader(str(project / "conf"), base_env="base", default_run_env="base")["catalog"]
    lam3, reward = tiny_lam3_and_rm()
    for name, bundle in (("lam3", lam3), ("reward_model", reward)):  # the model folders the registry entries wrap
        entry = {k: v for k, v in catalog[name]["dataset"].items() if k != "type"}
        HFModelDataset(**{k: str(project / v) if k in ("path", "filepath") else v for k, v in entry.items()}).save(
            bundle)
    JSONLDataset(str(project / catalog["lam3_rollouts"]["filepath"]),
                 model="lam_kedro.agent.schema.Trajectory").save(lam3_rollouts())


def test_kedro_run_phase4_writes_lam4_and_registers_it(project: Path):
    import mlflow

    _save_inputs(project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "phase4"], project)

    assert (project / "data/06_models/lam4/config.json").is_file()
    info = json.loads((project / "data/06_models/lam4/lam_info.json").read_text())
    assert info["generation"] == "lam4" and info["phase4"]["method"] == "ppo"
    report = json.loads((project / "data/08_reporting/phase4.json").read_text())
    assert report["failed_trajectories"] == 6 and report["failed_steps"] == 12
    steps = [json.loads(x) for x in (project / "data/07_model_output/phase4/steps.jsonl").read_text().splitlines()]
    assert len(steps) == 12

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}",
                                 registry_uri=f"sqlite:///{project / 'mlflow.db'}")
    version = client.get_model_version_by_alias("lam", "lam4")
    run = client.get_run(version.run_id)
    for name in ("phase4.policy_loss", "phase4.kl", "phase4.kl_coef", "phase4.clip_fraction", "phase4.mean_ratio"):
        assert len(client.get_metric_history(run.info.run_id, name)) == 4, name
    assert run.data.metrics["phase4.failed_steps"] == 12
