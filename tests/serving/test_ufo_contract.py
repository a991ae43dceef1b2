"""Contract: ``lam serve`` answers UFO 1.x and UFO 3.x in each one's own response format.

Requests are built from UFO's AppAgent templates (``../shared/interop/ufo/<version>/app_agent.yaml``)
and every answer of a trained tiny LAM, served on 127.0.0.1, must pass UFO's own response contract
(``ufo_clients``: the v1 JSON Schema, the v3 pydantic models) while UFO's loop plays tasks in the
simulated Word. The config that ``docs/serving.md`` gives for each version is the one ``lam serve``
prints, and its CONTROL_LIST holds every control type the model acts on.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.env import WordEnv, sample_task
from lam_kedro.env.tasks import families
from lam_kedro.model.policy import decode_config
from lam_kedro.serving.guard import StepGuard
from lam_kedro.serving.models import lam_generate
from lam_kedro.serving.serve_cli import CONTROL_LIST, ufo_config_lines
from lam_kedro.serving.server import ServerThread, bundle_token_counter, create_app, decode_reserve
from tests.serving import ufo_clients as ufo

KEY = "contract-key"
VERSIONS = ["v1.2.1", "v3.0.5"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


@pytest.fixture(scope="module")
def templates(shared_dir: Path) -> Path:
    return shared_dir / "interop" / "ufo"


@pytest.fixture(scope="module")
def served(trained_lam) -> Iterator[openai.OpenAI]:
    decode = decode_config({"max_new_tokens": 48})
    app = create_app(lam_generate(trained_lam, decode), api_key=KEY, guard=StepGuard(),
                     token_counter=bundle_token_counter(trained_lam, decode_reserve(decode)))
    with ServerThread(app) as srv:
        yield openai.OpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0, timeout=120)


def ask(client: openai.OpenAI, messages: list[dict]) -> str:
    response = client.chat.completions.create(  # what UFO's OpenAIService sends
        model="lam", messages=messages, temperature=0.0, max_tokens=2000, top_p=0.0)  # type: ignore[arg-type]
    assert response.choices[0].finish_reason == "stop"
    return response.choices[0].message.content


@pytest.mark.parametrize("version", VERSIONS)
def test_every_answer_of_a_trained_lam_passes_ufos_own_response_model(templates, served, version):
    """UFO's loop, its prompts and its parsers against the served model: 4 tasks, up to 6 steps each."""
    statuses: Counter[str] = Counter()
    answers = 0
    for family in ("bold_text", "italic_text", "page_orientation", "font_size"):
        task = sample_task(family, "one_line", 0)
        assert task is not None
        env = WordEnv(max_steps=30)
        obs, _ = env.reset(task)
        history: list[dict] = []
        plan: list[str] = []
        for step in range(6):
            content = ask(served, ufo.ufo_messages(version, task.request, obs, history, plan))
            action, entry, plan = ufo.to_action(version, content)  # raises unless UFO's model accepts it
            answers += 1
            statuses[ufo.status_of(version, content)] += 1
            if not action.function and action.status == "CONTINUE":
                pytest.fail(f"a no-op CONTINUE reached UFO: {content}")
            obs, _, terminated, truncated, _ = env.step(action)
            history.append({"Step": step + 1, "Subtask": task.request, "Action": [entry], "Results": "",
                            "UserConfirm": None})
            if terminated or truncated or action.status in ("FINISH", "FAIL"):
                break
    assert answers >= 4 and set(statuses) <= set(ufo.UFO3_STATUSES), statuses


def _first_obs():
    task = sample_task("bold_text", "one_line", 0)
    assert task is not None
    return task, WordEnv().reset(task)[0]


