"""Chat requests in, LAM prompts out; LAM text in, the JSON the caller parses out.

(Over 400 lines on purpose: both dialects' slot readers share the helpers that validate and bound a client's slots; a file per dialect would repeat them.)

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
    Function, Args, Status, Plan, Comment``). Only the current sub-task's history is read (the
    blackboard tags each step with its ``Subtask``).
``ufo3``
    UFO 3.x: the same slots, controls listed as ``{"id", "name", "type"}`` (or a system prompt that
    asks for ``"observation"`` and ``"action"``); the answer is its ``AppAgentResponse``
    (``observation, thought, action {function, arguments, status}, plan, comment,
    save_screenshot, result``), the control named by ``arguments.id`` / ``arguments.name``.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lam_kedro.agent import slots as lam_slots
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
    "step_fields",
    "render_step",
]

Dialect = Literal["ufo", "ufo3", "lam"]
#: What ``parse_chat_prompt`` may be told about UFO requests: read the request (``auto``) or force one.
UfoDialect = Literal["auto", "ufo", "ufo3"]
Kind = Literal["step", "plan"]


class PromptError(ValueError):
    """The request's messages cannot be read as a LAM prompt; the message says what is missing."""


def _slot_name(header: str) -> str:
    """``"<User Request:>"`` -> ``"User Request"``: a slot as ``split_slots`` names it."""
    return header[1:-2]


#: The slot every step prompt has, in both dialects (the header ``agent.prompt`` renders).
CONTROLS_SLOT = _slot_name(lam_slots.CONTROLS_SLOT)
#: Where the request is, most specific first: UFO's sub-task, then the whole request.
REQUEST_SLOTS: tuple[str, ...] = (
    "Sub-task for you to complete",
    "User Request",
    "Current User Request",
    "Overall User Request",
)
#: Slots of this project's own prompt; a prompt using only these is answered in the ``lam`` dialect.
LAM_SLOTS = frozenset(_slot_name(h) for h in (lam_slots.CONTROLS_SLOT, lam_slots.REQUEST_SLOT, lam_slots.ACTIONS_SLOT,
                                                lam_slots.PLAN_SLOT, lam_slots.DOCUMENT_SLOT, lam_slots.PLAN_ANSWER_SLOT))
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
    images_skipped: int = 0
    history_skipped: int = 0

    def messages(self, document: bool = True) -> list[dict[str, str]]:
        """The canonical prompt the model is fed: the same renderer as training and evaluation, with
        the slots read here as data (``agent.slots.Messages.slots``, what the constrained decoder reads).
        ``document=False``: without the ``<Document:>`` slot in the text (the decoder reads the slots')."""
        if self.kind == "plan":
            return plan_messages(self.request)
        return step_messages(self.request, self.controls, self.previous_actions, self.previous_plan,
                             self.document if document else None, observed=self.document)


# -- reading the messages ----------------------------------------------------------------------
def message_text(content: Any, where: str = "content") -> str:
    """The text of one message's ``content``: a string, or the ``text`` parts of a list of parts.

    Image parts (``image_url``, ``input_image``, ...) are skipped: the LAM reads text only
    (``count_images`` counts them).
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


def count_images(messages: Sequence[Mapping[str, Any]]) -> int:
    """How many non-text parts (screenshots) the messages carry; the LAM skips them."""
    return sum(1 for m in messages if isinstance(m.get("content"), list)
               for part in m["content"] if isinstance(part, Mapping) and part.get("type") != "text")


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
    except json.JSONDecodeError as err:
        json_error = f"not JSON: {err.msg} at line {err.lineno} column {err.colno}"
    except RecursionError:
        raise ValueError("nested too deeply") from None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        # ast's own messages name its node objects (``<ast.Name object at 0x...>``): say what JSON says
        raise ValueError(json_error) from None


def _control(item: Any, where: str) -> dict[str, str]:
    if not isinstance(item, Mapping):
        raise PromptError(f"{where} must be an object with label, control_text and control_type")
    label = _first(item, "label", "Label", "id")
    if label is None or isinstance(label, bool) or not isinstance(label, (str, int)) or str(label).strip() == "":
        raise PromptError(f"{where} has no label (expected e.g. {{\"label\": \"1\", \"control_text\": \"Bold\"}}"
                          " or UFO3's {\"id\": \"1\", \"name\": \"Bold\", \"type\": \"Button\"})")
    text = _first(item, "control_text", "ControlText", "name")
    ctype = _first(item, "control_type", "control_class", "ControlType", "type")
    for key, value in (("control_text", text), ("control_type", ctype)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise PromptError(f"{where}: {key} must be a string, got {type(value).__name__}")
    return {"label": str(label).strip(), "control_text": "" if text is None else str(text),
            "control_type": "" if ctype is None else str(ctype)}


def _first(item: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of ``keys`` that ``item`` has (``None`` if none)."""
    return next((item[k] for k in keys if k in item), None)


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
              "arguments": "args", "ControlText": "control_name", "control_text": "control_name",
              "control_name": "control_name", "ControlLabel": "control_label", "control_label": "control_label",
              "Status": "status", "status": "status", "ControlType": "control_type", "control_type": "control_type"}
