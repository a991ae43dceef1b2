"""The safety layer between a policy and the application: allowlist, sensitive actions, limits.

(Over 400 lines on purpose: the rules, their config and the ``SafePolicy`` wrapper are read together when auditing what a served policy may do.)

The paper leaves safety open ("the LAM acts on a real machine"); here every action a served
policy proposes passes through ``SafePolicy`` before the environment sees it:

- **allowlist**: a function outside ``SafetyConfig.allowed_functions`` is refused, always;
- **sensitive actions** (``sensitive_matches``): closing the document (the simulated Word's
  *Close* never saves; real Word's ``Alt+F4`` / ``Ctrl+W`` / *Don't Save* too), clearing the
  whole document, deleting more than ``delete_threshold`` characters at once, and any rule the
  user adds (``SensitiveRule``: function, control text, control type and argument patterns).
  With ``mode="ask"`` the ``confirm`` callback decides (``click.confirm`` in ``lam agent``);
  without a callback (unattended) and with ``mode="refuse"`` the action is refused;
  ``mode="allow"`` lets it through and records that it did;
- **limits**: at most ``max_steps`` decisions per episode and ``step_timeout_s`` seconds per
  decision.

A refused action is **not sent to the environment**: the step becomes a status-only step
(``function=""``) whose ``error`` starts with ``refused by safety`` and names the rule and the
proposed action, so the trajectory shows it; the episode then continues (``on_refusal=
"continue"``; the next observation the inner policy sees carries the refusal as its error, so a
model reads it in ``<Previous Actions:>`` and can choose differently) or stops with FAIL
(``on_refusal="stop"``). Confirmations and allowed sensitive actions are noted in the step's
thought. ``SafePolicy.events`` lists every refusal, confirmation, timeout and limit of the
episode.

**Model output is parsed, never executed.** A model's text becomes an action only through
``agent.prompt.parse_action_output`` (a JSON object -> one of the nine known function names
with an argument dict, validated again by the environment); nothing in the agent loop, the
policies or this module evaluates, imports or runs any part of it.

**Timeouts** run the inner policy's ``act`` in a daemon worker thread and stop waiting after
``step_timeout_s``. Python cannot kill a thread, so a generation that overruns is *abandoned*,
not killed: it finishes in the background (its result is discarded; being a daemon thread, it
never keeps the process alive), the step becomes a FAIL and the episode ends, because the inner
policy's state is no longer known. The decoders check no deadline of their own, so this is the
one place a hung generation is cut off.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lam_kedro.agent.policies import Decision, Policy, join_errors
from lam_kedro.env.action_table import FUNCTIONS
from lam_kedro.env.actions import ActionError, parse_keys
from lam_kedro.env.types import Action, Control, Observation, Task

__all__ = [
    "BUILTIN_RULES",
    "Confirm",
    "ConfirmationRequest",
    "SafePolicy",
    "SafetyConfig",
    "SafetyEvent",
    "SensitiveMatch",
    "SensitiveRule",
    "describe_action",
    "sensitive_matches",
]

#: The built-in sensitive-action rules (each can be switched off in ``SafetyConfig``).
BUILTIN_RULES: tuple[str, ...] = ("close_without_saving", "clear_document", "delete_chars")

#: On-screen texts of controls that close the document or discard it (lower case).
CLOSE_TEXTS: frozenset[str] = frozenset(
    ("close", "close document", "close window", "exit", "exit word", "don't save", "do not save", "discard")
)
#: Key strings that close a window or a document in Word (pywinauto syntax): Alt+F4, Ctrl+F4, Ctrl+W.
_CLOSE_KEYS = re.compile(r"[%^]\{F4\}|\^w", re.IGNORECASE)
#: Share of the document body a removal must cover to count as clearing the document.
_CLEAR_SHARE = 0.9


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SensitiveRule(_Strict):
    """A user-defined sensitive action: every pattern that is given must match.

    ``function`` and ``control_text`` are regular expressions matched against the whole function
    name and the whole on-screen text of the target control (case-insensitively);
    ``control_type`` is compared exactly (``Button``, ``ListItem`` ...); ``args`` is a regular
    expression searched in the arguments as compact JSON with sorted keys, e.g.
    ``'"keys": "\\^a'`` for key strings that start with Ctrl+A.
    """

    name: str = Field(min_length=1)
    description: str = ""
    function: str | None = None
    control_text: str | None = None
    control_type: str | None = None
    args: str | None = None

    @field_validator("function", "control_text", "args")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as err:
                raise ValueError(f"not a valid regular expression ({err}): {v!r}") from err
        return v

    def matches(self, action: Action, control: Control | None) -> bool:
        """Whether ``action`` on ``control`` (``None``: not visible) is what this rule describes."""
        if self.function is not None and not re.fullmatch(self.function, action.function, re.IGNORECASE):
            return False
        text = control.control_text if control else ""
        if self.control_text is not None and not re.fullmatch(self.control_text, text, re.IGNORECASE):
            return False
        if self.control_type is not None and (control is None or control.control_type != self.control_type):
            return False
        if self.args is not None:
            dumped = json.dumps(action.args, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
            if not re.search(self.args, dumped):
                return False
        return True


class SafetyConfig(_Strict):
    """What a served agent may do; the defaults suit an unattended run of a trained LAM.

    ``delete_threshold``: removing more than this many characters in one action is sensitive
    (``None`` switches the rule off; 200 is more than any paragraph of the built-in templates,
    so single-paragraph edits pass). ``step_timeout_s``: ``None`` waits for ever.
    """

    allowed_functions: list[str] = Field(default_factory=lambda: list(FUNCTIONS))
    mode: Literal["ask", "refuse", "allow"] = "ask"
    on_refusal: Literal["continue", "stop"] = "continue"
    max_steps: int = Field(30, ge=1)
    step_timeout_s: float | None = Field(60.0, gt=0)
    delete_threshold: int | None = Field(200, ge=0)
    close_without_saving: bool = True
    clear_document: bool = True
    rules: list[SensitiveRule] = Field(default_factory=list)

    @field_validator("allowed_functions")
    @classmethod
    def _known_functions(cls, v: list[str]) -> list[str]:
        unknown = [f for f in v if f not in FUNCTIONS]
        if unknown:
            raise ValueError(f"unknown function(s) {unknown}; the environment's functions are {list(FUNCTIONS)}")
        return list(dict.fromkeys(v))

    @classmethod
    def from_file(cls, path: str | Path) -> SafetyConfig:
        """Read a YAML or JSON file of these fields; a bad key or value names itself."""
        import yaml

        path = Path(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a safety config is a mapping of settings, not {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValueError as err:
            raise ValueError(f"{path}: invalid safety config:\n{err}") from err


@dataclass(frozen=True, slots=True)
class SensitiveMatch:
    """One sensitive-action rule an action triggers, and why."""

    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class SafetyEvent:
    """What the safety layer did at a step (``step`` is the trajectory's ``Step.index``):
    ``refused``, ``confirmed``, ``allowed``, ``timeout`` or ``step_limit``; ``rule`` is the rule
    (``allowlist`` for a function outside it)."""

    step: int
    kind: str
    rule: str
    detail: str


@dataclass(frozen=True, slots=True)
class ConfirmationRequest:
    """What ``confirm`` is asked about: the proposed action at step ``step`` (``Step.index``),
    the control it targets, and why it is sensitive."""

    step: int
    action: Action
    control: Control | None
    matches: tuple[SensitiveMatch, ...]
    thought: str = ""

    def describe(self) -> str:
        """One line for a person: the action, then each rule with its reason."""
        why = "; ".join(f"{m.rule}: {m.reason}" for m in self.matches)
        return f"step {self.step}: {describe_action(self.action, self.control)} ({why})"


#: ``confirm(request) -> bool``: whether a person allows a sensitive action.
Confirm = Callable[[ConfirmationRequest], bool]


def describe_action(action: Action, control: Control | None = None) -> str:
    """``click_input({"button": "left"}) on 14 'Close' (ListItem)``: an action as a person reads it."""
    args = json.dumps(action.args, ensure_ascii=False)
    where = f" on {action.control_label}" if action.control_label else ""
    if control is not None:
        where += f" '{control.control_text}' ({control.control_type})"
    return f"{action.function}({args}){where}"


# ---------------------------------------------------------------------------- detection


def _body_length(document: str) -> int:
    """Characters of the body text in an observation's document view (no table rows or
    ``[Header]``-style annotation lines), an estimate of what Select All selects."""
    lines = [ln for ln in document.split("\n") if not ln.startswith(("| ", "["))]
    return len("\n".join(lines).strip())


def _removal(action: Action, control: Control | None, obs: Observation) -> tuple[int, bool]:
    """``(characters the action removes from the document, whether it selects all first)``.

    Follows the simulated Word: in the document body, Delete / Backspace remove the selection
    (or one character), typed text and Enter replace the selection, Ctrl+X cuts it, Ctrl+A
    selects everything; ``set_edit_text`` on the body replaces the selection; the *Cut* button
    cuts it. A key string the environment cannot parse removes nothing (it is refused whole).
    """
    selected = len(obs.selection)
    if action.function == "click_input" and control is not None and control.control_text == "Cut":
        return selected, False
    if control is None or control.control_type != "Document":
        return 0, False
    if action.function == "set_edit_text":
        return selected, False
    if action.function != "keyboard_input":
        return 0, False
    try:
        keys = parse_keys(str(action.args.get("keys", "")))
    except ActionError:
        return 0, False
    whole = _body_length(obs.document)
    removed, select_all, sel = 0, False, selected
    for k in keys:
        ctrl = "^" in k.mods
        if ctrl and k.name == "a":
            sel, select_all = whole, True
        elif (ctrl and k.name == "x") or (not ctrl and (k.name == "" or k.name in ("ENTER", "TAB"))):
            removed, sel = removed + sel, 0
        elif not ctrl and k.name in ("DELETE", "BACKSPACE"):
            removed, sel = removed + (sel or 1), 0
        elif k.name in ("HOME", "END", "LEFT", "RIGHT", "UP", "DOWN") and "+" not in k.mods:
            sel = 0
    return removed, select_all and removed > 0


def sensitive_matches(action: Action, obs: Observation, config: SafetyConfig) -> list[SensitiveMatch]:
    """Every sensitive-action rule of ``config`` that ``action`` triggers in state ``obs``.

    ``obs`` is the observation the action was chosen in (its selection and document decide how
    much a deletion removes).
    """
    if not action.function:
        return []
    control = obs.by_label(str(action.control_label))
    out: list[SensitiveMatch] = []
    if config.close_without_saving:
        text = control.control_text.strip().lower() if control else ""
        # A dialog's own Close (Find and Replace, Word Count) only dismisses the dialog: while a
        # dialog is open, the document body is not among the visible controls.
        body_visible = any(c.control_type == "Document" for c in obs.controls)
        if action.function == "click_input" and text in CLOSE_TEXTS and (
            body_visible or control is not None and control.control_type in ("ListItem", "MenuItem")
        ):
            out.append(SensitiveMatch("close_without_saving",
                                      f"'{control.control_text}' closes the document without saving it"))
        elif action.function == "keyboard_input" and _CLOSE_KEYS.search(str(action.args.get("keys", ""))):
            out.append(SensitiveMatch("close_without_saving",
                                      f"the keys {action.args.get('keys')!r} close the window or document"))
    removed, select_all = _removal(action, control, obs)
    whole = _body_length(obs.document)
    if config.clear_document and removed and (select_all or removed >= _CLEAR_SHARE * whole > 0):
        out.append(SensitiveMatch("clear_document", f"it removes the whole document text ({removed} characters)"))
    if config.delete_threshold is not None and removed > config.delete_threshold:
        out.append(SensitiveMatch("delete_chars",
                                  f"it removes {removed} characters (more than {config.delete_threshold})"))
    for rule in config.rules:
        if rule.matches(action, control):
            out.append(SensitiveMatch(rule.name, rule.description or f"matches the rule {rule.name!r}"))
    return out


# ---------------------------------------------------------------------------- the wrapper


def _status_only(decision: Decision, status: str, error: str) -> Decision:
    """``decision`` with its action withheld: a status-only step carrying ``error``."""
    return Decision(
        action=Action("", "", {}, status),
        thought=decision.thought,
        plan=list(decision.plan),
        control_name="",
        raw_output=decision.raw_output,
        error=join_errors(decision.error, error),
    )


class SafePolicy:
    """Wraps any ``Policy`` (``name``, ``reset``, ``act``) with the checks of ``config``.

    ``confirm`` is asked about sensitive actions when ``config.mode`` is ``ask``; ``None`` means
    nobody is there to ask (unattended), so they are refused. See the module docstring for what
    a refusal, a confirmation and a timeout look like in the trajectory.
    """

    def __init__(self, policy: Policy, config: SafetyConfig | None = None, confirm: Confirm | None = None) -> None:
        self.policy = policy
        self.config = config or SafetyConfig()
        self.confirm = confirm
        self.name = policy.name
        self.events: list[SafetyEvent] = []
        self._step = 0
        self._note: str | None = None
        self._abandoned = False

    def reset(self, task: Task) -> None:
        self.events = []
        self._step = 0
        self._note = None
        self._abandoned = False
        self.policy.reset(task)

    # -- helpers ------------------------------------------------------------------------------
    def _event(self, kind: str, rule: str, detail: str) -> None:
        self.events.append(SafetyEvent(self._step - 1, kind, rule, detail))

    def _fail(self, kind: str, message: str) -> Decision:
        self._event(kind, kind, message)
        return Decision(action=Action("", "", {}, "FAIL"), thought=message, error=message)

    def _timed_act(self, obs: Observation) -> Decision:
        """The inner policy's decision, or a FAIL when it takes longer than ``step_timeout_s``."""
        timeout = self.config.step_timeout_s
        if timeout is None:
            return self.policy.act(obs)
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["decision"] = self.policy.act(obs)
            except BaseException as err:  # re-raised in the caller's thread
                box["error"] = err
            finally:
                done.set()

        threading.Thread(target=run, name=f"safe-policy-step-{self._step - 1}", daemon=True).start()
        if not done.wait(timeout):
            self._abandoned = True
            return self._fail(
                "timeout",
                f"step timed out: the policy gave no action within {timeout:g} s; its thread is abandoned "
                "(it cannot be killed) and the episode stops",
            )
        if "error" in box:
            raise box["error"]
        return box["decision"]

    def _refuse(self, decision: Decision, rule: str, detail: str) -> Decision:
        message = f"refused by safety ({rule}): {detail}"
        self._event("refused", rule, detail)
        self._note = message
        status = "FAIL" if self.config.on_refusal == "stop" else "CONTINUE"
        return _status_only(decision, status, message)

    # -- the Policy protocol ------------------------------------------------------------------
    def act(self, obs: Observation) -> Decision:
        """The inner policy's decision after the allowlist, sensitive-action and limit checks."""
        self._step += 1
        if self._abandoned:
            return self._fail("timeout", "an earlier step timed out; the policy is not asked again")
        if self._step > self.config.max_steps:
            return self._fail("step_limit", f"step limit reached: at most {self.config.max_steps} steps")
        inner_obs = obs
        if self._note is not None:  # the inner policy learns that its last action was refused
            inner_obs = dataclasses.replace(obs, error=join_errors(obs.error, self._note))
            self._note = None
        decision = self._timed_act(inner_obs)
        action = decision.action
        if not action.function:
            return decision
        control = obs.by_label(str(action.control_label))
        described = describe_action(action, control)
        if action.function not in self.config.allowed_functions:
            allowed = ", ".join(self.config.allowed_functions) or "none"
            return self._refuse(decision, "allowlist",
                                f"{described}: {action.function} is not an allowed function (allowed: {allowed})")
        matches = sensitive_matches(action, obs, self.config)
        if not matches:
            return decision
        rules = ", ".join(m.rule for m in matches)
        why = "; ".join(m.reason for m in matches)
        if self.config.mode == "allow":
            self._event("allowed", rules, f"{described}: {why}")
            return dataclasses.replace(decision, thought=f"{decision.thought} [safety: {rules} allowed by config]")
        if self.config.mode == "ask" and self.confirm is not None:
            request = ConfirmationRequest(self._step - 1, action, control, tuple(matches), decision.thought)
            if self.confirm(request):
                self._event("confirmed", rules, f"{described}: {why}")
                return dataclasses.replace(decision,
                                           thought=f"{decision.thought} [safety: {rules} confirmed by the user]")
            return self._refuse(decision, rules, f"{described}: {why}; the user declined")
        unattended = "mode is refuse" if self.config.mode == "refuse" else "unattended: nobody to confirm"
        return self._refuse(decision, rules, f"{described}: {why} ({unattended})")
