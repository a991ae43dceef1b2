"""The evaluation's datasets: lazy generation models, metrics into each version's run, the champion alias."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import mlflow
import pytest
from kedro.io import DatasetError

from lam_kedro.datasets import HFModelDataset, MlflowAliasDataset, MlflowGenerationMetricsDataset
from lam_kedro.evaluation.generations import GenerationModelsDataset
from tests.evaluation.conftest import tiny_bundle


def test_generation_models_are_lazy_and_missing_ones_are_none(tmp_path: Path):
    HFModelDataset(path=str(tmp_path / "lam2")).save(tiny_bundle())
    (tmp_path / "lam3").mkdir()   # an empty folder is no model either
    ds = GenerationModelsDataset({g: str(tmp_path / g) for g in ("lam1", "lam2", "lam3")})
    got = ds.load()
    assert got["lam1"] is None and got["lam3"] is None
    loader = pickle.loads(pickle.dumps(got["lam2"]))   # loaders travel to worker processes
    bundle = loader()
    assert bundle.info["generation"] == "lam2" and bundle.model.config.num_hidden_layers == 2
    with pytest.raises(DatasetError, match="read-only"):
        ds.save({})


def test_generation_models_wrap_any_dataset(tmp_path: Path):
    (tmp_path / "lam1.pkl").write_bytes(pickle.dumps({"model": "one"}))
    ds = GenerationModelsDataset({"lam1": str(tmp_path / "lam1.pkl"), "lam2": str(tmp_path / "lam2.pkl")},
                                 dataset="pickle.PickleDataset", path_arg="filepath")
    got = ds.load()
    assert got["lam1"]() == {"model": "one"} and got["lam2"] is None


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Model ``lam`` with versions aliased lam1 and lam2, each made by its own run.

    The datasets use MLflow's global URIs (kedro-mlflow sets them in a run); set_tracking_uri also
    exports them as environment variables, which later subprocesses would inherit, so both are undone.
    """
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient()
    exp = client.create_experiment("lam", artifact_location=str(tmp_path / "artifacts"))
    client.create_registered_model("lam")
    runs = {}
    for g in ("lam1", "lam2"):
        run = client.create_run(exp)
        client.set_terminated(run.info.run_id)
        v = client.create_model_version("lam", f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
        client.set_registered_model_alias("lam", g, v.version)
        runs[g] = (run.info.run_id, v.version)
    yield client, runs
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def test_generation_metrics_go_into_each_versions_run(registry, caplog: pytest.LogCaptureFixture):
    client, runs = registry
    ds = MlflowGenerationMetricsDataset(registered_model="lam")
    with caplog.at_level(logging.WARNING):
        ds.save({"lam1": {"offline.object_acc": 0.5, "online.task_success_rate": 0.25},
                 "lam2": {"offline.object_acc": 0.75}, "lam4": {"offline.object_acc": 0.1}})
    assert "alias 'lam4'" in caplog.text                    # unknown generation: warned and skipped
    assert client.get_run(runs["lam1"][0]).data.metrics == {"offline.object_acc": 0.5, "online.task_success_rate": 0.25}
    assert client.get_model_version("lam", runs["lam2"][1]).tags["offline.object_acc"] == "0.75"
    assert ds.load()["lam2"] == {"offline.object_acc": 0.75}
    with pytest.raises(DatasetError, match="lam4"):
        MlflowGenerationMetricsDataset(on_missing="error").save({"lam4": {"offline.object_acc": 0.1}})


def test_champion_alias_moves_to_the_best_generation(registry):
    client, runs = registry
    ds = MlflowAliasDataset(registered_model="lam", alias="champion")
    ds.save({"generation": None, "reason": "nothing evaluated"})   # nothing to promote: nothing moves
    assert ds.load() is None
    ds.save({"generation": "lam2", "metric": "online.task_success_rate", "value": 0.5})
    assert client.get_model_version_by_alias("lam", "champion").version == runs["lam2"][1]
    assert ds.load()["tags"]["champion.value"] == "0.5"
    ds.save({"generation": "lam1", "metric": "online.task_success_rate", "value": 0.7})
    assert ds.load()["version"] == runs["lam1"][1]
    ds.save({"generation": None, "reason": "no generation solved a held-out task online"})  # stays where it is
    assert ds.load()["version"] == runs["lam1"][1]
