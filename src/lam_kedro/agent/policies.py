"""Policies: who chooses the next action. Same ``reset``/``act`` shape for every actor.

``StepsPolicy`` plays a given list of ``UIStep`` (named by on-screen text, resolved to labels
against each observation); ``ScriptedPolicy`` is the expert that plays a task family's scripted
solution; ``RandomPolicy`` is the floor every model must beat. A model-backed policy (the LAM,
an LLM expert) lives with its model and implements the same protocol.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from lam_kedro.agent.prompt import history_slots, parse_action_output, step_messages, strip_step_marker
from lam_kedro.env.action_table import ACTIONS, REQUIRED, VALID_ON
from lam_kedro.env.types import Action, Observation, Task, UIStep

__all__ = [
    "Decision",
    "Policy",
    "StepsPolicy",
    "ScriptedPolicy",
    "RandomPolicy",
    "align_steps",
    "decision_words",
    "describe_ui_step",
    "step_decision",
    "TextPolicy",
    "join_errors",
]


@dataclass(slots=True)
class Decision:
    """What a policy decided: the env ``Action`` plus the fields a trajectory step records.

    ``error`` is set when the policy could not produce a valid action (unparseable model
    output, a control the script expected is missing); the action is then a FAIL or a no-op.
    """

    action: Action
    thought: str
    plan: list[str] = field(default_factory=list)
    control_name: str = ""
    raw_output: str | None = None
    error: str | None = None


@runtime_checkable
class Policy(Protocol):
    """Anything that can act in ``run_episode``; ``name`` becomes the trajectory's ``actor``."""

    name: str

    def reset(self, task: Task) -> None: ...

    def act(self, obs: Observation) -> Decision: ...


def join_errors(first: str | None, second: str | None) -> str | None:
    """Both errors of a step (the policy's, then the environment's), or whichever there is."""
    if first and second:
        return f"{first}; {second}"
    return first or second


def _fail(thought: str, plan: Sequence[str] = ()) -> Decision:
    return Decision(action=Action("", "", {}, "FAIL"), thought=thought, plan=list(plan), error=thought)


def describe_ui_step(step: UIStep) -> str:
    """A plan line a person would write for a UI step, e.g. ``Click "Bold"``."""
    a, name = step.args, step.control_text
    if step.function == "click_input":
        verb = (
            "Double-click" if a.get("double") else ("Right-click" if a.get("button") == "right" else "Click")
        )
        return f'{verb} "{name}"'
    if step.function == "set_edit_text":
        return f'Set "{name}" to "{a.get("text", "")}"'
    if step.function == "keyboard_input":
        return f'Press {a.get("keys", "")} in "{name}"'
    if step.function == "select_text":
        return f'Select the text "{a.get("text", "")}"'
    if step.function == "select_table":
        return f"Select table {a.get('number', '')}"
    if step.function == "insert_table":
        return f"Insert a table of {a.get('rows', '')} rows and {a.get('columns', '')} columns"
    if step.function == "wheel_mouse_input":
        return f"Scroll the document by {a.get('wheel_dist', '')}"
    if step.function == "texts":
        return f'Read the text of "{name}"'
    if step.function == "summary":
        return f"Summarize: {a.get('text', '')}"
    return f"{step.function} on {name}"


def decision_words(verb: str, control_text: str = "", value: str = "") -> str:
    """A thought's decision (its end after ``" Now: "``), the words the action decoder copies:
    ``select '<text>'``, ``press <keys>``, ``type '<text>' into '<box>'``, ``open '<tab>'``,
    ``click '<control>'``. Both experts write it (``agent.expert``, ``step_decision``)."""
    if verb == "select":
        return f"select '{value}'"
    if verb == "press":
        return f"press {value}"
    if verb == "type":
        return f"type '{value}' into '{control_text}'"
    return f"{verb} '{control_text}'"


_VERBS = {"select_text": ("select", "text"), "keyboard_input": ("press", "keys"), "set_edit_text": ("type", "text")}


