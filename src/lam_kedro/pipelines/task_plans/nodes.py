"""Task-plan data (paper Sec. 3.1): source pairs, evolve them, filter, split, report.

Sourced pairs come from the environment's task families over the templates (request from a
phrasing, plan from the family's help-style steps) and from imported task files; evolution adds
harder or more specific variants that stay executable; filters and de-duplication send every
rejected row to quarantine with its reason; the split holds out whole task groups (a task and
everything evolved from it) so no request is in both train and test.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from tqdm.auto import tqdm

from lam_kedro.agent.llm_client import ChatClient
from lam_kedro.agent.schema import TaskPlan
from lam_kedro.env.document import Document
from lam_kedro.env.tasks import families, get_family, make_task
from lam_kedro.pipelines.task_plans.evolution import Evolver
from lam_kedro.pipelines.task_plans.filters import reject_reason
from lam_kedro.pipelines.task_plans.llm_evolver import LLMRewriter
from lam_kedro.pipelines.task_plans.params import (
    OPERATORS,
    EvolutionParams,
    FilterParams,
    GenerationParams,
    SplitParams,
    parse,
)
from lam_kedro.pipelines.task_plans.text import extra_words, normalize, renumber

logger = logging.getLogger(__name__)

Row = dict[str, Any]


def _docs(templates: Mapping[str, Callable[[], Document]]) -> dict[str, Document]:
    if not templates:
        raise ValueError("the 'templates' dataset is empty: run `kedro run --pipelines templates` first")
    return {name: load() for name, load in sorted(templates.items())}


def _quarantine(stage: str, reason: str, message: str, row: TaskPlan | None = None,
                file: str | None = None) -> Row:
    return {"stage": stage, "reason": reason, "message": message, "file": file,
            "task_id": row.task_id if row else None, "task": row.task if row else None,
            "source": row.source if row else None, "operator": row.operator if row else None,
            "record": row.model_dump(mode="json") if row else None}


# -- sourcing -------------------------------------------------------------------------------------
def generate_pairs(docs: Mapping[str, Document], cfg: GenerationParams) -> tuple[list[TaskPlan], Row]:
    """``n_pairs`` distinct requests over families x templates, drawn round robin, deterministic.

    A draw that repeats a request already drawn is redrawn (counted, not a data row): the same
    task worded the same way twice teaches nothing.
    """
    names = cfg.families if cfg.families is not None else sorted(families())
    fams = [get_family(n) for n in names]
    templates = sorted(docs)
    rng = random.Random(cfg.seed)
    out: list[TaskPlan] = []
    seen: set[str] = set()
    draws = redraws = unsuitable = 0
    cap = cfg.n_pairs * cfg.max_draws_factor + 100
    with tqdm(total=cfg.n_pairs, desc="generate task-plan pairs", unit="pair", leave=False) as bar:
        while len(out) < cfg.n_pairs and draws < cap:
            order = fams[:]
            rng.shuffle(order)
            for fam in order:
                if len(out) >= cfg.n_pairs or draws >= cap:
                    break
                draws += 1
                name = templates[rng.randrange(len(templates))]
                task = make_task(fam, name, docs[name], rng.randrange(2**31))
                if task is None:
                    unsuitable += 1
                    continue
                key = normalize(task.request)
                if key in seen:
                    redraws += 1
                    continue
                seen.add(key)
                out.append(TaskPlan(task_id=task.task_id, task=task.request, plan=fam.plan(task.params),
                                          source="generated", family=fam.name, template=name, params=task.params))
                bar.update(1)
    if len(out) < cfg.n_pairs:
        logger.warning("generated %d of %d requested pairs: the templates offer no more distinct requests "
                       "within %d draws (add templates or raise max_draws_factor)", len(out), cfg.n_pairs, draws)
    stats = {"requested": cfg.n_pairs, "generated": len(out), "draws": draws, "redraws_duplicate": redraws,
             "draws_template_unsuitable": unsuitable}
    return out, stats


def source_task_plans(templates: Mapping[str, Callable[[], Document]], task_files: Mapping[str, list[Any]],
                      params: Mapping[str, Any]) -> tuple[list[TaskPlan], list[Row], Row]:
    """Generated pairs plus every imported task file; malformed files become quarantine rows."""
    cfg = parse(GenerationParams, params, "generation")
    generated, stats = generate_pairs(_docs(templates), cfg)
    # Numbered like the generated plans ("1. ..."), so Phase 1 sees one plan format.
    imported = [TaskPlan(**{**plan.model_dump(), "plan": renumber(plan.plan)})
                for plan in task_files.get("plans", [])]
    rejects = [_quarantine("import", "malformed_file", r["reason"], file=r["file"])
               for r in task_files.get("rejects", [])]
    ignored = list(task_files.get("ignored", []))
    for r in ignored:
        logger.warning("task file ignored: %s: %s", r["file"], r["reason"])
    stats["imported"] = dict(Counter(r.source for r in imported))
    stats["import_rejected"] = len(rejects)
    stats["import_ignored"] = ignored
    counts = task_files.get("counts")
    if counts is not None:
        stats["import_counts"] = dict(counts)
        if counts["seen"] != len(imported) + len(rejects) + len(ignored):
            raise ValueError(f"task files: {counts['seen']} files and items seen but {len(imported)} imported + "
                             f"{len(rejects)} quarantined + {len(ignored)} ignored")
    logger.info("sourced %d generated + %d imported pairs (%d task files or items rejected, %d files ignored)",
                len(generated), len(imported), len(rejects), len(ignored))
    return imported + generated, rejects, stats


# -- evolution ------------------------------------------------------------------------------------
def evolve_task_plans(pairs: list[TaskPlan], templates: Mapping[str, Callable[[], Document]],
                      params: Mapping[str, Any]) -> tuple[list[TaskPlan], list[Row], Row]:
    """``n_pairs`` evolved rows from the executable sourced rows, operators chosen by weight.

    New (family, params) combinations are played in WordEnv first; one that fails, or that adds
    more than ``max_extra_words``, is a quarantine row with the reason.
    """
    cfg = parse(EvolutionParams, params, "evolution")
    parents = [p for p in pairs if p.executable]
    stats: Row = {"requested": cfg.n_pairs, "parents": len(parents), "evolved": dict.fromkeys(OPERATORS, 0),
                  "not_applicable": dict.fromkeys(OPERATORS, 0), "rejected": dict.fromkeys(OPERATORS, 0),
                  "redraws_duplicate": 0}
    if cfg.n_pairs == 0 or not parents:
        return [], [], stats
    evolver = Evolver(_docs(templates), cfg.max_extra_words, cfg.max_parts, cfg.max_steps)
    rewriter = LLMRewriter(ChatClient(cfg.llm), cfg.max_extra_words) if cfg.llm.enabled else None
    ops = [op for op in OPERATORS if cfg.operators.get(op, 0) > 0]
    weights = [cfg.operators[op] for op in ops]
    rng = random.Random(cfg.seed)
    seen = {normalize(p.task) for p in pairs}
    out: list[TaskPlan] = []
    rejects: list[Row] = []
    draws, cap = 0, cfg.n_pairs * cfg.max_draws_factor + 100
    with tqdm(total=cfg.n_pairs, desc="evolve task-plan pairs", unit="pair", leave=False) as bar:
        while len(out) < cfg.n_pairs and draws < cap:
            draws += 1
            parent = parents[rng.randrange(len(parents))]
            op = rng.choices(ops, weights)[0]
            cand = evolver.operators[op](parent, rng, draws)
            if cand is None:
                stats["not_applicable"][op] += 1
                continue
            row = cand.record
            if normalize(row.task) in seen:
                stats["redraws_duplicate"] += 1
                continue
            added = extra_words(parent.task, row.task)
            reason = (f"evolution added {added} words, more than max_extra_words={cfg.max_extra_words}"
                      if added > cfg.max_extra_words else None)
            if reason is None and cand.new_parts and cfg.verify_executable:
                reason = evolver.verify(cand)
            if reason is not None:
                stats["rejected"][op] += 1
                rejects.append(_quarantine("evolve", "not_executable" if added <= cfg.max_extra_words
                                           else "too_many_extra_words", reason, row))
                continue
            if rewriter is not None:
                row = rewriter.rewrite(parent, row)
            seen.add(normalize(row.task))
            out.append(row)
            stats["evolved"][op] += 1
            bar.update(1)
    stats["draws"] = draws
    if rewriter is not None:
        stats["llm"] = dict(rewriter.stats)
    if len(out) < cfg.n_pairs:
        logger.warning("evolved %d of %d requested pairs in %d draws", len(out), cfg.n_pairs, draws)
    return out, rejects, stats


# -- filtering, splitting, reporting --------------------------------------------------------------
def filter_task_plans(sourced: list[TaskPlan], evolved: list[TaskPlan], import_rejects: list[Row],
                      evolve_rejects: list[Row], params: Mapping[str, Any]) -> tuple[list[TaskPlan], list[Row], Row]:
    """Length bounds, actionability and de-duplication (by task id and normalized text; the first
    row wins, sourced before evolved); every rejected row, earlier stages' too, to quarantine."""
    cfg = parse(FilterParams, params, "filters")
    kept: list[TaskPlan] = []
    quarantine = list(import_rejects) + list(evolve_rejects)
    counts: Counter[str] = Counter()
    ids: set[str] = set()
    texts: dict[str, str] = {}
    for row in tqdm([*sourced, *evolved], desc="filter task-plan pairs", unit="pair", leave=False):
        found = reject_reason(row, cfg)
        key = normalize(row.task)
        if found is None and row.task_id in ids:
            found = ("duplicate_task_id", f"task_id {row.task_id!r} already used by an earlier row")
        if found is None and key in texts:
            found = ("duplicate_text", f"same request (normalized) as {texts[key]!r}")
        if found is not None:
            counts[found[0]] += 1
            quarantine.append(_quarantine("filter", found[0], found[1], row))
            continue
        ids.add(row.task_id)
        texts[key] = row.task_id
        kept.append(row)
    stats = {"input": len(sourced) + len(evolved), "kept": len(kept), "rejected": dict(sorted(counts.items()))}
    logger.info("kept %d task-plan pairs, quarantined %d rows", len(kept), len(quarantine))
    return kept, quarantine, stats


