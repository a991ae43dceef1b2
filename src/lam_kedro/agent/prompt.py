"""LAM input/output text (paper App. C): step prompts, action targets, plan prompts, and parsing.

(Over 400 lines on purpose: rendering and parsing of the one step format live together, so a change to the format is made and reviewed in one file (each function is short).)

Prompts are data files under ``agent/prompts/`` (as UFO keeps them) filled with
``string.Template`` so the JSON braces in them need no escaping. Parsing never raises on bad
model output: a model's mistake is a value to score and record, not a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from lam_kedro.agent.schema import ACTION_FIELDS, ACTION_KEYS, action_fields
from lam_kedro.agent.slots import CONTROLS_SLOT, DOCUMENT_SLOT, HEADERS, Messages, PromptSlots
from lam_kedro.env.action_table import ACTIONS
from lam_kedro.env.types import STATUSES, Action, Control

__all__ = [
    "ParsedAction",
    "control_lines",
    "function_list",
    "load_prompt",
    "render_controls",
    "step_messages",
    "step_system",
    "render_step_prompt",
    "render_action_target",
    "parse_action_output",
    "plan_messages",
    "render_plan_prompt",
    "render_plan_target",
    "parse_plan_output",
    "summarize_action",
    "history_slots",
    "step_examples",
    "strip_step_marker",
]

# UFO AppAgent's CamelCase keys, accepted too so an LLM expert speaking UFO's dialect parses.
_CAMEL = {f.ufo: f.name for f in ACTION_FIELDS}


@cache
def load_prompt(name: str) -> Template:
    """A prompt template from ``agent/prompts/<name>.txt`` (package data), its slot headers filled in."""
    text = files("lam_kedro.agent").joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8")
    return Template(Template(text).safe_substitute(HEADERS))


# -- step prompt -------------------------------------------------------------------------------
def _control_dict(c: Control | Mapping[str, Any]) -> dict[str, str]:
    if isinstance(c, Control):
        return c.to_dict()
    return {
        "label": str(c["label"]),
        "control_text": str(c["control_text"]),
        "control_type": str(c["control_type"]),
    }


def render_controls(controls: Iterable[Control | Mapping[str, Any]]) -> str:
    """One JSON object per visible control, as UFO lists them in the prompt."""
    return "\n".join(json.dumps(_control_dict(c), ensure_ascii=False) for c in controls)


_NUMBER = re.compile(r"^\d+\.\s")


def _numbered(lines: Sequence[str]) -> str:
    """One line per item, numbered from 1; items that carry their own number (a plan) keep it."""
    if not lines:
        return "None"
    if all(_NUMBER.match(s) for s in lines):
        return "\n".join(lines)
    return "\n".join(f"{i}. {s}" for i, s in enumerate(lines, start=1))


def step_messages(
    request: str,
    controls: Iterable[Control | Mapping[str, Any]],
    previous_actions: Sequence[str],
    previous_plan: Sequence[str],
    document: str | None = None,
    observed: str | None = None,
) -> Messages:
    """The step prompt as chat messages (system, user), for chat templates and LLM endpoints.

    ``document`` adds a ``<Document:>`` slot; the paper's prompt has none, so it is opt-in.
    ``observed`` is the document the observation shows when the prompt does not (``slots.document``:
    the constrained decoder reads a selection off it without the model reading it).
    """
    controls = [_control_dict(c) for c in controls]
    extra = f"{DOCUMENT_SLOT}\n{document}\n" if document is not None else ""
    plan = _numbered(previous_plan)
    user = load_prompt("step_user").substitute(
        controls=render_controls(controls),
        request=request,
        previous_actions=_numbered(previous_actions),
        previous_plan=plan,
        extra=extra,
    )
    slots = PromptSlots(request.strip(), tuple(controls),
                        tuple(s for line in plan.splitlines() if (s := line.strip()) and s != "None"),
                        document if document is not None else observed)
    return Messages([
        {"role": "system", "content": step_system()},
        {"role": "user", "content": user.rstrip()},
    ], slots)


def function_list() -> str:
    """The prompt's list of functions, one line each, rendered from the action table:
    ``- name(arg: type, ...): description``."""
    return "\n".join(
        f"- {name}({', '.join(f'{a.name}: {a.prompt_type}' for a in spec.args)}): {spec.description}"
        for name, spec in ACTIONS.items()
    )


def step_system() -> str:
    """The step prompt's system message: ``step_system.txt`` with the table's function list."""
    return load_prompt("step_system").substitute(functions=function_list()).strip()


def render_step_prompt(
    request: str,
    controls: Iterable[Control | Mapping[str, Any]],
    previous_actions: Sequence[str],
    previous_plan: Sequence[str],
    document: str | None = None,
) -> str:
    """The step prompt as one string: the system instruction, then the four slots."""
    return "\n\n".join(
        m["content"] for m in step_messages(request, controls, previous_actions, previous_plan, document)
    )


def control_lines(content: str) -> tuple[str, list[str], list[tuple[int, dict[str, str]]]] | None:
    """The control slot of a step prompt's text: ``(text up to and including the slot marker, the
    lines after it, [(line index, control)]``), or ``None`` when ``content`` has no control slot.

    One control per JSON line; the slot ends at the next ``<...:>`` line. The one reader of the
    slot for the decoder (which controls may be named) and the compact view (how they are shown).
    """
    if CONTROLS_SLOT not in content:
        return None
    head, body = content.split(CONTROLS_SLOT, 1)
    lines = body.split("\n")
    found: list[tuple[int, dict[str, str]]] = []
    for i, line in enumerate(lines):
        text = line.strip()
        if text.startswith("<") and text.endswith(":>"):
            break
        if not text.startswith("{"):
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and "label" in item:
            found.append((i, {"label": str(item["label"]), "control_text": str(item.get("control_text", "")),
                              "control_type": str(item.get("control_type", ""))}))
    return head + CONTROLS_SLOT, lines, found


# -- action target and summary -----------------------------------------------------------------
def _action_fields(step: Any) -> dict[str, Any]:
    """The seven action fields of a ``Step``, a policy ``Decision`` or a plain mapping."""
    if isinstance(step, Mapping):
        return action_fields({_CAMEL.get(k, k): v for k, v in step.items()})
    action = getattr(step, "action", None)
    if isinstance(action, Action):  # a policies.Decision
        return {
            "thought": step.thought,
            "control_label": action.control_label,
            "control_name": step.control_name,
            "function": action.function,
            "args": dict(action.args),
            "status": action.status,
            "plan": list(step.plan),
        }
    return {k: getattr(step, k) for k in ACTION_KEYS}


def render_action_target(step: Any) -> str:
    """The one-line JSON the model is trained to output; keys always in ``ACTION_KEYS`` order."""
    return json.dumps(_action_fields(step), ensure_ascii=False)


def _format_args(function: str, args: Mapping[str, Any]) -> str:
    if function == "click_input" and args.get("button", "left") == "left" and not args.get("double", False):
        return ""  # the common plain click needs no detail
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())


def _control_type_of(step: Any, label: str) -> str | None:
    obs = getattr(step, "observation", None)
    if isinstance(step, Mapping):
        if step.get("control_type"):
            return step["control_type"]
        obs = step.get("observation")
    if isinstance(obs, Mapping):
        for c in obs.get("controls", ()):
            if str(c.get("label")) == label:
                return c.get("control_type")
    return None


def summarize_action(step: Any) -> str:
    """A short line for the ``<Previous Actions:>`` slot, e.g. ``click_input on "Bold" (Button)``.

    The environment's error for the step, when there was one, is appended so the model sees
    that its last action did nothing and why.
    """
    f = _action_fields(step)
    if not f["function"]:
        text = f"status {f['status']}"
    else:
        args = _format_args(f["function"], f["args"])
        call = f"{f['function']}({args})" if args else f["function"]
        ctype = _control_type_of(step, f["control_label"])
        name = f["control_name"] or f"label {f['control_label']}"
        text = f'{call} on "{name}"' + (f" ({ctype})" if ctype else "")
        if f["status"] != "CONTINUE":
            text += f" [{f['status']}]"
    error = step.get("error") if isinstance(step, Mapping) else getattr(step, "error", None)
    return f"{text} -> error: {error}" if error else text


def history_slots(history: Sequence[Any], initial_plan: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """``(previous_actions, previous_plan)`` from the steps taken so far.

    The one place both training examples and serving policies get these slots from, so a model
    is served exactly the inputs it was trained on. Before the first step the plan is the
    task's plan (Phase 1's output); afterwards it is the plan the last step stated.
    """
    actions = [summarize_action(s) for s in history]
    plan = list(_action_fields(history[-1])["plan"]) if history else list(initial_plan)
    return actions, plan


def step_examples(traj: Any) -> list[dict[str, Any]]:
    """One ``{messages, prompt, target}`` per step of a ``Trajectory``: Phase 2/3 SFT data."""
    out = []
    for i, step in enumerate(traj.steps):
        actions, plan = history_slots(traj.steps[:i], traj.task.plan)
        messages = step_messages(traj.task.task, step.observation["controls"], actions, plan)
        out.append(
            {
                "messages": messages,
                "prompt": "\n\n".join(m["content"] for m in messages),
                "target": render_action_target(step),
            }
        )
    return out


# -- action parsing ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ParsedAction:
    """A model's action output after validation; ``error`` says what was wrong, else ``None``."""

    thought: str = ""
    control_label: str = ""
    control_name: str = ""
    function: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    status: str = "CONTINUE"
    plan: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_action(self) -> Action:
        """The environment ``Action``; only meaningful when ``ok``."""
        return Action(
            control_label=self.control_label, function=self.function, args=dict(self.args), status=self.status
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ACTION_KEYS}


