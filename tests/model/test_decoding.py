"""Constrained action decoding over a real (tiny, untrained) causal LM: whatever the model's
weights, the output is valid action JSON naming only what the prompt offers."""

from __future__ import annotations

import json

import pytest

from lam_kedro.agent import run_episode
from lam_kedro.agent.policies import TextPolicy
from lam_kedro.agent.prompt import ACTION_KEYS, parse_action_output, plan_messages, step_messages
from lam_kedro.agent.slots import PromptSlots
from lam_kedro.env import WordEnv
from lam_kedro.env.action_table import VALID_ON
from lam_kedro.model.decoder import ActionDecoder, make_action_generate
from lam_kedro.model.grammar import scan_string
from lam_kedro.model.reading import plan_quotes, requested_names, sibling_sets
from lam_kedro.serving.models import lam_generate
from tests.evaluation.conftest import make_tasks, tiny_bundle


@pytest.fixture(scope="module")
def bundle():
    return tiny_bundle()


def _episode_outputs(decoder, n_tasks: int = 2, max_steps: int = 6):
    env = WordEnv(max_steps=max_steps)
    steps = []
    for task in make_tasks(n_tasks):
        traj = run_episode(env, TextPolicy(decoder, name="lam", on_parse_error="continue"), task, seed=0)
        steps += traj.steps
    return steps


def test_every_answer_is_valid_action_json_with_a_visible_label(bundle):
    steps = _episode_outputs(ActionDecoder(bundle, max_new_tokens=96))
    assert len(steps) >= 2
    for step in steps:
        obj = json.loads(step.raw_output)
        assert list(obj) == list(ACTION_KEYS)
        parsed = parse_action_output(step.raw_output, step.observation["controls"])
        assert parsed.ok, (parsed.error, step.raw_output)
        if parsed.function:
            control = next(c for c in step.observation["controls"] if c["label"] == parsed.control_label)
            assert parsed.control_name == control["control_text"]  # forced from the label
            allowed = VALID_ON[parsed.function]
            assert allowed is None or control["control_type"] in allowed
        # the environment accepted it too: no "unknown label" / "not supported" errors
        assert step.error is None or "control_label" not in step.error


def test_function_allowlist_is_respected(bundle):
    decoder = ActionDecoder(bundle, functions=("summary",), max_new_tokens=64)
    for step in _episode_outputs(decoder, n_tasks=1, max_steps=4):
        assert json.loads(step.raw_output)["function"] in ("summary", "")


def test_unknown_function_in_allowlist_is_an_error(bundle):
    with pytest.raises(ValueError, match="unknown function"):
        ActionDecoder(bundle, functions=("click_input", "rm_rf"))


def test_prefix_cache_changes_speed_not_answers(bundle):
    cached, fresh = ActionDecoder(bundle, max_new_tokens=64), ActionDecoder(bundle, max_new_tokens=64,
                                                                           prefix_cache=False)
    a = [s.raw_output for s in _episode_outputs(cached, n_tasks=2, max_steps=4)]
    b = [s.raw_output for s in _episode_outputs(fresh, n_tasks=2, max_steps=4)]
    assert a == b
    assert cached.last_stats.reused_prompt_tokens > 0
    assert fresh.last_stats.reused_prompt_tokens == 0


def test_skeleton_is_forced_not_sampled(bundle):
    decoder = ActionDecoder(bundle, max_new_tokens=64)
    task = make_tasks(1)[0]
    env = WordEnv(max_steps=5)
    obs, _ = env.reset(task.to_env_task(), seed=0)
    decoder(step_messages(task.task, obs.controls, [], list(task.plan)))
    stats = decoder.last_stats
    assert stats.forced_tokens > stats.sampled_tokens
    assert stats.forward_passes < stats.completion_tokens


