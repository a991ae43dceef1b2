"""`accelerate launch` runs a phase on two CPU processes (DDP over gloo) with unchanged code; rank 0 saves."""

from __future__ import annotations

import json
from pathlib import Path

from lam_kedro.model.loading import build_base_model, save_bundle
from lam_kedro.training.launch import training_nodes
from tests.conftest import run_cli
from tests.pipelines.test_phase12_run import write_inputs
from tests.training.phase12_data import base_params, expert_data


def test_replicas_run_the_training_node_and_what_it_needs():
    from lam_kedro.pipelines.phase1 import create_pipeline

    assert [n.name for n in training_nodes(create_pipeline())] == ["train_lam1"]


def test_phase1_under_accelerate_launch_on_two_cpu_processes(project: Path):
    write_inputs(project)
    plans, trajs = expert_data()
    save_bundle(build_base_model(plans, trajs, base_params()), project / "data/06_models/base")
    # a hung process group must fail the test, not the suite: run_cli's timeout kills it
    run_cli(["accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
             "--mixed_precision", "no", "--dynamo_backend", "no",
             "-m", "lam_kedro.training.launch", "phase1", "--env", "test"],
            project, timeout=300, env={"PYTHONPATH": str(project / "src"), "CUDA_VISIBLE_DEVICES": "",
                                       "OMP_NUM_THREADS": "1"})
    report = json.loads((project / "data/08_reporting/phase1.json").read_text())
    assert report["sft"]["processes"] == 2  # one model trained by DDP over two ranks
    assert report["sft"]["steps"] == 12 and report["sft"]["final_loss"] < report["sft"]["first_loss"]
    assert (project / "data/06_models/lam1/config.json").is_file()  # rank 0 saved it
    assert not list((project / "data/06_models").glob("lam1.partial*"))
