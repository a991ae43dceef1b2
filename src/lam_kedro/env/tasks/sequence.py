"""``sequence``: any two or three tasks in one request, done in order (the paper's evolved data).

Params are ``{"parts": [{"family": name, "params": {...}}, ...]}``, so the data-evolution step
can compose whatever families it likes and the result stays executable and checkable.

Checking a composition is the subtle part: every simple checker also insists that nothing
*else* changed, so part A's checker would reject part B's edits. Each part is therefore checked
against a reference in which all the *other* parts were applied to ``before`` by their scripted
solutions ("leave one out"): the only difference the part's checker can see is its own. When
the other parts cannot be replayed without this one (B edits text that A inserts), the
reference falls back to the parts that come before it.
"""

from __future__ import annotations

import random
import re
from typing import Any

from lam_kedro.env.document import Document
from lam_kedro.env.tasks.base import TaskFamily, fail, numbered, ok
from lam_kedro.env.types import Action, CheckResult, Task, UIStep

#: Families the default sampler combines: one text-level part and one page-level part never
#: interfere, so a sampled sequence is always executable.
_TEXT_CATEGORIES = ("formatting", "paragraph", "styles_lists")
_PAGE_CATEGORIES = ("layout", "design")
_REPLAY_KEY = "__sequence_reference__"


def _parts(params: dict[str, Any]) -> list[tuple[TaskFamily, dict[str, Any]]]:
    from lam_kedro.env.tasks.registry import get_family

    raw = params.get("parts")
    if not isinstance(raw, list) or not raw:
        raise ValueError("sequence params need a non-empty 'parts' list of {family, params}")
    out = []
    for i, part in enumerate(raw):
        if not isinstance(part, dict) or "family" not in part:
            raise ValueError(f"sequence params parts[{i}] needs a 'family' key")
        if part["family"] == SequenceFamily.name:
            raise ValueError(f"sequence params parts[{i}]: a sequence cannot contain a sequence")
        out.append((get_family(part["family"]), dict(part.get("params", {}))))
    return out


def replay(doc: Document, steps: list[UIStep], max_steps: int = 200) -> Document | None:
    """``doc`` after the scripted ``steps`` in a fresh environment, or ``None`` if a step fails."""
    from lam_kedro.env.word_env import WordEnv

    env = WordEnv(max_steps=max_steps, templates={_REPLAY_KEY: doc}, check_feasible=False)  # a replay, not a task
    obs, _ = env.reset(Task("replay", "sequence", "replay", {}, _REPLAY_KEY))
    for step in steps:
        control = obs.find(step.control_text, step.control_type)
        if control is None:
            return None
        obs, _, _, _, _ = env.step(Action(control.label, step.function, dict(step.args)))
        if obs.error:
            return None
    return env.document


class SequenceFamily(TaskFamily):
    name = "sequence"
    category = "composite"
    description = "Two or three tasks in one request, done in order (evolved, composed data)."
    phrasings = ("{first}, then {rest}.", "{first}. After that, {rest}.", "First {first_lower}, and then {rest}.")

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        from lam_kedro.env.tasks.registry import families

        fams = [f for f in families().values() if f.name != self.name]
        chosen = []
        for categories in (_TEXT_CATEGORIES, _PAGE_CATEGORIES):
            pool = sorted((f for f in fams if f.category in categories), key=lambda f: f.name)
            rng.shuffle(pool)
            for fam in pool:
                params = fam.sample_params(doc, rng)
                if params is not None:
                    chosen.append({"family": fam.name, "params": params})
                    break
        return {"parts": chosen} if len(chosen) == 2 else None

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        requests = []
        for i, (fam, p) in enumerate(_parts(params)):
            text = fam.render(p, random.Random(i)).strip().rstrip(".")
            requests.append(text)
        first = requests[0]
        rest = ", then ".join(r[:1].lower() + r[1:] for r in requests[1:])
        return {"first": first, "first_lower": first[:1].lower() + first[1:], "rest": rest}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        parts = _parts(params)
        for i, (fam, p) in enumerate(parts):
            others = [s for j, (f, q) in enumerate(parts) if j != i for s in f.solution(q)]
            reference = replay(before, others) if others else before
            if reference is None:
                earlier = [s for f, q in parts[:i] for s in f.solution(q)]
                reference = replay(before, earlier) if earlier else before
            if reference is None:
                return fail(f"part {i + 1} ({fam.name}): the earlier parts cannot be replayed on this document")
            result = fam.check(reference, after, p)
            if not result.success:
                return fail(f"part {i + 1} ({fam.name}): {result.reason}")
        return ok(f"all {len(parts)} parts done")

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [s for fam, p in _parts(params) for s in fam.solution(p)]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        """Forgets the last part: the commonest way a multi-part request goes wrong."""
        return [s for fam, p in _parts(params)[:-1] for s in fam.solution(p)]

    def plan(self, params: dict[str, Any]) -> list[str]:
        steps: list[str] = []
        for fam, p in _parts(params):
            for s in fam.plan(p):
                s = re.sub(r"^\d+\.\s*", "", s)
                if not steps or steps[-1] != s:
                    steps.append(s)
        return numbered(steps)


FAMILIES = [SequenceFamily()]
