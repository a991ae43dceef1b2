"""Row filters for task-plan pairs: duplicates, length bounds, and requests nobody could act on.

Each filter returns a reason key (counted in the stats) and a message (written to quarantine);
``None`` means the row passes. A request is actionable when it has an action verb and a target
(a quoted span or a thing in a document), and, for imported rows, when its plan names at least
one control our simulated Word has: a UFO task about, say, SmartArt cannot be executed here.
"""

from __future__ import annotations

import re
from functools import cache

from lam_kedro.agent.schema import TaskPlan
from lam_kedro.env.controls import DIALOGS, MENUS, TAB_CONTROLS, TABS
from lam_kedro.pipelines.task_plans.params import FilterParams

_VERB_WORDS = """
add align append apply attach bold border bring bullet center centre change clear color colour comment convert
copy create cross cut decrease delete double edit emphasize enlarge find fix format give highlight hide include
increase indent insert need italicize italicise justify keep label leave link make mark merge move number paste place
put reduce remove rename replace resize rotate save select set shade show shrink space split start strike style
swap switch take title turn type want like get underline update use watermark write
"""
VERBS: frozenset[str] = frozenset(_VERB_WORDS.split())

_OBJECT_WORDS = """
background border borders bullet bullets caption column columns comment comments contents doc document font
footer footnote header heading headings hyperlink landscape line lines link list margin margins orientation page
pages paragraph paragraphs phrase portrait selection sentence size spacing style styles symbol table text title
watermark word words
"""
OBJECTS: frozenset[str] = frozenset(_OBJECT_WORDS.split())

#: Control texts too common in ordinary English to show that a plan refers to our UI.
_GENERIC_WORDS = """
ok cancel close text left right top bottom none box size one two three page save post before after normal
title black white red orange yellow green blue purple gray letter legal a4 a5 portrait landscape
"""
_GENERIC = frozenset(_GENERIC_WORDS.split())

#: Keys a plan may press instead of clicking (the Document accepts them as keyboard_input).
_KEYS = ("Delete", "Backspace", "Enter", "Escape", "Ctrl+A", "Ctrl+B", "Ctrl+I", "Ctrl+U", "Ctrl+E", "Ctrl+H")

_WORD = re.compile(r"[A-Za-z']+")


def _stems(word: str) -> set[str]:
    """Crude stems so 'Turning', 'makes', 'centered' meet 'turn', 'make', 'center'."""
    w = word.lower().strip("'")
    out = {w}
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            base = w[: -len(suffix)]
            out |= {base, base + "e"}
            if len(base) > 2 and base[-1] == base[-2]:
                out.add(base[:-1])  # putting -> put
    return out


def has_verb(task: str) -> bool:
    return any(_stems(w) & VERBS for w in _WORD.findall(task))


def has_target(task: str) -> bool:
    return '"' in task or any(_stems(w) & OBJECTS for w in _WORD.findall(task))


@cache
def _ui_pattern() -> re.Pattern[str]:
    texts = set(TABS) | set(_KEYS)
    for specs in (*TAB_CONTROLS.values(), *MENUS.values(), *DIALOGS.values()):
        texts |= {s.text for s in specs}
    vocab = sorted((t for t in texts if len(t) >= 3 and t.lower() not in _GENERIC), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in vocab) + r")(?!\w)", re.IGNORECASE)


def mentions_ui(plan: list[str]) -> bool:
    """Whether any plan step names a tab, control, menu item, dialog field or key of our Word."""
    pattern = _ui_pattern()
    return any(pattern.search(step) for step in plan)


def reject_reason(row: TaskPlan, cfg: FilterParams) -> tuple[str, str] | None:
    """``(reason key, message)`` for the first filter the row fails, else ``None``."""
    words = len(row.task.split())
    if row.source not in cfg.allowed_sources:
        return "source_not_allowed", (f"source {row.source!r} is not in params:task_plans.filters.allowed_sources "
                                      f"{cfg.allowed_sources}")
    if words < cfg.min_task_words:
        return "task_too_short", f"task has {words} words, fewer than min_task_words={cfg.min_task_words}"
    if words > cfg.max_task_words:
        return "task_too_long", f"task has {words} words, more than max_task_words={cfg.max_task_words}"
    steps = len(row.plan)
    if steps < cfg.min_plan_steps:
        return "plan_too_short", f"plan has {steps} steps, fewer than min_plan_steps={cfg.min_plan_steps}"
    if steps > cfg.max_plan_steps:
        return "plan_too_long", f"plan has {steps} steps, more than max_plan_steps={cfg.max_plan_steps}"
    longest = max(len(s) for s in row.plan)
    if longest > cfg.max_step_chars:
        return "step_too_long", f"a plan step has {longest} characters, more than max_step_chars={cfg.max_step_chars}"
    if not has_verb(row.task):
        return "no_verb", "non-actionable: the request has no action verb"
    if not has_target(row.task):
        return "no_target", "non-actionable: the request names nothing to act on"
    if cfg.require_ui_mention and row.source not in ("generated", "evolved") and not mentions_ui(row.plan):
        return "no_ui_mention", "non-actionable here: no plan step names a control of the simulated Word"
    return None
