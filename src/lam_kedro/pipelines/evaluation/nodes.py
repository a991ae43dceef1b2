"""Evaluation nodes (paper Sec. 5): offline step metrics, LAM1 planning, online rollouts, report, registry.

Models arrive as ``{generation: loader | None}`` (``evaluation_models``): each node loads one
generation at a time and drops it before the next, and a generation without a model becomes a
``skipped`` result with its reason, never a crash. Results of every section share one shape,
``{actor: {"status", "reason", "kind", "metrics", ...}}``, which the report node turns into the
paper's tables, DVC metrics and plots and the MLflow metric dicts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from lam_kedro.agent.schema import InstantiatedTask, TaskPlan, Trajectory
from lam_kedro.env.document import Document
from lam_kedro.evaluation import offline, online, planning, report
from lam_kedro.evaluation.params import EvaluationParams, parse_params

logger = logging.getLogger(__name__)

Loader = Callable[[], Any]
Result = dict[str, Any]


def _skip(reason: str, kind: str = "lam") -> Result:
    logger.warning("evaluation: skipped (%s)", reason)
    return {"status": "skipped", "reason": reason, "kind": kind, "metrics": {}}


def _loader(models: Mapping[str, Loader | None], generation: str) -> tuple[Loader | None, str]:
    """The generation's loader, or ``None`` and why there is none."""
    if generation not in models:
        return None, (f"{generation} is not among evaluation_models' generations ({', '.join(models) or 'none'}); "
                      "add its folder to conf/base/catalog_evaluation.yml")
    loader = models[generation]
    if loader is None:
        return None, f"no trained model for {generation} (its phase has not run)"
    return loader, ""


def _generate_for(loader: Loader, p: EvaluationParams) -> Callable[[list[dict[str, str]]], str]:
    """The generation's decoder from ``evaluation.generate``, as ``lam_policy`` builds it online."""
    from lam_kedro.model.policy import lam_generate

    return lam_generate(loader(), p.generate)


def evaluate_offline(models: Mapping[str, Loader | None], test_trajectories: list[Trajectory],
                     params: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Result]]:
    """Teacher-forced step scoring of every generation on the held-out expert trajectories.

    Returns ``(rows, results)``: one row per (generation, step) with the model's output and the
    parse error if any, and the five paper metrics per generation.
    """
    p = parse_params(params)
    trajs = list(test_trajectories)[: p.offline.max_trajectories]
    rows: list[dict[str, Any]] = []
    results: dict[str, Result] = {}
    for g in p.generations:
        loader, why = _loader(models, g)
        if not p.offline.enabled:
            results[g] = _skip("offline evaluation is disabled (offline.enabled: false)")
        elif not trajs:
            results[g] = _skip("there are no held-out expert trajectories (test_trajectories is empty)")
        elif loader is None:
            results[g] = _skip(why)
        else:
            got = offline.predict_offline(trajs, _generate_for(loader, p), g)
            rows += got
            results[g] = {"status": "evaluated", "reason": None, "kind": "lam", "metrics": offline.offline_metrics(got)}
            logger.info("offline %s: %s", g, results[g]["metrics"])
    return rows, results


def evaluate_planning(models: Mapping[str, Loader | None], task_plans_test: list[TaskPlan],
                      params: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Result]]:
    """LAM1's plans for the held-out task-plan pairs, matched step by step to the reference plans."""
    p = parse_params(params)
    plans = list(task_plans_test)[: p.planning.max_tasks]
    rows: list[dict[str, Any]] = []
    results: dict[str, Result] = {}
    for g in p.planning.generations:
        loader, why = _loader(models, g)
        if not p.planning.enabled:
            results[g] = _skip("planning evaluation is disabled (planning.enabled: false)")
        elif not plans:
            results[g] = _skip("there are no held-out task-plan pairs (task_plans_test is empty)")
        elif loader is None:
            results[g] = _skip(why)
        else:
            got = planning.predict_plans(plans, _generate_for(loader, p), g, p.planning.min_overlap)
            rows += got
            results[g] = {"status": "evaluated", "reason": None, "kind": "lam",
                          "metrics": planning.planning_metrics(got)}
    return rows, results


def held_out_tasks(instantiated_tasks: list[InstantiatedTask], trajectory_splits: list[dict[str, Any]],
                   max_tasks: int | None = None, selection: str = "first", min_per_family: int = 1,
                   seed: int = 0) -> list[InstantiatedTask]:
    """The test split's runnable tasks (expert successes and failures alike), in the manifest's order;
    ``max_tasks`` of them chosen by ``online.select_held_out`` (``first`` or ``stratified``)."""
    test_ids = {r["task_id"] for r in trajectory_splits if r.get("split") == "test"}
    tasks = [t for t in instantiated_tasks if t.task_id in test_ids and t.family]
    return online.select_held_out(tasks, max_tasks, selection, min_per_family, seed)


