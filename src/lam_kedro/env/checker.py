"""``check_env``: the environment's contract test, in the spirit of Gymnasium's ``check_env``.

Run it on any ``WordEnv``-shaped object (a subclass, a wrapper, a remote proxy) before trusting
rollouts from it: it checks the shapes and types ``run_episode`` relies on, determinism, label
rules, that invalid actions are errors rather than exceptions, and that observations survive
JSON. It raises ``EnvContractError`` naming the first rule broken.
"""

from __future__ import annotations

import json
from typing import Any

from lam_kedro.env.types import Action, Observation, Task


class EnvContractError(AssertionError):
    """The environment breaks the reset/step contract; the message says which rule."""


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise EnvContractError(message)


def _check_observation(obs: Any, where: str) -> None:
    _require(isinstance(obs, Observation), f"{where}: observation must be an Observation, got {type(obs).__name__}")
    _require(isinstance(obs.title, str) and isinstance(obs.document, str), f"{where}: title/document must be str")
    _require(isinstance(obs.selection, str), f"{where}: selection must be str")
    _require(obs.error is None or isinstance(obs.error, str), f"{where}: error must be None or str")
    labels = [c.label for c in obs.controls]
    _require(len(set(labels)) == len(labels), f"{where}: control labels are not unique: {labels}")
    _require(labels == [str(i) for i in range(1, len(labels) + 1)], f"{where}: labels must be '1'..'n' in order")
    try:
        text = json.dumps(obs.to_dict())
    except (TypeError, ValueError) as err:
        raise EnvContractError(f"{where}: observation is not JSON-serialisable: {err}") from err
    _require(Observation.from_dict(json.loads(text)) == obs, f"{where}: observation does not round-trip JSON")


def _check_step(out: Any, where: str) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
    _require(isinstance(out, tuple) and len(out) == 5, f"{where}: step must return a 5-tuple")
    obs, reward, terminated, truncated, info = out
    _check_observation(obs, where)
    _require(isinstance(reward, float), f"{where}: reward must be a float, got {type(reward).__name__}")
    _require(isinstance(terminated, bool) and isinstance(truncated, bool), f"{where}: terminated/truncated must be bool")
    _require(isinstance(info, dict), f"{where}: info must be a dict")
    for key in ("task_id", "step", "invalid_actions"):
        _require(key in info, f"{where}: info lacks {key!r}")
    return obs, reward, terminated, truncated, info


def _probe_actions(obs: Observation) -> list[Action]:
    """A short, state-independent script: open a tab, go back, type, select, undo."""
    script: list[tuple[str, str, str, dict[str, Any]]] = [
        ("Insert", "TabItem", "click_input", {"button": "left", "double": False}),
        ("Home", "TabItem", "click_input", {"button": "left", "double": False}),
        ("Document", "Document", "keyboard_input", {"keys": "{END}Hi{ENTER}"}),
        ("Select All", "Button", "click_input", {"button": "left", "double": False}),
        ("Undo", "Button", "click_input", {"button": "left", "double": False}),
    ]
    labels = {(c.control_text, c.control_type): c.label for c in obs.controls}
    return [Action(labels.get((t, ty), "1"), fn, args) for t, ty, fn, args in script]


def check_env(env: Any, task: Task, seed: int = 0) -> None:
    """Raise ``EnvContractError`` unless ``env`` keeps the reset/step contract on ``task``."""
    out = env.reset(task, seed=seed)
    _require(isinstance(out, tuple) and len(out) == 2, "reset must return (observation, info)")
    obs, info = out
    _check_observation(obs, "reset")
    _require(isinstance(info, dict), "reset: info must be a dict")
    _require(obs.error is None, f"reset: the first observation carries an error: {obs.error}")
    _require(env.observation() == obs, "observation(): must equal what reset returned (labels stable in a state)")

    # Determinism: the same seed and actions give the same observations.
    actions = _probe_actions(obs)
    runs = []
    for _ in range(2):
        env.reset(task, seed=seed)
        runs.append([_check_step(env.step(a), f"step {a.function} on {a.control_label}")[0] for a in actions])
    _require(runs[0] == runs[1], "two runs with the same seed and actions gave different observations")

    # Invalid actions: an error observation, a count, no exception, no change.
    env.reset(task, seed=seed)
    before = env.observation()
    bad: list[Any] = [
        Action("9999", "click_input", {"button": "left", "double": False}),
        Action(before.controls[0].label, "no_such_function", {}),
        Action(before.controls[0].label, "select_text", {"text": "x"}),
        {"control_label": "1"},
        {"control_label": "1", "function": "click_input", "args": "not a dict"},
    ]
    doc_label = next((c.label for c in before.controls if c.control_type == "Document"), None)
    if doc_label is not None:
        bad += [
            Action(doc_label, "select_text", {"text": "\x00 not in the document \x00"}),
            Action(doc_label, "select_table", {"number": 10_000}),
            Action(doc_label, "keyboard_input", {"keys": "{NO_SUCH_KEY}"}),
            Action(doc_label, "insert_table", {"rows": "two"}),
        ]
    for i, a in enumerate(bad, start=1):
        try:
            obs, _, terminated, truncated, info = _check_step(env.step(a), f"invalid action {a!r}")
        except EnvContractError:
            raise
        except Exception as err:  # noqa: BLE001 - the contract is precisely "never raises"
            raise EnvContractError(f"step raised {type(err).__name__} on invalid action {a!r}: {err}") from err
        _require(bool(obs.error), f"invalid action {a!r} gave no error in the observation")
        _require(info["invalid_actions"] == i, f"invalid action {a!r} was not counted (info {info})")
        _require(obs.controls == before.controls and obs.document == before.document,
                 f"invalid action {a!r} changed the state")
        if terminated or truncated:
            break

    # Termination: FINISH ends the episode with a float reward and the checker's verdict.
    env.reset(task, seed=seed)
    _, reward, terminated, _, info = _check_step(env.step(Action("", "", {}, status="FINISH")), "FINISH")
    _require(terminated, "status FINISH must terminate the episode")
    _require(reward in (0.0, 1.0), f"reward must be 0.0 or 1.0, got {reward}")
    _require("success" in info and "check_reason" in info, "the terminating step's info needs success and check_reason")
