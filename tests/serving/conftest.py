"""Models behind the served-model tests: a real tiny LAM, briefly trained on expert steps."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def trained_lam(tmp_path_factory: pytest.TempPathFactory):
    """A 64-wide tiny LAM after a short Phase 2 (SFT on scripted-expert steps): real weights that have
    seen the step prompt, small enough to train in about a minute on two cores."""
    from lam_kedro.model.formatting import step_rows
    from lam_kedro.model.loading import build_base_model
    from lam_kedro.training.sft import train_sft
    from tests.training.phase12_data import base_params, expert_data, sft_params

    plans, trajs = expert_data(12)
    base = build_base_model(plans, trajs, base_params(tokenizer={"vocab_size": 512}))
    rows = step_rows(trajs, base.info)
    lam, _ = train_sft(base, rows, [], sft_params(str(tmp_path_factory.mktemp("lam2")), max_steps=40), "lam2")
    return lam
