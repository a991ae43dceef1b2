"""Chat requests in, LAM prompts out; LAM text in, the JSON the caller parses out.

The server never feeds a client's prompt to the model verbatim. It reads the *slots* of the last
user message, then re-renders them with ``agent.prompt`` (``step_messages`` / ``plan_messages``),
so the served model sees exactly the prompt shape it was trained and evaluated on, whoever sent
the request. Two dialects are understood:

``ufo``
    Microsoft UFO's AppAgent prompt (``ufo/prompts/share/base/app_agent.yaml`` and the older
    ``action_selection.yaml``): ``<Available Control Item:> [{"label": "1", "control_text": ...,
    "control_type": ...}, ...]`` as one ``json.dumps`` list, the request in ``<Sub-task for you to
    complete:>`` / ``<Overall User Request:>`` / ``<Current User Request:>``, the plan in
    ``<Your Next Plan:>`` / ``<Previous Plan:>`` (a JSON list or text), previous steps in the
    blackboard's ``[Step Trajectories Completed Previously:]`` JSON list or ``<Step History:>``.
    The answer is UFO's CamelCase JSON (``Observation, Thought, ControlLabel, ControlText,
    Function, Args, Status, Plan, Comment``).
``lam``
    This project's own prompt (paper App. C, ``agent/prompts/step_user.txt``): ``<Available Control
    Item:>`` with one JSON object per line, ``<User Request:>``, ``<Previous Actions:>``,
    ``<Previous Plans:>`` (numbered lines or ``None``), optionally ``<Document:>``. The answer is our
    snake_case action JSON, which ``parse_action_output`` (``TextPolicy``) reads.

A prompt with a request but no ``<Available Control Item:>`` slot asks for a plan (Phase 1's
skill); the answer is numbered plan lines in either dialect. Message content may be a string or
a list of parts; image parts are ignored (the LAM is text-only, as in the paper). What cannot be
read raises ``PromptError`` naming the missing or malformed slot (the server's 400).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lam_kedro.agent.prompt import (
    parse_action_output,
    parse_plan_output,
    plan_messages,
    render_action_target,
    render_plan_target,
    step_messages,
    strip_step_marker,
    summarize_action,
)
from lam_kedro.agent.ufo import to_ufo_app_agent_response

__all__ = [
    "PromptError",
    "ChatPrompt",
    "message_text",
    "split_slots",
    "parse_controls",
    "parse_plan_text",
    "parse_step_history",
    "parse_chat_prompt",
    "format_answer",
    "CONTROLS_SLOT",
    "REQUEST_SLOTS",
]

Dialect = Literal["ufo", "lam"]
Kind = Literal["step", "plan"]


class PromptError(ValueError):
    """The request's messages cannot be read as a LAM prompt; the message says what is missing."""


#: The slot every step prompt has, in both dialects.
CONTROLS_SLOT = "Available Control Item"
#: Where the request is, most specific first: UFO's sub-task, then the whole request.
REQUEST_SLOTS: tuple[str, ...] = (
    "Sub-task for you to complete",
    "User Request",
    "Current User Request",
    "Overall User Request",
)
#: Slots of this project's own prompt; a prompt using only these is answered in the ``lam`` dialect.
LAM_SLOTS = frozenset({CONTROLS_SLOT, "User Request", "Previous Actions", "Previous Plans", "Document", "Plan"})
_PLAN_SLOTS: tuple[str, ...] = ("Previous Plans", "Your Next Plan", "Previous Plan")
_HISTORY_SLOTS: tuple[str, ...] = ("Step History",)

# ``<Name:>`` markers: a letter first, then words, spaces, hyphens; never across lines.
_SLOT = re.compile(r"<([A-Za-z][A-Za-z0-9 \-]{0,80}?):>")
# The blackboard's trajectory section: ``[Step Trajectories Completed Previously:]`` (or the shorter
# ``[Step Trajectories:]``) followed by a JSON list.
_TRAJECTORIES = re.compile(r"\[Step Trajectories[^\]\n]*:\]")
_PAREN_MARKER = re.compile(r"^\s*\(\d+\)\s*")
_NONE_VALUES = frozenset({"", "none", "null", "[]", '""', "''", "<finish>", "n/a"})
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class ChatPrompt:
    """What a chat request asks the LAM, in this project's terms.

    ``kind`` is ``step`` (choose an action; ``controls`` is the visible control list) or ``plan``
    (write a plan for ``request``); ``dialect`` decides the shape of the answer.
    """

    kind: Kind
    dialect: Dialect
    request: str
    controls: list[dict[str, str]] = field(default_factory=list)
    previous_actions: list[str] = field(default_factory=list)
    previous_plan: list[str] = field(default_factory=list)
    document: str | None = None

    def messages(self) -> list[dict[str, str]]:
        """The canonical prompt the model is fed: the same renderer as training and evaluation."""
        if self.kind == "plan":
            return plan_messages(self.request)
        return step_messages(self.request, self.controls, self.previous_actions, self.previous_plan, self.document)


