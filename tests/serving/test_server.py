"""`lam serve`'s OpenAI-compatible server, driven over real sockets on 127.0.0.1.

Clients are the ``openai`` package (as UFO and ``ChatClient`` use it) and raw ``http.client``.
The model behind the server is either a real tiny transformer (``lam_generate``) or the
project's scripted expert turned into a text model (``ExpertModel``: it reads the prompt the
server renders and answers the expert's next action for that request as action JSON), so a
full UFO-style episode can succeed in the simulated Word: UFO prompt -> HTTP -> server reads
the slots -> model -> UFO JSON -> ``from_ufo_app_agent_response`` -> ``WordEnv.step``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest
from click.testing import CliRunner

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.llm_client import ChatClient
from lam_kedro.agent.policies import StepsPolicy, TextPolicy
from lam_kedro.agent.prompt import render_action_target
from lam_kedro.agent.ufo import from_ufo_app_agent_response
from lam_kedro.env import Action, Control, Observation, Task, WordEnv, sample_task
from lam_kedro.env.tasks import get_family
from lam_kedro.model.generation import encode_prompt
from lam_kedro.serving.guard import StepGuard
from lam_kedro.serving.models import lam_generate
from lam_kedro.serving.serve_cli import serve_command
from lam_kedro.serving.server import ServerThread, bundle_token_counter, create_app, wait_for_health
from lam_kedro.serving.ufo_prompt import format_answer, parse_chat_prompt

KEY = "test-key-123"
LIMIT = 64 * 1024  # max_body_bytes of the test server


# -- the model behind the server: the scripted expert as a text model ----------------------------
class ExpertModel:
    """``generate(messages) -> action JSON``: the expert's next action for the prompt's request.

    Stateless in the prompt: the step index is the number of previous actions the prompt lists,
    the controls are the prompt's, so the answer depends on nothing but what was sent. It also
    records how many calls ever ran at once (the server must serialize them).
    """

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self.calls = 0
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()

    def add(self, task: Task) -> Task:
        self.tasks[task.request] = task
        return task

    def __call__(self, messages: list[dict[str, str]]) -> str:
        with self._lock:
            self._in_flight += 1
            self.calls += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            time.sleep(0.005)  # room for overlapping calls, were the server not serializing them
            prompt = parse_chat_prompt(messages)  # the server sends our own (training) prompt
            task = self.tasks[prompt.request]
            steps = get_family(task.family).solution(task.params)
            done = len(prompt.previous_actions)
            obs = Observation(title="", controls=tuple(Control(**c) for c in prompt.controls), document="")
            return render_action_target(StepsPolicy(steps[done:], finish_last=True).act(obs))
        finally:
            with self._lock:
                self._in_flight -= 1


# -- the UFO side: its AppAgent prompt and loop, written after ufo/prompts/share/base/app_agent.yaml
UFO_SYSTEM = (
    "- You are the AppAgent of UFO, a UI-focused agent framework for Windows OS.\n"
    "- You are given the information of all available control item in the current application window in a "
    'list format: {label: "the annotated label of the control item", control_text: "...", control_type: "..."}.\n'
    "- You must select the control item in the given list <Available Control Item>.\n"
    "- You are required to response in a JSON format with the keys Observation, Thought, ControlLabel, "
    "ControlText, Function, Args, Status, Plan, Comment."
)


def ufo_app_agent_messages(request: str, obs: Observation, history: list[dict], plan: list[str]) -> list[dict]:
    """What UFO's AppAgent sends (non-visual mode): system prompt, blackboard, then the user template."""
    controls = [c.to_dict() for c in obs.controls]
    parts: list[dict[str, Any]] = []
    if history:  # Blackboard.blackboard_to_prompt()
        parts += [{"type": "text", "text": "[Blackboard:]"},
                  {"type": "text", "text": f"[Step Trajectories Completed Previously:]\n {json.dumps(history)}"}]
    parts.append({"type": "text", "text": (
        "\n"
        f"<Available Control Item:> {json.dumps(controls)}\n"
        f"<Overall User Request:> {request}\n"
        "<Previous Sub-tasks Results:> []\n"
        f"<Sub-task for you to complete:> {request}\n"
        f"<Current Application You are Working on:> {obs.title}\n"
        "<Message and Information from the HostAgent:> []\n"
        f"<Your Next Plan:> {json.dumps(plan)}\n"
        "<Your response:>"
    )})
    return [{"role": "system", "content": UFO_SYSTEM}, {"role": "user", "content": parts}]