def _actor_specs(models: Mapping[str, Loader | None], p: EvaluationParams
                 ) -> tuple[list[online.ActorSpec], dict[str, Result]]:
    """Who acts online: each generation with a model, then the baselines, then the LLM if enabled."""
    specs, skipped = [], {}
    o = p.online
    for g in p.generations:
        loader, why = _loader(models, g)
        if loader is None:
            skipped[g] = _skip(why)
            continue
        specs.append(online.ActorSpec(kind="lam", name=g, load_bundle=loader, decode=p.generate,
                                      seed=p.seed, use_task_plan=o.use_task_plan))
    for b in o.baselines:
        if b not in ("expert", "random"):
            raise ValueError(f"params:evaluation.online.baselines: unknown baseline {b!r}; use expert and/or random")
        specs.append(online.ActorSpec(kind=b, name=b, seed=o.random_seed if b == "random" else p.seed))
    if o.llm.enabled:
        if not o.llm.base_url or not o.llm.model:
            raise ValueError("params:evaluation.online.llm.enabled is true but online.llm.base_url and .model are "
                             "not set; point them at an OpenAI-compatible endpoint or disable the LLM baseline")
        specs.append(online.ActorSpec(kind="llm", name=o.llm.name, llm=o.llm.model_dump(exclude={"enabled"}),
                                      seed=p.seed, use_task_plan=o.use_task_plan))
    return specs, skipped


def evaluate_online(models: Mapping[str, Loader | None], instantiated_tasks: list[InstantiatedTask],
                    trajectory_splits: list[dict[str, Any]], templates: Mapping[str, Callable[[], Document] | Document],
                    params: dict[str, Any], world: dict[str, Any] | None = None
                    ) -> tuple[list[Trajectory], dict[str, Result]]:
    """Every actor on the held-out tasks through ``run_episode``, in ``world`` (``params:world``: the
    simulated Word by default); the checker decides success.

    Returns all trajectories (actor by actor, each in task order; they are schema records that
    later phases can read) and per-actor metrics, overall and per task family.
    """
    p = parse_params(params)
    o = p.online
    if not o.enabled:
        return [], {g: _skip("online evaluation is disabled (online.enabled: false)") for g in p.generations}
    available = held_out_tasks(instantiated_tasks, trajectory_splits)
    tasks = online.select_held_out(available, o.max_tasks, o.selection, o.min_per_family, p.seed)
    coverage = online.task_coverage(tasks, available, o.selection)
    logger.info("online: %d of %d held-out tasks (%s), %d of %d families%s", coverage["tasks"],
                coverage["held_out_tasks"], coverage["selection"], coverage["families"], coverage["held_out_families"],
                f"; left out: {', '.join(coverage['missing_families'])}" if coverage["missing_families"] else "")
    specs, results = _actor_specs(models, p)
    if not tasks:
        return [], {**results, **{s.name: _skip("there are no held-out tasks", s.kind) for s in specs}}
    docs = {name: (load() if callable(load) else load) for name, load in templates.items()}
    missing = sorted({t.template for t in tasks} - set(docs))
    if missing:
        raise KeyError(f"held-out tasks use templates the templates dataset lacks: {missing}; rerun the templates pipeline")
    trajectories: list[Trajectory] = []
    for spec in specs:
        got = online.rollout_actor(spec, tasks, docs, o.max_steps, o.workers, o.chunk_size, world=world)
        trajectories += got
        results[spec.name] = {"status": "evaluated", "reason": None, "kind": spec.kind,
                              "metrics": online.online_metrics(got), "families": online.online_family_table(got),
                              "coverage": coverage}
        logger.info("online %s: %s", spec.name, results[spec.name]["metrics"])
    order = [*p.generations, *(s.name for s in specs if s.name not in p.generations)]
    return trajectories, {a: results[a] for a in order if a in results}


def report_evaluation(offline_results: dict[str, Result], planning_results: dict[str, Result],
                      online_results: dict[str, Result], params: dict[str, Any]
                      ) -> tuple[pd.DataFrame, str, dict[str, Any], pd.DataFrame, pd.DataFrame, Any, Any]:
    """``(table CSV, markdown, DVC metrics JSON, per-phase CSV, per-family CSV, phase PNG, family PNG)``."""
    p = parse_params(params)
    results = {"offline": offline_results, "planning": planning_results, "online": online_results}
    table = report.comparison_table(results)
    families = report.family_frame(online_results)
    best = report.champion(online_results, offline_results, p.generations, p.champion_metric)
    markdown = report.markdown_report(table, results, families, best)
    metrics = report.dvc_metrics(results)
    actors = [a for a in dict.fromkeys([*offline_results, *planning_results, *online_results])
              if any((r.get(a) or {}).get("status") == "evaluated" for r in results.values())]
    return (table, markdown, metrics, report.phase_frame(results, p.generations), families,
            report.phase_plot(results, actors), report.family_plot(families))


def log_evaluation(offline_results: dict[str, Result], planning_results: dict[str, Result],
                   online_results: dict[str, Result], params: dict[str, Any]
                   ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], dict[str, Any]]:
    """``(this run's metrics, each generation's metrics, champion)`` for the MLflow catalog entries.

    This run gets ``evaluation.<actor>.<section>.<metric>``; each generation's own registered-model
    run gets ``<section>.<metric>`` (same names for every generation); the champion alias moves
    to the generation with the best online task success rate.
    """
    p = parse_params(params)
    results = {"offline": offline_results, "planning": planning_results, "online": online_results}
    best = report.champion(online_results, offline_results, p.generations, p.champion_metric)
    return report.mlflow_metrics(results), report.generation_metrics(results, p.generations), best
