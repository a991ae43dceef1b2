"""``params:phase4`` as a pydantic model (defaults: ``conf/base/parameters_phase4.yml``); a typo fails naming it.

``ppo`` is offline PPO's own ``Args`` (``training.ppo_offline``, with its help text); ``kto`` holds
``trl.KTOConfig`` fields, checked against the dataclass; ``lora`` holds ``peft.LoraConfig`` fields.
Importing this module imports torch (``ppo_offline``): the nodes import it when they run.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lam_kedro.model.config import Params, fields_of
from lam_kedro.training.params import LoraBlock
from lam_kedro.training.ppo_offline import Args

__all__ = ["Phase4Data", "Phase4Params"]


class Phase4Data(Params):
    seed: int = Field(0, description="which trajectories a cap keeps")
    max_trajectories: int | None = Field(50, ge=1, description="failed (and, for kto, successful) LAM3 "
                                                              "trajectories used, seed-chosen (null: all)")
    reward_batch_size: int = Field(8, ge=1, description="steps per reward-model forward pass")


def _kto_defaults() -> dict[str, Any]:
    return {"seed": 0, "num_train_epochs": 1, "per_device_train_batch_size": 8, "learning_rate": 1.0e-5,
            "beta": 0.1, "max_length": 1024, "logging_steps": 5, "disable_tqdm": True}


class Phase4Params(Params):
    method: Literal["ppo", "kto"] = Field("ppo", description="ppo (the paper) | kto (TRL's KTOTrainer, no RM)")
    data: Phase4Data = Field(default_factory=Phase4Data)
    ppo: Args = Field(default_factory=Args)
    kto: fields_of("trl.KTOConfig", reserved={"output_dir": "KTO trains in a temporary folder"}  # type: ignore
                   ) = Field(default_factory=_kto_defaults, description="trl.KTOConfig fields (method: kto)")
    lora: LoraBlock | None = Field(None, description="null: a full fine-tune; adapters are merged into LAM4")  # type: ignore[valid-type]