def step_decision(step: UIStep, control_text: str) -> str:
    """What a UI step decides, in the plan-following expert's words (``decision_words``)."""
    verb, arg = _VERBS.get(step.function, ("open" if step.control_type == "TabItem" else "click", ""))
    return decision_words(verb, control_text, str(step.args.get(arg, "")) if arg else "")


def _mention(line: str, step: UIStep, start: int) -> int | None:
    """Where ``line`` names ``step`` (its control, or the text it selects or types) at or after ``start``."""
    words = [step.control_text] if step.control_text != "Document" else []
    words += [str(v).split("\n")[0] for k, v in step.args.items() if k == "text" and v]
    if step.function == "keyboard_input":  # "{ENTER}" is "Enter" in a plan line
        words += [k.title() for k in re.findall(r"\{([A-Z]+)\}", str(step.args.get("keys", "")))]
    found = [m.start() for w in words if w.strip()
             for m in re.finditer(rf"(?<!\w){re.escape(w)}(?!\w)", line) if m.start() >= start]
    return min(found) if found else None


def align_steps(steps: Sequence[UIStep], plan: Sequence[str]) -> list[int]:
    """The plan line each of ``steps`` carries out, in order: a step stays on the current line when
    that line names it (its control, or the text it selects or types) after what the step before
    it took there, else moves to the next line that names it; a step no line names stays where it
    is, and steps never go back (``"Choose Format > Page Style..."``, then ``open 'Page'`` is the
    next line's tab, not the menu item's word). ``[]`` for an empty plan."""
    if not plan:
        return []
    out, line, pos = [], 0, -1
    for step in steps:
        at = _mention(plan[line], step, pos + 1)
        if at is None:
            later = ((j, _mention(plan[j], step, 0)) for j in range(line + 1, len(plan)))
            line, at = next(((j, a) for j, a in later if a is not None), (line, pos))
        pos = at
        out.append(line)
    return out


class StepsPolicy:
    """Plays ``steps`` in order, resolving each control text (and type) to a visible label.

    With ``finish_last`` the last step carries status FINISH, so the episode ends on it; when the
    steps run out without a FINISH, a status-only FINISH follows. A step whose control is not
    visible becomes a FAIL decision whose thought names the missing control.
    """

    def __init__(self, steps: Sequence[UIStep] = (), name: str = "steps", finish_last: bool = True) -> None:
        self.name = name
        self.finish_last = finish_last
        self._steps: list[UIStep] = list(steps)
        self._plan: list[str] = [describe_ui_step(s) for s in self._steps]
        self._lines: list[str] = []     # the task's plan, when the steps carry it out (set_steps)
        self._line_of: list[int] = []   # the plan line each step works on
        self._i = 0

    def set_steps(self, steps: Sequence[UIStep], plan: Sequence[str] = ()) -> None:
        """Replace the script and rewind; used by ``ScriptedPolicy.reset``. With the task's ``plan``
        (the lines the steps carry out, in order) each decision reads as the plan-following
        expert's: the thought is the plan line in progress, then ``" Now: "`` and the decision
        (``click 'Format'``), and ``plan`` lists the lines not yet done, the one in progress first,
        the convention the action decoder copies (``model.decoder``: ``copy_plan``, ``copy_decision``)."""
        self._steps = list(steps)
        self._plan = [describe_ui_step(s) for s in self._steps]
        self._lines = list(plan)
        self._line_of = align_steps(self._steps, self._lines) if self._lines else []
        self._i = 0

    def reset(self, task: Task) -> None:
        self._i = 0

    def act(self, obs: Observation) -> Decision:
        i, n = self._i, len(self._steps)
        if i >= n:
            return Decision(
                action=Action("", "", {}, "FINISH"), thought="All steps are done; the request is complete."
            )
        step = self._steps[i]
        remaining = self._plan[i + 1 :]
        control = obs.find(step.control_text, step.control_type)
        if control is None:
            kind = f" ({step.control_type})" if step.control_type else ""
            return _fail(
                f'Step {i + 1} of {n} needs the control "{step.control_text}"{kind}, but it is not visible.',
                self._lines[self._line_of[i]:] if self._line_of else remaining,
            )
        self._i += 1
        status = step.status
        if self.finish_last and i == n - 1 and status == "CONTINUE":
            status = "FINISH"
        thought = f"Step {i + 1} of {n}: {self._plan[i]}."
        if self._line_of:
            line = strip_step_marker(self._lines[self._line_of[i]])
            thought = f"{line} Now: {step_decision(step, control.control_text)}."
            remaining = self._lines[self._line_of[i + 1]:] if i + 1 < n else []
        return Decision(
            action=Action(control.label, step.function, dict(step.args), status),
            thought=thought,
            plan=remaining,
            control_name=control.control_text,
        )