def test_the_dialect_comes_from_the_request_or_the_flag(templates, trained_lam):
    task, obs = _first_obs()
    v1 = ufo.ufo_messages("v1.2.1", task.request, obs, [], [])
    v3 = ufo.ufo_messages("v3.0.5", task.request, obs, [], [])  # controls as {"id", "name", "type"}
    v3_visual = ufo.ufo_messages("v3.0.5", task.request, obs, [], [], visual=True)
    # UFO3's non-visual system prompt with 1.x-style controls cannot be told from UFO 1.x: the flag says it
    ambiguous = [{"role": "system", "content": v3[0]["content"]}, v1[1]]
    generate = lam_generate(trained_lam, {"max_new_tokens": 16})
    for dialect, expected in (("auto", ["v1", "v3", "v3", "v1"]), ("ufo3", ["v3"] * 4), ("ufo", ["v1"] * 4)):
        app = create_app(generate, no_auth=True, guard=StepGuard(repeat_ttl_s=0), ufo_dialect=dialect)
        with ServerThread(app) as srv:
            client = openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0, timeout=120)
            for messages, want in zip((v1, v3, v3_visual, ambiguous), expected, strict=True):
                content = ask(client, messages)
                (ufo.check_ufo3 if want == "v3" else ufo.check_ufo1)(content)


def test_the_docs_give_the_config_lam_serve_prints_for_each_version():
    text = DOCS.read_text(encoding="utf-8")
    base = "http://127.0.0.1:8000/v1"
    for version in ("v1", "v3"):
        lines = ufo_config_lines(base, "lam", auth=True, version=version)
        block = "\n".join(lines)
        assert block in text, f"docs/serving.md lacks the {version} config:\n{block}"
    assert "config/ufo/agents.yaml" in text and "ufo/config/config.yaml" in text


def test_control_list_holds_every_control_type_the_expert_acts_on():
    acted: set[str] = set()
    for family in [getattr(f, "name", f) for f in families()]:
        for template in ("one_line", "annual_report"):
            task = sample_task(family, template, 0)
            if task is None:
                continue
            traj = run_episode(WordEnv(max_steps=40), ScriptedPolicy(name="expert"), task)
            for s in traj.steps:
                types = {c["label"]: c["control_type"]
                         for c in s.observation["controls"]}
                if s.function:
                    acted.add(types[s.control_label])
    assert {"SplitButton", "CheckBox"} & acted, acted  # what UFO's default list misses is really used
    assert acted <= set(CONTROL_LIST), acted - set(CONTROL_LIST)
    assert re.search(r"CONTROL_LIST: \[.*\"SplitButton\".*\"CheckBox\"", DOCS.read_text(encoding="utf-8"))


def test_ufo3_history_is_read_back_and_other_subtasks_are_left_out(templates, trained_lam):
    from lam_kedro.serving.ufo_prompt import parse_chat_prompt

    task, obs = _first_obs()
    doc = next(c for c in obs.controls if c.control_type == "Document")
    mine = {"Step": 2, "Subtask": task.request,
            "Action": [{"function": "select_text", "arguments": {"id": doc.label, "name": doc.control_text,
                                                                  "text": "Margaret"}, "status": "CONTINUE"}]}
    other = {"Step": 1, "Subtask": "Open the document.",
             "Action": [{"function": "click_input", "arguments": {"id": "1", "name": "File", "button": "left",
                                                                   "double": False}, "status": "FINISH"}]}
    for version in VERSIONS:
        messages = ufo.ufo_messages(version, f"Do it all. {task.request}", obs, [other, mine] if version[1] == "3"
                                    else [other, {**mine, "Action": [ufo.to_action("v1.2.1", json.dumps({
                                        "Observation": "", "Thought": "", "ControlLabel": doc.label,
                                        "ControlText": doc.control_text, "Function": "select_text",
                                        "Args": {"text": "Margaret"}, "Status": "CONTINUE", "Plan": [],
                                        "Comment": ""}))[1]]}], [], subtask=task.request)
        prompt = parse_chat_prompt(messages)
        assert prompt.request == task.request
        assert prompt.previous_actions == ['select_text(text="Margaret") on "Document" (Document)'], version
        assert prompt.history_skipped == 1