# -- reading the messages ----------------------------------------------------------------------
def message_text(content: Any, where: str = "content") -> str:
    """The text of one message's ``content``: a string, or the ``text`` parts of a list of parts.

    Image parts (``image_url``, ``input_image``, ...) are skipped: the LAM reads text only.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise PromptError(f"{where} must be a string or a list of parts, not {type(content).__name__}")
    texts = []
    for i, part in enumerate(content):
        if not isinstance(part, Mapping):
            raise PromptError(f"{where}[{i}] must be an object like {{'type': 'text', 'text': ...}}")
        if part.get("type") == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise PromptError(f"{where}[{i}].text must be a string")
            texts.append(text)
    return "\n".join(texts)


def split_slots(text: str) -> dict[str, str]:
    """``{slot name: its text}`` for every ``<Name:>`` marker, each value up to the next marker.

    A repeated slot keeps its last value (a template that shows an example first and the real
    value afterwards). Values are stripped.
    """
    marks = list(_SLOT.finditer(text))
    slots: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        slots[m.group(1).strip()] = text[m.end():end].strip()
    return slots


def _literal(text: str) -> Any:
    """The whole text as a JSON value, else as a Python literal (UFO prints reprs in places),
    else ``ValueError``."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        raise ValueError(str(err)) from err


def _control(item: Any, where: str) -> dict[str, str]:
    if not isinstance(item, Mapping):
        raise PromptError(f"{where} must be an object with label, control_text and control_type")
    label = item.get("label", item.get("Label"))
    if label is None or isinstance(label, bool) or not isinstance(label, (str, int)) or str(label).strip() == "":
        raise PromptError(f"{where} has no label (expected e.g. {{\"label\": \"1\", \"control_text\": \"Bold\"}})")
    text = item.get("control_text", item.get("ControlText", ""))
    ctype = item.get("control_type", item.get("control_class", item.get("ControlType", "")))
    return {"label": str(label).strip(), "control_text": "" if text is None else str(text),
            "control_type": "" if ctype is None else str(ctype)}


def parse_controls(text: str) -> list[dict[str, str]]:
    """The ``<Available Control Item:>`` slot as ``[{label, control_text, control_type}]``.

    Accepts UFO's one-line JSON list, a Python-literal list, and this project's one JSON object
    per line. UFO's win32 backend says ``control_class`` where UIA says ``control_type``.
    """
    text = text.strip()
    if text.lower() in _NONE_VALUES:
        return []
    items: list[Any]
    try:
        value = _literal(text)
    except ValueError:
        value = None
    if isinstance(value, list):
        items = value
    elif isinstance(value, Mapping) and "\n" not in text:
        items = [value]
    else:  # one object per line
        items = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(_literal(line))
            except ValueError as err:
                raise PromptError(
                    f"<{CONTROLS_SLOT}:> line {n} is not a control object ({err}); expected a JSON list "
                    'of {"label", "control_text", "control_type"} objects or one object per line'
                ) from err
    return [_control(item, f"<{CONTROLS_SLOT}:> item {i}") for i, item in enumerate(items)]


def _plan_lines(text: str) -> list[str]:
    out = []
    for line in text.replace("\\n", "\n").splitlines():
        step = strip_step_marker(_PAREN_MARKER.sub("", line, count=1))
        if step and step.lower() not in _NONE_VALUES:
            out.append(step)
    return out


