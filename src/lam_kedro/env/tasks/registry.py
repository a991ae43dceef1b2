"""The family registry and task sampling.

``families()`` is the one list of what the environment can ask for; ``sample_task`` makes a
family concrete to a template (a built-in name, a ``Template``, or a .docx path) with a seed,
deterministically: the same (family, template, seed) always gives the same task and task_id,
so data sets regenerate bit for bit.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterable
from functools import cache
from typing import Any

from lam_kedro.env.feasibility import InfeasibleTask, check_feasible
from lam_kedro.env.tasks import (
    composite,
    design,
    editing,
    formatting,
    insert,
    layout,
    paragraph,
    sequence,
    styles_lists,
)
from lam_kedro.env.tasks.base import TaskFamily
from lam_kedro.env.types import Task

CATEGORIES: tuple[str, ...] = ("formatting", "paragraph", "styles_lists", "insert", "layout", "design", "editing",
                               "composite")


@cache
def _registry() -> dict[str, TaskFamily]:
    out: dict[str, TaskFamily] = {}
    for module in (formatting, paragraph, styles_lists, insert, layout, design, editing, composite, sequence):
        for fam in module.FAMILIES:
            if fam.name in out:
                raise ValueError(f"duplicate task family name {fam.name!r} ({module.__name__})")
            out[fam.name] = fam
    return out


def families() -> dict[str, TaskFamily]:
    """Every task family by name (a fresh dict; the families themselves are shared, stateless)."""
    return dict(_registry())


def get_family(name: str) -> TaskFamily:
    """The family called ``name``; an unknown name lists the valid ones."""
    try:
        return _registry()[name]
    except KeyError:
        raise KeyError(f"unknown task family {name!r}; valid names: {', '.join(sorted(_registry()))}") from None


def _template_name_and_doc(template: Any) -> tuple[str, Any]:
    """(the name a Task stores, the loaded document) for a Template, a built-in name or a .docx
    path. The stored name is what ``WordEnv.reset`` loads again: a user template's path, a
    built-in's name."""
    from lam_kedro.env.templates import load_template

    if isinstance(template, (str, os.PathLike)):
        name = str(template)
    else:
        path = getattr(template, "path", None)
        name = str(path) if path else template.name
    return name, load_template(name)


def _stable_key(template: str) -> str:
    """A .docx path counts by its file name, so ids and params don't change when the repo moves."""
    return os.path.basename(template) if template.lower().endswith(".docx") else template


def task_id(family: str, template: str, seed: int) -> str:
    """A short stable id: the same (family, template, seed) always gives the same one."""
    digest = hashlib.sha1(f"{family}|{_stable_key(template)}|{seed}".encode()).hexdigest()[:12]
    return f"{family}-{digest}"


def make_task(family: TaskFamily, template_name: str, doc: Any, seed: int) -> Task | None:
    """The task ``family`` makes of ``doc`` for this seed, or ``None`` if the doc does not suit it.

    ``InfeasibleTask`` (with the reason) when doing it would need what the document model cannot
    represent (``feasibility``): a .docx whose edit would be flattened.
    """
    rng = random.Random(f"{family.name}|{_stable_key(template_name)}|{seed}")
    params = family.sample_params(doc, rng)
    if params is None:
        return None
    check_feasible(family.name, params, doc, f"{family.name} on {template_name}")
    request = family.render(params, rng)
    return Task(task_id(family.name, template_name, seed), family.name, request, params, template_name)


def sample_task(family: str, template: Any, seed: int) -> Task | None:
    """One concrete task of ``family`` on ``template`` (a ``Template``, a built-in name or a .docx
    path), or ``None`` when the template offers nothing for it (no word to bold, ...);
    ``InfeasibleTask`` when doing it would flatten the .docx (``make_task``)."""
    fam = get_family(family)
    name, doc = _template_name_and_doc(template)
    return make_task(fam, name, doc, seed)


def sample_tasks(templates: Iterable[Any], n: int, seed: int, names: Iterable[str] | None = None) -> list[Task]:
    """``n`` tasks spread over families (round robin, shuffled) and templates, deterministic in
    ``seed``; pairs that do not fit are skipped. ``names`` restricts the families."""
    loaded = [_template_name_and_doc(t) for t in templates]
    if not loaded or n <= 0:
        return []
    fams = [get_family(x) for x in names] if names is not None else list(_registry().values())
    rng = random.Random(seed)
    out: list[Task] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n and attempts < n * 20 + 100:
        order = fams[:]
        rng.shuffle(order)
        for fam in order:
            if len(out) >= n:
                break
            attempts += 1
            name, doc = loaded[rng.randrange(len(loaded))]
            try:
                task = make_task(fam, name, doc, rng.randrange(2**31))
            except InfeasibleTask:  # skipped like a pair that does not fit
                task = None
            if task is not None and task.task_id not in seen:
                seen.add(task.task_id)
                out.append(task)
    return out
