"""Adding a function is one table entry plus its handlers: a toy function, added by monkeypatching
only the table and the two backends' handlers, shows in the prompt's list, ``VALID_ON``, validation,
the decoder's allowed values, both backends' dispatch and the random policy, with no other edit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import RandomPolicy, TextPolicy
from lam_kedro.agent.prompt import parse_action_output, step_messages
from lam_kedro.agent.schema import Step
from lam_kedro.env import Task, WordEnv
from lam_kedro.env.action_table import (
    ACTIONS,
    ARG_CHOICES,
    READ_ONLY,
    SIGNATURES,
    VALID_ON,
    ActionSpec,
    Arg,
    action_handler,
)
from lam_kedro.env.actions import validate_args
from lam_kedro.env.types import Action, Control, Observation
from lam_kedro.env.ui import WordUI
from lam_kedro.env.uia.dispatch import HANDLERS as UIA_HANDLERS
from lam_kedro.env.uia.dispatch import dispatch as uia_dispatch

TOY = ActionSpec(
    "toy_note", (Arg("text", str), Arg("tone", str, "calm", ("calm", "sharp")), Arg("loud", bool, False)),
    valid_on=frozenset({"Document"}), read_only=True, description="leave a toy note.",
    handlers={"word": "toy_note", "uia": "toy_note"},
)
LINE = '- toy_note(text: str, tone: "calm" | "sharp", loud: bool): leave a toy note.'


@action_handler
def _word_toy_note(self: WordUI, spec: Any, text: str, tone: str = "calm", loud: bool = False) -> str:
    return f"{tone} note: {text.upper() if loud else text}"


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> ActionSpec:
    monkeypatch.setitem(ACTIONS, TOY.name, TOY)
    monkeypatch.setattr(WordUI, "toy_note", _word_toy_note, raising=False)
    monkeypatch.setitem(UIA_HANDLERS, "toy_note", lambda target, args: f"uia note: {args['text']}")
    return TOY


def _task() -> Task:
    from lam_kedro.env.tasks import sample_task
    from lam_kedro.env.templates import builtin_templates

    task = sample_task("bold_text", builtin_templates()[1], seed=0)
    assert task is not None
    return task


def test_the_toy_shows_in_the_prompt_views_and_validation(toy: ActionSpec) -> None:
    system = step_messages("r", [], [], [])[0]["content"]
    assert LINE + "\n\nAnswer with ONE JSON object" in system
    assert VALID_ON["toy_note"] == frozenset({"Document"}) and "toy_note" in READ_ONLY
    assert list(SIGNATURES["toy_note"]) == ["text", "tone", "loud"] and ARG_CHOICES["tone"] == ("calm", "sharp")
    assert validate_args("toy_note", {"text": "hi"}) == {"text": "hi", "tone": "calm", "loud": False}
    with pytest.raises(Exception, match="'calm' or 'sharp'"):
        validate_args("toy_note", {"text": "hi", "tone": "mild"})
    parsed = parse_action_output(json.dumps({"function": "toy_note", "args": {"text": "x"}, "status": "CONTINUE",
                                             "control_label": "1"}))
    assert parsed.ok, parsed.error
    assert Step(index=0, observation={}, function="toy_note").function == "toy_note"


def test_the_toy_runs_in_the_simulated_word_and_uia(toy: ActionSpec) -> None:
    env = WordEnv()
    obs, _ = env.reset(_task(), seed=0)
    doc = obs.find("Document", "Document")
    button = next(c for c in obs.controls if c.control_type == "Button")
    obs, _, _, _, info = env.step(Action(doc.label, "toy_note", {"text": "hi", "loud": True}))
    assert obs.error is None and info["result"] == "calm note: HI"
    obs, *_ = env.step(Action(button.label, "toy_note", {"text": "hi"}))
    assert "toy_note is not supported by control" in obs.error

    class Target:
        control_text, control_type = "Document", "Document"

    assert uia_dispatch(Action("1", "toy_note", {"text": "hi"}), {"1": Target()}) == "uia note: hi"


def test_the_random_policy_draws_the_toy_with_valid_args(toy: ActionSpec) -> None:
    policy = RandomPolicy(seed=1, finish_prob=0.0)
    policy.reset(_task())
    obs = Observation("t", (Control("1", "Document", "Document"),), "some words here")
    drawn = [policy.act(obs).action for _ in range(60)]
    toys = [a for a in drawn if a.function == "toy_note"]
    assert toys
    for a in toys:
        validate_args("toy_note", a.args)


def test_the_decoder_allows_the_toy_and_emits_it(toy: ActionSpec) -> None:
    pytest.importorskip("torch")
    from lam_kedro.model.decoder import ActionDecoder
    from tests.evaluation.conftest import make_tasks, tiny_bundle

    assert ActionDecoder._finite_args("toy_note") is None  # a free text argument: decoded, not listed
    decoder = ActionDecoder(tiny_bundle(), functions=("toy_note",), max_new_tokens=64)
    assert ActionDecoder(tiny_bundle(), max_new_tokens=8).functions[-1] == "toy_note"  # the default: the table
    env = WordEnv(max_steps=4)
    traj = run_episode(env, TextPolicy(decoder, name="lam", on_parse_error="continue"), make_tasks(1)[0], seed=0)
    functions = [json.loads(s.raw_output)["function"] for s in traj.steps]
    assert "toy_note" in functions and set(functions) <= {"toy_note", ""}
    accepted = [s for s in traj.steps if s.function == "toy_note" and s.error is None]
    for s in accepted:  # run by the simulated Word's toy handler
        assert s.result.startswith("calm note: ") or s.result.startswith("sharp note: ")