def test_sampling_is_reproducible_with_a_seed(bundle):
    task = make_tasks(1)[0]
    obs, _ = WordEnv(max_steps=5).reset(task.to_env_task(), seed=0)
    messages = step_messages(task.task, obs.controls, [], [])
    runs = [ActionDecoder(bundle, do_sample=True, temperature=1.5, seed=7, max_new_tokens=64)(messages)
            for _ in range(2)]
    assert runs[0] == runs[1]
    assert parse_action_output(runs[0], obs.controls).ok


def test_a_plan_copies_each_quote_it_opens_from_the_request(bundle):
    """A plan prompt (no controls): the model writes the plan, but every quote it opens is one of
    the request's quotes as written, closed right after (an untrained model, sampled)."""
    request = 'Make "Quarterly results" bold and underline "Acme Corporation Annual Report".'
    messages = plan_messages(request)
    assert messages.slots.controls is None and messages.slots.request == request  # a plan prompt, as data
    allowed = set(plan_quotes(request))
    assert allowed == {"Quarterly results", "Acme Corporation Annual Report"}
    opened = 0
    for seed in range(12):
        out = ActionDecoder(bundle, max_new_tokens=40, do_sample=True, temperature=2.0, seed=seed)(messages)
        assert isinstance(out, str)
        parts = out.split('"')
        inner = parts[1::2] if len(parts) % 2 else parts[1:-1:2]  # an unclosed last quote is cut by the budget
        assert all(q in allowed for q in inner), out
        opened += len(inner)
    assert opened  # the untrained model opens quotes now and then: each was a copy


def test_a_plan_step_clicks_the_sibling_the_request_names():
    assert any({"Header", "Footer"} <= group for group in sibling_sets())  # the Insert tab's controls
    bold = "I want the words \"exclamation\" to stand out - make them bold please"
    assert requested_names("On the Home tab, in the Font group, click Underline.", bold) == (
        "On the Home tab, in the Font group, click Bold.")
    footer = 'Add the footer "For internal use only".'
    assert requested_names("On the Insert tab, in the Header & Footer group, click Header.", footer) == (
        "On the Insert tab, in the Header & Footer group, click Footer.")
    assert requested_names("Click Edit Header.", footer) == "Click Edit Footer."  # a name made of a sibling's
    assert requested_names("Choose Green.", 'Highlight "x" in yellow.') == "Choose Yellow."
    # what the request names, and what is not clicked or chosen, stays as the model wrote it
    assert requested_names("On the Home tab, in the Font group, click Bold.", bold) == (
        "On the Home tab, in the Font group, click Bold.")
    assert requested_names('Select the text "exclamation".', bold) == 'Select the text "exclamation".'
    assert requested_names("Click Close Header and Footer.", footer) == "Click Close Header and Footer."
    # two siblings named: no single answer, the step is kept
    assert requested_names("Click Underline.", 'Make the title bold and underlined: "x"') == "Click Underline."
    # the request's quotes are the user's words, not names; a name an earlier step clicks is spent
    assert requested_names("Click Justify.", 'Align "cut costs" to both margins.') == "Click Justify."
    assert requested_names("Click Page Number.", 'Set the header to "x" and add page numbers at the top.',
                           earlier="Click Header.") == "Click Page Number."
    # a control that opens the menu of what the request asks for is kept ("Orientation" for landscape)
    assert requested_names("Click Orientation.", "Switch to landscape and use Wide margins.") == "Click Orientation."


def test_a_reference_plan_is_left_as_it_is():
    """The rule only ever replaces a wrong control: every step of the families' own plans, for 600
    sampled tasks of every family, comes back unchanged."""
    from lam_kedro.agent.schema import InstantiatedTask
    from lam_kedro.env import builtin_templates, get_family
    from lam_kedro.env.tasks import sample_tasks

    for t in sample_tasks([x.name for x in builtin_templates()], 600, seed=5):
        plan = get_family(t.family).plan(t.params)
        request = InstantiatedTask.from_env_task(t, plan=plan).task
        for k, step in enumerate(plan):
            assert requested_names(step, request, "\n".join(plan[:k])) == step, (t.family, request, step)