class ScriptedPolicy(StepsPolicy):
    """The expert: the task family's scripted solution, played step by step.

    ``app`` says whose user interface the solution is written for: ``"word"`` (the family's own,
    Word's ribbon: the simulated Word and real Word) or ``"writer"`` (the family's recipe in
    LibreOffice Writer's menus and dialogs, ``env.writer.recipes``).
    """

    APPS: tuple[str, ...] = ("word", "writer")

    def __init__(self, name: str = "scripted", app: str = "word") -> None:
        if app not in self.APPS:
            raise ValueError(f"ScriptedPolicy: unknown app {app!r}; known: {', '.join(self.APPS)}")
        super().__init__((), name=name, finish_last=True)
        self.app = app

    def reset(self, task: Task) -> None:
        # Imported here so the agent package imports before (and without) the task registry.
        if self.app == "writer":  # the plan a Writer task follows is its recipe's (env.worlds.world_plan)
            from lam_kedro.env.writer.recipes import writer_plan, writer_solution

            self.set_steps(writer_solution(task.family, task.params), writer_plan(task.family, task.params))
            return
        from lam_kedro.env.tasks import get_family

        self.set_steps(get_family(task.family).solution(task.params))


def _functions_for(control_type: str) -> tuple[str, ...]:
    """Functions the action table allows on this control type (``VALID_ON``, in table order),
    minus ``summary``, which is valid everywhere but does nothing and is sampled separately."""
    return tuple(
        f
        for f, allowed in VALID_ON.items()
        if f != "summary" and (allowed is None or control_type in allowed)
    )


def _plain_args(function: str, word: str) -> dict[str, Any]:
    """Valid args for a function with no sampler of its own: its defaults, else the first allowed
    value, a word of the document, 1 or False."""
    plain = {str: word, int: 1, bool: False}
    return {
        a.name: a.default if a.default is not REQUIRED else (a.choices[0] if a.choices else plain.get(a.type))
        for a in ACTIONS[function].args
    }


_KEYS: tuple[str, ...] = ("^b", "^i", "^u", "^e", "^a", "^z", "{ENTER}", "{ESC}", "{BACKSPACE}", "{END}", "x")


