"""The server's last word on a step answer: no loops, and the safety layer of ``lam agent``.

``StepGuard.review(prompt, fields)`` (``ufo_prompt.format_answer``'s ``review`` hook) sees every
usable step answer before it leaves ``lam serve`` and may change its status:

- **The same prompt twice in a row.** A step prompt re-renders the whole episode so far (request,
  controls, previous actions, plan), so when the next step prompt for a request is the same as the
  last one, nothing changed since it was answered: the client executed nothing, or the action had
  no effect. If that answer was an action that continues, the repeat is answered ``FAIL`` with the
  reason instead of the same action again. "In a row" is per request text (and the request's
  ``user`` field, which keeps two clients apart): a rerun of a task, whose first prompt follows
  the later steps of the earlier run, is not a repeat. Remembered for ``repeat_ttl_s`` (``0``
  switches it off).
- **The same action again.** An action identical to the last ``max_repeats`` previous actions
  (UFO's "RepeatTimes") is answered ``FAIL``: it was tried and did not help.
- **Safety** (``serving.safety.SafetyConfig``, the file ``lam agent --safety-config`` reads): a
  function outside ``allowed_functions`` is refused (``FAIL``, action withheld); at
  ``max_steps`` previous actions the step is ``FAIL``; a sensitive action (built-in rules and the
  config's ``rules``) comes back with status ``CONFIRM`` (``mode: ask``: UFO asks the person
  before executing it, in both UFO dialects), is refused (``mode: refuse``), or passes with a
  note (``mode: allow``). This project's own dialect has no ``CONFIRM``: there a sensitive action
  is refused unless ``mode`` is ``allow``. UFO prompts carry no document text: for them
  ``clear_document`` is judged from the keys (Ctrl+A, then a key that removes the selection) and
  the length-based ``delete_threshold`` does not apply.

Every change is said in the answer's comment (or, in our own dialect, its thought).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any

from lam_kedro.agent.prompt import summarize_action
from lam_kedro.env.actions import ActionError, parse_keys
from lam_kedro.env.types import Action, Control, Observation
from lam_kedro.serving.safety import SafetyConfig, SensitiveMatch, describe_action, sensitive_matches
from lam_kedro.serving.ufo_prompt import ChatPrompt

__all__ = ["StepGuard", "prompt_key"]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=True).encode()).hexdigest()


def prompt_key(prompt: ChatPrompt, user: str | None = None) -> tuple[str, str]:
    """``(episode, step)`` digests: the request as the client's ``user`` asks it in its dialect, and
    the whole re-rendered prompt (the step within that episode)."""
    episode = _digest([prompt.dialect, user or "", prompt.request])
    return episode, _digest([episode, prompt.messages()])


def _withhold(fields: dict[str, Any], status: str, why: str) -> dict[str, Any]:
    """``fields`` with the action withheld: no function, ``status`` and the reason in the comment."""
    proposed = summarize_action(fields) if fields.get("function") else "no action"
    out = {**fields, "function": "", "args": {}, "control_label": "", "control_name": "", "control_type": "",
           "status": status, "plan": []}
    out["comment"] = f"{why} (the LAM proposed: {proposed})"
    if status == "FAIL":
        out["thought"] = f"{fields.get('thought', '')} [{why}]".strip()
    return out


def _clears_unknown_document(action: Action) -> bool:
    """Ctrl+A, then a key that removes the selection (Delete, Backspace, Ctrl+X, Enter, typing).

    UFO prompts do not carry the document's text, so the length-based rules of ``safety`` cannot
    see that this empties it; the key sequence alone says so.
    """
    if action.function != "keyboard_input":
        return False
    try:
        keys = parse_keys(str(action.args.get("keys", "")))
    except ActionError:
        return False
    selected = False
    for k in keys:
        ctrl = "^" in k.mods
        if ctrl and k.name == "a":
            selected = True
        elif selected and ((ctrl and k.name == "x") or (not ctrl and k.name in ("", "ENTER", "TAB", "DELETE",
                                                                                 "BACKSPACE"))):
            return True
        elif k.name in ("HOME", "END", "LEFT", "RIGHT", "UP", "DOWN") and "+" not in k.mods:
            selected = False
    return False


class StepGuard:
    """Loop detection and the safety layer for served step answers (see the module docstring)."""

    def __init__(self, safety: SafetyConfig | None = None, repeat_ttl_s: float = 600.0, max_repeats: int = 2,
                 memory: int = 4096) -> None:
        if repeat_ttl_s < 0 or max_repeats < 0 or memory < 1:
            raise ValueError("repeat_ttl_s and max_repeats must be >= 0 and memory >= 1")
        self.safety = safety or SafetyConfig()
        self.repeat_ttl_s = repeat_ttl_s
        self.max_repeats = max_repeats
        self.memory = memory
        self._seen: OrderedDict[str, tuple[float, str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.events: dict[str, int] = {}

    def _count(self, kind: str) -> None:
        with self._lock:
            self.events[kind] = self.events.get(kind, 0) + 1

    def _previous(self, episode: str, step: str) -> str | None:
        """The status answered to ``step`` if it was the episode's last step prompt (within the TTL)."""
        if not self.repeat_ttl_s:
            return None
        now = time.monotonic()
        with self._lock:
            while self._seen and next(iter(self._seen.values()))[0] < now - self.repeat_ttl_s:
                self._seen.popitem(last=False)
            hit = self._seen.get(episode)
        return hit[2] if hit and hit[1] == step else None

    def _remember(self, episode: str, step: str, status: str) -> None:
        if not self.repeat_ttl_s:
            return
        with self._lock:
            self._seen.pop(episode, None)
            self._seen[episode] = (time.monotonic(), step, status)
            while len(self._seen) > self.memory:
                self._seen.popitem(last=False)

    def review(self, prompt: ChatPrompt, fields: dict[str, Any], user: str | None = None) -> dict[str, Any]:
        """``fields`` as the client should get them (a new dict when anything changed)."""
        episode, step = prompt_key(prompt, user)
        previous = self._previous(episode, step)
        out = self._review(prompt, fields, previous)
        self._remember(episode, step, out["status"] if out.get("function") else "")
        return out

    def _review(self, prompt: ChatPrompt, fields: dict[str, Any], previous: str | None) -> dict[str, Any]:
        cfg = self.safety
        if previous in ("CONTINUE", "CONFIRM"):
            self._count("repeated_prompt")
            return _withhold(fields, "FAIL", "The same step was asked again, twice in a row, with nothing changed "
                                             "since it was answered (same request, controls, previous actions and "
                                             "plan): the last action had no effect, so repeating it would loop")
        if len(prompt.previous_actions) >= cfg.max_steps:
            self._count("step_limit")
            return _withhold(fields, "FAIL", f"Step limit: {len(prompt.previous_actions)} actions taken, the "
                                             f"safety config allows {cfg.max_steps}")
        function = fields.get("function") or ""
        if not function:
            return fields
        if function not in cfg.allowed_functions:
            self._count("refused")
            return _withhold(fields, "FAIL", f"refused by safety (allowlist): {function} is not among the allowed "
                                             f"functions {cfg.allowed_functions}")
        line = summarize_action(fields)
        recent = prompt.previous_actions[-self.max_repeats:] if self.max_repeats else []
        if self.max_repeats and len(recent) == self.max_repeats and all(a == line for a in recent):
            self._count("repeated_action")
            return _withhold(fields, "FAIL", f"The same action was already taken {self.max_repeats} time(s) in a "
                                             "row without finishing the sub-task; repeating it again would loop")
        controls = tuple(Control(c["label"], c["control_text"], c["control_type"]) for c in prompt.controls)
        obs = Observation(title="", controls=controls, document=prompt.document or "")
        action = Action(str(fields.get("control_label") or ""), function, dict(fields.get("args") or {}),
                        "CONTINUE")
        unknown_text = prompt.document is None  # UFO sends no document text: its length-based rules cannot judge
        matches = sensitive_matches(action, obs, cfg.model_copy(update={"clear_document": False,
                                                                        "delete_threshold": None})
                                    if unknown_text else cfg)
        if unknown_text and cfg.clear_document and _clears_unknown_document(action):
            matches.append(SensitiveMatch("clear_document", "it selects all (Ctrl+A) and then deletes or types "
                                          "over it; the document's text is not in the prompt, so all of it may go"))
        if not matches:
            return fields
        why = "; ".join(f"{m.rule}: {m.reason}" for m in matches)
        what = describe_action(action, obs.by_label(action.control_label))
        rules = ", ".join(m.rule for m in matches)
        if cfg.mode == "allow":
            self._count("allowed")
            return {**fields, "comment": f"{fields.get('comment', '')} [safety: {rules} allowed by config]".strip()}
        if cfg.mode == "ask" and prompt.dialect in ("ufo", "ufo3"):
            self._count("confirm")
            return {**fields, "status": "CONFIRM",
                    "thought": f"{fields.get('thought', '')} This action is sensitive ({why}).".strip(),
                    "comment": f"Sensitive action, needs the user's confirmation before it runs: {what} ({why})."}
        self._count("refused")
        return _withhold(fields, "FAIL", f"refused by safety ({rules}): {what}: {why}")