_SUBTASK_KEYS = ("Subtask", "subtask", "SubTask", "sub_task")


def _call_from_string(call: str) -> dict[str, Any]:
    """``'click_input(button="left", double=False)'`` -> ``{function, args}``; unreadable -> ``{}``."""
    try:
        node = ast.parse(call.strip(), mode="eval").body
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
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return {}
    return {"function": name, "args": args}


def _ufo3_action(a: Mapping[str, Any]) -> dict[str, Any]:
    """A UFO3 action dict (``function``, ``arguments`` with the control's ``id`` and ``name``,
    ``target``) in our keys; the control's id and name leave the arguments."""
    out = {_CALL_KEYS[k]: v for k, v in a.items() if k in _CALL_KEYS}
    args = out.get("args")
    target = a.get("target") if isinstance(a.get("target"), Mapping) else {}
    if isinstance(args, Mapping) and ("id" in args or "name" in args):
        args = dict(args)
        out.setdefault("control_label", args.pop("id", None))
        out.setdefault("control_name", args.pop("name", None))
        out["args"] = args
    for key, ours in (("id", "control_label"), ("name", "control_name"), ("type", "control_type")):
        if out.get(ours) in (None, "") and target.get(key) not in (None, ""):
            out[ours] = target[key]
    return out


def _history_actions(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The action dicts (snake_case) of one UFO step-history entry."""
    top = {_CALL_KEYS[k]: v for k, v in entry.items() if k in _CALL_KEYS}
    action = entry.get("Action", entry.get("action"))
    if isinstance(action, str):
        return [{**top, **_call_from_string(action)}] if action.strip() else [top]
    if isinstance(action, Mapping):
        action = [action]
    if isinstance(action, list) and action:
        return [{**top, **_ufo3_action(a)} for a in action if isinstance(a, Mapping)]
    return [top]


def _same_text(a: Any, b: str) -> bool:
    return isinstance(a, str) and " ".join(a.split()) == " ".join(b.split())


def _subtask_of(entry: Mapping[str, Any]) -> Any:
    return next((entry[k] for k in _SUBTASK_KEYS if k in entry), None)


def parse_step_history(entries: Any, controls: Sequence[Mapping[str, str]] = (),
                       subtask: str | None = None) -> list[str]:
    """UFO's step history (a list of dicts) as ``<Previous Actions:>`` lines, as training wrote them.

    An entry's action is its ``Action`` (a call string like ``click_input(button="left")``, one
    action dict or UFO2/UFO3's list of them) or its own ``Function``/``Args``/``ControlText``. The
    control type (shown in training's summaries) comes from the entry, else from a visible control
    with the same text. With ``subtask``, entries of *other* sub-tasks (their ``Subtask`` key
    differs; UFO's blackboard keeps the whole session) are left out; entries without the key stay.
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
        if subtask is not None:
            own = _subtask_of(entry)
            if own is not None and not _same_text(own, subtask):
                continue
        for act in _history_actions(entry):
            function = act.get("function")
            if not function or not isinstance(function, str):
                continue
            name = act.get("control_name") or ""
            ctype = act.get("control_type") or types.get(str(name))
            step = {
                "function": function,
                "args": dict(act.get("args") or {}) if isinstance(act.get("args"), Mapping) else {},
                "control_name": str(name),
                "control_label": str(act.get("control_label") or ""),
                "status": str(act.get("status") or "CONTINUE").upper(),
                "control_type": str(ctype) if ctype else None,
            }
            lines.append(summarize_action(step))
    return lines


def _count_other_subtasks(entries: Any, subtask: str) -> int:
    if not isinstance(entries, list):
        return 0
    return sum(1 for e in entries if isinstance(e, Mapping) and _subtask_of(e) is not None
               and not _same_text(_subtask_of(e), subtask))


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
    except RecursionError:
        raise PromptError("the blackboard's step trajectories are nested too deeply") from None
    return value


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return message_text(messages[i].get("content"), f"messages[{i}].content")
    raise PromptError("messages has no message with role 'user'")


_UFO3_SYSTEM = re.compile(r'"observation"\s*:|"action"\s*:\s*<')


def _system_text(messages: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(m["content"] for m in messages
                     if m.get("role") in ("system", "developer") and isinstance(m.get("content"), str))


def _ufo_dialect(messages: Sequence[Mapping[str, Any]], controls_text: str, forced: UfoDialect) -> Dialect:
    """UFO3 (snake_case answer with an ``action`` object) or UFO 1.x/2.x (CamelCase), from the request.

    UFO3's prompt lists controls as ``{"id", "name", "type"}`` and its system prompt asks for
    ``"observation"`` and ``"action"``; older ones list ``{"label", "control_text", ...}`` and ask
    for ``"Observation"``. ``forced`` (``lam serve --ufo-dialect``) wins over both.
    """
    if forced != "auto":
        return forced
    head = controls_text.lstrip()[:400]
    if re.search(r"""["']id["']\s*:""", head) and not re.search(r"""["']label["']\s*:""", head):
        return "ufo3"
    return "ufo3" if _UFO3_SYSTEM.search(_system_text(messages)) else "ufo"


def parse_chat_prompt(messages: Sequence[Mapping[str, Any]], ufo_dialect: UfoDialect = "auto") -> ChatPrompt:
    """Read a chat request's messages as a step or plan prompt (see the module docstring).

    Only the last user message is read: system prompts (UFO's repeats the slot names in its
    instructions) and earlier turns are ignored, except that a system prompt asking for UFO3's
    snake_case answer selects that dialect (``ufo_dialect`` forces one). Anything unreadable,
    however deeply nested, is a ``PromptError``.
    """
    try:
        return _parse_chat_prompt(messages, ufo_dialect)
    except RecursionError:
        raise PromptError("the prompt is nested too deeply to read") from None


def _parse_chat_prompt(messages: Sequence[Mapping[str, Any]], ufo_dialect: UfoDialect) -> ChatPrompt:
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
    if dialect == "ufo":
        dialect = _ufo_dialect(messages, slots.get(CONTROLS_SLOT, ""), ufo_dialect)
    images = count_images(messages)
    if CONTROLS_SLOT not in slots:
        return ChatPrompt(kind="plan", dialect=dialect, request=request, images_skipped=images)

    controls = parse_controls(slots[CONTROLS_SLOT])
    plan_slot = next((s for s in _PLAN_SLOTS if s in slots), None)
    plan = parse_plan_text(slots[plan_slot]) if plan_slot else []
    # UFO's blackboard keeps every sub-task's steps, each tagged with its "Subtask"
    subtask = request if request_slot == "Sub-task for you to complete" else None
    skipped = 0
    if "Previous Actions" in slots:
        actions = _numbered_lines(slots["Previous Actions"])
    else:
        history = _blackboard_history(text)
        if history is None:
            hist_slot = next((s for s in _HISTORY_SLOTS if s in slots), None)
            history = _history_slot_value(slots[hist_slot]) if hist_slot else []
        actions = parse_step_history(history, controls, subtask)
        skipped = _count_other_subtasks(history, subtask) if subtask else 0
    document = slots.get("Document") if dialect == "lam" else None
    return ChatPrompt(kind="step", dialect=dialect, request=request, controls=controls,
                      previous_actions=actions, previous_plan=plan, document=document, images_skipped=images,
                      history_skipped=skipped)


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
    text = (f"{n} control item{'s' if n != 1 else ''} available; "
            f"{k} action{'s' if k != 1 else ''} taken so far for: {prompt.request}")
    if prompt.images_skipped:
        text += f" ({prompt.images_skipped} image(s) not read: the LAM reads the control list)"
    return text


#: ``review(prompt, fields) -> fields``: the server's last word on a usable step answer (loops, safety).
Review = Callable[["ChatPrompt", dict[str, Any]], dict[str, Any]]


def step_fields(prompt: ChatPrompt, raw: str) -> dict[str, Any]:
    """The model's ``raw`` step output as answer fields (snake_case), before any dialect's shape.

    Keys: ``observation, thought, control_label, control_name, control_type, function, args,
    status, plan, comment`` and ``usable`` (whether the output was a valid action). Unusable
    output becomes a status-only ``FAIL`` with the reason and the raw text in ``comment``; so does
    a status-only ``CONTINUE`` (an answer that does nothing and does not end: the client would
    execute nothing and ask the same question again).
    """
    parsed = parse_action_output(raw, prompt.controls)
    if not parsed.ok:
        snippet = " ".join(raw.split())[:300]
        return {"observation": _observation(prompt), "thought": parsed.thought, "control_label": "",
                "control_name": "", "control_type": "", "function": "", "args": {}, "status": "FAIL",
                "plan": [], "usable": False,
                "comment": f"The LAM's output could not be used ({parsed.error}); its output was: {snippet!r}"}
    fields = {**parsed.to_dict(), "control_type": "", "observation": _observation(prompt), "usable": True}
    listed = {c["label"]: c for c in prompt.controls}
    control = listed.get(parsed.control_label)
    if control is not None:  # UFO requires ControlText to match the label's text exactly
        fields["control_name"] = control["control_text"]
        fields["control_type"] = control["control_type"]
    if not parsed.function:
        fields["control_label"] = fields["control_name"] = fields["control_type"] = ""
        fields["args"] = {}
    if not parsed.function and parsed.status == "CONTINUE":
        fields["status"] = "FAIL"
        fields["comment"] = ("The LAM chose no action and did not finish, so the sub-task cannot go on: "
                             "it found no listed control to act on for this request.")
        return fields
    summary = summarize_action(fields) if parsed.function else "no further action"
    if fields["status"] == "FINISH":
        fields["comment"] = f"The request is complete after: {summary}."
    elif fields["status"] == "FAIL":
        fields["comment"] = f"The LAM gave up on the sub-task after: {summary}."
    else:
        left = len(parsed.plan)
        fields["comment"] = f"Took {summary}; {left} step{'s' if left != 1 else ''} left in the plan."
    return fields


def _ufo3_response(fields: Mapping[str, Any]) -> dict[str, Any]:
    """UFO3's ``AppAgentResponse`` (``ufo/agents/processors/schemas/response_schema.py``): snake_case,
    one ``action`` object whose ``arguments`` name the control by UFO3's ``id`` and ``name``."""
    arguments: dict[str, Any] = {}
    if fields["function"]:
        arguments = {"id": fields["control_label"], "name": fields["control_name"], **dict(fields["args"])}
    status = fields["status"]
    return {
        "observation": str(fields.get("observation") or ""),
        "thought": str(fields.get("thought") or ""),
        "action": {"function": fields["function"], "arguments": arguments, "status": status},
        "plan": list(fields.get("plan") or []),
        "comment": str(fields.get("comment") or ""),
        "save_screenshot": {"save": False, "reason": "the LAM reads the control list, not screenshots"},
        "result": str(fields.get("comment") or "") if status in ("FINISH", "FAIL") else "",
    }


def render_step(prompt: ChatPrompt, fields: Mapping[str, Any], raw: str) -> str:
    """``fields`` (``step_fields``) in the prompt's dialect: UFO 1.x/2.x CamelCase, UFO3 snake_case
    with an ``action`` object, or this project's action JSON (unusable output: ``raw`` unchanged)."""
    if prompt.dialect == "ufo":
        return json.dumps(to_ufo_app_agent_response(fields), ensure_ascii=False)
    if prompt.dialect == "ufo3":
        return json.dumps(_ufo3_response(fields), ensure_ascii=False)
    return render_action_target(fields) if fields["usable"] else raw


def format_answer(prompt: ChatPrompt, raw: str, review: Review | None = None) -> str:
    """The assistant message's content for the model's ``raw`` output (always a string).

    * step, ``ufo``: UFO's CamelCase JSON; ``ufo3``: UFO3's snake_case JSON. The control's text is
      the listed text of its label. Output that does not parse or names a control that is not
      listed becomes a valid answer with no function, ``FAIL`` and the reason plus the raw text in
      the comment: UFO then ends the sub-task instead of executing a guess (greedy decoding would
      repeat the same output if asked again). A status-only ``CONTINUE`` becomes ``FAIL`` too.
    * step, ``lam``: the action JSON in training's key order when it parses; otherwise the raw
      text unchanged, so a ``TextPolicy`` on the client records the same error it would locally.
    * plan (either dialect): numbered plan lines (Phase 1's target format); the raw text when no
      step could be read from it.

    ``review`` (the server's loop and safety checks) may change a usable step answer's fields.
    """
    if prompt.kind == "plan":
        steps = parse_plan_output(raw)
        return render_plan_target(steps) if steps else raw
    fields = step_fields(prompt, raw)
    if review is not None and fields["usable"]:
        fields = review(prompt, fields)
    return render_step(prompt, fields, raw)