def parse_plan_text(text: str) -> list[str]:
    """A plan slot as steps: a JSON list, a JSON string, numbered or ``(1)`` lines; ``None``/``<FINISH>`` -> []."""
    text = text.strip()
    if text.lower() in _NONE_VALUES:
        return []
    if text[0] in "[\"'":
        try:
            value = _literal(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return [s for v in value for s in _plan_lines(str(v))]
        if isinstance(value, str):
            return _plan_lines(value)
    return _plan_lines(text)


def _numbered_lines(text: str) -> list[str]:
    """This project's ``<Previous Actions:>`` slot: numbered lines or ``None``."""
    text = text.strip()
    if text.lower() in _NONE_VALUES:
        return []
    return [s for s in (strip_step_marker(line) for line in text.splitlines()) if s]


_CALL_KEYS = {"Function": "function", "function": "function", "Args": "args", "args": "args",
              "ControlText": "control_name", "control_text": "control_name", "control_name": "control_name",
              "ControlLabel": "control_label", "control_label": "control_label", "Status": "status",
              "status": "status", "ControlType": "control_type", "control_type": "control_type"}


def _call_from_string(call: str) -> dict[str, Any]:
    """``'click_input(button="left", double=False)'`` -> ``{function, args}``; unreadable -> ``{}``."""
    try:
        node = ast.parse(call.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return {}
    if not isinstance(node, ast.Call) or not isinstance(node.func, (ast.Name, ast.Attribute)):
        return {}
    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
    args: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            continue
        try:
            args[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, SyntaxError, TypeError):
            args[kw.arg] = ast.unparse(kw.value)
    return {"function": name, "args": args}


def _history_actions(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The action dicts (snake_case) of one UFO step-history entry."""
    top = {_CALL_KEYS[k]: v for k, v in entry.items() if k in _CALL_KEYS}
    action = entry.get("Action", entry.get("action"))
    if isinstance(action, str):
        return [{**top, **_call_from_string(action)}] if action.strip() else [top]
    if isinstance(action, Mapping):
        action = [action]
    if isinstance(action, list) and action:
        out = []
        for a in action:
            if isinstance(a, Mapping):
                out.append({**top, **{_CALL_KEYS[k]: v for k, v in a.items() if k in _CALL_KEYS}})
        return out
    return [top]


def parse_step_history(entries: Any, controls: Sequence[Mapping[str, str]] = ()) -> list[str]:
    """UFO's step history (a list of dicts) as ``<Previous Actions:>`` lines, as training wrote them.

    An entry's action is its ``Action`` (a call string like ``click_input(button="left")``, one
    action dict or UFO2's list of them) or its own ``Function``/``Args``/``ControlText``. The
    control type (shown in training's summaries) comes from the entry, else from a visible control
    with the same text.
    """
    if not isinstance(entries, list):
        raise PromptError("the step history must be a JSON list of step objects")
    types = {}
    for c in controls:
        types.setdefault(c["control_text"], c["control_type"])
    lines = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        for act in _history_actions(entry):
            function = act.get("function")
            if not function:
                continue
            name = act.get("control_name") or ""
            step = {
                "function": str(function),
                "args": dict(act.get("args") or {}) if isinstance(act.get("args"), Mapping) else {},
                "control_name": str(name),
                "control_label": str(act.get("control_label") or ""),
                "status": str(act.get("status") or "CONTINUE").upper(),
                "control_type": act.get("control_type") or types.get(str(name)) or None,
            }
            lines.append(summarize_action(step))
    return lines


def _blackboard_history(text: str) -> Any | None:
    """The JSON list after the blackboard's ``[Step Trajectories ...:]`` marker, if there is one."""
    marks = list(_TRAJECTORIES.finditer(text))
    if not marks:
        return None
    rest = text[marks[-1].end():].lstrip()
    try:
        value, _ = _DECODER.raw_decode(rest)
    except json.JSONDecodeError as err:
        raise PromptError(f"the blackboard's step trajectories are not a JSON list: {err}") from err
    return value


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return message_text(messages[i].get("content"), f"messages[{i}].content")
    raise PromptError("messages has no message with role 'user'")


def parse_chat_prompt(messages: Sequence[Mapping[str, Any]]) -> ChatPrompt:
    """Read a chat request's messages as a step or plan prompt (see the module docstring).

    Only the last user message is read: system prompts (UFO's repeats the slot names in its
    instructions) and earlier turns are ignored.
    """
    text = _last_user_text(messages)
    slots = split_slots(text)
    request_slot = next((s for s in REQUEST_SLOTS if slots.get(s, "").strip().lower() not in _NONE_VALUES), None)
    if request_slot is None:
        found = ", ".join(f"<{s}:>" for s in slots) or "no <...:> slots at all"
        raise PromptError(
            "the last user message has no request: expected a non-empty "
            + " or ".join(f"<{s}:>" for s in REQUEST_SLOTS)
            + f" slot (found {found})"
        )
    request = " ".join(slots[request_slot].split())
    has_trajectories = _TRAJECTORIES.search(text) is not None
    dialect: Dialect = "lam" if set(slots) <= LAM_SLOTS and not has_trajectories else "ufo"
    if CONTROLS_SLOT not in slots:
        return ChatPrompt(kind="plan", dialect=dialect, request=request)

    controls = parse_controls(slots[CONTROLS_SLOT])
    plan_slot = next((s for s in _PLAN_SLOTS if s in slots), None)
    plan = parse_plan_text(slots[plan_slot]) if plan_slot else []
    if "Previous Actions" in slots:
        actions = _numbered_lines(slots["Previous Actions"])
    else:
        history = _blackboard_history(text)
        if history is None:
            hist_slot = next((s for s in _HISTORY_SLOTS if s in slots), None)
            history = _history_slot_value(slots[hist_slot]) if hist_slot else []
        actions = parse_step_history(history, controls)
    document = slots.get("Document") if dialect == "lam" else None
    return ChatPrompt(kind="step", dialect=dialect, request=request, controls=controls,
                      previous_actions=actions, previous_plan=plan, document=document)


def _history_slot_value(text: str) -> Any:
    if text.strip().lower() in _NONE_VALUES:
        return []
    try:
        return _literal(text)
    except ValueError as err:
        raise PromptError(f"<Step History:> is not a JSON list of steps: {err}") from err


# -- writing the answer ------------------------------------------------------------------------
def _observation(prompt: ChatPrompt) -> str:
    """UFO's Observation describes the screenshot; ours says what the text prompt showed."""
    n, k = len(prompt.controls), len(prompt.previous_actions)
    return (f"{n} control item{'s' if n != 1 else ''} available; "
            f"{k} action{'s' if k != 1 else ''} taken so far for: {prompt.request}")


def _ufo_step_answer(prompt: ChatPrompt, raw: str) -> dict[str, Any]:
    parsed = parse_action_output(raw, prompt.controls)
    if not parsed.ok:
        snippet = " ".join(raw.split())[:300]
        return to_ufo_app_agent_response({
            "observation": _observation(prompt),
            "thought": parsed.thought,
            "control_label": "",
            "control_name": "",
            "function": "",
            "args": {},
            "status": "FAIL",
            "plan": [],
            "comment": f"The LAM's output could not be used ({parsed.error}); its output was: {snippet!r}",
        })
    fields = parsed.to_dict()
    listed = {c["label"]: c for c in prompt.controls}
    control = listed.get(parsed.control_label)
    if control is not None:  # UFO requires ControlText to match the label's text exactly
        fields["control_name"] = control["control_text"]
        fields["control_type"] = control["control_type"]
    summary = summarize_action(fields) if parsed.function else "no further action"
    if parsed.status == "FINISH":
        comment = f"The request is complete after: {summary}."
    else:
        left = len(parsed.plan)
        comment = f"Took {summary}; {left} step{'s' if left != 1 else ''} left in the plan."
    return to_ufo_app_agent_response({**fields, "observation": _observation(prompt), "comment": comment})


def format_answer(prompt: ChatPrompt, raw: str) -> str:
    """The assistant message's content for the model's ``raw`` output (always a string).

    * step, ``ufo``: UFO's CamelCase JSON. ``ControlText`` is the listed text of ``ControlLabel``.
      Output that does not parse or names a control that is not listed becomes a valid answer
      with ``Function: ""``, ``Status: "FAIL"`` and the reason plus the raw text in ``Comment``:
      UFO then ends the sub-task instead of executing a guess (greedy decoding would repeat the
      same output if asked again).
    * step, ``lam``: the action JSON in training's key order when it parses; otherwise the raw
      text unchanged, so a ``TextPolicy`` on the client records the same error it would locally.
    * plan (either dialect): numbered plan lines (Phase 1's target format); the raw text when no
      step could be read from it.
    """
    if prompt.kind == "plan":
        steps = parse_plan_output(raw)
        return render_plan_target(steps) if steps else raw
    if prompt.dialect == "ufo":
        return json.dumps(_ufo_step_answer(prompt, raw), ensure_ascii=False)
    parsed = parse_action_output(raw, prompt.controls)
    return render_action_target(parsed) if parsed.ok else raw
