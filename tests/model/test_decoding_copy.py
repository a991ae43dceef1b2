"""Copy decoding: the thought's decision names what the prompt holds, and the action carries it out.

Whatever the model's weights (a tiny untrained model, sampled hot), a ``select`` selects a quote of
the plan step or the request, a ``type`` types a quote or a run of the step's words into a visible
box, a ``press`` presses a known key, a ``click`` / ``open`` names a visible control (the ones the
step names, when it names any), and the action is the one the thought states.
"""

from __future__ import annotations

import json
import re

import pytest

from lam_kedro.agent.prompt import step_messages
from lam_kedro.env import WordEnv
from lam_kedro.env.action_table import VALID_ON
from lam_kedro.model.decoder import ActionDecoder
from lam_kedro.model.reading import (
    KEY_VALUES,
    document_selections,
    named_in,
    quoted,
    select_values,
    step_spans,
)
from tests.evaluation.conftest import make_tasks, tiny_bundle

_DECISION = re.compile(r" Now: (click|open|select|type|press) (.*)\.$", re.S)


@pytest.fixture(scope="module")
def bundle():
    return tiny_bundle()


@pytest.fixture(scope="module")
def screen():
    task = make_tasks(1)[0]
    obs, _ = WordEnv(max_steps=5).reset(task.to_env_task(), seed=0)
    return [{"label": c.label, "control_text": c.control_text, "control_type": c.control_type} for c in obs.controls]


def test_quotes_are_read_whole_and_without_an_ellipsis():
    assert quoted('Select the text "Annual report...".', 'Make "Annual report" bold') == ["Annual report..."
                                                                                         , "Annual report"]
    assert quoted("no quotes here") == []


def test_a_selection_copies_the_steps_quote_else_the_requests():
    request = 'Bold "Brand Writing Style Guide" and underline "router".'
    # the step's own quote (a one-word one also with the space a double-click takes), not the request's others
    assert select_values('Select the text "router".', request) == ["router", "router "]
    # a quote cut short is each request quote it begins, then itself
    assert select_values('Select the text "Brand...".', request) == ["Brand Writing Style Guide", "Brand", "Brand "]
    # a step that quotes nothing: every quote of the request
    assert select_values("Select the text you want to change.", request) == [
        "Brand Writing Style Guide", "router", "router "]
    # named off: every quote of the step and the request, as before
    assert select_values('Select the text "router".', request, named=False) == [
        "router", "Brand Writing Style Guide", "router "]


def test_step_spans_are_word_runs_outside_quotes():
    spans = step_spans('On the Layout tab, set Spacing After to 18 pt in "Body".')
    assert "18" in spans and "Spacing After" in spans and "Layout" in spans
    assert "Body" not in spans  # a quote is a value of its own, not words of the step
    assert all(len(s.split()) <= 4 for s in spans)
    assert "https://example.com/a" in step_spans("In the Address box, type https://example.com/a.")


def test_named_controls_are_whole_words_and_the_longest_name_wins():
    names = ["Home", "Header", "Footer", "Close Header and Footer", "Bold", "Font"]
    assert named_in("Click Close Header and Footer.", names) == ["Close Header and Footer"]
    assert named_in("On the Home tab, in the Font group, click Bold.", names) == ["Home", "Bold", "Font"]
    assert named_in("Click Boldface.", names) == []  # a whole word, not a prefix
    assert named_in("click bold", names) == ["Bold"]  # any case


_PAGE = ("Brand Writing Style Guide\nOur voice is friendly and helpful to every reader.\n"
         "The Aurora thermostat ships to retail partners in October.\nPricing starts at 129 dollars.\n"
         "| Plan | Price |")


