"""The LAM as an MLflow pyfunc model: records in, action JSON out, through the agent's own prompt code.

What the registry serves is what evaluation measured: prompts come from ``agent.prompt``
(``step_messages``, the same slots as training), text from ``model.policy.lam_generate`` (the
decoder every LAM policy is built on: exploration, evaluation, ``lam agent``, ``lam serve``) and
the output is checked by ``parse_action_output``. A model's mistake is a value (a JSON object
with ``error`` and the raw text), never an exception.

Input records (a DataFrame or a list of dicts): ``request``, ``controls`` (list of
``{label, control_text, control_type}``), ``previous_actions`` and ``previous_plan`` (lists of
strings; empty lists for the first step) -> the action JSON. A record whose ``controls`` is empty
asks for a plan (Phase 1's skill) -> ``{"plan": [...]}``. For a reward model (``task: seq_cls``)
a record also carries ``action`` (the action JSON) -> ``{"reward": float}``. ``signature_for``
is the MLflow signature of these records, so ``mlflow models serve`` checks requests against it.

The model config is a ``model.policy.DecodeConfig`` (unknown keys fail at load, naming the key):
decoding is constrained to the action grammar (``model.decoder``) unless it says
``constrained: false``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import mlflow.pyfunc

__all__ = ["LAMPyfuncModel", "records_of", "signature_for"]


def signature_for(task: str = "causal_lm") -> Any:
    """The MLflow ``ModelSignature`` of a LAM (``causal_lm``) or reward model (``seq_cls``): records in, JSON out."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Array, ColSpec, Object, Property, Schema

    control = Object([Property("label", "string"), Property("control_text", "string"),
                      Property("control_type", "string")])
    columns = [ColSpec("string", "request"), ColSpec(Array(control), "controls"),
               ColSpec(Array("string"), "previous_actions"), ColSpec(Array("string"), "previous_plan")]
    if task == "seq_cls":
        columns.append(ColSpec("string", "action"))
    return ModelSignature(inputs=Schema(columns), outputs=Schema([ColSpec("string")]))


def records_of(model_input: Any) -> list[dict[str, Any]]:
    """A DataFrame, a dict of columns, one record or a list of records -> a list of records."""
    if hasattr(model_input, "to_dict"):  # pandas
        return model_input.to_dict(orient="records")
    if isinstance(model_input, Mapping):
        values = list(model_input.values())
        if values and all(isinstance(v, list) for v in values) and "controls" not in model_input:
            return [dict(zip(model_input, row, strict=True)) for row in zip(*values, strict=True)]
        return [dict(model_input)]
    return [dict(r) for r in model_input]


def _as_list(value: Any) -> list[Any]:
    """A list from a record field: a list, a JSON list string, one string, or a missing value (None/NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        value = json.loads(value) if value.strip().startswith("[") else [value]
    return [dict(v) if isinstance(v, Mapping) else v for v in list(value)]


class LAMPyfuncModel(mlflow.pyfunc.PythonModel):
    """Loads the HF folder logged as artifact ``hf_model``; ``model_config`` is a ``DecodeConfig``'s keys."""

    def load_context(self, context: Any) -> None:
        from lam_kedro.model.loading import load_bundle
        from lam_kedro.model.policy import decode_config, lam_generate

        decode = decode_config(getattr(context, "model_config", None), "model_config")
        self.bundle = load_bundle(context.artifacts["hf_model"])
        self.task = self.bundle.info.get("task", "causal_lm")
        self.generate = lam_generate(self.bundle, decode) if self.task == "causal_lm" else None

    def _act(self, record: Mapping[str, Any]) -> str:
        from lam_kedro.agent.prompt import (
            parse_action_output,
            parse_plan_output,
            plan_messages,
            step_messages,
        )

        controls = _as_list(record.get("controls"))
        if not controls:
            plan = parse_plan_output(self.generate(plan_messages(str(record["request"]))))
            return json.dumps({"plan": plan}, ensure_ascii=False)
        messages = step_messages(str(record["request"]), controls, [str(a) for a in _as_list(record.get(
            "previous_actions"))], [str(p) for p in _as_list(record.get("previous_plan"))])
        raw = self.generate(messages)
        parsed = parse_action_output(raw, controls)
        if parsed.ok:
            return json.dumps(parsed.to_dict(), ensure_ascii=False)
        return json.dumps({"error": parsed.error, "raw_output": raw}, ensure_ascii=False)

    def _score(self, record: Mapping[str, Any]) -> str:
        import torch

        from lam_kedro.agent.prompt import step_messages
        from lam_kedro.model.formatting import to_model_messages

        messages = step_messages(str(record["request"]), _as_list(record.get("controls")),
                                 [str(a) for a in _as_list(record.get("previous_actions"))],
                                 [str(p) for p in _as_list(record.get("previous_plan"))])
        action = record["action"] if isinstance(record["action"], str) else json.dumps(record["action"])
        chat = [*to_model_messages(messages, self.bundle.info), {"role": "assistant", "content": action}]
        ids = self.bundle.tokenizer.apply_chat_template(chat, return_dict=True, return_tensors="pt")
        with torch.inference_mode():
            logits = self.bundle.model(**ids).logits
        return json.dumps({"reward": float(logits[0, 0])})

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> list[str]:
        """One JSON string per input record (see the module docstring)."""
        handle = self._act if self.task == "causal_lm" else self._score
        return [handle(r) for r in records_of(model_input)]
