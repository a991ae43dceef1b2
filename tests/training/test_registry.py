"""The MLflow registry dataset on a real sqlite store: versions, aliases, provenance tags, the pyfunc."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import torch
from kedro.io import DatasetError
from mlflow import MlflowClient

from lam_kedro.agent.prompt import parse_action_output
from lam_kedro.datasets import MlflowRegisteredModelDataset
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.loading import build_base_model
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


def test_the_catalog_entry_writes_the_model_folder_and_registers_it(store: str, base: ModelBundle, tmp_path: Path):
    """As the phases' catalog entries use it: wrapping HFModelDataset, one save writes the folder (DVC's
    output) and registers the version; loading reads the folder; no node exists only to register."""
    def entry(name: str) -> MlflowRegisteredModelDataset:
        return MlflowRegisteredModelDataset("lam", alias=name, generate={"max_new_tokens": 16},
                                            dataset={"type": "lam_kedro.datasets.HFModelDataset",
                                                     "path": str(tmp_path / name)})

    lam1 = entry("lam1")
    assert not lam1.exists()
    with pytest.raises(DatasetError, match="active MLflow run"):
        lam1.save(_generation(base, "lam1", "base"))
    assert not (tmp_path / "lam1").exists()  # nothing written when it cannot be registered
    with mlflow.start_run():
        lam1.save(_generation(base, "lam1", "base"))
    assert (tmp_path / "lam1" / "config.json").is_file() and lam1.exists()
    version = MlflowClient().get_model_version_by_alias("lam", "lam1")
    assert version.tags["generation"] == "lam1" and float(version.tags["train.final_loss"]) == 1.5
    from_folder = lam1.load()
    assert from_folder.info["generation"] == "lam1"
    registered = MlflowRegisteredModelDataset("lam", alias="lam1").load()
    ids = base.tokenizer("Make it bold", return_tensors="pt")
    with torch.inference_mode():
        assert torch.allclose(from_folder.model(**ids).logits, registered.model(**ids).logits)
    assert lam1._describe()["dataset"]["path"] == str(tmp_path / "lam1")


def test_pyfunc_predicts_a_valid_action_and_a_plan(store: str, base: ModelBundle):
    with mlflow.start_run():
        MlflowRegisteredModelDataset("lam", alias="lam2", generate={"max_new_tokens": 24}).save(
            _generation(base, "lam2", "lam1"))
    model = mlflow.pyfunc.load_model("models:/lam@lam2")
    assert [c.name for c in model.metadata.get_input_schema().inputs] == [
        "request", "controls", "previous_actions", "previous_plan"]
    _, trajs = expert_data()
    step = trajs[0].steps[0]
    record = {"request": trajs[0].task.task, "controls": step.observation["controls"], "previous_actions": [],
              "previous_plan": trajs[0].task.plan}
    plan_record = {"request": "Make the title bold", "controls": [], "previous_actions": [], "previous_plan": []}
    out = model.predict(pd.DataFrame([record, plan_record]))
    assert len(out) == 2
    action, plan = (json.loads(o) for o in out)
    # constrained decoding (the default): a valid action on a visible control, whatever the weights
    assert parse_action_output(out[0], step.observation["controls"]).ok, action
    assert isinstance(plan["plan"], list)
    with pytest.raises(mlflow.exceptions.MlflowException, match="previous_plan"):
        model.predict([{"request": "x", "controls": [], "previous_actions": []}])  # the signature is enforced


def test_plain_decoding_records_a_parse_error_as_a_value(store: str, base: ModelBundle):
    with mlflow.start_run():
        MlflowRegisteredModelDataset("lam", alias="lam2", generate={"max_new_tokens": 16, "constrained": False}).save(
            _generation(base, "lam2", "lam1"))
    _, trajs = expert_data()
    step = trajs[0].steps[0]
    out = mlflow.pyfunc.load_model("models:/lam@lam2").predict(
        [{"request": trajs[0].task.task, "controls": step.observation["controls"], "previous_actions": [],
          "previous_plan": []}])
    action = json.loads(out[0])
    assert "function" in action or ("error" in action and "raw_output" in action)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_command(prefix: str) -> str:
    """The README's command line that starts with ``prefix``, without its comment."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in readme.splitlines() if ln.startswith(prefix))
    return line.split("  #")[0].strip()


def test_mlflow_models_serve_answers_predictions(store: str, base: ModelBundle, tmp_path: Path):
    """The README's `mlflow models serve -m models:/lam@champion --env-manager local`, run as written:
    in the project folder (MLflow's default store is its `mlflow.db`) of a shell that ran
    `source .venv/bin/activate`, nothing else on PATH or in the environment."""
    with mlflow.start_run():
        MlflowRegisteredModelDataset("lam", alias="champion", generate={"max_new_tokens": 24}).save(
            _generation(base, "lam2", "lam1"))
    assert store == f"sqlite:///{tmp_path / 'mlflow.db'}"  # the project folder below is tmp_path
    _, trajs = expert_data()
    step = trajs[0].steps[0]
    record = {"request": trajs[0].task.task, "controls": step.observation["controls"], "previous_actions": [],
              "previous_plan": list(trajs[0].task.plan)}
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    command = readme_command("mlflow models serve")
    assert command == "mlflow models serve -m models:/lam@champion --env-manager local", command
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != bin_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "VIRTUAL_ENV"))} | {"PATH": path}
    # without the venv on PATH, MLflow cannot start its scoring server (it runs `uvicorn` by name)
    for attempt in (1, 2):  # once (a full suite saw MLflow's CLI stall 300 s in its artifact download, once)
        try:
            bare = subprocess.run(["bash", "-c", f"{bin_dir / 'mlflow'} {command[len('mlflow '):]} -p {port}"],
                                  cwd=tmp_path, env=env, capture_output=True, text=True, timeout=150)
            break
        except subprocess.TimeoutExpired:
            if attempt == 2:
                raise
    assert bare.returncode != 0 and "uvicorn" in bare.stdout + bare.stderr, bare
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(["bash", "-c", f"source {bin_dir / 'activate'} && exec {command} -h 127.0.0.1 "
                             f"-p {port} -w 1"], cwd=tmp_path,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"mlflow models serve did not come up:\n{(tmp_path / 'serve.log').read_text()[-3000:]}")
            time.sleep(1)
        body = json.dumps({"dataframe_records": [record]}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            predictions = json.loads(r.read())["predictions"]
        assert parse_action_output(predictions[0], step.observation["controls"]).ok
        bad = urllib.request.Request(f"http://127.0.0.1:{port}/invocations",
                                     data=json.dumps({"dataframe_records": [{"request": 3}]}).encode(),
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=60)
        assert err.value.code == 400
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def test_saving_outside_a_run_and_loading_an_unknown_alias_fail_clearly(store: str, base: ModelBundle):
    with pytest.raises(DatasetError, match="active MLflow run"):
        MlflowRegisteredModelDataset("lam", alias="lam1").save(_generation(base, "lam1", "base"))
    assert not MlflowRegisteredModelDataset("lam", alias="lam9").exists()
    with pytest.raises(DatasetError, match="models:/lam@lam9"):
        MlflowRegisteredModelDataset("lam", alias="lam9").load()
