"""What flows between training phases: a model with its tokenizer and a record of where it came from.

Every phase node takes and returns a ``ModelBundle``; the catalog's ``HFModelDataset`` saves it as
a Hugging Face folder (``save_pretrained`` of both, plus ``lam_info.json``) under
``data/06_models/<generation>``, which DVC tracks and the MLflow registry dataset logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ModelBundle:
    """A causal LM (or, for the reward model, a sequence classifier) and its tokenizer.

    ``info`` is JSON-serialisable provenance: ``{"generation": "lam2", "base": "tiny",
    "parent": "lam1", "adapter": "lora" | None, "metrics": {...}}``; it travels with the folder.
    """

    model: Any
    tokenizer: Any
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def generation(self) -> str:
        return str(self.info.get("generation", "base"))