_DECODER = json.JSONDecoder()


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (prose, ```json fences and trailing text are skipped)."""
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            return obj
        start = text.find("{", start + 1)
    return None


def _labels(controls: Iterable[Control | Mapping[str, Any]]) -> set[str]:
    return {c.label if isinstance(c, Control) else str(c["label"]) for c in controls}


def _plan_value(v: Any) -> list[str] | None:
    if v is None:
        return []
    if isinstance(v, str):
        return [strip_step_marker(s) for s in v.splitlines() if strip_step_marker(s)]
    if isinstance(v, list) and all(isinstance(s, str) for s in v):
        return list(v)
    return None


def parse_action_output(
    text: str, controls: Iterable[Control | Mapping[str, Any]] | None = None
) -> ParsedAction:
    """Parse and validate one action JSON from model text; never raises on bad output.

    Checks: a JSON object is present; ``function`` is a known function (or ``""`` for a
    status-only step); ``args`` is an object; ``status`` is known (case-insensitive);
    ``control_label`` is given when a function is, and is among ``controls`` when they are given.
    """
    if not isinstance(text, str):
        return ParsedAction(error=f"model output is {type(text).__name__}, not text")
    obj = extract_json_object(text)
    if obj is None:
        return ParsedAction(error="no JSON object found in the model output")
    obj = {_CAMEL.get(k, k): v for k, v in obj.items()}
    for key in ("function", "args", "status"):
        if key not in obj:
            return ParsedAction(error=f"missing key {key!r}")
    function, args, status = obj["function"], obj["args"], obj["status"]
    if function is None:
        function = ""
    if not isinstance(function, str) or (function and function not in ACTIONS):
        return ParsedAction(error=f"unknown function {function!r}")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return ParsedAction(error=f"args must be an object, got {type(args).__name__}")
    if not isinstance(status, str) or status.strip().upper() not in STATUSES:
        return ParsedAction(error=f"unknown status {status!r}")
    label = obj.get("control_label", "")
    if label is None:
        label = ""
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        return ParsedAction(error=f"control_label must be a string, got {type(label).__name__}")
    label = str(label).strip()
    if function and not label:
        return ParsedAction(error=f"function {function!r} needs a control_label")
    if function and controls is not None and label not in _labels(controls):
        return ParsedAction(error=f"control_label {label!r} is not among the visible controls")
    thought, name = obj.get("thought", ""), obj.get("control_name", "")
    if not isinstance(thought, str) or not isinstance(name, (str, type(None))):
        return ParsedAction(error="thought and control_name must be strings")
    plan = _plan_value(obj.get("plan"))
    if plan is None:
        return ParsedAction(error="plan must be a list of strings")
    return ParsedAction(
        thought=thought,
        control_label=label,
        control_name=name or "",
        function=function,
        args=args,
        status=status.strip().upper(),
        plan=plan,
    )


# -- Phase 1: task -> plan ---------------------------------------------------------------------
_MARKER = re.compile(r"^\s*(?:[-*\u2022]\s*|(?:step\s*)?\d+\s*[.):](?!\d)\s*)", re.IGNORECASE)


def strip_step_marker(line: str) -> str:
    """``"1. Click Bold"`` / ``"- Click Bold"`` / ``"Step 2) ..."`` -> the step text, stripped."""
    return _MARKER.sub("", line, count=1).strip()


def _request_of(task: Any) -> str:
    if isinstance(task, str):
        return task
    if isinstance(task, Mapping):
        return str(task.get("task") or task.get("request") or "")
    return str(getattr(task, "task", None) or getattr(task, "request", ""))


def plan_messages(task: Any) -> Messages:
    """The Phase 1 prompt as chat messages; ``task`` is a string, ``TaskPlan``, ``Task`` or mapping."""
    request = _request_of(task)
    return Messages([
        {"role": "system", "content": load_prompt("plan_system").template.strip()},
        {"role": "user", "content": load_prompt("plan_user").substitute(request=request).rstrip()},
    ], PromptSlots(request.strip()))


def render_plan_prompt(task: Any) -> str:
    """The Phase 1 prompt as one string."""
    return "\n\n".join(m["content"] for m in plan_messages(task))


def render_plan_target(plan: Sequence[str]) -> str:
    """The Phase 1 training target: numbered steps, one per line."""
    return "\n".join(f"{i}. {strip_step_marker(s)}" for i, s in enumerate(plan, start=1))


def parse_plan_output(text: str) -> list[str]:
    """Steps from model text: a JSON list, a JSON object with ``plan``, or numbered lines."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            value = value.get("plan")
        if isinstance(value, list):
            return [strip_step_marker(str(s)) for s in value if strip_step_marker(str(s))]
    steps = []
    for line in stripped.splitlines():
        if line.strip().startswith("```"):
            continue
        s = strip_step_marker(line)
        if s:
            steps.append(s)
    return steps
