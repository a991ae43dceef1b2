"""An OpenAI-compatible chat-completions server for the LAM, the model UFO's AppAgent can call.

(Over 400 lines on purpose: one FastAPI app: request validation, OpenAI's error shapes and the endpoints in one place, so every 4xx path can be read together.)

``create_app(generate, api_key=...)`` wraps any ``generate(messages) -> text`` (the LAM from
``serving.models.lam_generate``, or anything else with that shape) in a FastAPI app:

``POST /v1/chat/completions``
    Non-streaming chat completions. The last user message is read as a UFO AppAgent prompt or
    this project's own prompt (``serving.ufo_prompt``), re-rendered with the training prompt
    code, answered by ``generate``, reviewed by the ``StepGuard`` (loops, safety) and returned as
    UFO 1.x's CamelCase JSON, UFO3's snake_case JSON or our action JSON. Sampling fields are
    validated to OpenAI's ranges and ignored (decoding is configured when the server starts),
    except ``max_tokens``, which cuts the answer (``finish_reason: "length"``); ``stream: true``
    and ``n > 1`` are refused; a prompt over the model's window is ``context_length_exceeded``.
    The same handler answers ``/v1/chat/completions/chat/completions``: UFO's docs give
    ``API_BASE`` as the full endpoint URL while its OpenAI client appends ``/chat/completions``.
``GET /v1/models``, ``GET /v1/models/{id}``
    The one served model.
``GET /health``
    Liveness, without authentication.

Every ``/v1`` route needs ``Authorization: Bearer <api_key>`` (401 otherwise). Bodies larger than
``max_body_bytes`` are refused with 413 from ``Content-Length`` before any of it is read, and
while reading when the length is not declared. Errors have OpenAI's shape
``{"error": {"message", "type", "param", "code"}}``; bad input of any kind (deep nesting, lone
surrogates, ``NaN``, unreadable slots) is a 4xx, a 5xx only means the model itself failed. The model is not thread-safe, so generation
runs on ``len(generate)`` replicas (one by default; ``lam serve``: 16 whose passes are batched):
concurrent requests take a free replica or wait in arrival order, and each gets the answer to its own prompt.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lam_kedro.serving.guard import StepGuard
from lam_kedro.serving.ufo_prompt import ChatPrompt, PromptError, UfoDialect, format_answer, parse_chat_prompt

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "Generate",
    "TokenCounter",
    "whitespace_token_counter",
    "bundle_token_counter",
    "ApiError",
    "create_app",
    "ServerThread",
    "wait_for_health",
]

logger = logging.getLogger(__name__)

#: ``generate(messages) -> text``: the model behind the server.
Generate = Callable[[list[dict[str, str]]], str]

#: Default request-body limit (32 MiB): UFO's visual mode sends base64 screenshots (three made 2.9 MB)
#: that are skipped, yet must be read; a text prompt with a few hundred controls is ~100 KiB.
DEFAULT_MAX_BODY_BYTES = 32 << 20

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_CHAT_PATHS = ("/v1/chat/completions", "/v1/chat/completions/chat/completions")


@dataclass(frozen=True)
class TokenCounter:
    """How ``usage`` is counted and the context window checked.

    ``prompt``: tokens of the prompt the model is fed (the re-rendered prompt); ``completion``:
    tokens of an answer's text; ``truncate(text, n)``: its first ``n`` tokens (``max_tokens``);
    ``context_window``: the model's positions (``None``: unlimited) of which ``reserve`` are kept
    for the answer, so a prompt over ``context_window - reserve`` tokens is refused.
    """

    prompt: Callable[[list[dict[str, str]]], int]
    completion: Callable[[str], int]
    truncate: Callable[[str, int], str] = lambda text, n: " ".join(text.split()[:n])
    context_window: int | None = None
    reserve: int = 0


def whitespace_token_counter(context_window: int | None = None, reserve: int = 0) -> TokenCounter:
    """Whitespace-separated words, for a ``generate`` that has no tokenizer."""
    return TokenCounter(
        prompt=lambda messages: sum(len(m["content"].split()) for m in messages),
        completion=lambda text: len(text.split()),
        context_window=context_window,
        reserve=reserve,
    )


def bundle_token_counter(bundle: Any, reserve: int = 0) -> TokenCounter:
    """The model's own tokenizer: the chat-templated prompt as ``generate`` encodes it, and the answer.

    The window is the model's ``max_position_embeddings``; ``reserve`` the positions the decoder
    keeps for its answer (``decode_reserve``).
    """
    from lam_kedro.model.generation import encode_prompt

    tokenizer = bundle.tokenizer
    config = getattr(bundle.model, "config", None)
    window = getattr(config, "max_position_embeddings", None) if config is not None else None

    def ids(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    return TokenCounter(
        prompt=lambda messages: len(encode_prompt(bundle, messages)),
        completion=lambda text: len(ids(text)),
        truncate=lambda text, n: tokenizer.decode(ids(text)[:n]),
        context_window=int(window) if window else None,
        reserve=reserve,
    )


def decode_reserve(decode: Any) -> int:
    """Positions a decoder keeps for its answer: ``max_new_tokens``, plus the forced JSON skeleton
    and control names (64) when constrained, as ``ActionDecoder`` and ``make_generate`` reserve them."""
    return int(decode.max_new_tokens) + (64 if decode.constrained else 0)


class ApiError(Exception):
    """An error answered in OpenAI's shape; ``param`` names the offending request field."""

    _TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error",
              405: "invalid_request_error", 413: "invalid_request_error", 500: "server_error",
              503: "server_error", 504: "server_error"}

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self._TYPES.get(self.status, "invalid_request_error"),
                          "param": self.param, "code": self.code}}
        return _AsciiJSON(body, status_code=self.status, headers=self.headers)


