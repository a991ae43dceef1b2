"""The evaluation pipeline on an in-memory catalog: one real tiny generation, one missing, two baselines."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from lam_kedro.agent import InstantiatedTask, TaskPlan, Trajectory
from lam_kedro.evaluation.generations import GenerationLoader
from lam_kedro.evaluation.params import parse_params
from lam_kedro.pipelines.evaluation.nodes import held_out_tasks
from lam_kedro.pipelines.evaluation.pipeline import create_pipeline
from tests.evaluation.conftest import tiny_bundle

PARAMS = {
    "generations": ["lam1", "lam2"],
    "generate": {"max_new_tokens": 8},
    "offline": {"max_trajectories": 2},
    "planning": {"generations": ["lam1", "lam2"], "max_tasks": 2},
    "online": {"max_steps": 6, "max_tasks": 3, "baselines": ["expert", "random"]},
}


class _Kept(MemoryDataset):
    """Keeps its data after the run (the runner releases intermediate datasets), so the test can read it."""

    def _release(self) -> None:
        pass


class _TinyLoader(GenerationLoader):
    def __call__(self):
        return tiny_bundle()


def test_pipeline_in_memory(tasks: list[InstantiatedTask], documents: dict, expert_trajectories: list[Trajectory]):
    splits = [{"task_id": t.task_id, "split": "test" if i else "train"} for i, t in enumerate(tasks)]
    plans = [TaskPlan(task_id=t.task_id, task=t.task, plan=t.plan, family=t.family) for t in tasks]
    catalog = DataCatalog({
        "evaluation_models": MemoryDataset({"lam1": None, "lam2": _TinyLoader("lam2", {})}, copy_mode="assign"),
        "test_trajectories": MemoryDataset(expert_trajectories, copy_mode="assign"),
        "task_plans_test": MemoryDataset(plans, copy_mode="assign"),
        "instantiated_tasks": MemoryDataset(tasks, copy_mode="assign"),
        "trajectory_splits": MemoryDataset(splits),
        "templates": MemoryDataset(documents, copy_mode="assign"),
        "params:evaluation": MemoryDataset(PARAMS),
        "params:world": MemoryDataset({"backend": "word"}),
        **{name: _Kept(copy_mode="assign") for name in create_pipeline().all_outputs()},
    })
    SequentialRunner().run(create_pipeline(), catalog)
    offline = catalog.load("evaluation_offline_results")
    assert offline["lam1"]["status"] == "skipped" and "lam1" in offline["lam1"]["reason"]
    assert offline["lam2"]["status"] == "evaluated" and offline["lam2"]["metrics"]["tasks"] == 2
    steps = catalog.load("evaluation_offline_steps")
    # a random model under constrained decoding (the default): every answer parses, none crashed
    assert steps and not any(r["parse_error"] for r in steps)
    assert catalog.load("evaluation_planning_results")["lam2"]["metrics"]["tasks"] == 2

    online = catalog.load("evaluation_online_results")
    assert list(online) == ["lam1", "lam2", "expert", "random"]
    assert online["expert"]["metrics"]["tasks"] == 3 and online["expert"]["metrics"]["task_success_rate"] == 1.0
    trajs = catalog.load("evaluation_online_trajectories")
    assert [t.actor for t in trajs] == ["lam2"] * 3 + ["expert"] * 3 + ["random"] * 3

    table: pd.DataFrame = catalog.load("evaluation_table")
    assert {"lam1", "lam2", "expert", "random", "paper"} <= set(table.columns)
    assert "skipped" in set(table["lam1"])
    assert "Skipped:" in catalog.load("evaluation_report")
    assert catalog.load("evaluation_metrics")["online"]["expert"]["task_success_rate"] == 1.0
    # a random tiny lam2 solves no task, so it does not become champion, and the report says why
    assert online["lam2"]["metrics"]["task_success_rate"] == 0.0
    best = catalog.load("evaluation_champion")
    assert best["generation"] is None and best["reason"].startswith("no generation solved a held-out task online")
    assert "Champion: none (no generation solved a held-out task online (lam2 0 of 3 solved))" in catalog.load(
        "evaluation_report")
    assert online["lam2"]["coverage"] == {"tasks": 3, "held_out_tasks": 3, "families": 3, "held_out_families": 3,
                                          "missing_families": [], "selection": "all"}
    assert set(catalog.load("evaluation_generation_metrics")) == {"lam2"}
    assert "evaluation_phase_plot" in catalog and "random.online.task_success_rate" in catalog.load(
        "evaluation_mlflow_metrics")


def test_held_out_tasks_and_params_validation(tasks: list[InstantiatedTask]):
    splits = [{"task_id": t.task_id, "split": s} for t, s in zip(tasks, ["test", "train", "test", "test"], strict=True)]
    assert [t.task_id for t in held_out_tasks(tasks, splits, 2)] == [tasks[0].task_id, tasks[2].task_id]
    assert len(held_out_tasks(tasks, splits, 2, "stratified")) == 2 and len(held_out_tasks(tasks, splits)) == 3
    try:
        parse_params({"online": {"wokers": 2}})
    except ValueError as err:
        assert "wokers" in str(err)
    else:
        raise AssertionError("a misspelled key must fail")


def test_llm_baseline_without_endpoint_fails_naming_the_keys():
    from lam_kedro.pipelines.evaluation.nodes import _actor_specs

    specs, skipped = _actor_specs({"lam1": None}, parse_params({"generations": ["lam1"]}))
    assert [s.name for s in specs] == ["expert", "random"] and skipped["lam1"]["status"] == "skipped"
    with pytest.raises(ValueError, match="online.llm.base_url"):
        _actor_specs({}, parse_params({"generations": [], "online": {"llm": {"enabled": True}}}))
