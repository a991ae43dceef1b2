"""Run a training pipeline on several processes, unchanged: ``accelerate launch ... -m lam_kedro.training.launch``.

    accelerate launch --multi_gpu --num_processes 2 -m lam_kedro.training.launch phase1 --env test
    torchrun --nproc_per_node 2 -m lam_kedro.training.launch phase1 --env test      # the same

(``accelerate launch --cpu`` starts a single process; ``--multi_gpu`` is accelerate's torchrun
launcher, which on a machine without GPUs runs CPU processes: this module then tells the Trainer
to use the CPU, and accelerate picks the gloo backend.)

Rank 0 runs the pipeline as ``kedro run --pipelines phase1`` would (a Kedro session with its
hooks: the MLflow run, validation, the registry; it alone saves outputs). Every other rank runs
the same training nodes (those tagged ``train``, and the nodes they depend on) on inputs loaded
from the same catalog, in memory and saving nothing. The nodes call ``train_sft``, whose Trainer
finds the process group accelerate set up (gloo on CPU, NCCL on GPUs) and wraps the model in
DDP, so gradients are averaged across ranks and the model rank 0 saves is the one all trained.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

__all__ = ["ReplicaCatalog", "main", "run_replica", "training_nodes"]

logger = logging.getLogger(__name__)

TRAIN_TAG = "train"


def training_nodes(pipeline: Any) -> list[Any]:
    """The nodes a replica runs: every node tagged ``train`` and the nodes it depends on, in order."""
    trains = [n for n in pipeline.nodes if TRAIN_TAG in n.tags]
    if not trains:
        raise ValueError("the pipeline has no node tagged 'train': nothing would run in parallel")
    needed = pipeline.to_nodes(*[n.name for n in trains])
    return list(needed.nodes)


class ReplicaCatalog:
    """The project's catalog and parameters for a replica, built without a Kedro session.

    A session would start the project's hooks (kedro-mlflow migrates and opens the tracking
    store), and rank 0 already does that; two processes doing it at once race on a fresh sqlite
    store. Replicas only read inputs, so the config loader and the catalog class are enough.
    """

    def __init__(self, project: Path, env: str | None) -> None:
        from kedro.framework.project import settings

        loader = settings.CONFIG_LOADER_CLASS(conf_source=str(project / settings.CONF_SOURCE), env=env,
                                              **settings.CONFIG_LOADER_ARGS)
        self.parameters: dict[str, Any] = loader["parameters"]
        self.catalog = settings.DATA_CATALOG_CLASS.from_config(loader["catalog"])

    def load(self, name: str) -> Any:
        if name == "parameters":
            return self.parameters
        if name.startswith("params:"):
            value: Any = self.parameters
            for key in name.removeprefix("params:").split("."):
                value = value[key]
            return value
        return self.catalog.load(name)


def run_replica(pipeline: Any, catalog: Any) -> None:
    """Run the training nodes with inputs from ``catalog``; outputs stay in memory (rank 0 saves them)."""
    values: dict[str, Any] = {}
    for node in training_nodes(pipeline):
        inputs = {name: values[name] if name in values else catalog.load(name) for name in node.inputs}
        values.update(node.run(inputs))


def _rank() -> int:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")))


def _use_cpu_when_no_accelerator() -> None:
    """Several processes and no GPU: the Trainer's accelerate state must be told ``cpu`` to pick
    DDP over gloo (``MULTI_CPU``) rather than fall back to one unsynchronised process per rank."""
    import torch

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available():
        os.environ.setdefault("ACCELERATE_USE_CPU", "true")


def main(argv: list[str] | None = None) -> None:
    """Parse ``<pipeline> [--env ENV] [--project PATH]`` and run it on this rank."""
    parser = argparse.ArgumentParser(prog="python -m lam_kedro.training.launch", description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", help="a training pipeline: phase1, phase2, phase3, ...")
    parser.add_argument("--env", default=None, help="Kedro environment (conf/<env>), e.g. test")
    parser.add_argument("--project", default=".", help="the Kedro project folder (default: the current one)")
    args = parser.parse_args(argv)

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    _use_cpu_when_no_accelerator()
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project = Path(args.project).resolve()
    bootstrap_project(project)
    if args.pipeline not in pipelines:
        raise SystemExit(f"unknown pipeline {args.pipeline!r}; known: {', '.join(sorted(pipelines))}")
    rank = _rank()
    if rank == 0:
        with KedroSession.create(project_path=project, env=args.env) as session:
            session.run(pipeline_names=[args.pipeline])
    else:
        logger.info("rank %d: training replica of %s", rank, args.pipeline)
        run_replica(pipelines[args.pipeline], ReplicaCatalog(project, args.env))


if __name__ == "__main__":
    main()