def run_ufo_episode(client: openai.OpenAI, env: WordEnv, task: Task, max_steps: int = 20) -> tuple[dict, list]:
    """UFO's loop against the server: prompt, parse the CamelCase JSON, act, record the step."""
    obs, _ = env.reset(task)
    history: list[dict] = []
    plan: list[str] = []
    answers = []
    for step in range(max_steps):
        response = client.chat.completions.create(
            model="lam", messages=ufo_app_agent_messages(task.request, obs, history, plan),  # type: ignore[arg-type]
            temperature=0.0, max_tokens=2000, top_p=0.0, n=1, response_format={"type": "json_object"},
        )
        answer = json.loads(response.choices[0].message.content)
        answers.append(answer)
        a = from_ufo_app_agent_response(answer)
        obs, _, terminated, truncated, info = env.step(Action(a["control_label"], a["function"], a["args"],
                                                              a["status"]))
        history.append({"Step": step + 1, "Subtask": task.request, "ControlText": a["control_name"],
                        "Action": [{"Function": a["function"], "Args": a["args"], "ControlLabel": a["control_label"],
                                    "ControlText": a["control_name"], "Status": a["status"]}],
                        "Results": "", "UserConfirm": None})
        plan = a["plan"]
        if terminated or truncated:
            return info, answers
    raise AssertionError(f"no FINISH within {max_steps} steps: {answers[-1]}")


# -- fixtures and HTTP helpers -------------------------------------------------------------------
@pytest.fixture(scope="module")
def expert() -> ExpertModel:
    return ExpertModel()


@pytest.fixture(scope="module")
def server(expert: ExpertModel) -> Iterator[ServerThread]:
    # the protocol tests resend prompts on purpose: no repeat detection here (tests/serving/test_hardening.py)
    with ServerThread(create_app(expert, api_key=KEY, max_body_bytes=LIMIT,
                                 guard=StepGuard(repeat_ttl_s=0))) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ServerThread) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=30)


def request(server: ServerThread, method: str, path: str, body: Any = None, key: str | None = KEY,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One raw HTTP request; ``body`` bytes go as they are, anything else as JSON."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw) if raw else None
    finally:
        conn.close()


def task_of(expert: ExpertModel, family: str, template: str = "one_line", seed: int = 0) -> Task:
    task = sample_task(family, template, seed)
    assert task is not None, (family, template)
    return expert.add(task)


def first_prompt(task: Task) -> list[dict]:
    obs, _ = WordEnv().reset(task)
    return ufo_app_agent_messages(task.request, obs, [], [])


def assert_error(status: int, body: Any, expected_status: int, *, param: str | None = None,
                 mentions: str = "") -> None:
    assert status == expected_status, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"} and mentions in err["message"], err
    if param is not None:
        assert err["param"] == param, err


# -- the protocol --------------------------------------------------------------------------------
def test_health_models_and_an_openai_completion_with_usage(server, client, expert):
    assert request(server, "GET", "/health", key=None)[2] == {"status": "ok", "model": "lam"}
    assert [m.id for m in client.models.list()] == ["lam"]
    assert client.models.retrieve("lam").owned_by == "lam-kedro"
    status, _, body = request(server, "GET", "/v1/models/gpt-4o")
    assert_error(status, body, 404, param="model", mentions="serves 'lam'")

    task = task_of(expert, "bold_text")
    messages = first_prompt(task)
    response = client.chat.completions.create(model="lam", messages=messages)  # type: ignore[arg-type]
    assert response.object == "chat.completion" and response.model == "lam" and response.id.startswith("chatcmpl-")
    choice = response.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop" and choice.index == 0
    answer = json.loads(choice.message.content)
    assert (answer["Function"], answer["ControlText"], answer["Args"]) == ("select_text", "Document",
                                                                          {"text": "Margaret"})
    fed = parse_chat_prompt(messages).messages()  # what the model was fed
    usage = response.usage
    assert usage.prompt_tokens == sum(len(m["content"].split()) for m in fed) > 0
    assert usage.completion_tokens > 0 and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    # raw HTTP, and UFO's documented API_BASE (the full URL, to which its OpenAI client appends the path)
    for path in ("/v1/chat/completions", "/v1/chat/completions/chat/completions"):
        status, headers, body = request(server, "POST", path, {"model": "lam", "messages": messages})
        assert status == 200 and headers["x-request-id"] == body["id"]
        assert json.loads(body["choices"][0]["message"]["content"]) == answer


def test_requests_without_the_right_key_are_401(server):
    body = {"model": "lam", "messages": [{"role": "user", "content": "<User Request:> x"}]}
    for key, mentions in ((None, "missing API key"), ("wrong", "invalid API key")):
        for method, path, payload in (("POST", "/v1/chat/completions", body), ("GET", "/v1/models", None)):
            status, headers, reply = request(server, method, path, payload, key=key)
            assert_error(status, reply, 401, mentions=mentions)
            assert reply["error"]["code"] == "invalid_api_key" and headers["www-authenticate"] == "Bearer"
    status, _, reply = request(server, "GET", "/v1/models", key=None, headers={"Authorization": f"Basic {KEY}"})
    assert_error(status, reply, 401, mentions="missing API key")
    assert request(server, "GET", "/v1/models", key=None, headers={"Authorization": f"bearer {KEY}"})[0] == 200
    wrong = openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()


@pytest.mark.parametrize(
    ("body", "status", "param", "mentions"),
    [
        (b"{not json", 400, None, "not valid JSON"),
        (b"\xff\xfe", 400, None, "not valid JSON"),
        ([1, 2], 400, None, "must be a JSON object"),
        ({"messages": [{"role": "user", "content": "x"}]}, 400, "model", "missing required field 'model'"),
        ({"model": 3, "messages": []}, 400, "model", "must be a string"),
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}, 404, "model", "API_MODEL"),
        ({"model": "lam"}, 400, "messages", "missing required field 'messages'"),
        ({"model": "lam", "messages": "hi"}, 400, "messages", "must be a list"),
        ({"model": "lam", "messages": []}, 400, "messages", "must not be empty"),
        ({"model": "lam", "messages": ["hi"]}, 400, "messages[0]", "must be an object"),
        ({"model": "lam", "messages": [{"content": "x"}]}, 400, "messages[0].role", "missing required field"),
        ({"model": "lam", "messages": [{"role": "robot", "content": "x"}]}, 400, "messages[0].role", "one of"),
        ({"model": "lam", "messages": [{"role": "user", "content": 5}]}, 400, "messages[0].content", "string"),
        ({"model": "lam", "messages": [{"role": "user", "content": "<User Request:> x"}], "stream": True}, 400,
         "stream", "streaming is not supported"),
        ({"model": "lam", "messages": [{"role": "user", "content": "<User Request:> x"}], "stream": "yes"}, 400,
         "stream", "must be a boolean"),
        ({"model": "lam", "messages": [{"role": "user", "content": "<User Request:> x"}], "n": 2}, 400, "n",
         "only n=1"),
        ({"model": "lam", "messages": [{"role": "user", "content": "Hello, how are you?"}]}, 400, "messages",
         "no request"),
        ({"model": "lam", "messages": [{"role": "user", "content": "<Available Control Item:> {oops\n"
                                                                   "<User Request:> x"}]}, 400, "messages",
         "not a control object"),
    ],
)
def test_malformed_requests_are_clear_4xx(server, body, status, param, mentions):
    got, _, reply = request(server, "POST", "/v1/chat/completions", body)
    assert_error(got, reply, status, param=param, mentions=mentions)


def test_unknown_routes_and_methods_answer_in_openai_shape(server, client):
    assert_error(*request(server, "GET", "/v1/nothing")[::2], 404, mentions="no route GET /v1/nothing")
    assert_error(*request(server, "GET", "/v1/chat/completions")[::2], 405)
    with pytest.raises(openai.BadRequestError, match="streaming is not supported"):
        client.chat.completions.create(model="lam", messages=[{"role": "user", "content": "<User Request:> x"}],
                                       stream=True)