class _AsciiJSON(JSONResponse):
    """JSON with non-ASCII escaped: a message quoting a client's broken text (a lone surrogate)
    still encodes."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


class _AccessLog:
    """Logs ``METHOD path status latency`` for every HTTP request (pure ASGI, body untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            logger.info("%s %s %d %.1f ms", scope["method"], scope["path"], status[0],
                        (time.perf_counter() - start) * 1000)


@dataclass(frozen=True)
class _Answer:
    content: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class _Model:
    """The model replicas (``generate`` callables, each used by one request at a time) and the
    token counter. A request takes a free replica, or waits for one in arrival order."""

    def __init__(self, generate: Generate | Sequence[Generate], counter: TokenCounter,
                 guard: StepGuard | None) -> None:
        replicas = [generate] if callable(generate) else list(generate)
        if not replicas:
            raise ValueError("no model replica to serve")
        self.counter = counter
        self.guard = guard
        self.replicas = len(replicas)
        # the constrained decoder reads the document from the prompt's slots: its model does not read it
        self._reads_document = not all(hasattr(g, "read_document") for g in replicas)
        self._free: queue.Queue[Generate] = queue.Queue()
        for g in replicas:
            self._free.put(g)

    def read(self, prompt: ChatPrompt) -> int:
        """Tokens of the prompt as the model reads it; a prompt over the window is a 400."""
        prompt_tokens = self.counter.prompt(prompt.messages(document=self._reads_document))
        window, reserve = self.counter.context_window, self.counter.reserve
        if window is not None and prompt_tokens + reserve > window:
            what = (f"{len(prompt.controls)} controls, {len(prompt.previous_actions)} previous actions"
                    if prompt.kind == "step" else "a plan request")
            raise ApiError(
                400, f"This model's maximum context length is {window} tokens, of which {reserve} are kept for "
                f"the answer; the prompt as the model reads it (re-rendered from the request's slots: {what}) is "
                f"{prompt_tokens} tokens. Send fewer controls (UFO: a shorter CONTROL_LIST) or a shorter request "
                "and history.", param="messages", code="context_length_exceeded")
        return prompt_tokens

    def answer(self, prompt: ChatPrompt, prompt_tokens: int, max_tokens: int | None, user: str | None) -> _Answer:
        """The answer to a parsed prompt (``read`` first), cut at ``max_tokens`` tokens."""
        messages = prompt.messages(document=self._reads_document)
        generate = self._free.get()  # FIFO: waiting requests are served in arrival order
        try:
            raw = generate(messages)
        finally:
            self._free.put(generate)
        if not isinstance(raw, str):
            raise TypeError(f"generate returned {type(raw).__name__}, not text")
        logger.debug("model output: %r", raw)
        review = None
        if self.guard is not None:
            guard = self.guard

            def review(p: ChatPrompt, fields: dict[str, Any]) -> dict[str, Any]:
                return guard.review(p, fields, user)
        content = format_answer(prompt, raw, review)
        completion_tokens = self.counter.completion(content)
        finish = "stop"
        if max_tokens is not None and completion_tokens > max_tokens:
            content, completion_tokens, finish = self.counter.truncate(content, max_tokens), max_tokens, "length"
        return _Answer(content, prompt_tokens, completion_tokens, finish)


# -- request validation ------------------------------------------------------------------------
def _require_type(value: Any, types: type | tuple[type, ...], param: str, what: str) -> None:
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ApiError(400, f"'{param}' must be {what}, got a boolean", param=param, code="invalid_type")
    if not isinstance(value, types):
        raise ApiError(400, f"'{param}' must be {what}, got {type(value).__name__}", param=param,
                       code="invalid_type")


def _validate_messages(messages: Any) -> list[dict[str, Any]]:
    if messages is None:
        raise ApiError(400, "missing required field 'messages' (a list of {role, content} objects)",
                       param="messages", code="missing_required_parameter")
    _require_type(messages, list, "messages", "a list of {role, content} objects")
    if not messages:
        raise ApiError(400, "'messages' must not be empty", param="messages", code="invalid_value")
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        _require_type(m, dict, where, "an object with 'role' and 'content'")
        role = m.get("role")
        if role is None:
            raise ApiError(400, f"missing required field '{where}.role'", param=f"{where}.role",
                           code="missing_required_parameter")
        if not isinstance(role, str) or role not in _ROLES:
            raise ApiError(400, f"'{where}.role' must be one of {sorted(_ROLES)}, got {role!r}",
                           param=f"{where}.role", code="invalid_value")
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise ApiError(400, f"'{where}.content' must be a string or a list of parts, got "
                           f"{type(content).__name__}", param=f"{where}.content", code="invalid_type")
    return messages


#: Nesting the chat format needs (messages -> content parts -> image_url) is 4; 32 is plenty.
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_INT = 2**31 - 1


def _loads(body: bytes) -> Any:
    """The body as JSON: strict (no ``NaN``/``Infinity``), not nested deeper than ``MAX_JSON_DEPTH``,
    no lone UTF-16 surrogates in any string (tokenizers cannot encode them)."""
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON (numbers must be finite)")

    try:
        payload = json.loads(body, parse_constant=no_constant)
    except RecursionError:
        raise ApiError(400, f"the request body is nested too deeply (the limit is {MAX_JSON_DEPTH} levels)",
                       code="invalid_json") from None
    except (ValueError, UnicodeDecodeError) as err:  # JSONDecodeError is a ValueError
        raise ApiError(400, f"the request body is not valid JSON: {err}", code="invalid_json") from None
    stack: list[tuple[Any, str, int]] = [(payload, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ApiError(400, f"the request body is nested too deeply at {where or 'the top'} (the limit is "
                           f"{MAX_JSON_DEPTH} levels)", param=where or None, code="invalid_json")
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise ApiError(400, f"'{where}' contains a lone UTF-16 surrogate (e.g. \\ud800 without its pair), "
                               "which is not text; send valid Unicode", param=where or None, code="invalid_value")
        elif isinstance(value, dict):
            for k, v in value.items():
                if _SURROGATE.search(k):
                    raise ApiError(400, f"a key in '{where or 'the body'}' contains a lone UTF-16 surrogate",
                                   param=where or None, code="invalid_value")
                stack.append((v, f"{where}.{k}" if where else k, depth + 1))
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
    return payload


def _number(payload: Mapping[str, Any], name: str, low: float, high: float) -> None:
    value = payload.get(name)
    if value is None:
        return
    _require_type(value, (int, float), name, "a number")
    if not (math.isfinite(value) and low <= value <= high):
        raise ApiError(400, f"'{name}' must be between {low:g} and {high:g}, got {value!r}", param=name,
                       code="invalid_value")


def _integer(payload: Mapping[str, Any], name: str, low: int, high: int = _MAX_INT) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    _require_type(value, int, name, "an integer")
    if not low <= value <= high:
        raise ApiError(400, f"'{name}' must be an integer between {low} and {high}, got {value}", param=name,
                       code="invalid_value")
    return int(value)


def _validate_options(payload: Mapping[str, Any]) -> int | None:
    """Check the sampling and output fields against OpenAI's types and ranges; returns ``max_tokens``.

    They are validated, not applied (decoding is fixed when the server starts), except
    ``max_tokens`` / ``max_completion_tokens``, which cut the answer (``finish_reason: "length"``).
    """
    stream = payload.get("stream")
    if stream is not None:
        _require_type(stream, bool, "stream", "a boolean")
        if stream:
            raise ApiError(400, "streaming is not supported by this server; send \"stream\": false",
                           param="stream", code="unsupported_value")
    n = payload.get("n")
    if n is not None:
        _require_type(n, int, "n", "an integer")
        if n != 1:
            raise ApiError(400, f"only n=1 is supported (one deterministic answer per prompt), got n={n}",
                           param="n", code="unsupported_value")
    _number(payload, "temperature", 0, 2)
    _number(payload, "top_p", 0, 1)
    _number(payload, "frequency_penalty", -2, 2)
    _number(payload, "presence_penalty", -2, 2)
    _integer(payload, "seed", -(2**63), 2**63 - 1)
    _integer(payload, "top_logprobs", 0, 20)
    for flag in ("logprobs", "parallel_tool_calls", "store"):
        if payload.get(flag) is not None:
            _require_type(payload[flag], bool, flag, "a boolean")
    if payload.get("logprobs"):
        raise ApiError(400, "logprobs are not supported by this server", param="logprobs", code="unsupported_value")
    stop = payload.get("stop")
    if stop is not None:
        if isinstance(stop, list):
            if len(stop) > 4 or not all(isinstance(x, str) for x in stop):
                raise ApiError(400, "'stop' must be a string or a list of at most 4 strings", param="stop",
                               code="invalid_value")
        else:
            _require_type(stop, str, "stop", "a string or a list of at most 4 strings")
    user = payload.get("user")
    if user is not None:
        _require_type(user, str, "user", "a string")
    fmt = payload.get("response_format")
    if fmt is not None:
        _require_type(fmt, dict, "response_format", "an object like {\"type\": \"json_object\"}")
        kind = fmt.get("type")
        if kind not in ("text", "json_object", "json_schema"):
            raise ApiError(400, f"'response_format.type' must be 'text', 'json_object' or 'json_schema', got "
                           f"{kind!r}", param="response_format.type", code="invalid_value")
    limits = [_integer(payload, name, 1) for name in ("max_tokens", "max_completion_tokens")]
    given = [x for x in limits if x is not None]
    return min(given) if given else None


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than ``limit`` bytes: by ``Content-Length`` first, then while reading."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError(400, f"Content-Length {declared!r} is not an integer") from None
        if size > limit:
            raise ApiError(413, f"request body of {size} bytes exceeds the limit of {limit} bytes "
                           "(lam serve --max-body-bytes)", code="request_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body exceeds the limit of {limit} bytes (lam serve --max-body-bytes)",
                           code="request_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


# -- the app -------------------------------------------------------------------------------------
def create_app(
    generate: Generate | Sequence[Generate],
    api_key: str | None = None,
    *,
    model_name: str = "lam",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    token_counter: TokenCounter | None = None,
    no_auth: bool = False,
    guard: StepGuard | None = None,
    ufo_dialect: UfoDialect = "auto",
    request_timeout_s: float | None = None,
) -> FastAPI:
    """The OpenAI-compatible app around ``generate`` (see the module docstring).

    ``api_key`` is required unless ``no_auth`` is set explicitly (then every request is served);
    ``token_counter`` defaults to whitespace words (pass ``bundle_token_counter(bundle)`` for the
    model's tokenizer and window). ``guard`` reviews step answers (loops, safety; ``None``: a
    ``StepGuard()`` with the default safety config); ``ufo_dialect`` forces UFO 1.x/2.x (``ufo``) or
    UFO3 (``ufo3``) answers instead of reading the dialect from each request (``auto``).
    ``generate`` may be a list of replicas (independent decoders over one model): that many
    requests generate at once (``serve_cli.serving_replicas`` builds ``lam serve``'s: decoders whose
    forward passes a ``model.batching.ForwardBatcher`` runs batched). A request not answered within ``request_timeout_s`` (waiting
    included) gets a 504; its generation is abandoned, not killed, and frees its replica when done.
    """
    if not api_key and not no_auth:
        raise ValueError("an API key is required (pass api_key, or no_auth=True to serve without authentication)")
    if api_key and no_auth:
        raise ValueError("api_key and no_auth=True contradict each other; pass one of them")
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
    model = _Model(generate, token_counter or whitespace_token_counter(), guard or StepGuard())
    created = int(time.time())
    expected = api_key.encode() if api_key else None

    app = FastAPI(title="lam-kedro LAM server", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(_AccessLog)
    app.state.model_name = model_name

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        return err.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        message = (f"no route {request.method} {request.url.path}" if err.status_code in (404, 405)
                   else str(err.detail))
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code)
        return ApiError(err.status_code, message, code=code, headers=err.headers).response()

    def check_auth(request: Request) -> None:
        if expected is None:
            return
        scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing API key: send the header 'Authorization: Bearer <key>' with the key "
                           "the server was started with (--api-key or LAM_API_KEY)", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(token.strip().encode(), expected):
            raise ApiError(401, "invalid API key", code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    def model_card() -> dict[str, Any]:
        return {"id": model_name, "object": "model", "created": created, "owned_by": "lam-kedro"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model": model_name}

    @app.get("/v1/models")
    async def list_models(request: Request) -> dict[str, Any]:
        check_auth(request)
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id:path}")
    async def get_model(model_id: str, request: Request) -> dict[str, Any]:
        check_auth(request)
        if model_id != model_name:
            raise ApiError(404, f"model {model_id!r} is not served here; this server serves {model_name!r}",
                           param="model", code="model_not_found")
        return model_card()

    async def chat_completions(request: Request) -> JSONResponse:
        check_auth(request)
        body = await _read_body(request, max_body_bytes)
        payload = _loads(body)
        if not isinstance(payload, dict):
            raise ApiError(400, f"the request body must be a JSON object, got {type(payload).__name__}",
                           code="invalid_json")
        requested = payload.get("model")
        if requested is None:
            raise ApiError(400, f"missing required field 'model' (this server serves {model_name!r})",
                           param="model", code="missing_required_parameter")
        _require_type(requested, str, "model", "a string")
        if requested != model_name:
            raise ApiError(404, f"model {requested[:200]!r} is not served here; this server serves {model_name!r} "
                           f"(set API_MODEL / model to {model_name!r})", param="model", code="model_not_found")
        messages = _validate_messages(payload.get("messages"))
        max_tokens = _validate_options(payload)
        try:
            prompt = parse_chat_prompt(messages, ufo_dialect)
        except PromptError as err:
            raise ApiError(400, f"cannot read the prompt: {err}", param="messages", code="invalid_prompt") from None
        except (ValueError, TypeError, RecursionError, MemoryError) as err:  # a reader bug must not be a 500
            logger.exception("prompt reader failed")
            raise ApiError(400, f"cannot read the prompt ({type(err).__name__})", param="messages",
                           code="invalid_prompt") from None
        prompt_tokens = await anyio.to_thread.run_sync(model.read, prompt)
        try:
            with anyio.fail_after(request_timeout_s):
                answer = await anyio.to_thread.run_sync(model.answer, prompt, prompt_tokens, max_tokens,
                                                        payload.get("user"), abandon_on_cancel=True)
        except TimeoutError:
            raise ApiError(504, f"no answer within {request_timeout_s:g} s (lam serve --request-timeout); "
                           f"{model.replicas} replica(s) serve all requests", code="timeout") from None
        except Exception as err:  # the model failed: a 500 that says how, never a dropped connection
            logger.exception("generation failed")
            raise ApiError(500, f"the model failed to answer: {type(err).__name__}: {err}",
                           code="generation_failed") from None
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        headers = {"x-request-id": completion_id}
        if prompt.images_skipped:
            headers["x-lam-images-skipped"] = str(prompt.images_skipped)
        if prompt.history_skipped:
            headers["x-lam-history-skipped"] = str(prompt.history_skipped)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model_name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.content},
                             "logprobs": None, "finish_reason": answer.finish_reason}],
                "usage": {"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
                          "total_tokens": answer.prompt_tokens + answer.completion_tokens},
                "system_fingerprint": None,
            },
            headers=headers,
        )

    for path in _CHAT_PATHS:
        app.add_api_route(path, chat_completions, methods=["POST"])
    return app


