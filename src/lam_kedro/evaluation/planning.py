"""Planning metrics for LAM1 (task -> plan) against held-out reference plans, with a deterministic matcher.

Two steps *match* when (``steps_match``):

1. their **key entities agree** exactly: the quoted strings (``"Quarterly report"``), the numbers
   outside quotes (``14``, ``1.5``) and the names of Word controls they mention (``Bold``,
   ``Home``, ``Font Settings``: every tab, ribbon control, menu item and dialog field of the
   simulated Word, matched as whole words, case-sensitively, longest name first; a quoted string
   that is exactly such a name counts as the control, so ``Click "Bold"`` = ``Click Bold``); and
2. their **wording overlaps**: the Jaccard similarity of their content-word sets (lower-cased,
   punctuation and step markers removed, stop words dropped) is at least ``min_overlap``, or
   their normalized texts are equal.

Plans are aligned one-to-one and in order (a longest common subsequence under ``steps_match``),
so a step cannot be credited twice and a plan that does the right things in the wrong order
loses the steps out of order. With ``m`` aligned steps: **step precision** = m / predicted steps,
**step recall** = m / reference steps, and a plan is a **task-level success** when every
reference step is aligned (recall 1; extra steps are allowed, as a plan may be more detailed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from tqdm.auto import tqdm

from lam_kedro.agent.prompt import parse_plan_output, plan_messages, strip_step_marker

__all__ = [
    "PLANNING_METRICS",
    "align_plans",
    "control_vocabulary",
    "normalize_step",
    "plan_scores",
    "planning_metrics",
    "predict_plans",
    "step_entities",
    "steps_match",
]

PLANNING_METRICS: tuple[str, ...] = ("task_success_rate", "step_precision", "step_recall")

_QUOTE = re.compile(r'"([^"]*)"')
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
_WORD = re.compile(r"[a-z0-9]+")
#: Words that carry no meaning in a UI step (verbs and widget nouns vary freely between plans).
_STOP = frozenset((
    "a", "an", "the", "to", "of", "in", "on", "at", "and", "or", "then", "for", "with", "by", "from",
    "into", "onto", "this", "that", "it", "its", "is", "be", "as", "you", "your", "button", "tab",
    "box", "menu", "option", "group", "dialog", "click", "choose", "select", "set",
))


@cache
def control_vocabulary() -> tuple[str, ...]:
    """Every on-screen name of the simulated Word (tabs, controls, menus, dialogs), longest first."""
    from lam_kedro.env.controls import DIALOGS, MENUS, QUICK_ACCESS, TAB_CONTROLS, TABS

    names = set(TABS) | set(MENUS) | set(DIALOGS) | {s.text for s in QUICK_ACCESS}
    for group in (*TAB_CONTROLS.values(), *MENUS.values(), *DIALOGS.values()):
        names |= {s.text for s in group}
    return tuple(sorted((n for n in names if n.strip()), key=lambda n: (-len(n), n)))


@cache
def _control_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in control_vocabulary())
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")


def _unquote(text: str) -> str:
    """Curly and single-typographic quotes read as straight double quotes."""
    return text.replace("\u201c", '"').replace("\u201d", '"').replace("\u201e", '"')


def normalize_step(text: str) -> str:
    """Lower-case words of the step without its marker or punctuation (quoted text included)."""
    return " ".join(_WORD.findall(strip_step_marker(_unquote(text)).lower()))


def step_entities(text: str) -> frozenset[tuple[str, str]]:
    """``{("quote", ...), ("number", ...), ("control", ...)}``: what a matching step must agree on."""
    text = _unquote(strip_step_marker(text))
    quotes = [q.strip() for q in _QUOTE.findall(text)]
    rest = _QUOTE.sub(" ", text)
    numbers = [str(float(n)) for n in _NUMBER.findall(rest)]
    controls = _control_pattern().findall(rest)
    names = set(control_vocabulary())  # 'Click "Bold"' and 'Click Bold' name the same control
    return frozenset([("control" if q in names else "quote", q) for q in quotes]
                     + [("number", n) for n in numbers] + [("control", c) for c in controls])


def _content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in normalize_step(text).split() if w not in _STOP)


def steps_match(predicted: str, reference: str, min_overlap: float = 0.5) -> bool:
    """Whether two plan steps say the same thing (see the module docstring); symmetric, deterministic."""
    if step_entities(predicted) != step_entities(reference):
        return False
    if normalize_step(predicted) == normalize_step(reference):
        return True
    a, b = _content_words(predicted), _content_words(reference)
    if not a and not b:
        return True
    return len(a & b) / len(a | b) >= min_overlap


def align_plans(predicted: Sequence[str], reference: Sequence[str], min_overlap: float = 0.5
                ) -> list[tuple[int, int]]:
    """The one-to-one, order-preserving alignment ``[(pred_i, ref_j), ...]`` of matching steps (LCS).

    Ties are broken toward earlier predicted steps, so the alignment is deterministic.
    """
    n, m = len(predicted), len(reference)
    ok = [[steps_match(p, r, min_overlap) for r in reference] for p in predicted]
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = max(best[i + 1][j], best[i][j + 1], best[i + 1][j + 1] + 1 if ok[i][j] else 0)
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if ok[i][j] and best[i][j] == best[i + 1][j + 1] + 1:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def plan_scores(predicted: Sequence[str], reference: Sequence[str], min_overlap: float = 0.5) -> dict[str, Any]:
    """Matched steps, precision, recall and task-level success of one predicted plan."""
    pairs = align_plans(predicted, reference, min_overlap)
    matched = len(pairs)
    return {
        "matched": matched,
        "predicted_steps": len(predicted),
        "reference_steps": len(reference),
        "precision": matched / len(predicted) if predicted else 0.0,
        "recall": matched / len(reference) if reference else 0.0,
        "success": bool(reference) and matched == len(reference),
        "alignment": [list(p) for p in pairs],
    }


def predict_plans(task_plans: Iterable[Any], generate: Callable[[list[dict[str, str]]], str], generation: str,
                  min_overlap: float = 0.5, progress: bool = True) -> list[dict[str, Any]]:
    """One scored row per held-out task: the model's plan (``parse_plan_output``) against the reference."""
    rows = []
    plans = list(task_plans)
    for tp in tqdm(plans, desc=f"planning {generation}", unit="task", disable=not progress):
        raw = generate(plan_messages(tp))
        predicted = parse_plan_output(raw) if isinstance(raw, str) else []
        reference = [strip_step_marker(s) for s in tp.plan]
        rows.append({"generation": generation, "task_id": tp.task_id, "task": tp.task, "family": tp.family or "",
                     "raw_output": raw, "predicted": predicted, "reference": reference,
                     **plan_scores(predicted, reference, min_overlap)})
    return rows


def planning_metrics(rows: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Task-level success rate and *micro-averaged* step precision and recall (over all steps).

    Micro-averaging weighs a long plan by its steps, as counting steps over the test set does.
    """
    rows = list(rows)
    matched = sum(r["matched"] for r in rows)
    predicted = sum(r["predicted_steps"] for r in rows)
    reference = sum(r["reference_steps"] for r in rows)
    return {
        "task_success_rate": round(sum(bool(r["success"]) for r in rows) / len(rows), 6) if rows else 0.0,
        "step_precision": round(matched / predicted, 6) if predicted else 0.0,
        "step_recall": round(matched / reference, 6) if reference else 0.0,
        "tasks": float(len(rows)),
    }