class RandomPolicy:
    """A random visible control and a random function valid for its type, with plausible args.

    Seeded per task (``seed`` and ``task_id``), so an episode is reproducible whatever order
    tasks run in. Ends the episode with FINISH with probability ``finish_prob`` per step.
    """

    def __init__(self, seed: int = 0, finish_prob: float = 0.05, name: str = "random") -> None:
        self.name = name
        self.seed = seed
        self.finish_prob = finish_prob
        self._rng = random.Random(seed)

    def reset(self, task: Task) -> None:
        self._rng = random.Random(f"{self.seed}:{task.task_id}")

    def _args(self, function: str, obs: Observation) -> dict[str, Any]:
        rng = self._rng
        words = obs.document.split()
        word = rng.choice(words) if words else "text"
        if function == "click_input":
            return {"button": "left" if rng.random() < 0.9 else "right", "double": rng.random() < 0.1}
        if function == "set_edit_text":
            return {"text": rng.choice([word, str(rng.randint(1, 72)), "Arial"])}
        if function == "keyboard_input":
            return {"keys": rng.choice(_KEYS)}
        if function == "select_text":
            return {"text": word}
        if function == "select_table":
            return {"number": rng.randint(1, 2)}
        if function == "insert_table":
            return {"rows": rng.randint(1, 4), "columns": rng.randint(1, 4)}
        if function == "wheel_mouse_input":
            return {"wheel_dist": rng.choice([-5, -1, 1, 5])}
        if function == "summary":
            return {"text": word}
        return _plain_args(function, word)

    def act(self, obs: Observation) -> Decision:
        rng = self._rng
        if not obs.controls:
            return Decision(action=Action("", "", {}, "FINISH"), thought="No control is visible.")
        control = rng.choice(obs.controls)
        # summary() is valid anywhere but does nothing, so it is drawn rarely.
        function = "summary" if rng.random() < 0.02 else rng.choice(_functions_for(control.control_type))
        status = "FINISH" if rng.random() < self.finish_prob else "CONTINUE"
        return Decision(
            action=Action(control.label, function, self._args(function, obs), status),
            thought=f'Random {function} on "{control.control_text}".',
            control_name=control.control_text,
        )


#: ``generate(messages) -> text``: a chat model behind any API (local LAM, OpenAI-compatible endpoint).
Generate = Callable[[list[dict[str, str]]], str]


class TextPolicy:
    """A policy backed by a text generator (the LAM, an LLM expert): prompt -> text -> action.

    Prompts come from ``step_messages`` and ``history_slots``, the functions that also turn
    trajectories into training examples, so serving feeds a model what training fed it.
    Unparseable output becomes a step with ``error`` set and, by default, a FAIL (set
    ``on_parse_error="continue"`` to let the model try again on the next step instead).
    """

    def __init__(
        self,
        generate: Generate,
        name: str,
        plan_for: Callable[[Task], Sequence[str]] | None = None,
        on_parse_error: str = "fail",
        include_document: bool = False,
    ) -> None:
        if on_parse_error not in ("fail", "continue"):
            raise ValueError(f"on_parse_error must be 'fail' or 'continue', not {on_parse_error!r}")
        self.generate = generate
        self.name = name
        self.plan_for = plan_for
        self.on_parse_error = on_parse_error
        self.include_document = include_document
        self._request = ""
        self._plan: list[str] = []
        self._history: list[dict[str, Any]] = []

    def reset(self, task: Task) -> None:
        self._request = task.request
        self._plan = list(self.plan_for(task)) if self.plan_for else []
        self._history = []

    def act(self, obs: Observation) -> Decision:
        if self._history:  # what the last action did shows in this observation
            last = self._history[-1]
            last["error"] = join_errors(last["error"], obs.error)
        actions, plan = history_slots(self._history, self._plan)
        document = obs.document if self.include_document else None
        raw = self.generate(step_messages(self._request, obs.controls, actions, plan, document, observed=obs.document))
        parsed = parse_action_output(raw, obs.controls)
        if parsed.ok:
            action, error = parsed.to_action(), None
        else:
            status = "FAIL" if self.on_parse_error == "fail" else "CONTINUE"
            action, error = Action("", "", {}, status), f"unusable model output: {parsed.error}"
        control = obs.by_label(action.control_label) if action.function else None
        decision = Decision(
            action=action,
            thought=parsed.thought,
            plan=list(parsed.plan),
            control_name=parsed.control_name or (control.control_text if control else ""),
            raw_output=raw,
            error=error,
        )
        self._history.append(
            {
                "control_label": action.control_label,
                "control_name": decision.control_name,
                "function": action.function,
                "args": dict(action.args),
                "status": action.status,
                "plan": decision.plan,
                "control_type": control.control_type if control else None,
                "error": error,
            }
        )
        return decision
