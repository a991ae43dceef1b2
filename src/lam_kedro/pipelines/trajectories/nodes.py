"""Task-action trajectories (paper section 3.2): instantiate, execute with the expert, evaluate, split.

Each task plan is made concrete to a template (``instantiation``), executed by the plan-following
expert through ``run_episode`` (``rollout``), and judged by the task's checker, whose verdict and
reason the trajectory's outcome already carries. Expert successes on train tasks are Phase 2's
data; successes on held-out test tasks are the offline-evaluation set; train tasks the expert
failed are Phase 3's exploration set. The split is by task, decided before execution, and
written as a manifest so its disjointness is checked like any other dataset.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.env.document import Document
from lam_kedro.env.worlds import runs_in, world_params, world_plan
from lam_kedro.pipelines.trajectories import instantiation as inst
from lam_kedro.pipelines.trajectories.params import TrajectoriesParams
from lam_kedro.pipelines.trajectories.rollout import GUESS_MARK, expert_rollouts, load_documents

logger = logging.getLogger(__name__)


def _plans(rows: list[Any]) -> list[inst.PlanRow]:
    return [inst.as_row(r) for r in rows]


def _held_out(task_id: str, seed: int) -> float:
    return int(hashlib.sha1(f"{seed}|{task_id}".encode()).hexdigest()[:8], 16) / 16**8


def assign_splits(train: list[inst.PlanRow], test: list[inst.PlanRow], test_size: int | None, seed: int
                  ) -> list[tuple[inst.PlanRow, str]]:
    """Each task plan with its split: the test file's tasks are held out; when there are fewer than
    ``test_size`` of them, train tasks (a fixed, seed-chosen subset) are moved over to make up the size."""
    pairs = [(tp, "test") for tp in test]
    moved: set[str] = set()
    if test_size is not None and len(test) < test_size:
        order = sorted(train, key=lambda tp: _held_out(tp.task_id, seed))
        moved = {tp.task_id for tp in order[: test_size - len(test)]}
    test_ids = {tp.task_id for tp in test}
    pairs += [(tp, "test" if tp.task_id in moved else "train") for tp in train if tp.task_id not in test_ids]
    return pairs


def instantiate_tasks(
    task_plans_train: list[Any],
    task_plans_test: list[Any],
    templates: dict[str, Callable[[], Document]],
    template_index: list[dict[str, Any]],
    params: dict[str, Any],
    world: dict[str, Any] | None = None,
) -> tuple[list[InstantiatedTask], list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(instantiated tasks, split manifest, quarantine)``.

    Test tasks are instantiated first; a train task that prefills to the same request (on any
    template) as a test task, or to a request already taken, is quarantined, so no task and no
    template+task pair is in both splits. Then ``reword_share`` of each family's plans (per split)
    get one step worded by another author, loosely for ``loose_share`` of those (``wording``);
    the manifest's ``plan_wording`` names the rewording. In another ``world`` than the simulated Word
    (``params:world``), a task follows its family's plan there (``plan_wording``: the world's name), and
    a task whose family cannot run there is quarantined with the reason (``env.worlds.runs_in``).
    """
    params_ = TrajectoriesParams.parse(params, "params:trajectories")
    p, seed = params_.instantiation, params_.seed
    pairs = assign_splits(_plans(task_plans_train), _plans(task_plans_test), params_.split.test_size, seed)
    pairs.sort(key=lambda x: x[1] != "test")  # test first: held-out tasks win every collision
    profiles = inst.template_profiles(template_index, load_documents(templates), p.profile_chars)
    scores = inst.similarity([inst.query_text(tp) for tp, _ in pairs], profiles, p.retriever)
    ranked = inst.rank_templates([tp.task_id for tp, _ in pairs], scores, profiles)

    tasks: list[InstantiatedTask] = []
    manifest: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    seen: dict[str, tuple[str, str]] = {}  # request -> (task_id, split)
    for (tp, split), order in zip(pairs, ranked, strict=True):
        got = inst.prefill(tp, order, profiles, split, p.candidates, seed)
        if isinstance(got, inst.Quarantined):
            quarantine.append(got.to_dict())
            continue
        if got.task in seen:
            other, other_split = seen[got.task]
            reason = "split_overlap" if other_split != split else "duplicate"
            quarantine.append(inst.Quarantined(tp.task_id, got.task, tp.family, split, "filter", reason,
                                               f"prefilled to the same request as {other} ({other_split})",
                                               (got.template,)).to_dict())
            continue
        seen[got.task] = (got.task_id, split)
        tasks.append(got)
        manifest.append({"task_id": got.task_id, "source_task_id": tp.task_id, "task": got.task,
                         "template": got.template, "family": got.family or "", "split": split,
                         "plan_steps": len(got.plan)})
    if not tasks:
        raise ValueError("no task could be instantiated; see instantiation_quarantine for the reasons")
    # Plans worded by other authors, dealt out per family and split over the tasks kept.
    authors = inst.plan_authors([(m["task_id"], m["family"], m["split"]) for m in manifest], seed,
                                p.reword_share, p.loose_share)
    for task, row in zip(tasks, manifest, strict=True):
        row["plan_wording"] = inst.reword_task(task, authors[task.task_id], seed) or ""
        row["plan_steps"] = len(task.plan)
    if world_params(world).backend != "word":
        tasks, manifest = _in_world(tasks, manifest, quarantine, world)
    if not tasks:
        raise ValueError("no task can run in this world; see instantiation_quarantine for the reasons")
    logger.info("instantiated %d tasks (%d test), quarantined %d", len(tasks),
                sum(m["split"] == "test" for m in manifest), len(quarantine))
    return tasks, manifest, quarantine


