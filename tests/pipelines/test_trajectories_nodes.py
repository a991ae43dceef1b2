"""Nodes of the trajectories pipeline on real templates and task plans made from the families."""

from __future__ import annotations

from collections import Counter

import pytest
from matplotlib.figure import Figure

from lam_kedro.agent.schema import TaskPlan
from lam_kedro.env import builtin_templates
from lam_kedro.env.tasks import get_family, sample_tasks
from lam_kedro.env.templates import document_features
from lam_kedro.pipelines.trajectories import instantiation as inst
from lam_kedro.pipelines.trajectories import nodes
from lam_kedro.pipelines.trajectories.instantiation import as_row
from lam_kedro.validation.frames import FRAMES, task_records_frame

quarantine_frame = FRAMES["quarantine"]

PARAMS = {
    "seed": 0, "max_steps": 30, "workers": 1, "chunk_size": 8,
    "instantiation": {"retriever": "tfidf", "candidates": 3, "profile_chars": 400, "reword_share": 0.9,
                      "loose_share": 0.75},
    "split": {"test_size": None},
    "expert": {"kind": "plan"}, "judge": {"enabled": False},
}


def _templates(names: list[str] | None = None) -> tuple[dict, list[dict]]:
    ts = [t for t in builtin_templates() if names is None or t.name in names]
    return {t.name: t.build for t in ts}, [{"name": t.name, "description": t.description} for t in ts]


def _plans(n: int, seed: int, prefix: str) -> list[TaskPlan]:
    tasks = sample_tasks([t.name for t in builtin_templates()], n, seed=seed)
    return [TaskPlan(task_id=f"{prefix}{i}", task=t.request, plan=get_family(t.family).plan(t.params),
                     family=t.family) for i, t in enumerate(tasks)]


def test_instantiation_picks_a_template_with_a_table_for_a_table_task():
    templates, index = _templates()
    tp = TaskPlan(task_id="t1", task="Bold the quarterly revenue figure in the sales table by region",
                  plan=["1. Select the text in the table.", "2. On the Home tab, click Bold."], family="bold_text")
    tasks, _, quarantine = nodes.instantiate_tasks([tp], [], templates, index, PARAMS)
    assert not quarantine
    doc = templates[tasks[0].template]()
    assert document_features(doc)["tables"] > 0, tasks[0].template


def test_prefill_draws_params_from_the_chosen_document():
    templates, index = _templates()
    tasks, manifest, _ = nodes.instantiate_tasks(_plans(60, 1, "p"), [], templates, index, PARAMS)
    assert len(tasks) >= 40
    wording = {m["task_id"]: m["plan_wording"] for m in manifest}
    for t in tasks:
        if "text" in t.params and t.family in ("bold_text", "italic_text", "underline_text", "font_size"):
            assert templates[t.template]().find(t.params["text"]) is not None
            if not wording[t.task_id]:  # the family's own plan, unless another author worded a step
                assert t.plan == get_family(t.family).plan(t.params)
        assert t.source_task_id and t.task_id.startswith(t.source_task_id)
    assert {m["task_id"] for m in manifest} == {t.task_id for t in tasks}
    assert all(m["plan_steps"] == len(t.plan) for m, t in zip(manifest, tasks, strict=True))


def test_plan_authors_are_dealt_out_per_family_and_reword_one_step():
    rows = [(f"t{i}", "bold_text" if i % 2 else "page_size", "train") for i in range(40)] + [("x", "font_size", "test")]
    authors = inst.plan_authors(rows, 0, 0.9, 0.75)
    assert authors == inst.plan_authors(rows, 0, 0.9, 0.75)  # seeded, not random
    for family in ("bold_text", "page_size"):
        kinds = Counter(authors[t] for t, f, _ in rows if f == family)
        assert kinds == {"loose": 13, "careful": 5, "as_written": 2}, kinds  # 20 tasks: 67.5 % / 22.5 % / 10 %
    assert authors["x"] == "loose"  # a family of one in its split still gets an author
    templates, index = _templates()
    tasks, manifest, _ = nodes.instantiate_tasks(_plans(60, 1, "w"), [], templates, index, PARAMS)
    canonical = {t.task_id: get_family(t.family).plan(t.params) for t in tasks if t.family != "sequence"}
    for t, m in zip(tasks, manifest, strict=True):
        if t.task_id in canonical and m["plan_wording"]:
            changed = [s for s in t.plan if s not in canonical[t.task_id]]
            assert len(changed) <= 1 and len(t.plan) >= len(canonical[t.task_id]) - 1, (t.plan, canonical[t.task_id])
    assert Counter(bool(m["plan_wording"]) for m in manifest)[True] >= len(manifest) // 2