@pytest.mark.parametrize("step,request_text,expected", [
    # an opening names the whole paragraph
    ('Select the paragraph that starts with "The Aurora thermostat".', "Make it a Heading 1.",
     ["The Aurora thermostat ships to retail partners in October."]),
    # a quote cut short runs to the end of its paragraph
    ('Select the text "Our voice is...".', "Bold it.", ["Our voice is friendly and helpful to every reader."]),
    # a double-clicked word takes the space after it; a selected word does not
    ('Double-click the word "Brand" to select it.', 'Delete "Brand".', ["Brand "]),
    ('Select the text "helpful" in the paragraph that starts with "Our voice".', "Underline it.", ["helpful"]),
    # a range: every paragraph from the first opening to the second
    ('Select the 2 paragraphs from "The Aurora..." to "Pricing...".', "Bullet them.",
     ["The Aurora thermostat ships to retail partners in October.\nPricing starts at 129 dollars."]),
    # the step quotes nothing: the request's quotes the page shows (the paragraph around one for a paragraph)
    ("Select the text you want to change.", 'Bold "friendly" and "missing words".', ["friendly"]),
    ("Select the paragraph you want to change.", 'Center "Pricing starts".', ["Pricing starts at 129 dollars."]),
    # not a selection the expert reads: nothing from the document
    ("On the Home tab, click Bold.", 'Bold "friendly".', []),
])
def test_a_selection_is_read_off_the_document_as_the_step_says(step, request_text, expected):
    assert document_selections(step, request_text, _PAGE) == expected


def test_the_document_travels_as_data_not_in_the_prompt(screen):
    page = "Quarterly results\n<Previous Plans:>\nmore"  # slot-like lines in the page are only text
    plain = step_messages('Make "Quarterly results" bold.', screen, [], ["1. Click Bold."])
    observed = step_messages('Make "Quarterly results" bold.', screen, [], ["1. Click Bold."], observed=page)
    assert observed == plain  # the model reads the prompt it was trained on
    assert observed.slots.document == page and plain.slots.document is None
    shown = step_messages('Make "Quarterly results" bold.', screen, [], ["1. Click Bold."], document=page)
    assert shown != plain and shown.slots.document == page  # a model that reads it (an LLM expert)


def test_a_selection_carries_the_paragraph_the_document_shows(bundle, screen):
    request = 'Make the paragraph that starts with "The Aurora thermostat" a Heading 1.'
    plan = ['1. Select the paragraph that starts with "The Aurora thermostat".', "2. Click Heading 1."]
    full = "The Aurora thermostat ships to retail partners in October."
    for document, expected in ((_PAGE, full), (None, "The Aurora thermostat")):
        messages = step_messages(request, screen, [], plan, observed=document)
        selected = 0
        for _, rest, obj in _decisions(bundle, messages, seeds=range(8)):
            if obj["function"] == "select_text":
                selected += 1
                assert obj["args"]["text"] == expected and rest == f"'{expected}'"
        assert selected  # the untrained model, sampled hot, selects now and then


def test_the_request_travels_as_data(screen):
    messages = step_messages('Make "Quarterly results" bold.', screen, [], ["1. Click Bold."])
    assert messages.slots.request == 'Make "Quarterly results" bold.'


def _decisions(bundle, messages, seeds=range(16)):
    out = []
    for seed in seeds:
        text = ActionDecoder(bundle, max_new_tokens=48, do_sample=True, temperature=3.0, seed=seed)(messages)
        obj = json.loads(text)
        m = _DECISION.search(obj["thought"])
        assert m, obj["thought"]  # the thought states a decision after the copied step
        out.append((m.group(1), m.group(2), obj))
    return out


def _by_label(controls, label):
    return next(c for c in controls if c["label"] == label)