def _in_world(tasks: list[InstantiatedTask], manifest: list[dict[str, Any]], quarantine: list[dict[str, Any]],
              world: dict[str, Any] | None) -> tuple[list[InstantiatedTask], list[dict[str, Any]]]:
    """The tasks that run in ``world``, each with the world's plan; the others go to ``quarantine``."""
    backend = world_params(world).backend
    kept, rows = [], []
    for task, row in zip(tasks, manifest, strict=True):
        why = runs_in(world, task.family)
        if why is not None:
            quarantine.append(inst.Quarantined(row["source_task_id"], task.task, task.family, row["split"], "filter",
                                               "world", why, (task.template,)).to_dict())
            continue
        task = task.model_copy(update={"plan": world_plan(world, task.family, task.params, list(task.plan))})
        kept.append(task)
        rows.append({**row, "plan_steps": len(task.plan), "plan_wording": backend})
    return kept, rows


def run_expert(instantiated_tasks: list[InstantiatedTask], templates: dict[str, Callable[[], Document]],
               params: dict[str, Any], world: dict[str, Any] | None = None) -> list[Trajectory]:
    """The expert's trajectory for every instantiated task (successes and failures alike), in ``world``."""
    runnable = [t for t in instantiated_tasks if t.family]
    return expert_rollouts(runnable, load_documents(templates), TrajectoriesParams.parse(params, "params:trajectories"),
                           world)


_JUDGE_PROMPT = (
    "You judge whether an agent completed a request in Microsoft Word. Answer with one word: yes or no.\n\n"
    "Request: {request}\nActions taken:\n{actions}\nDocument as of the last step:\n{document}\n"
)


def _judge(trajectories: list[Trajectory], params: dict[str, Any]) -> dict[str, bool]:
    """The optional LLM judge's yes/no per trajectory (the paper's GPT-4o evaluator), on top of the
    checker; off by default, and loud when switched on without an endpoint."""
    judge = TrajectoriesParams.parse(params, "params:trajectories").judge.model_dump()
    if not judge.pop("enabled"):
        return {}
    if not judge.get("base_url") or not judge.get("model"):
        raise ValueError("params:trajectories.judge.enabled is true but params:trajectories.judge.base_url and "
                         ".model are not set; point them at an OpenAI-compatible endpoint or disable the judge")
    from lam_kedro.agent.llm_client import ChatClient, LLMConfig

    client = ChatClient(LLMConfig(**{k: v for k, v in judge.items() if v is not None}, enabled=True))
    verdicts = {}
    for t in trajectories:
        if not t.outcome.success:  # the checker already said no; the judge can only veto a yes
            continue
        actions = "\n".join(f"- {s.function}({s.args}) on {s.control_name!r}" for s in t.steps)
        document = t.steps[-1].observation.get("document", "") if t.steps else ""
        answer = client.complete([{"role": "user", "content": _JUDGE_PROMPT.format(
            request=t.task.task, actions=actions, document=document[:4000])}], temperature=0.0, max_tokens=4)
        verdicts[t.trajectory_id] = answer.strip().lower().startswith("yes")
    return verdicts


