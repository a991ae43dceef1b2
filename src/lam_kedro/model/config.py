"""One way to validate config: a strict pydantic model per ``params:`` block.

Every ``params:<pipeline>.<block>`` the project reads is a ``Params`` subclass (kedro-mlflow's
habit): unknown keys are an error that names the block and the key, and a block's defaults are
written once, in its model (equal to ``conf/base``). Sub-mappings that are a library's own config
(``trl.SFTConfig``, ``peft.LoraConfig``, ``transformers.TrainingArguments``) are not re-declared:
``fields_of`` checks their keys against the library's dataclass, so a typo there fails too.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

__all__ = ["Params", "config_errors", "fields_of", "library_fields", "parse_block"]

P = TypeVar("P", bound=BaseModel)


def config_errors(err: ValidationError, where: str, unknown: str | Callable[[str], str] = "unknown key") -> str:
    """``err``'s problems on one line, each as ``<where>.<key path>: <message>``.

    ``unknown`` is the message for a key the model does not have (or ``key -> message``).
    """
    def message(e: Any) -> str:
        if e["type"] != "extra_forbidden":
            return str(e["msg"])
        return unknown(str(e["loc"][-1])) if callable(unknown) else unknown

    return "; ".join(f"{where}.{'.'.join(str(p) for p in e['loc'])}: {message(e)}" for e in err.errors())


def parse_block(model: type[P], raw: Mapping[str, Any] | BaseModel | None, where: str,
                unknown: str | Callable[[str], str] = "unknown key") -> P:
    """``raw`` validated as ``model``; a ``ValueError`` names ``where`` (``params:phase1.training``) and each key."""
    if isinstance(raw, model):
        return raw
    if isinstance(raw, BaseModel):
        raw = raw.model_dump()
    try:
        return model.model_validate(dict(raw or {}))
    except ValidationError as err:
        raise ValueError(f"invalid config: {config_errors(err, where, unknown)}") from err


class Params(BaseModel):
    """A ``params:`` block: unknown keys are an error; ``parse`` names the block in the message."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def parse(cls: type[P], raw: Mapping[str, Any] | BaseModel | None, where: str) -> P:
        return parse_block(cls, raw, where)


@functools.cache
def library_fields(dotted: str) -> frozenset[str]:
    """The field names of the dataclass at ``dotted`` (``trl.SFTConfig``), imported on first use."""
    module, _, name = dotted.rpartition(".")
    return frozenset(f.name for f in dataclasses.fields(getattr(importlib.import_module(module), name)))


def fields_of(dotted: str, extra: frozenset[str] = frozenset(), reserved: Mapping[str, str] | None = None
              ) -> Any:
    """A ``dict`` type whose keys must be fields of the dataclass ``dotted`` (or ``extra``, our own).

    ``reserved`` maps a key the library has but this project sets elsewhere to the reason
    (``output_dir`` comes from the catalog). The library is imported only when a block has keys.
    """
    def check(value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if reserved and key in reserved:
                raise PydanticCustomError("reserved_key", "key {key} is not set here: {why}",
                                          {"key": repr(key), "why": reserved[key]})
            if key not in extra and key not in library_fields(dotted):
                raise PydanticCustomError("unknown_key", "unknown key {key} (not a field of {cls})",
                                          {"key": repr(key), "cls": dotted})
        return value

    return Annotated[dict[str, Any], AfterValidator(check)]