def test_oversized_bodies_are_413_before_they_are_read(server):
    # declared too large: refused from the header alone (only 10 bytes of 10 MB are ever sent)
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.putrequest("POST", "/v1/chat/completions")
        for k, v in (("Authorization", f"Bearer {KEY}"), ("Content-Type", "application/json"),
                     ("Content-Length", str(10_000_000))):
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(b'{"model": ')
        resp = conn.getresponse()
        assert_error(resp.status, json.loads(resp.read()), 413, mentions=f"limit of {LIMIT} bytes")
    finally:
        conn.close()
    # undeclared (chunked): counted while reading
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        chunk = b"x" * 16384
        conn.request("POST", "/v1/chat/completions", body=iter([chunk] * (LIMIT // len(chunk) + 2)),
                     headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
                     encode_chunked=True)
        resp = conn.getresponse()
        assert_error(resp.status, json.loads(resp.read()), 413, mentions="exceeds the limit")
    finally:
        conn.close()
    # an unauthenticated client gets its 401 before anything about its body
    status, _, body = request(server, "POST", "/v1/chat/completions", b"x" * (LIMIT + 1), key=None)
    assert status == 401, body


def test_concurrent_requests_each_get_the_answer_to_their_own_prompt(server, client, expert):
    families = ["bold_text", "font_size", "italic_text", "underline_text", "page_orientation", "insert_table",
                "find_replace", "align_center"]
    tasks = [task_of(expert, fam, tpl) for fam in families for tpl in ("one_line", "grocery_list")
             if sample_task(fam, tpl, 0) is not None][:16]
    assert len(tasks) == 16 and len({t.request for t in tasks}) == 16
    prompts = [first_prompt(t) for t in tasks]
    # the answer each prompt must get, computed without the server
    expected = [format_answer(parse_chat_prompt(p), expert(parse_chat_prompt(p).messages())) for p in prompts]
    assert len(set(expected)) > 8  # the answers differ: a mixed-up reply would be caught
    calls_before = expert.calls
    start = threading.Barrier(16)

    def ask(messages: list[dict]) -> str:
        start.wait()  # all 16 in flight together
        return client.chat.completions.create(model="lam", messages=messages).choices[0].message.content

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, prompts))
    assert answers == expected
    assert expert.calls - calls_before == 16 and expert.max_in_flight == 1


@pytest.mark.parametrize(("family", "template"), [("bold_text", "one_line"), ("font_size", "one_line"),
                                                  ("insert_table", "one_line")])
def test_a_full_ufo_style_episode_solves_the_task_in_simulated_word(client, expert, family, template):
    task = task_of(expert, family, template)
    info, answers = run_ufo_episode(client, WordEnv(max_steps=30), task)
    assert info["success"], (info, answers)
    assert answers[-1]["Status"] == "FINISH" and "complete" in answers[-1]["Comment"]
    assert len(answers) == len(get_family(family).solution(task.params))
    assert all(a["ControlText"] and a["Observation"] for a in answers)


def test_chat_client_and_text_policy_over_the_server_speak_our_own_prompt(server, expert):
    """The ``llm`` actor of evaluation (TextPolicy over ChatClient) against the served model."""
    task = task_of(expert, "find_replace")
    chat = ChatClient({"base_url": server.base_url, "api_key": KEY, "model": "lam", "timeout_s": 30})
    traj = run_episode(WordEnv(max_steps=30), TextPolicy(chat.complete, name="served"), task)
    assert traj.outcome.success, traj.outcome
    assert all(s.error is None for s in traj.steps)


def test_create_app_and_lam_serve_refuse_to_run_without_a_key():
    with pytest.raises(ValueError, match="API key is required"):
        create_app(lambda m: "", api_key=None)
    with pytest.raises(ValueError, match="contradict"):
        create_app(lambda m: "", api_key="k", no_auth=True)
    result = CliRunner().invoke(serve_command, [], env={"LAM_API_KEY": ""})
    assert result.exit_code == 2 and "no API key" in result.output and "--no-auth" in result.output
    result = CliRunner().invoke(serve_command, ["--api-key", "k", "--no-auth"])
    assert result.exit_code == 2 and "contradict" in result.output


def test_generation_errors_are_a_500_in_openai_shape():
    def broken(messages: Sequence[dict]) -> str:
        raise RuntimeError("CUDA out of memory")

    with ServerThread(create_app(broken, no_auth=True)) as srv:
        status, _, body = request(srv, "POST", "/v1/chat/completions",
                                  {"model": "lam", "messages": [{"role": "user", "content": "<User Request:> x"}]},
                                  key=None)
    assert_error(status, body, 500, mentions="RuntimeError: CUDA out of memory")
    assert body["error"]["type"] == "server_error"


# -- a real (tiny, untrained) transformer behind the server ---------------------------------------
@pytest.fixture(scope="module")
def tiny_bundle():
    from lam_kedro.model.loading import build_base_model
    from tests.training.phase12_data import base_params, expert_data

    plans, trajs = expert_data(4)
    return build_base_model(plans, trajs, base_params(tokenizer={"vocab_size": 512}))