def split_trajectories(
    expert_trajectories: list[Trajectory], splits: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[list[Trajectory], list[Trajectory], list[InstantiatedTask]]:
    """``(train successes, test successes, failed train tasks)``: Phase 2 data, the offline test set,
    and Phase 3's exploration set. A trajectory counts as a success when the checker (and, if on,
    the LLM judge) says yes."""
    split_of = {row["task_id"]: row["split"] for row in splits}
    verdicts = _judge(expert_trajectories, params)
    train, test, explore = [], [], []
    for t in expert_trajectories:
        split = split_of.get(t.task.task_id)
        if split is None:
            raise KeyError(f"trajectory {t.trajectory_id}: task {t.task.task_id} is not in the split manifest")
        ok = t.outcome.success and verdicts.get(t.trajectory_id, True)
        if split == "test":
            if ok:
                test.append(t)
        elif ok:
            train.append(t)
        else:
            explore.append(t.task)
    logger.info("expert: %d train successes, %d test successes, %d tasks for exploration",
                len(train), len(test), len(explore))
    return train, test, explore


#: (substring of the expert's FAIL error, cause): why the expert stopped on its own.
_GAVE_UP = (("no rule for the plan step", "unreadable_step"), ("cannot tell which box", "unreadable_step"),
            ("no visible control matches", "control_not_on_screen"), ("the last action failed", "action_error"),
            ("not reachable", "document_unreachable"), ("nowhere to type", "document_unreachable"))


def failure_cause(t: Trajectory) -> str | None:
    """Why an expert trajectory failed, in one word (``None`` for a success).

    The expert stopped (FAIL) because a step was unreadable, its control was not on screen, or an
    action failed; or it finished and the checker said no: after a guess it noted (``wrong_guess``),
    or following every step as written (``plan_incomplete``: the plan left a step out or named the
    wrong control); or it ran out of steps.
    """
    if t.outcome.success:
        return None
    last = t.steps[-1] if t.steps else None
    if last is not None and last.status == "FAIL":
        why = last.error or last.thought
        return next((cause for key, cause in _GAVE_UP if key in why), "gave_up")
    if t.outcome.truncated:
        return "step_limit"
    return "wrong_guess" if GUESS_MARK in t.outcome.reason else "plan_incomplete"


def _rates(frame: pd.DataFrame, by: str) -> dict[str, dict[str, float]]:
    return {str(k): {"tasks": int(len(g)), "success_rate": round(float(g["success"].mean()), 4)}
            for k, g in frame.groupby(by)}


def summarize_trajectories(
    expert_trajectories: list[Trajectory], splits: list[dict[str, Any]], quarantine: list[dict[str, Any]]
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, dict[str, float]], Any]:
    """Headline numbers (JSON), per-family success (CSV), MLflow metrics, and a bar chart.

    Metric names carry no prefix: the catalog's ``prefix: trajectories`` makes them
    ``trajectories.success_rate`` ... in MLflow.
    """
    split_of = {row["task_id"]: row["split"] for row in splits}
    wording_of = {row["task_id"]: row.get("plan_wording") or "as_written" for row in splits}
    frame = pd.DataFrame([{"family": t.task.family or "", "split": split_of.get(t.task.task_id, ""),
                           "success": t.outcome.success, "steps": t.outcome.steps,
                           "invalid_actions": t.outcome.invalid_actions,
                           "wording": wording_of.get(t.task.task_id, "as_written"),
                           "cause": failure_cause(t)} for t in expert_trajectories])
    if frame.empty:
        raise ValueError("no expert trajectories to summarize")
    table = (frame.groupby("family").agg(tasks=("success", "size"), successes=("success", "sum"),
                                         success_rate=("success", "mean"), avg_steps=("steps", "mean"))
             .round(4).reset_index().sort_values("family"))
    ok = frame[frame["success"]]
    stats: dict[str, Any] = {
        "tasks": int(len(frame)),
        "successes": int(frame["success"].sum()),
        "success_rate": round(float(frame["success"].mean()), 4),
        "avg_steps": round(float(frame["steps"].mean()), 3),
        "avg_steps_success": round(float(ok["steps"].mean()), 3) if len(ok) else 0.0,
        "success_steps": int(ok["steps"].sum()),
        "invalid_rate": round(float(frame["invalid_actions"].sum() / max(1, frame["steps"].sum())), 4),
        "quarantined": len(quarantine),
        "quarantine_reasons": pd.Series([q["reason"] for q in quarantine], dtype=object).value_counts().to_dict(),
        "splits": {s: {"tasks": int(len(g)), "successes": int(g["success"].sum()),
                       "success_rate": round(float(g["success"].mean()), 4)} for s, g in frame.groupby("split")},
        "families": {r.family: round(float(r.success_rate), 4) for r in table.itertuples()},
        "train_families": _family_spread(frame[frame["split"] == "train"]),
        "failure_causes": frame["cause"].dropna().value_counts().to_dict(),
        "plan_wording": _rates(frame, "wording"),
    }
    metrics = {k: {"value": float(stats[k]), "step": 0}
               for k in ("tasks", "successes", "success_rate", "avg_steps", "avg_steps_success", "invalid_rate",
                         "quarantined")}
    for split, s in stats["splits"].items():
        metrics[f"{split}.success_rate"] = {"value": float(s["success_rate"]), "step": 0}
    return stats, table, metrics, _plot(table)


def _family_spread(frame: pd.DataFrame) -> dict[str, Any]:
    """The lowest and highest per-family success on ``frame`` and the families that never succeed."""
    if frame.empty:
        return {"min": 0.0, "max": 0.0, "at_zero": []}
    rates = frame.groupby("family")["success"].mean()
    return {"min": round(float(rates.min()), 4), "max": round(float(rates.max()), 4),
            "at_zero": sorted(str(f) for f in rates[rates == 0].index)}


def _plot(table: pd.DataFrame) -> Any:
    """Per-family expert success as horizontal bars; a bare ``Figure`` needs no pyplot or display."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, max(3.0, 0.25 * len(table) + 1)))
    ax = fig.subplots()
    ax.barh(table["family"], table["success_rate"], color="#4878a8")
    ax.set_xlim(0, 1)
    ax.set_xlabel("expert success rate")
    ax.set_title("Expert success per task family")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig
