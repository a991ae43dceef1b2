"""A small client for any OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp, our server).

Data evolution and the optional LLM expert talk to a model through this one class, configured
from ``params`` (base_url, api_key, model, timeout), never from globals. Every failure becomes an
``LLMEndpointError`` whose message names the endpoint URL and what to change, so a run with a
wrong or stopped server fails loudly instead of producing no data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LLMConfig", "LLMEndpointError", "ChatClient"]


class LLMEndpointError(RuntimeError):
    """The endpoint could not be reached or answered with an error; ``url`` says which one."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"LLM endpoint {url}: {reason}")
        self.url = url
        self.reason = reason


class LLMConfig(BaseModel):
    """Where the model is served and how long to wait for it (a ``params:`` block)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="off by default: nothing is called unless this is true")
    base_url: str = Field("http://127.0.0.1:8000/v1", description="OpenAI-compatible base URL, ending in /v1")
    api_key: str = Field("EMPTY", description="sent as a bearer token; local servers usually ignore it")
    model: str = Field("lam", description="the served model's name")
    timeout_s: float = Field(30.0, gt=0, description="seconds per request")
    max_retries: int = Field(0, ge=0, description="retries of a failed request (openai's own backoff)")
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int = Field(256, ge=1)


class ChatClient:
    """``complete(messages) -> str`` against ``{base_url}/chat/completions``."""

    def __init__(self, config: LLMConfig | Mapping[str, Any]) -> None:
        self.config = config if isinstance(config, LLMConfig) else LLMConfig(**config)
        self.url = self.config.base_url.rstrip("/") + "/chat/completions"
        self._client = openai.OpenAI(
            base_url=self.config.base_url,
            api_key=self.config.api_key,
            timeout=self.config.timeout_s,
            max_retries=self.config.max_retries,
        )

    def complete(self, messages: Sequence[Mapping[str, str]], **overrides: Any) -> str:
        """The first choice's text; an unreachable or failing endpoint raises ``LLMEndpointError``."""
        cfg = self.config
        try:
            response = self._client.chat.completions.create(
                model=cfg.model,
                messages=[dict(m) for m in messages],  # type: ignore[misc]
                temperature=overrides.get("temperature", cfg.temperature),
                max_tokens=overrides.get("max_tokens", cfg.max_tokens),
            )
        except openai.APITimeoutError as err:
            raise LLMEndpointError(self.url, f"no answer within {cfg.timeout_s} s (raise timeout_s)") from err
        except openai.APIConnectionError as err:
            raise LLMEndpointError(
                self.url, f"cannot connect ({err.__cause__ or err}); is the server running? check base_url"
            ) from err
        except openai.APIStatusError as err:
            raise LLMEndpointError(
                self.url, f"HTTP {err.status_code}: {_snippet(err.response.text)} (check base_url and model)"
            ) from err
        except openai.APIError as err:  # a malformed body and other protocol errors
            raise LLMEndpointError(self.url, f"{type(err).__name__}: {err}") from err
        if not response.choices:
            raise LLMEndpointError(self.url, "the response has no choices")
        content = response.choices[0].message.content
        if content is None:
            raise LLMEndpointError(self.url, "the first choice has no text content")
        return content


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