@pytest.mark.parametrize("step,request_text", [
    ('Select the text "Quarterly results".', 'Make "Quarterly results" bold.'),
    ("Select the text you want to change.", 'Underline "Quarterly results", please.'),
    ('Type "Draft" in the header.', 'Set the header to "Draft".'),
    ("On the Layout tab, set Spacing After to 18 pt.", 'Add 18 pt after "Quarterly results".'),
    ("Press Delete.", 'Remove "Quarterly".'),
    ("On the Home tab, in the Font group, click Bold.", 'Make "Quarterly results" bold.'),
])
def test_every_decision_is_copied_from_the_prompt_and_carried_out(bundle, screen, step, request_text):
    messages = step_messages(request_text, screen, [], [f"1. {step}", "2. Click Save."])
    values = quoted(step, request_text)
    seen = set()
    for verb, rest, obj in _decisions(bundle, messages):
        seen.add(verb)
        control = _by_label(screen, obj["control_label"])
        assert obj["control_name"] == control["control_text"]
        if verb in ("click", "open"):
            name = rest.strip("'")
            assert name == control["control_text"]
            types = VALID_ON["click_input"]
            assert types is None or control["control_type"] in types
            assert (control["control_type"] == "TabItem") == (verb == "open")  # tabs are opened, the rest clicked
            named = named_in(step, [c["control_text"] for c in screen])
            if named:  # the step names visible controls (a tab or not): one of them is clicked or opened
                assert name in named
        elif verb == "select":
            assert obj["function"] == "select_text" and control["control_type"] == "Document"
            text = obj["args"]["text"]
            assert rest == f"'{text}'"
            assert text in values or (text.endswith(" ") and text[:-1] in values)
        elif verb == "type":
            value, box = re.fullmatch(r"'(.*)' into '(.*)'", rest).groups()
            assert obj["function"] == "set_edit_text" and obj["args"] == {"text": value}
            assert box == control["control_text"] and control["control_type"] in VALID_ON["set_edit_text"]
            assert value in (quoted(step) or step_spans(step))  # the step's quote, else its own words
        else:
            assert obj["function"] == "keyboard_input" and obj["args"]["keys"] == rest
            assert rest in KEY_VALUES
            if step == "Press Delete.":  # the step names its key
                assert rest == "{DELETE}"
    assert seen <= {"click", "open", "select", "type", "press"} and seen


def test_a_step_that_names_a_tab_but_no_visible_box_is_not_typed_into_another_box(bundle, screen):
    """"On the Layout tab, ... set Indent Left to 36 pt." on the Home tab: Layout is the only visible
    control the step names, so the decision opens it (or selects / presses); it never types "36" into
    a box the step does not name (the Font box) and never clicks a control it does not name."""
    step = "On the Layout tab, in the Paragraph group, set Indent Left to 36 pt."
    names = [c["control_text"] for c in screen]
    assert named_in(step, names) == ["Layout"] and "Indent Left" not in names
    messages = step_messages('Indent "Quarterly results" by 36 pt.', screen, [], [f"1. {step}"])
    verbs = set()
    for verb, rest, obj in _decisions(bundle, messages, seeds=range(24)):
        verbs.add(verb)
        assert verb != "type" and verb != "click", (verb, rest)
        if verb == "open":
            assert rest == "'Layout'" and obj["control_name"] == "Layout"
    assert "open" in verbs  # the untrained model, sampled hot, opens the tab now and then


def test_status_and_plan_agree(bundle, screen):
    """FINISH only with the last step done (an empty plan); CONTINUE keeps the step or drops it; after
    opening a tab the step is still in progress."""
    plans = (["1. Click Bold."], ["1. On the Insert tab, click Header.", "2. Click Edit Header."])
    for plan in plans:
        messages = step_messages('Make "Quarterly results" bold.', screen, [], plan)
        for verb, _, obj in _decisions(bundle, messages, seeds=range(10)):
            if obj["status"] == "FINISH":
                assert len(plan) == 1 and obj["plan"] == []
            else:
                assert obj["status"] == "CONTINUE" and obj["plan"] in (plan, plan[1:]) and obj["plan"]
            if verb == "open":
                assert obj["plan"] == plan


def test_copy_values_off_leaves_values_to_the_model(bundle, screen):
    messages = step_messages('Make "Quarterly results" bold.', screen, [], ['1. Select the text "Quarterly results".'])
    for seed in range(6):
        obj = json.loads(ActionDecoder(bundle, max_new_tokens=48, do_sample=True, temperature=3.0, seed=seed,
                                       copy_values=False)(messages))
        assert obj["thought"].startswith('Select the text "Quarterly results". Now: ')
        assert obj["function"] in ("", *VALID_ON)