def test_infeasible_and_uncheckable_tasks_go_to_quarantine_with_a_reason():
    templates, index = _templates(["one_line", "grocery_list"])
    plans = [
        TaskPlan(task_id="c", task="Clear the formatting of the title", plan=["1. Click Clear All Formatting."],
                 family="clear_formatting"),
        TaskPlan(task_id="u", task="Turning lines of text into a bulleted list", plan=["1. Click Bullets."]),
        {"task_id": "s", "task": "Bold and center", "plan": ["1. Click Bold."], "family": "sequence",
         "params": {"parts": [{"family": "nope", "params": {}}]}},
    ]
    tasks, _, quarantine = nodes.instantiate_tasks(plans, [_plans(1, 0, "x")[0]], templates, index, PARAMS)
    reasons = {q["task_id"]: q["reason"] for q in quarantine}
    assert reasons == {"c": "not_applicable", "u": "no_family", "s": "unknown_family"}
    assert all(q["detail"] for q in quarantine)
    assert quarantine[0]["templates_tried"]
    frame = quarantine_frame(quarantine)
    assert list(frame["reason"]) == [reasons[k] for k in frame["task_id"]]
    assert list(quarantine_frame([]).columns) == list(frame.columns)
    assert len(tasks) == 1


def test_split_is_by_task_and_disjoint():
    templates, index = _templates(["one_line"])
    make = lambda i: TaskPlan(task_id=f"o{i}", task="Landscape please", plan=["1. Click Orientation."],  # noqa: E731
                              family="page_orientation")
    tasks, manifest, quarantine = nodes.instantiate_tasks([make(i) for i in range(8)], [make(i) for i in range(8, 16)],
                                                          templates, index, PARAMS)
    splits = Counter(m["split"] for m in manifest)
    assert splits["test"] >= 1
    train = {(m["template"], m["task"]) for m in manifest if m["split"] == "train"}
    test = {(m["template"], m["task"]) for m in manifest if m["split"] == "test"}
    assert not train & test
    assert not {t for _, t in train} & {t for _, t in test}
    assert {q["reason"] for q in quarantine} <= {"duplicate", "split_overlap"} and quarantine
    assert len({m["task"] for m in manifest}) == len(manifest)


def test_assign_splits_tops_up_the_test_set_from_train():
    rows = [as_row(p) for p in _plans(20, 2, "a")]
    pairs = nodes.assign_splits(rows, [], test_size=5, seed=0)
    assert sum(s == "test" for _, s in pairs) == 5
    assert pairs == nodes.assign_splits(rows, [], test_size=5, seed=0)
    assert len({tp.task_id for tp, _ in pairs}) == 20


def test_rollout_split_and_summary():
    templates, index = _templates()
    tasks, manifest, quarantine = nodes.instantiate_tasks(_plans(50, 4, "tr"), _plans(12, 9, "te"), templates, index,
                                                          PARAMS)
    trajs = nodes.run_expert(tasks, templates, PARAMS)
    assert [t.task.task_id for t in trajs] == [t.task_id for t in tasks]
    train, test, explore = nodes.split_trajectories(trajs, manifest, PARAMS)
    split_of = {m["task_id"]: m["split"] for m in manifest}
    assert all(t.outcome.success and split_of[t.task.task_id] == "train" for t in train)
    assert all(t.outcome.success and split_of[t.task.task_id] == "test" for t in test)
    failed_train = {t.task.task_id for t in trajs if not t.outcome.success and split_of[t.task.task_id] == "train"}
    assert {t.task_id for t in explore} == failed_train and explore
    stats, table, metrics, fig = nodes.summarize_trajectories(trajs, manifest, quarantine)
    assert stats["tasks"] == len(trajs) and 0 < stats["success_rate"] < 1
    failed = [t for t in trajs if not t.outcome.success]
    assert sum(stats["failure_causes"].values()) == len(failed)
    assert set(stats["failure_causes"]) <= {"control_not_on_screen", "wrong_guess", "plan_incomplete",
                                            "unreadable_step", "action_error", "document_unreachable", "gave_up",
                                            "step_limit"}
    assert stats["plan_wording"]["as_written"]["tasks"] < len(trajs)
    assert set(stats["train_families"]) == {"min", "max", "at_zero"}
    assert set(table.columns) >= {"family", "tasks", "success_rate", "avg_steps"}
    assert metrics["success_rate"] == {"value": stats["success_rate"], "step": 0}
    assert isinstance(fig, Figure)
    assert (task_records_frame(tasks)["plan_steps"] >= 1).all()


def test_workers_do_not_change_the_data():
    templates, index = _templates()
    tasks, _, _ = nodes.instantiate_tasks(_plans(24, 5, "w"), [], templates, index, PARAMS)
    one = nodes.run_expert(tasks, templates, PARAMS)
    two = nodes.run_expert(tasks, templates, {**PARAMS, "workers": 2, "chunk_size": 5})
    strip = lambda ts: [(t.trajectory_id, t.outcome.success, [(s.function, s.args) for s in t.steps]) for t in ts]  # noqa: E731
    assert strip(one) == strip(two)


def test_judge_switched_on_without_an_endpoint_fails_loudly():
    with pytest.raises(ValueError, match="judge.base_url"):
        nodes.split_trajectories([], [], {**PARAMS, "judge": {"enabled": True, "base_url": None, "model": None}})