def test_a_plan_prompt_is_plain_generation_without_copy_values(bundle):
    decoder = make_action_generate(bundle, max_new_tokens=16, copy_values=False)
    out = decoder(plan_messages("Make the title bold"))
    assert isinstance(out, str)


def test_lam_generate_picks_the_decoder(bundle):
    assert isinstance(lam_generate(bundle, {"constrained": True, "max_new_tokens": 8}), ActionDecoder)
    assert not isinstance(lam_generate(bundle, {"constrained": False, "max_new_tokens": 8}), ActionDecoder)


def test_a_step_prompt_carries_its_slots_as_data():
    controls = [{"label": "1", "control_text": 'Say "hi"', "control_type": "Button"},
                {"label": "12", "control_text": "Ünïcode", "control_type": "Edit"}]
    messages = step_messages(" do it ", controls, ["click_input on \"x\""], ["step"], observed="Page")
    assert messages.slots == PromptSlots("do it", tuple(controls), ("1. step",), "Page")
    assert [dict(m) for m in messages] == messages  # a plain list of chat messages to everything else


def test_the_decoder_does_not_read_the_prompt_text(bundle, monkeypatch):
    """Renaming the controls header (or any slot's) changes the prompt, not the constraints."""
    from lam_kedro.agent import prompt, slots

    monkeypatch.setitem(slots.HEADERS, "controls_slot", "<Controls:>")
    monkeypatch.setitem(slots.HEADERS, "plan_slot", "<Plan so far:>")
    prompt.load_prompt.cache_clear()
    try:
        task = make_tasks(1)[0]
        obs, _ = WordEnv(max_steps=5).reset(task.to_env_task(), seed=0)
        plan = ["1. On the Home tab, click Bold.", "2. Click Italic."]
        messages = step_messages(task.task, obs.controls, [], plan)
        assert "<Controls:>" in messages[1]["content"] and slots.CONTROLS_SLOT not in messages[1]["content"]
        obj = json.loads(ActionDecoder(bundle, max_new_tokens=48)(messages))
        assert obj["thought"].startswith("On the Home tab, click Bold.") and obj["plan"] in (plan, plan[1:])
        assert parse_action_output(json.dumps(obj), obs.controls).ok
    finally:
        prompt.load_prompt.cache_clear()


@pytest.mark.parametrize(
    ("piece", "escaped", "expected"),
    [
        ("plain words", False, (True, None, False)),
        ('end" here', False, (True, 3, False)),
        ('\\"quoted', False, (True, None, False)),
        ("tail\\", False, (True, None, True)),
        ('"', True, (True, None, False)),  # the escaped quote of a previous backslash
        ("x", True, (False, None, True)),  # \x is no JSON escape
        ("line\nbreak", False, (False, None, False)),
    ],
)
def test_string_scanner(piece, escaped, expected):
    assert scan_string(piece, escaped) == expected


def _ready_decoder(bundle, **kwargs):
    """A decoder with a step prompt prefilled and the thought written: at the control decision."""
    from lam_kedro.model.generation import encode_prompt
    from lam_kedro.model.grammar import DecodeStats

    task = make_tasks(1)[0]
    obs, _ = WordEnv(max_steps=5).reset(task.to_env_task(), seed=0)
    messages = step_messages(task.task, obs.controls, [], list(task.plan))
    decoder = ActionDecoder(bundle, max_new_tokens=64, **kwargs)
    decoder._stats, decoder._out, decoder._pending = DecodeStats(), [], ""
    ids = encode_prompt(bundle, messages)
    decoder._prefill(ids)
    decoder._force('{"thought": "Plan step 1: click it.", "control_label": "', heal=False)
    return decoder, ids, obs.controls


