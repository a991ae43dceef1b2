"""The paper's "data evolving": operators that make a task harder or more specific, kept executable.

Each operator takes a sourced row that has a family and params and returns a new row whose
request adds at most ``max_extra_words`` words, whose plan is evolved with it, and whose
(family, params) the environment can still instantiate and check:

- ``compose``: two or three tasks on the same template, each part freshly sampled from a family
  whose checker tolerates the others (body: a character format with a paragraph format; page:
  layout, design, header/footer); a ``sequence`` of parts.
- ``constrain``: an extra sub-task on the same target (bold "X" -> bold "X" at 14 pt).
- ``concretize``: say where the target is (its paragraph, its heading, the document) so a vague
  reference becomes unambiguous; same family and params, a more specific first plan step.
- ``rephrase``: another of the family's phrasings with some context; same family, params, plan.

New (family, params) combinations (compose, constrain) are played in ``WordEnv`` and checked
before they are kept; a combination that fails names the reason and is not tried again.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lam_kedro.agent.schema import TaskPlan
from lam_kedro.env.document import Document
from lam_kedro.env.tasks import families, get_family
from lam_kedro.env.templates import describe_document
from lam_kedro.pipelines.task_plans.records import (
    SEQUENCE,
    ExecutionChecker,
    parts_of,
    sequence_params,
)
from lam_kedro.pipelines.task_plans.text import (
    extra_words,
    is_imperative,
    lower_first,
    merge_plans,
    renumber,
    split_end,
    tidy,
)

__all__ = ["Candidate", "Evolver", "scope_of", "CLAUSES"]

_PAGE_INSERTS = {"add_header", "add_footer", "page_numbers"}

#: A short clause per family that can be added as a constraint on an existing target.
CLAUSES: dict[str, tuple[str, ...]] = {
    "bold_text": ("in bold", "and make it bold"),
    "italic_text": ("in italics", "and italicize it"),
    "underline_text": ("and underline it", "underlined"),
    "font_size": ("at {size} pt", "in {size}-point type"),
    "font_color": ("in {color}", "and color it {color}"),
    "highlight_text": ("with a {color} highlight", "highlighted in {color}"),
    "font_name": ("in {font}", "using the {font} font"),
    "align_center": ("and center it",),
    "align_right": ("and right-align it",),
    "justify_paragraph": ("and justify it",),
    "line_spacing": ("with {value:g} line spacing",),
    "space_after": ("with {value:g} pt of space after it",),
    "space_before": ("with {value:g} pt of space before it",),
    "left_indent": ("indented {value:g} pt from the left",),
}

_CONTEXTS: tuple[str, ...] = (
    "Before I send this out:", "Quick edit, please.", "For the final draft:", "One small change.",
    "My manager asked for this.", "While you have the document open:", "Last fix before printing:",
)
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def scope_of(family: str) -> str | None:
    """What a family touches: ``char`` formats, ``para`` formats, the ``page``; ``None`` when its
    checker forbids other changes (text edits, inserts into the body, built-in composites)."""
    fam = get_family(family)
    if fam.category == "formatting":
        return "char"
    if fam.category in ("paragraph", "styles_lists"):
        return "para"
    if fam.category in ("design", "layout") or family in _PAGE_INSERTS:
        return "page"
    return None


def _target(record: TaskPlan) -> str | None:
    """``char`` (params name a text span), ``para`` (a paragraph) or ``None`` (page-level, lists)."""
    p = record.params
    if record.family == SEQUENCE or "text" not in p or not isinstance(p["text"], str):
        return None
    scope = scope_of(record.family or "")
    if scope == "para" and "paragraph" in p:
        return "para"
    return "char" if scope == "char" else None


@dataclass
class Candidate:
    """An evolved row before its checks; ``new_parts`` says it needs playing in the environment."""

    record: TaskPlan
    new_parts: bool


class Evolver:
    """Applies the operators to sourced rows over the templates' documents, deterministically."""

    def __init__(self, docs: Mapping[str, Document], max_extra_words: int = 20, max_parts: int = 3,
                 max_steps: int = 60) -> None:
        self.docs = docs
        self.max_extra = max_extra_words
        self.max_parts = max_parts
        self.checker = ExecutionChecker(docs, max_steps=max_steps)
        self.incompatible: set[frozenset[str]] = set()
        by_scope: dict[str, list[str]] = {}
        for name in sorted(families()):
            scope = scope_of(name)
            if scope:
                by_scope.setdefault(scope, []).append(name)
        self.by_scope = by_scope
        self.operators: dict[str, Callable[..., Candidate | None]] = {
            "compose": self.compose, "constrain": self.constrain,
            "concretize": self.concretize, "rephrase": self.rephrase,
        }

    # -- helpers ---------------------------------------------------------------------------------
    def _phrase(self, family: str, params: dict[str, Any], rng: random.Random, budget: int,
                imperative: bool = True, avoid: str | None = None) -> str | None:
        """A phrasing of ``family`` that fits ``budget`` words (imperative ones first), else None."""
        fam = get_family(family)
        slots = fam.slots(params)
        texts = [tidy(p.format_map(slots)) for p in fam.phrasings]
        fitting = [t for t in texts if len(t.split()) <= budget and t != avoid]
        preferred = [t for t in fitting if is_imperative(t)] if imperative else fitting
        pool = preferred or fitting
        return rng.choice(pool) if pool else None

    def _child(self, parent: TaskPlan, op: str, task: str, plan: list[str], family: str,
               params: dict[str, Any], k: int) -> TaskPlan:
        return TaskPlan(task_id=f"{parent.task_id}.{op}{k}", app=parent.app, task=task, plan=plan,
                              source="evolved", family=family, template=parent.template, params=params,
                              operator=op, parent_task_id=parent.task_id)

    def _ok_together(self, names: list[str]) -> bool:
        return all(frozenset((a, b)) not in self.incompatible for i, a in enumerate(names) for b in names[i + 1:])

    # -- operators -------------------------------------------------------------------------------
    def compose(self, parent: TaskPlan, rng: random.Random, k: int = 0) -> Candidate | None:
        scope = scope_of(parent.family or "") if parent.family != SEQUENCE else None
        if scope is None or parent.template is None:
            return None
        doc = self.docs[parent.template]
        pool_scope = {"char": "para", "para": "char", "page": "page"}[scope]
        pool = [f for f in self.by_scope.get(pool_scope, []) if f != parent.family]
        n_extra = 1 if scope != "page" or self.max_parts < 3 or rng.random() < 0.6 else 2
        names, parts, texts = [parent.family or ""], [(parent.family or "", dict(parent.params))], []
        budget = self.max_extra
        for family in rng.sample(pool, len(pool)):
            if len(parts) > n_extra:
                break
            if not self._ok_together([*names, family]):
                continue
            params = get_family(family).sample_params(doc, rng)
            if params is None:
                continue
            connector = 1 if len(parts) == 1 else 2  # "Then" / "Finally,"
            text = self._phrase(family, params, rng, budget - connector)
            if text is None:
                continue
            names.append(family)
            parts.append((family, params))
            texts.append(text)
            budget -= len(text.split()) + connector
        if len(parts) < 2:
            return None
        request = parent.task
        for i, text in enumerate(texts):
            word = "Then" if i == 0 else "Finally,"
            request += f" {word} {lower_first(text)}" if is_imperative(text) else f" {word} {text}"
        plan = merge_plans(parent.plan, *(get_family(f).plan(p) for f, p in parts[1:]))
        return Candidate(self._child(parent, "compose", tidy(request), plan, SEQUENCE, sequence_params(parts), k),
                         new_parts=True)

    def constrain(self, parent: TaskPlan, rng: random.Random, k: int = 0) -> Candidate | None:
        target = _target(parent)
        if target is None or parent.template is None:
            return None
        doc = self.docs[parent.template]
        choices = [f for f in CLAUSES if f != parent.family and self._ok_together([parent.family or "", f])
                   and (scope_of(f) == "char" or target == "para")]
        for family in rng.sample(choices, len(choices)):
            base = get_family(family).sample_params(doc, rng)
            if base is None:
                continue
            params = {**base, "text": parent.params["text"]}
            if scope_of(family) == "para":
                params["paragraph"] = parent.params["paragraph"]
            slots = {**params, **({"color": params["color"].lower()} if "color" in params else {})}
            clause = rng.choice(CLAUSES[family]).format_map(slots)
            body, end = split_end(parent.task)
            task = tidy(f"{body}, {clause}{end}")
            if extra_words(parent.task, task) > self.max_extra:
                continue
            parts = [(parent.family or "", dict(parent.params)), (family, params)]
            plan = merge_plans(parent.plan, get_family(family).plan(params))
            return Candidate(self._child(parent, "constrain", task, plan, SEQUENCE, sequence_params(parts), k),
                             new_parts=True)
        return None

    def concretize(self, parent: TaskPlan, rng: random.Random, k: int = 0) -> Candidate | None:
        if parent.template is None or parent.family is None:
            return None
        doc = self.docs[parent.template]
        target = _target(parent)
        body, end = split_end(parent.task)
        if target is not None:
            where = _locate(doc, parent.params, target)
            if where is None:
                return None
            task = tidy(f"{body} {where}{end}")
            plan = list(parent.plan)
            for i, step in enumerate(plan):
                if "Select" in step or "Click at" in step or "Double-click" in step:
                    head, dot = split_end(step)
                    head, paren, rest = head.partition(" (or click in it)")
                    plan[i] = f"{head} {where}{paren}{rest}{dot}"
                    break
            else:
                plan = [f"Find the text {where}.", *plan]
        else:
            title = describe_document(doc).rstrip(".")
            if len(title.split()) > 8:
                return None
            task = tidy(f'In the document "{title}", {lower_first(parent.task)}')
            plan = [f'Make sure the document "{title}" is the open window.', *parent.plan]
        if extra_words(parent.task, task) > self.max_extra:
            return None
        return Candidate(self._child(parent, "concretize", task, renumber(plan), parent.family,
                                     dict(parent.params), k), new_parts=False)

    def rephrase(self, parent: TaskPlan, rng: random.Random, k: int = 0) -> Candidate | None:
        if parent.family is None or parent.family == SEQUENCE:
            return None
        context = rng.choice(_CONTEXTS)
        budget = len(parent.task.split()) + self.max_extra - len(context.split())
        text = self._phrase(parent.family, parent.params, rng, budget, imperative=False, avoid=parent.task)
        if text is None:
            return None
        return Candidate(self._child(parent, "rephrase", f"{context} {text}", list(parent.plan), parent.family,
                                     dict(parent.params), k), new_parts=False)

    # -- checks ----------------------------------------------------------------------------------
    def verify(self, cand: Candidate) -> str | None:
        """``None`` when the candidate's parts are solved and checked in WordEnv, else the reason.

        A failing pair of families is remembered so the operators stop proposing it.
        """
        rec = cand.record
        parts = parts_of(rec.family or "", rec.params)
        result = self.checker.check(rec.template or "", parts)
        if result.success:
            return None
        names = [f for f, _ in parts]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                self.incompatible.add(frozenset((a, b)))
        return f"not executable: {result.reason}"


def _locate(doc: Document, params: dict[str, Any], target: str) -> str | None:
    """Where the target is: its paragraph's opening words, else its heading or ordinal."""
    paras = doc.paragraphs()
    if target == "char":
        span = doc.find(params["text"])
        if span is None:
            return None
        i = doc.paragraph_index_at(span.start)
    else:
        i = int(params["paragraph"])
    if not 0 <= i < len(paras):
        return None
    text = paras[i].text.strip()
    if target == "char" and text != params["text"].strip():
        opening = " ".join(text.split()[:4]).rstrip(".,;:")
        return f'in the paragraph that starts with "{opening}"'
    for j in range(i - 1, -1, -1):
        if paras[j].style.startswith("Heading") and paras[j].text.strip():
            return f'under the heading "{" ".join(paras[j].text.split()[:6])}"'
    ordinal = sum(1 for p in paras[: i + 1] if p.text.strip())
    return f"(the {_ORDINALS[ordinal - 1]} paragraph)" if ordinal <= len(_ORDINALS) else None
