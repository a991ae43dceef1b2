"""task_plans nodes: sourcing, each evolution operator, import + quarantine, filters, split, LLM client."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from lam_kedro.agent.llm_client import ChatClient, LLMEndpointError
from lam_kedro.agent.policies import StepsPolicy
from lam_kedro.agent.schema import TaskPlan
from lam_kedro.env import WordEnv, builtin_templates, load_template
from lam_kedro.env.tasks import get_family
from lam_kedro.env.types import Task
from lam_kedro.pipelines.task_plans.datasets import TaskFilesDataset
from lam_kedro.pipelines.task_plans.evolution import Evolver
from lam_kedro.pipelines.task_plans.filters import mentions_ui
from lam_kedro.pipelines.task_plans.nodes import (
    evolve_task_plans,
    filter_task_plans,
    report_task_plans,
    source_task_plans,
    split_task_plans,
)
from lam_kedro.pipelines.task_plans.params import GenerationParams, parse
from lam_kedro.pipelines.task_plans.records import SEQUENCE, ExecutionChecker, parts_of
from lam_kedro.pipelines.task_plans.text import extra_words, normalize

NO_FILES = {"plans": [], "rejects": []}


@pytest.fixture(scope="module")
def docs():
    return {t.name: load_template(t.name) for t in builtin_templates()}


@pytest.fixture(scope="module")
def templates(docs):
    return {name: (lambda d=d: d.copy()) for name, d in docs.items()}


@pytest.fixture(scope="module")
def sourced(templates):
    pairs, rejects, stats = source_task_plans(templates, NO_FILES, {"n_pairs": 200, "seed": 0})
    assert rejects == [] and stats["generated"] == 200
    return pairs


def test_generated_pairs_are_help_doc_plans_and_deterministic(sourced, templates):
    assert len({normalize(p.task) for p in sourced}) == len(sourced)
    assert len({p.family for p in sourced}) >= 30
    for p in sourced:
        assert p.source == "generated" and p.executable
        assert all(step.startswith(f"{i}. ") for i, step in enumerate(p.plan, start=1)), p.plan
        assert mentions_ui(p.plan), p.plan
    again, _, _ = source_task_plans(templates, NO_FILES, {"n_pairs": 200, "seed": 0})
    assert [p.model_dump() for p in again] == [p.model_dump() for p in sourced]


def _evolved(sourced, docs, op: str, n: int = 12) -> list[tuple[TaskPlan, TaskPlan]]:
    import random

    evolver, rng, out = Evolver(docs), random.Random(1), []
    for k, parent in enumerate(sourced * 3):
        cand = evolver.operators[op](parent, rng, k)
        if cand is not None and (not cand.new_parts or evolver.verify(cand) is None):
            out.append((parent, cand.record))
        if len(out) == n:
            break
    assert len(out) == n, f"{op} applied to only {len(out)} rows"
    return out


@pytest.mark.parametrize("op", ["compose", "constrain", "concretize", "rephrase"])
def test_operator_adds_at_most_20_words_evolves_the_plan_and_stays_executable(op, sourced, docs):
    checker = ExecutionChecker(docs)
    for parent, child in _evolved(sourced, docs, op):
        assert 0 < extra_words(parent.task, child.task) <= 20 or op == "rephrase", (parent.task, child.task)
        assert extra_words(parent.task, child.task) <= 20
        assert normalize(child.task) != normalize(parent.task)
        assert child.operator == op and child.parent_task_id == parent.task_id and child.source == "evolved"
        assert child.template == parent.template
        if op == "rephrase":  # same task, same plan
            assert child.plan == parent.plan
        else:
            assert child.plan != parent.plan and len(child.plan) >= len(parent.plan)
        result = checker.check(child.template, parts_of(child.family, child.params))
        assert result.success, (child.task, result.reason)


@pytest.mark.parametrize("op", ["compose", "constrain"])
def test_each_sub_task_checker_passes_after_the_sub_solutions_run_in_word_env(op, sourced, docs):
    """By hand, without the pipeline's checker: play every part's solution, then ask every part."""
    env = WordEnv(max_steps=60)
    for _, child in _evolved(sourced, docs, op, n=6):
        assert child.family == SEQUENCE
        parts = parts_of(child.family, child.params)
        assert 2 <= len(parts) <= 3
        if op == "constrain":  # the constraint is on the same target
            assert parts[0][1]["text"] == parts[1][1]["text"]
        steps = [s for f, p in parts for s in get_family(f).solution(p)]
        obs, _ = env.reset(Task(child.task_id, parts[0][0], child.task, parts[0][1], child.template))
        policy = StepsPolicy(steps)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(policy.act(obs).action)
            assert obs.error is None, obs.error
            done = terminated or truncated
        for family, params in parts:
            verdict = get_family(family).check(env.initial_document, env.document, params)
            assert verdict.success, (child.task, family, verdict.reason)


def test_evolve_node_counts_and_word_bound(sourced, templates):
    evolved, rejects, stats = evolve_task_plans(sourced, templates, {"n_pairs": 60, "seed": 0})
    assert len(evolved) == 60 == sum(stats["evolved"].values())
    assert all(stats["evolved"][op] > 0 for op in ("compose", "constrain", "concretize", "rephrase"))
    parents = {p.task_id: p for p in sourced}
    assert all(extra_words(parents[e.parent_task_id].task, e.task) <= 20 for e in evolved)
    assert len(rejects) == sum(stats["rejected"].values())
    assert all(r["stage"] == "evolve" and r["message"] for r in rejects)
    tight, _, _ = evolve_task_plans(sourced, templates, {"n_pairs": 20, "seed": 0, "max_extra_words": 4})
    assert all(extra_words(parents[e.parent_task_id].task, e.task) <= 4 for e in tight)


def test_task_files_import_quarantines_malformed_files_and_keeps_the_rest(tmp_path, shared_dir, templates):
    folder = tmp_path / "task_files"
    folder.mkdir()
    for name in ("bulleted.json", "watermark.json"):
        shutil.copy2(shared_dir / "interop/ufo" / name, folder / name)
    (folder / "paper.json").write_text(json.dumps(
        {"task_id": "p1", "task": "Center the title of the report", "plan": ["On the Home tab, click Center."]}))
    (folder / "broken.json").write_text('{"app": "word", "unique_id": "9", "task": ')
    (folder / "no_steps.json").write_text(json.dumps({"app": "word", "unique_id": "10", "task": "Bold it"}))
    pairs, rejects, stats = source_task_plans(templates, TaskFilesDataset(str(folder)).load(), {"n_pairs": 5})
    imported = [p for p in pairs if p.source != "generated"]
    assert sorted(p.task_id for p in imported) == ["108", "5", "p1"]
    assert stats["imported"] == {"imported": 1, "ufo": 2} and stats["import_rejected"] == 2
    assert all(p.plan[0].startswith("1. ") for p in imported)
    reasons = {Path(r["file"]).name: r["message"] for r in rejects}
    assert set(reasons) == {"broken.json", "no_steps.json"}
    assert "cannot read as JSON" in reasons["broken.json"] and "refined_steps" in reasons["no_steps.json"]
    kept, quarantine, _ = filter_task_plans(pairs, [], rejects, [], {})
    assert {p.task_id for p in imported} <= {p.task_id for p in kept}
    assert [q["reason"] for q in quarantine] == ["malformed_file", "malformed_file"]
    assert TaskFilesDataset(str(tmp_path / "absent")).load()["counts"]["seen"] == 0


def _row(task_id: str, task: str, plan: list[str] | None = None, source: str = "ufo") -> TaskPlan:
    return TaskPlan(task_id=task_id, task=task, plan=plan or ["1. On the Home tab, click Bold."], source=source)


def test_filters_and_dedup_count_every_reason_and_quarantine_every_row():
    rows = [
        _row("a", 'Make "Budget" bold.'),
        _row("b", 'make  "budget"  BOLD'),                       # same request, normalized
        _row("a", 'Underline the word "Budget".'),               # same task id
        _row("c", "Bold."),                                       # too short
        _row("d", "Make the text bold " + "please " * 90),        # too long
        _row("e", "The quarterly report in Word"),               # no verb
        _row("f", "Make it happen quickly"),                     # no target
        _row("g", "Add a chart to the document", ["1. Open the Chart gallery.", "2. Pick a pie chart."]),
        _row("h", 'Italicize "Budget" now.', source="forum"),    # source not allowed
        _row("i", 'Italicize "Budget" now.', [f"{i}. Click Italic." for i in range(1, 40)]),  # plan too long
    ]
    evolved = [_row("j", "Make the page landscape", ["1. On the Layout tab, click Orientation."], source="evolved")]
    kept, quarantine, stats = filter_task_plans(rows, evolved, [{"stage": "import"}], [], {})
    assert [r.task_id for r in kept] == ["a", "j"]
    assert stats["rejected"] == {"duplicate_task_id": 1, "duplicate_text": 1, "task_too_short": 1,
                                 "task_too_long": 1, "no_verb": 1, "no_target": 1, "no_ui_mention": 1,
                                 "source_not_allowed": 1, "plan_too_long": 1}
    assert len(quarantine) == 1 + sum(stats["rejected"].values()) == 1 + len(rows) - 1
    assert all(q["message"] for q in quarantine[1:])


def test_split_holds_out_task_groups_with_no_text_in_both(sourced, templates):
    evolved, _, _ = evolve_task_plans(sourced, templates, {"n_pairs": 80, "seed": 0})
    kept, _, _ = filter_task_plans(sourced, evolved, [], [], {})
    train, test, index = split_task_plans(kept, {"test_fraction": 0.2, "seed": 0})
    assert len(train) + len(test) == len(kept) and 0.1 < len(test) / len(kept) < 0.3
    assert not {normalize(r.task) for r in train} & {normalize(r.task) for r in test}
    group = lambda r: r.parent_task_id or r.task_id  # noqa: E731
    assert not {group(r) for r in train} & {group(r) for r in test}
    keys = [(row["kind"], row["key"]) for row in index]
    assert len(keys) == len(set(keys))
    stats, metrics = report_task_plans({}, {}, {}, [], train, test)
    assert stats["split"] == {"train": len(train), "test": len(test)}
    assert metrics["test"] == {"value": float(len(test)), "step": 0}


def test_config_errors_name_the_key_and_missing_templates_say_what_to_run():
    with pytest.raises(ValueError, match=r"params:task_plans\.generation\.n_pair"):
        parse(GenerationParams, {"n_pair": 3}, "generation")
    with pytest.raises(ValueError, match="kedro run --pipelines templates"):
        source_task_plans({}, NO_FILES, {"n_pairs": 3})


# -- the optional LLM evolver: real sockets and a real local HTTP server, never canned replies ---
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_is_a_clear_error_naming_the_url(sourced, templates):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(LLMEndpointError, match=rf"{url}/chat/completions: cannot connect"):
        ChatClient({"base_url": url, "timeout_s": 5}).complete([{"role": "user", "content": "hi"}])
    llm = {"enabled": True, "base_url": url, "timeout_s": 5}
    with pytest.raises(LLMEndpointError, match=url):
        evolve_task_plans(sourced, templates, {"n_pairs": 3, "llm": llm})


def test_a_server_that_is_not_openai_compatible_is_a_clear_error(tmp_path):
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        with pytest.raises(LLMEndpointError, match=rf"{url}/chat/completions: HTTP 501"):
            ChatClient({"base_url": url, "timeout_s": 5}).complete([{"role": "user", "content": "hi"}])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(
    not os.environ.get("LAM_LLM_BASE_URL"),
    reason="needs a general chat model: the project's own endpoint (`lam serve`) answers action and plan "
    "prompts only; set LAM_LLM_BASE_URL (and LAM_LLM_MODEL) to run against a live one",
)
def test_live_llm_evolver_keeps_values_and_word_bound(sourced, templates):
    llm = {"enabled": True, "base_url": os.environ["LAM_LLM_BASE_URL"],
           "model": os.environ.get("LAM_LLM_MODEL", "lam"), "timeout_s": 120}
    evolved, _, stats = evolve_task_plans(sourced, templates, {"n_pairs": 5, "llm": llm})
    parents = {p.task_id: p for p in sourced}
    assert len(evolved) == 5 and sum(stats["llm"].values()) == 5
    assert all(extra_words(parents[e.parent_task_id].task, e.task) <= 20 for e in evolved)


def test_llm_rewrites_must_keep_every_value_and_the_word_bound():
    from lam_kedro.pipelines.task_plans.llm_evolver import LLMRewriter

    rewriter = LLMRewriter(ChatClient({"base_url": "http://127.0.0.1:9/v1"}), max_extra_words=20)
    parent, child = 'Bold "Budget".', 'Bold "Budget", at 14 pt.'
    assert rewriter.accept(parent, child, 'Could you make "Budget" bold and 14 pt?') is None
    assert "lost values ['Budget']" in rewriter.accept(parent, child, "Make the heading bold and 14 pt?")
    assert "lost values ['14']" in rewriter.accept(parent, child, 'Make "Budget" bold and big.')
    assert "extra words" in rewriter.accept(parent, child, 'Make "Budget" bold at 14 pt' + " now" * 20)