def _group(row: TaskPlan) -> str:
    """A task and everything evolved from it share a group, so they land in the same split."""
    return row.parent_task_id or row.task_id


def split_task_plans(rows: list[TaskPlan], params: Mapping[str, Any]
                     ) -> tuple[list[TaskPlan], list[TaskPlan], list[Row]]:
    """Hold out ``test_fraction`` of the task groups; returns (train, test, split index).

    The index has one row per (kind, key) with its split, kind ``task`` (normalized request) and
    ``group``: its GX suite requires (kind, key) unique, i.e. the splits are disjoint.
    """
    cfg = parse(SplitParams, params, "split")
    groups = sorted({_group(r) for r in rows},
                    key=lambda g: hashlib.sha1(f"{cfg.seed}|{g}".encode()).hexdigest())
    n_test = round(cfg.test_fraction * len(groups))
    if cfg.test_fraction > 0 and n_test == 0 and len(groups) > 1:
        n_test = 1
    test_groups = set(groups[:n_test])
    train = [r for r in rows if _group(r) not in test_groups]
    test = [r for r in rows if _group(r) in test_groups]
    index: list[Row] = []
    for split, part in (("train", train), ("test", test)):
        index += [{"kind": "task", "key": normalize(r.task), "split": split, "task_id": r.task_id} for r in part]
        index += [{"kind": "group", "key": g, "split": split, "task_id": None}
                  for g in sorted({_group(r) for r in part})]
    return train, test, index