@pytest.mark.parametrize("shared", ["", "Plan step 2: choose "])
def test_candidate_scores_are_the_log_probabilities_of_separate_forward_passes(bundle, shared):
    import torch

    decoder, ids, controls = _ready_decoder(bundle)
    length, logits = decoder._cache.get_seq_length(), decoder._logits.clone()
    candidates = [f'{shared}{c.label}", "control_name": {json.dumps(c.control_text)}' for c in controls[:5]]
    candidates.append(shared + '"')
    scores = decoder._scores(candidates)
    assert decoder._cache.get_seq_length() == length  # the candidates' positions are cropped again
    assert torch.equal(decoder._logits, logits)
    top2 = decoder._scores(candidates, top=2)  # only the model's two likeliest are scored, the same way
    kept = [i for i, s in enumerate(top2) if s != float("-inf")]
    assert 2 <= len(kept) < len(candidates) and all(top2[i] == pytest.approx(scores[i], abs=1e-4) for i in kept)
    context = ids + bundle.tokenizer.encode("".join(decoder._out), add_special_tokens=False)
    for candidate, score in zip(candidates, scores, strict=True):
        cand = bundle.tokenizer.encode(candidate, add_special_tokens=False)
        with torch.inference_mode():
            logits = bundle.model(input_ids=torch.tensor([context + cand])).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        expected = sum(float(logp[len(context) + j - 1, t]) for j, t in enumerate(cand))
        assert score == pytest.approx(expected, abs=1e-3)


def test_label_only_choice_is_still_valid(bundle):
    """``score_controls=0``: the label is chosen token by token, as before joint scoring."""
    for step in _episode_outputs(ActionDecoder(bundle, max_new_tokens=64, score_controls=0), n_tasks=1):
        parsed = parse_action_output(step.raw_output, step.observation["controls"])
        assert parsed.ok, (parsed.error, step.raw_output)


def test_thought_and_plan_are_copied_from_the_previous_plan(bundle):
    """With a plan in the prompt, the thought opens with one of its steps and the plan is a suffix of it."""
    task = make_tasks(1)[0]
    obs, _ = WordEnv(max_steps=5).reset(task.to_env_task(), seed=0)
    plan = ["1. On the Home tab, click Bold.", "2. Click Italic."]
    messages = step_messages(task.task, obs.controls, [], plan)
    assert list(messages.slots.plan) == plan
    for decoder in (ActionDecoder(bundle, max_new_tokens=48),
                    ActionDecoder(bundle, max_new_tokens=48, do_sample=True, temperature=2.0, seed=3)):
        obj = json.loads(decoder(messages))
        assert obj["thought"].startswith("On the Home tab, click Bold.")
        assert obj["plan"] in (plan, plan[1:])
    free = json.loads(ActionDecoder(bundle, max_new_tokens=48, copy_plan=False)(messages))
    assert isinstance(free["plan"], list)


def test_plan_slot_reads_none_as_empty():
    assert step_messages("do it", [], [], []).slots.plan == ()
    # the items as the prompt lists them: numbered when the plan's steps carry no number of their own
    assert step_messages("do it", [], [], ["Click Bold.", "Click Italic."]).slots.plan == (
        "1. Click Bold.", "2. Click Italic.")


def test_a_step_prompt_without_its_slots_is_decoded_plainly_with_a_warning(bundle, caplog):
    """A copy of the messages (``list(m)``) loses ``Messages.slots``: the decoder says so instead of
    silently dropping the action grammar."""
    task = make_tasks(1)[0]
    obs, _ = WordEnv(max_steps=3).reset(task.to_env_task(), seed=0)
    messages = step_messages(task.task, obs.controls, [], list(task.plan))
    decoder = ActionDecoder(bundle, max_new_tokens=4)
    with caplog.at_level("WARNING", logger="lam_kedro.model.decoder"):
        decoder(list(messages))
        decoder(list(messages))
    warnings = [r for r in caplog.records if "without its slots" in r.getMessage()]
    assert len(warnings) == 1  # once per decoder
    caplog.clear()
    with caplog.at_level("WARNING", logger="lam_kedro.model.decoder"):
        json.loads(ActionDecoder(bundle, max_new_tokens=64)(messages))  # with its slots: the grammar, no warning
    assert not [r for r in caplog.records if "without its slots" in r.getMessage()]