@pytest.mark.parametrize("constrained", [False, True])
def test_a_real_tiny_model_answers_through_the_server_with_tokenizer_usage(tiny_bundle, expert, constrained):
    generate = lam_generate(tiny_bundle, {"constrained": constrained, "max_new_tokens": 8})
    app = create_app(generate, api_key=KEY, token_counter=bundle_token_counter(tiny_bundle))
    messages = first_prompt(task_of(expert, "bold_text"))
    with ServerThread(app) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key=KEY, max_retries=0, timeout=60)
        response = client.chat.completions.create(model="lam", messages=messages)  # type: ignore[arg-type]
    answer = json.loads(response.choices[0].message.content)  # valid UFO JSON whatever the model said
    ours = from_ufo_app_agent_response(answer)
    assert ours["status"] in ("CONTINUE", "FINISH", "FAIL")
    if ours["status"] == "FAIL":  # an untrained model: the reason (and its text) are in the Comment
        assert ours["function"] == "" and ("could not be used" in answer["Comment"]
                                           or "chose no action" in answer["Comment"]), answer
        assert not constrained or "chose no action" in answer["Comment"]  # the grammar's output always parses
    if constrained:  # the grammar only lets it name a listed control (or none, with a status-only step)
        labels = {c["label"]: c["control_text"] for c in parse_chat_prompt(messages).controls}
        assert ours["control_label"] in labels or (ours["control_label"], ours["function"]) == ("", "")
    fed = parse_chat_prompt(messages).messages()
    raw = generate(fed)  # greedy: the same text the server got
    content = response.choices[0].message.content
    assert content == format_answer(parse_chat_prompt(messages), raw)
    assert response.usage.prompt_tokens == len(encode_prompt(tiny_bundle, fed)) > 0
    # completion tokens: the answer the client got, in the model's tokens
    assert response.usage.completion_tokens == len(tiny_bundle.tokenizer(content, add_special_tokens=False).input_ids)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_lam_serve_command_serves_a_saved_model(tiny_bundle, expert, tmp_path: Path):
    from lam_kedro.model.loading import save_bundle

    save_bundle(tiny_bundle, tmp_path / "model")
    port = _free_port()
    lam = Path(sys.executable).parent / "lam"
    env = {**os.environ, "LAM_API_KEY": KEY, "KEDRO_DISABLE_TELEMETRY": "1", "DVC_NO_ANALYTICS": "1"}
    safety = tmp_path / "safety.yaml"
    safety.write_text("mode: ask\nrules:\n  - name: no_watermark\n    control_text: 'Watermark.*'\n",
                      encoding="utf-8")
    proc = subprocess.Popen(
        [str(lam), "serve", "--model", str(tmp_path / "model"), "--port", str(port), "--max-new-tokens", "8",
         "--log-level", "warning", "--safety-config", str(safety), "--workers", "2", "--request-timeout", "60"],
        # constrained decoding: the default
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_health(port, proc)
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0, timeout=60)
        response = client.chat.completions.create(model="lam", messages=first_prompt(task_of(expert, "bold_text")))
        answer = from_ufo_app_agent_response(json.loads(response.choices[0].message.content))
        assert answer["status"] in ("CONTINUE", "FINISH", "FAIL")  # the grammar's output always parses
        assert answer["status"] != "FAIL" or answer["function"] == ""  # FAIL: it chose no action
        assert response.usage.total_tokens > 0
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"at {base}/v1" in output and 'API_TYPE: "openai"' in output and 'API_MODEL: "lam"' in output
    assert "safety: sensitive actions -> ask (rules: no_watermark)" in output
    assert "16 request(s) at once, forward passes batched (2 worker(s) x 8)" in output  # the defaults: --workers 2 --batch 8
    assert "# config/ufo/agents.yaml" in output and "# ufo/config/config.yaml" in output  # both UFO versions
    assert KEY not in output  # the key is never echoed


def test_lam_serve_refuses_a_bad_safety_config_naming_it(tmp_path: Path):
    bad = tmp_path / "safety.yaml"
    bad.write_text("mode: maybe\n", encoding="utf-8")
    result = CliRunner().invoke(serve_command, ["--api-key", "k", "--safety-config", str(bad)])
    assert result.exit_code == 2 and "--safety-config" in result.output and "mode" in result.output