def report_task_plans(source_stats: Row, evolve_stats: Row, filter_stats: Row, quarantine: list[Row],
                      train: list[TaskPlan], test: list[TaskPlan]
                      ) -> tuple[Row, dict[str, dict[str, float]]]:
    """Counts per source, operator and filter (a JSON report) and the headline numbers for MLflow."""
    final = train + test
    stats = {
        "pairs": len(final),
        "sourced": source_stats,
        "evolution": evolve_stats,
        "filters": filter_stats,
        "quarantine": dict(sorted(Counter(f"{q['stage']}.{q['reason']}" for q in quarantine).items())),
        "final": {
            "total": len(final),
            "by_source": dict(sorted(Counter(r.source for r in final).items())),
            "by_operator": dict(sorted(Counter(r.operator for r in final if r.operator).items())),
            "executable": sum(r.executable for r in final),
            "families": len({r.family for r in final if r.family}),
        },
        "split": {"train": len(train), "test": len(test)},
    }
    values = {"pairs": len(final), "train": len(train), "test": len(test), "quarantined": len(quarantine),
              **{f"source.{k}": v for k, v in stats["final"]["by_source"].items()},
              **{f"operator.{k}": v for k, v in stats["final"]["by_operator"].items()}}
    metrics = {k: {"value": float(v), "step": 0} for k, v in values.items()}  # the catalog adds "task_plans."
    return stats, metrics