# -- running it ----------------------------------------------------------------------------------
class ServerThread:
    """uvicorn serving ``app`` from a background thread, for tests and notebooks.

    ``port=0`` binds a free port; ``base_url`` is ``http://host:port/v1`` once ``start`` returned.
    One process, one event loop: the same serving path as ``lam serve``.
    """

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        import uvicorn

        self.host = host
        self.port = port
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off")
        )
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self, timeout: float = 30.0) -> ServerThread:
        """Start serving; returns once the socket accepts connections (``RuntimeError`` otherwise)."""
        self._thread = threading.Thread(target=self._server.run, name="lam-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        sockets: Sequence[Any] = self._server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for_health(port: int, process: Any = None, timeout_s: float = 120.0, host: str = "127.0.0.1") -> None:
    """Block until ``GET /health`` on ``host:port`` answers 200, e.g. a ``lam serve`` started as a
    subprocess (``process``: a ``subprocess.Popen`` whose exit is a ``RuntimeError`` with its output)."""
    import http.client

    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            output = process.communicate()[0] if process.stdout is not None else ""
            raise RuntimeError(f"the server exited with status {process.returncode}: {str(output)[-2000:]}")
        conn = http.client.HTTPConnection(host, port, timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer from http://{host}:{port}/health within {timeout_s:g} s")
        time.sleep(0.25)
