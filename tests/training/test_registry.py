"""The MLflow registry dataset on a real sqlite store: versions, aliases, provenance tags, the pyfunc."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import torch
from kedro.io import DatasetError
from mlflow import MlflowClient

from lam_kedro.agent.prompt import step_examples
from lam_kedro.datasets import MlflowRegisteredModelDataset
from lam_kedro.training.bundle import ModelBundle
from lam_kedro.training.models import build_base_model
from tests.training.phase12_data import base_params, expert_data


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A sqlite tracking + registry store in a temp folder (artifacts beside it), as conf/base/mlflow.yml sets."""
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # mlflow exports both URIs to the environment (and set_registry_uri(None) does not unset it):
    # monkeypatch owns the variables so later subprocesses (kedro run) do not inherit this store.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment("lam")
    yield uri
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


@pytest.fixture(scope="module")
def base() -> ModelBundle:
    plans, trajs = expert_data()
    return build_base_model(plans, trajs, base_params())


def _generation(base: ModelBundle, name: str, parent: str) -> ModelBundle:
    info = {**base.info, "generation": name, "parent": parent, "metrics": {"final_loss": 1.5, "steps": 12.0}}
    return ModelBundle(model=base.model, tokenizer=base.tokenizer, info=info)


def test_generations_become_versions_with_aliases_and_tags(store: str, base: ModelBundle):
    with mlflow.start_run():
        MlflowRegisteredModelDataset("lam", alias="lam1", generate={"max_new_tokens": 16}).save(
            _generation(base, "lam1", "base"))
        MlflowRegisteredModelDataset("lam", generate={"max_new_tokens": 16}).save(_generation(base, "lam2", "lam1"))
    client = MlflowClient()
    v1, v2 = (client.get_model_version_by_alias("lam", a) for a in ("lam1", "lam2"))
    assert (str(v1.version), str(v2.version)) == ("1", "2")
    assert v2.tags["generation"] == "lam2" and v2.tags["parent"] == "lam1" and v2.tags["base"] == "tiny"
    assert float(v2.tags["train.final_loss"]) == 1.5
    loaded = MlflowRegisteredModelDataset("lam", alias="lam1").load()
    assert loaded.info["generation"] == "lam1" and loaded.info["task"] == "causal_lm"
    ids = base.tokenizer("Make it bold", return_tensors="pt")
    with torch.inference_mode():
        assert torch.allclose(loaded.model(**ids).logits, base.model(**ids).logits)


def test_pyfunc_predicts_an_action_or_records_the_parse_error(store: str, base: ModelBundle):
    with mlflow.start_run():
        MlflowRegisteredModelDataset("lam", alias="lam2", generate={"max_new_tokens": 24}).save(
            _generation(base, "lam2", "lam1"))
    model = mlflow.pyfunc.load_model("models:/lam@lam2")
    _, trajs = expert_data()
    step = trajs[0].steps[0]
    record = {"request": trajs[0].task.task, "controls": step.observation["controls"], "previous_actions": [],
              "previous_plan": trajs[0].task.plan}
    out = model.predict(pd.DataFrame([record, {"request": "Make the title bold"}]))
    assert len(out) == 2
    action, plan = (json.loads(o) for o in out)  # always JSON: an action, or the error with the raw text
    assert "function" in action or ("error" in action and "raw_output" in action)
    assert isinstance(plan["plan"], list)
    assert step_examples(trajs[0])  # the same prompt code built the request the pyfunc rendered


def test_saving_outside_a_run_and_loading_an_unknown_alias_fail_clearly(store: str, base: ModelBundle):
    with pytest.raises(DatasetError, match="active MLflow run"):
        MlflowRegisteredModelDataset("lam", alias="lam1").save(_generation(base, "lam1", "base"))
    assert not MlflowRegisteredModelDataset("lam", alias="lam9").exists()
    with pytest.raises(DatasetError, match="models:/lam@lam9"):
        MlflowRegisteredModelDataset("lam", alias="lam9").load()
