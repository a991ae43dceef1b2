"""``lam serve`` under hostile input, loops and sensitive actions, over real sockets on 127.0.0.1.

The model behind the server is the trained tiny LAM (``conftest.trained_lam``) with the decoder as
shipped; where a test needs the model to propose one particular action (a sensitive one, the same
one again), a scripted text model answers that action's JSON instead, through the same server.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lam_kedro.env import WordEnv, sample_task
from lam_kedro.model.generation import encode_prompt
from lam_kedro.model.policy import decode_config
from lam_kedro.serving.guard import StepGuard
from lam_kedro.serving.models import lam_generate
from lam_kedro.serving.safety import SafetyConfig
from lam_kedro.serving.server import ServerThread, bundle_token_counter, create_app, decode_reserve
from lam_kedro.serving.ufo_prompt import parse_chat_prompt
from tests.serving import ufo_clients as ufo

KEY = "hardening-key"


def post(srv: ServerThread, body: Any, key: str | None = KEY, conn: http.client.HTTPConnection | None = None,
         ) -> tuple[int, dict[str, str], Any]:
    own = conn is None
    conn = conn or http.client.HTTPConnection(srv.host, srv.port, timeout=120)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        conn.request("POST", "/v1/chat/completions", body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw) if raw else None
    finally:
        if own:
            conn.close()


def ufo_request(version: str = "v1.2.1", family: str = "bold_text", **kwargs: Any) -> dict[str, Any]:
    task = sample_task(family, "one_line", 0)
    assert task is not None
    obs, _ = WordEnv().reset(task)
    return {"model": "lam", "messages": ufo.ufo_messages(version, task.request, obs, [], [], **kwargs)}


@pytest.fixture(scope="module")
def decode():
    return decode_config({"max_new_tokens": 32})


@pytest.fixture(scope="module")
def srv(trained_lam, decode, shared_dir) -> Iterator[ServerThread]:
    app = create_app(lam_generate(trained_lam, decode), api_key=KEY, guard=StepGuard(repeat_ttl_s=0),
                     token_counter=bundle_token_counter(trained_lam, decode_reserve(decode)))
    with ServerThread(app) as running:
        yield running


def assert_4xx(status: int, body: Any, code: str | None = None, mentions: str = "") -> None:
    assert 400 <= status < 500, (status, body)
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert mentions in err["message"], err
    assert "object at 0x" not in err["message"] and "Traceback" not in err["message"], err
    if code:
        assert err["code"] == code, err


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- item 5: bad input is a clear 4xx, never a 5xx -----------------------------------------------------
def test_the_issues_5xx_cases_are_clear_4xx(srv):
    deep = nested(1000)
    body = ufo_request()
    user = body["messages"][1]["content"][-1]["text"]
    cases: list[tuple[Any, str, str]] = [
        (f'{{"model": "lam", "messages": {deep}}}'.encode(), "invalid_json", "nested too deeply"),
        ({"model": "lam", "messages": [{"role": "user", "content": "<Available Control Item:> " + deep
                                        + "\n<User Request:> x"}]}, "invalid_prompt", "control"),
        ({"model": "lam", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "[Step Trajectories Completed Previously:]\n " + deep},
            {"type": "text", "text": user}]}]}, "invalid_prompt", "nested too deeply"),
        (b'{"model": "lam", "messages": [{"role": "user", "content": "<User Request:> \\ud800 bold"}]}',
         "invalid_value", "surrogate"),
        (b'{"model": "lam\\udfff", "messages": []}', "invalid_value", "surrogate"),
        ({"model": "lam", "messages": [{"role": "user", "content": "<Available Control Item:> Bold button\n"
                                        "<User Request:> Make it bold"}]}, "invalid_prompt", "not JSON"),
    ]
    for payload, code, mentions in cases:
        status, _, reply = post(srv, payload)
        assert_4xx(status, reply, code, mentions)


@pytest.mark.parametrize(("field", "value", "mentions"), [
    ("max_tokens", -5, "between 1"), ("max_tokens", 1e30, "integer"), ("max_tokens", "lots", "integer"),
    ("max_tokens", 0, "between 1"), ("max_completion_tokens", True, "boolean"),
    ("temperature", -3, "between 0 and 2"), ("temperature", "hot", "number"), ("temperature", 2.5, "between"),
    ("top_p", 7, "between 0 and 1"), ("presence_penalty", 3, "between -2 and 2"),
    ("frequency_penalty", "x", "number"), ("stop", ["a"] * 5, "at most 4"), ("seed", 1.5, "integer"),
    ("response_format", {"type": "xml"}, "response_format.type"), ("logprobs", True, "not supported"),
    ("user", 5, "string"), ("top_logprobs", 50, "between 0 and 20"),
])
def test_sampling_parameters_are_validated_to_openais_ranges(srv, field, value, mentions):
    status, _, reply = post(srv, {**ufo_request(), field: value})
    assert_4xx(status, reply, mentions=mentions)
    assert reply["error"]["param"] == field or reply["error"]["param"].startswith(field)


def test_nan_and_infinity_are_not_json(srv):
    for constant in ("NaN", "Infinity", "-Infinity"):
        body = json.dumps(ufo_request())[:-1] + f', "temperature": {constant}}}'
        status, _, reply = post(srv, body.encode())
        assert_4xx(status, reply, "invalid_json", "not valid JSON")


def test_max_tokens_cuts_the_answer_with_finish_reason_length(srv, trained_lam):
    full = post(srv, ufo_request())[2]
    assert full["choices"][0]["finish_reason"] == "stop"
    tokens = full["usage"]["completion_tokens"]
    content = full["choices"][0]["message"]["content"]
    assert tokens == len(trained_lam.tokenizer(content, add_special_tokens=False).input_ids) > 5
    for limit in (1, 5):
        status, _, cut = post(srv, {**ufo_request(), "max_tokens": limit})
        assert status == 200 and cut["choices"][0]["finish_reason"] == "length"
        assert cut["usage"]["completion_tokens"] == limit
        text = cut["choices"][0]["message"]["content"]
        assert content.startswith(text) and len(text) < len(content)
    big = post(srv, {**ufo_request(), "max_tokens": 2000})[2]  # UFO's own setting: room enough
    assert big["choices"][0]["finish_reason"] == "stop" and big["usage"]["completion_tokens"] == tokens


def test_usage_counts_what_the_model_read_and_long_prompts_are_refused_fast(srv, trained_lam):
    body = ufo_request()
    status, _, reply = post(srv, body)
    fed = parse_chat_prompt(body["messages"]).messages()
    assert status == 200 and reply["usage"]["prompt_tokens"] == len(encode_prompt(trained_lam, fed))

    def controls(n: int) -> dict[str, Any]:
        items = [{"label": str(i), "control_text": f"Button number {i}", "control_type": "Button"}
                 for i in range(1, n + 1)]
        text = f"<Available Control Item:> {json.dumps(items)}\n<Sub-task for you to complete:> Click it.\n"
        return {"model": "lam", "messages": [{"role": "user", "content": text}]}

    for n in (300, 9000):
        start = time.perf_counter()
        status, _, reply = post(srv, controls(n))
        took = time.perf_counter() - start
        assert_4xx(status, reply, "context_length_exceeded", "maximum context length is 2048 tokens")
        assert f"{n} controls" in reply["error"]["message"] and took < 10, took


def test_visual_requests_are_answered_from_their_text_and_images_counted(srv):
    """Three screenshots of 1 MB each (UFO's visual mode): read past, counted, answered from the text."""
    body = ufo_request(screenshots=3, screenshot_bytes=1_000_000)
    assert len(json.dumps(body)) > 2_900_000
    status, headers, reply = post(srv, body)
    assert status == 200, reply
    assert headers["x-lam-images-skipped"] == "3"
    answer = ufo.check_ufo1(reply["choices"][0]["message"]["content"])
    assert "3 image(s) not read" in answer["Observation"]


def _mutations(rng: random.Random, valid: dict[str, Any]) -> bytes:
    """One random body: broken bytes, random JSON, a valid UFO request with a field replaced, or (most
    often) with its prompt text damaged: a slot's value, the control list, the blackboard, a marker."""
    def value(depth: int = 0) -> Any:
        kind = rng.randrange(9 if depth < 6 else 5)
        if kind == 0:
            return rng.choice([None, True, False, 0, -1, 2**70, 1e308, -0.0, 3.5])
        if kind in (1, 2):
            alphabet = "<>:{}[]\"'\\ aZ09\n\té€𝄞" + rng.choice(
                ["<Available Control Item:>", "<User Request:>", "<Sub-task for you to complete:>",
                 "[Step Trajectories Completed Previously:]", "<Your Next Plan:>", "<Previous Actions:>"])
            return "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        if kind in (3, 4):
            return rng.choice(["lam", "user", "system", "text", "image_url", "", "CONTINUE", "label", "id"])
        if kind in (5, 6):
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {rng.choice(["model", "messages", "role", "content", "type", "text", "max_tokens", "temperature",
                            "label", "control_text", "id", "name", "Function", "Args", "Action", "Subtask"]):
                value(depth + 1) for _ in range(rng.randrange(4))}

    roll = rng.random()
    if roll < 0.1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
    if roll < 0.2:
        return json.dumps(value()).encode()
    body = json.loads(json.dumps(valid))
    parts = body["messages"][1]["content"]
    text = parts[-1]["text"]
    if roll < 0.35:  # a field of the request
        path = rng.choice([["model"], ["messages"], ["messages", 0], ["messages", 1, "content"], ["temperature"],
                           ["max_tokens"], ["stream"], ["n"], ["top_p"], ["user"], ["response_format"]])
        target: Any = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value()
    else:  # the prompt itself
        how = rng.randrange(5)
        if how == 0:  # splice
            i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
            parts[-1]["text"] = text[:i] + str(value()) + text[j:]
        elif how == 1:  # the control list replaced by random JSON (or a damaged copy of it)
            head, _, rest = text.partition("<Available Control Item:> ")
            controls, nl, tail = rest.partition("\n")
            new = json.dumps(value()) if rng.random() < 0.5 else controls[: rng.randrange(len(controls) + 1)]
            parts[-1]["text"] = head + "<Available Control Item:> " + new + nl + tail
        elif how == 2:  # a blackboard of random steps
            steps = [value(2) if rng.random() < 0.5 else {"Step": i, "Subtask": value(3), "Action": value(3)}
                     for i in range(rng.randrange(4))]
            parts.insert(0, {"type": "text", "text": "[Step Trajectories Completed Previously:]\n "
                             + json.dumps(steps)})
        elif how == 3:  # a slot marker removed or doubled
            marker = rng.choice(["<Available Control Item:>", "<Sub-task for you to complete:>", "<Your Next Plan:>",
                                 "<Overall User Request:>"])
            parts[-1]["text"] = text.replace(marker, rng.choice(["", marker + " " + marker]), 1)
        else:  # valid sampling values: the answer reaches the model
            body.update(temperature=rng.uniform(0, 2), top_p=rng.random(), max_tokens=rng.randrange(1, 4000))
    raw = json.dumps(body, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.05:  # a lone surrogate or a non-finite number, spelled in JSON
        raw = raw.replace('"lam"', rng.choice(['"\\ud800"', '"l\\udc00am"', "NaN"]), 1)
    if rng.random() < 0.03:
        raw = raw[: rng.randrange(len(raw))]
    return raw.encode("utf-8", "surrogatepass")


def test_fuzz_thousands_of_random_bodies_get_no_5xx_and_the_server_lives(srv):
    """A bounded generator (seeded): 3,000 bodies or 240 s, whichever comes first."""
    rng = random.Random(13)
    valid = ufo_request()
    statuses: dict[int, int] = {}
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=120)
    deadline = time.monotonic() + 240
    sent = 0
    try:
        while sent < 3000 and time.monotonic() < deadline:
            body = _mutations(rng, valid)
            try:
                status, _, reply = post(srv, body, conn=conn)
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                conn = http.client.HTTPConnection(srv.host, srv.port, timeout=120)
                status, _, reply = post(srv, body, conn=conn)
            sent += 1
            statuses[status] = statuses.get(status, 0) + 1
            assert status < 500, (body[:500], reply)
            if status >= 400:
                assert set(reply["error"]) == {"message", "type", "param", "code"}, reply
    finally:
        conn.close()
    print(f"fuzz: {sent} bodies in {time.monotonic() - deadline + 240:.0f} s, statuses {sorted(statuses.items())}")
    assert sent >= 1500, statuses
    assert statuses.get(200, 0) > 0 and sum(v for k, v in statuses.items() if 400 <= k < 500) > sent / 2, statuses
    health = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
    health.request("GET", "/health")
    assert health.getresponse().status == 200
    assert post(srv, valid)[0] == 200


# -- item 2: no loops, honest status ----------------------------------------------------------------
def scripted(answer: dict[str, Any]):
    text = json.dumps({"thought": "", "control_label": "", "control_name": "", "function": "", "args": {},
                       "status": "CONTINUE", "plan": [], **answer})
    return lambda messages: text


@pytest.mark.parametrize("version", ["v1.2.1", "v3.0.5"])
def test_a_no_op_continue_becomes_fail_and_the_same_prompt_again_is_detected(shared_dir, trained_lam, version):
    # a model that does nothing and does not finish: FAIL, never a no-op CONTINUE
    with ServerThread(create_app(scripted({}), api_key=KEY)) as s:
        content = post(s, ufo_request(version))[2]["choices"][0]["message"]["content"]
    assert ufo.status_of(version, content) == "FAIL" and "chose no action" in ufo.comment_of(version, content)
    # the real model, asked the same step twice in a row: the second answer says there was no progress
    body = ufo_request(version, "page_orientation")
    with ServerThread(create_app(lam_generate(trained_lam, {"max_new_tokens": 32}), api_key=KEY)) as s:
        first = post(s, body)[2]["choices"][0]["message"]["content"]
        second = post(s, body)[2]["choices"][0]["message"]["content"]
        other_user = post(s, {**body, "user": "another-ufo"})[2]["choices"][0]["message"]["content"]
        # a rerun: the first prompt again after the episode went on (a later step came in between)
        later = ufo_request(version, "page_orientation")
        later["messages"][1]["content"].insert(0, {"type": "text", "text": "[Step Trajectories Completed "
                                                   "Previously:]\n " + json.dumps([{"Step": 1, "Action": [
                                                       {"Function": "click_input", "Args": {}, "ControlLabel": "1",
                                                        "ControlText": "File", "function": "click_input"}]}])})
        post(s, later)
        rerun = post(s, body)[2]["choices"][0]["message"]["content"]
    if ufo.status_of(version, first) in ("CONTINUE", "CONFIRM"):
        assert ufo.status_of(version, second) == "FAIL" and "asked again" in ufo.comment_of(version, second)
        assert other_user == first  # another client (its "user") is not the same episode
    else:  # an answer that ends the sub-task is simply given again
        assert second == first
    assert rerun == first


def test_the_same_action_a_third_time_in_a_row_is_fail(shared_dir):
    task = sample_task("bold_text", "one_line", 0)
    assert task is not None
    obs, _ = WordEnv().reset(task)
    doc = next(c for c in obs.controls if c.control_type == "Document")
    act = {"function": "select_text", "args": {"text": "Margaret"}, "control_label": doc.label,
           "control_name": doc.control_text}
    entry = {"Function": "select_text", "Args": {"text": "Margaret"}, "ControlLabel": doc.label,
             "ControlText": doc.control_text, "Status": "CONTINUE"}
    with ServerThread(create_app(scripted(act), api_key=KEY)) as s:
        for repeats, want in ((1, "CONTINUE"), (2, "FAIL")):
            history = [{"Step": i + 1, "Subtask": task.request, "Action": [entry]} for i in range(repeats)]
            body = {"model": "lam", "messages": ufo.ufo_messages("v1.2.1", task.request, obs, history, [])}
            answer = ufo.check_ufo1(post(s, body)[2]["choices"][0]["message"]["content"])
            assert answer["Status"] == want, answer
        assert "already taken 2 time(s)" in answer["Comment"] and answer["Function"] == ""
        # the first step twice in a row: the action did nothing, the second answer says so
        first = {"model": "lam", "messages": ufo.ufo_messages("v1.2.1", task.request, obs, [], [])}
        answers = [ufo.check_ufo1(post(s, first)[2]["choices"][0]["message"]["content"]) for _ in range(2)]
    assert answers[0]["Status"] == "CONTINUE" and answers[0]["Function"] == "select_text"
    assert answers[1]["Status"] == "FAIL" and "twice in a row" in answers[1]["Comment"], answers[1]


# -- item 3: the safety layer over HTTP --------------------------------------------------------------
def _file_close_request(version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request whose controls include File > Close, and the model's answer clicking it."""
    task = sample_task("bold_text", "one_line", 0)
    assert task is not None
    env = WordEnv()
    obs, _ = env.reset(task)
    file_tab = obs.find("File")
    assert file_tab is not None
    obs = env.step(ufo.Action(file_tab.label, "click_input", {"button": "left", "double": False}))[0]
    close = obs.find("Close")
    assert close is not None, [c.control_text for c in obs.controls]
    act = {"function": "click_input", "args": {"button": "left", "double": False}, "control_label": close.label,
           "control_name": close.control_text}
    return {"model": "lam", "messages": ufo.ufo_messages(version, task.request, obs, [], [])}, act


@pytest.mark.parametrize("version", ["v1.2.1", "v3.0.5"])
def test_a_sensitive_action_comes_back_as_ufos_confirm(shared_dir, version):
    body, act = _file_close_request(version)
    with ServerThread(create_app(scripted(act), api_key=KEY)) as s:
        content = post(s, body)[2]["choices"][0]["message"]["content"]
    assert ufo.status_of(version, content) == "CONFIRM", content
    assert "close_without_saving" in ufo.comment_of(version, content)
    action, _, _ = ufo.to_action(version, content)
    assert action.function == "click_input" and action.control_label == act["control_label"]  # UFO asks, then runs it


@pytest.mark.parametrize(("keys", "sensitive"), [("^a{DELETE}", True), ("^a{BACKSPACE}", True), ("^aHello", True),
                                              ("^a^x", True), ("^a{RIGHT}{DELETE}", False), ("^b", False)])
def test_clearing_the_document_is_confirmed_though_ufo_sends_no_document_text(shared_dir, keys, sensitive):
    task = sample_task("bold_text", "one_line", 0)
    assert task is not None
    obs, _ = WordEnv().reset(task)
    doc = next(c for c in obs.controls if c.control_type == "Document")
    act = {"function": "keyboard_input", "args": {"keys": keys}, "control_label": doc.label,
           "control_name": doc.control_text}
    body = {"model": "lam", "messages": ufo.ufo_messages("v1.2.1", task.request, obs, [], [])}
    with ServerThread(create_app(scripted(act), api_key=KEY)) as s:
        answer = ufo.check_ufo1(post(s, body)[2]["choices"][0]["message"]["content"])
    assert (answer["Status"] == "CONFIRM") == sensitive, answer
    assert not sensitive or "clear_document" in answer["Comment"]


def test_safety_rules_and_modes_come_from_the_config_file(shared_dir, tmp_path: Path):
    task = sample_task("watermark_preset", "one_line", 0)
    assert task is not None
    obs, _ = WordEnv().reset(task)
    design = next(c for c in obs.controls if c.control_type == "TabItem")
    act = {"function": "click_input", "args": {"button": "left", "double": False}, "control_label": design.label,
           "control_name": design.control_text}
    body = {"model": "lam", "messages": ufo.ufo_messages("v1.2.1", task.request, obs, [], [])}
    config = tmp_path / "safety.yaml"
    for text, status, comment in (
        (f"rules: [{{name: no_tabs, control_text: '{design.control_text}'}}]", "CONFIRM", "no_tabs"),
        (f"mode: refuse\nrules: [{{name: no_tabs, control_text: '{design.control_text}'}}]", "FAIL",
         "refused by safety (no_tabs)"),
        (f"mode: allow\nrules: [{{name: no_tabs, control_text: '{design.control_text}'}}]", "CONTINUE",
         "no_tabs allowed by config"),
        ("allowed_functions: [select_text, keyboard_input]", "FAIL", "refused by safety (allowlist)"),
        ("max_steps: 0", None, None),
    ):
        config.write_text(text, encoding="utf-8")
        try:
            safety = SafetyConfig.from_file(config)
        except ValueError:
            assert status is None  # max_steps must be >= 1: a bad config is refused at startup
            continue
        with ServerThread(create_app(scripted(act), api_key=KEY, guard=StepGuard(safety))) as s:
            answer = ufo.check_ufo1(post(s, body)[2]["choices"][0]["message"]["content"])
        assert answer["Status"] == status and comment in answer["Comment"], (text, answer)


# -- item 6: replicas, and a time limit ---------------------------------------------------------------
def test_replicas_answer_concurrent_requests_as_one_decoder_would(trained_lam, shared_dir):
    """Two decoders over one model (lam serve --workers 2): 16 concurrent requests, each its own answer."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = [ufo_request(v, f) for v in ("v1.2.1", "v3.0.5")
              for f in ("bold_text", "italic_text", "font_size", "page_orientation", "underline_text",
                        "align_center", "insert_table", "find_replace")]
    single = lam_generate(trained_lam, {"max_new_tokens": 24})
    with ServerThread(create_app(single, api_key=KEY, guard=StepGuard(repeat_ttl_s=0))) as s:
        expected = [post(s, b)[2]["choices"][0]["message"]["content"] for b in bodies]
    replicas = [lam_generate(trained_lam, {"max_new_tokens": 24}) for _ in range(2)]
    with ServerThread(create_app(replicas, api_key=KEY, guard=StepGuard(repeat_ttl_s=0))) as s, \
            ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda b: post(s, b), bodies))
    assert [g[0] for g in got] == [200] * len(bodies)
    assert [g[2]["choices"][0]["message"]["content"] for g in got] == expected


def test_batched_decoders_answer_concurrent_requests_as_one_decoder_would(trained_lam, shared_dir):
    """lam serve's default: the decoders' forward passes batched (--batch 8 here) with a shared prompt-cache
    pool; 16 concurrent requests of both UFO dialects, each the answer one decoder alone gives it."""
    from concurrent.futures import ThreadPoolExecutor

    from lam_kedro.model.prefix_caches import PrefixCaches
    from lam_kedro.serving.serve_cli import serving_replicas

    bodies = [ufo_request(v, f) for v in ("v1.2.1", "v3.0.5")
              for f in ("bold_text", "italic_text", "font_size", "page_orientation", "underline_text",
                        "align_center", "insert_table", "find_replace")]
    decode = decode_config({"max_new_tokens": 24})
    with ServerThread(create_app(lam_generate(trained_lam, decode), api_key=KEY,
                                 guard=StepGuard(repeat_ttl_s=0))) as s:
        expected = [post(s, b)[2]["choices"][0]["message"]["content"] for b in bodies]
    pool = PrefixCaches(16)
    replicas = serving_replicas(trained_lam, decode, workers=1, batch=8, pool=pool)
    batcher = replicas[0].batcher
    assert len(replicas) == 8 and all(r.batcher is batcher for r in replicas)
    try:
        with ServerThread(create_app(replicas, api_key=KEY, guard=StepGuard(repeat_ttl_s=0))) as s, \
                ThreadPoolExecutor(16) as workers:
            got = list(workers.map(lambda b: post(s, b), bodies))
    finally:
        batcher.close()
    assert [g[0] for g in got] == [200] * len(bodies)
    assert [g[2]["choices"][0]["message"]["content"] for g in got] == expected
    assert batcher.passes > batcher.batches  # passes of concurrent requests ran together
    # nothing to batch: plain replicas, and why
    assert all(r.batcher is None for r in serving_replicas(trained_lam, decode, workers=2, batch=1))
    plain = serving_replicas(trained_lam, decode_config({"constrained": False}), workers=2, batch=8)
    assert len(plain) == 2 and not any(hasattr(r, "batcher") for r in plain)


def test_a_long_request_times_out_and_does_not_hold_up_short_ones(shared_dir):
    import threading

    in_flight, peak, lock = [0], [0], threading.Lock()

    def model(messages: list[dict[str, str]]) -> str:
        slow = "ital" in parse_chat_prompt(messages).request.lower()  # the italic task, not the Italic button
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(3.0 if slow else 0.05)
        with lock:
            in_flight[0] -= 1
        return json.dumps({"thought": "", "control_label": "", "control_name": "", "function": "", "args": {},
                           "status": "FINISH", "plan": []})

    app = create_app([model, model], api_key=KEY, request_timeout_s=1.0)
    with ServerThread(app) as s:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(post, s, ufo_request(family="italic_text"))
            time.sleep(0.2)
            start = time.perf_counter()
            fast = [post(s, ufo_request(family="bold_text")) for _ in range(3)]
            fast_s = time.perf_counter() - start
            status, _, reply = slow.result()
    assert [f[0] for f in fast] == [200] * 3 and fast_s < 1.0, fast_s  # the other replica kept answering
    assert status == 504 and reply["error"]["code"] == "timeout" and "within 1 s" in reply["error"]["message"]
    assert peak[0] == 2
