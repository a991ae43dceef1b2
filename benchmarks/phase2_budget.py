"""Held-out online task success against Phase 2's training budget (rows seen).

Trains Phase 2 with ``train_sft`` (the function the phase2 pipeline calls, the ``training``
block of ``conf/base/parameters_phase2.yml``) from ``data/06_models/lam1`` (``--starts lam1 base``:
also from the base model, the same rows and budget: does Phase 1 help Phase 2 online?) on up to
``--max-train-rows`` expert steps for ``--epochs`` epochs, keeping a checkpoint every
``--every`` optimizer steps. Each checkpoint then plays ``--tasks`` held-out tasks online, chosen
as the evaluation chooses them (``held_out_tasks``, stratified by family), with the evaluation's
decoding (``evaluation.generate``, greedy and constrained) and step limit; the expert plays the
same tasks for reference. Run by hand after data collection and Phase 1:

    PYTHONPATH=src .venv/bin/python benchmarks/phase2_budget.py                 # ~30 min on 2 CPU cores
    PYTHONPATH=src .venv/bin/python benchmarks/phase2_budget.py --max-train-rows 6000 --every 75
    PYTHONPATH=src python benchmarks/phase2_budget.py --starts lam1 base --epochs 2 --every 375 \
        --tasks 200 --workers 6                                                 # a GPU machine: minutes

Training uses the GPU when there is one (bf16); the online play runs on the CPU, in ``--workers``
processes (results are identical for any number of workers).

Writes ``benchmarks/results/phase2_budget.json``, ``.md`` and ``.png`` (``--out`` changes the stem).
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.env.docx_io import load_docx
from lam_kedro.evaluation import online
from lam_kedro.model.bundle import ModelBundle
from lam_kedro.model.formatting import step_rows, train_eval_split
from lam_kedro.model.loading import load_bundle, save_bundle
from lam_kedro.pipelines.evaluation.nodes import held_out_tasks
from lam_kedro.project_conf import project_parameters
from lam_kedro.training.sft import train_sft

REPO = Path(__file__).resolve().parents[1]


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, default=REPO / "data", help="the project's data folder")
    ap.add_argument("--project", type=Path, default=REPO, help="the project whose phase2 and evaluation parameters are read (default: this one)")
    ap.add_argument("--env", default=None, help="conf environment over conf/base, as kedro run --env (default: base)")
    ap.add_argument("--max-train-rows", type=int, default=None, help="expert steps trained on (default: all)")
    ap.add_argument("--epochs", type=float, default=1.0, help="passes over those rows")
    ap.add_argument("--every", type=int, default=125, help="optimizer steps between evaluated checkpoints")
    ap.add_argument("--tasks", type=int, default=60, help="held-out tasks each checkpoint plays online")
    ap.add_argument("--starts", nargs="+", choices=("lam1", "base"), default=["lam1"],
                    help="models Phase 2 starts from (lam1: the pipeline's; base: the Phase 1 ablation)")
    ap.add_argument("--workers", type=int, default=1, help="processes per online play (same results for any)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/phase2_budget",
                    help="output stem: writes STEM.json, STEM.md and STEM.png")
    return ap.parse_args(argv)


def _load(data: Path) -> tuple[list[Trajectory], list[InstantiatedTask], list[dict[str, Any]], dict[str, Any]]:
    def jsonl(path: Path) -> list[Any]:
        if not path.is_file():
            raise SystemExit(f"{path} is missing: run `kedro run --pipelines trajectories` first")
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    trajectories = [Trajectory.model_validate(r) for r in jsonl(data / "05_model_input/trajectories/train_trajectories.jsonl")]
    tasks = [InstantiatedTask.model_validate(r) for r in jsonl(data / "03_primary/trajectories/instantiated_tasks.jsonl")]
    splits = jsonl(data / "03_primary/trajectories/splits.jsonl")
    # the templates as DocxFolderDataset loads them ({file stem: Document}), without Kedro's import
    docs = {p.stem: load_docx(p) for p in sorted((data / "02_intermediate/templates").glob("*.docx"))}
    return trajectories, tasks, splits, docs


def _play(bundle: ModelBundle | None, name: str, tasks: list[InstantiatedTask], docs: dict[str, Any],
          decode: dict[str, Any], max_steps: int, workers: int = 1) -> dict[str, Any]:
    """``bundle`` (None: the expert) plays ``tasks`` online; with ``workers`` > 1 each worker process
    loads the bundle from a saved copy (a model does not pickle into a spawned process)."""
    with tempfile.TemporaryDirectory(prefix="phase2-budget-play-") as tmp:
        load: Any = lambda: bundle  # noqa: E731
        if bundle is not None and workers > 1:
            save_bundle(bundle, Path(tmp) / "model")
            load = functools.partial(load_bundle, Path(tmp) / "model")
        spec = (online.ActorSpec(kind="expert", name=name) if bundle is None else
                online.ActorSpec(kind="lam", name=name, load_bundle=load, decode=decode))
        t0 = time.perf_counter()
        trajs = online.rollout_actor(spec, tasks, docs, max_steps, workers, 8, progress=False)
    m = online.online_metrics(trajs)
    return {"solved": sum(t.outcome.success for t in trajs), "tasks": len(trajs),
            "task_success_rate": m["task_success_rate"], "invalid_action_rate": m["invalid_action_rate"],
            "avg_steps": m["avg_steps"], "seconds": round(time.perf_counter() - t0, 1)}


def _curve(start: str, bundle: ModelBundle, trajectories: list[Trajectory], training: dict[str, Any],
           a: argparse.Namespace, play: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Phase 2 from ``bundle`` with checkpoints every ``a.every`` steps, each played online."""
    train_rows, _ = train_eval_split(step_rows(trajectories, bundle.info), float(training.get("eval_fraction", 0.05)),
                                     int(training.get("seed", 0)), a.max_train_rows, training.get("max_eval_rows"))
    batch = int(training["sft"].get("per_device_train_batch_size", 16))
    points = []
    if start == "lam1":  # step 0 is LAM1 itself (the base model acts at random: not played)
        points.append({"start": start, "step": 0, "rows_seen": 0, **play(bundle, "lam1")})
        print(json.dumps(points[-1]), flush=True)
    with tempfile.TemporaryDirectory(prefix=f"phase2-budget-{start}-") as tmp:
        sft = {**training["sft"], "output_dir": tmp, "num_train_epochs": a.epochs, "save_strategy": "steps",
               "save_steps": a.every, "save_total_limit": None, "eval_strategy": "no", "eval_on_start": False,
               "report_to": "none", "disable_tqdm": True}
        t0 = time.perf_counter()
        final, _ = train_sft(bundle, train_rows, [], {**training, "sft": sft, "resume": False, "keep_checkpoints": True},
                             generation=f"lam2_from_{start}")
        train_s = time.perf_counter() - t0
        print(json.dumps({"start": start, "train_seconds": round(train_s, 1), "device": str(final.model.device)}),
              flush=True)
        checkpoints = sorted(Path(tmp).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
        for ckpt in checkpoints:
            step = int(ckpt.name.split("-")[1])
            ckpt_bundle = ModelBundle(model=type(final.model).from_pretrained(ckpt), tokenizer=final.tokenizer,
                                      info={**final.info, "generation": f"lam2@{step}"})
            points.append({"start": start, "step": step, "rows_seen": step * batch,
                           **play(ckpt_bundle, f"lam2_from_{start}@{step}")})
            print(json.dumps(points[-1]), flush=True)
    return points, {"train_rows": len(train_rows), "batch_size": batch, "train_seconds": round(train_s, 1),
                    "device": str(final.model.device)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    a = _args(argv)
    dirs = {start: a.data / f"06_models/{start}" for start in a.starts}
    for path in dirs.values():
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `kedro run --pipelines base_model,phase1` first")
    params = project_parameters(a.project, a.env, ["phase2", "evaluation"])
    training, evaluation = params["phase2"]["training"], params["evaluation"]
    decode, max_steps = evaluation.get("generate", {}), int(evaluation["online"]["max_steps"])
    trajectories, tasks, splits, docs = _load(a.data)
    held_out = held_out_tasks(tasks, splits, a.tasks, "stratified", int(evaluation["online"].get("min_per_family", 2)),
                              int(evaluation.get("seed", 0)))

    def play(bundle: ModelBundle | None, name: str) -> dict[str, Any]:
        return _play(bundle, name, held_out, docs, decode, max_steps, a.workers)

    points: list[dict[str, Any]] = []
    runs: dict[str, Any] = {}
    for start, path in dirs.items():
        start_points, runs[start] = _curve(start, load_bundle(path), trajectories, training, a, play)
        points += start_points
    expert = play(None, "expert")
    result = {"config": {"train_rows": runs[a.starts[0]]["train_rows"], "epochs": a.epochs, "every": a.every,
                         "batch_size": runs[a.starts[0]]["batch_size"], "tasks": len(held_out), "max_steps": max_steps,
                         "train_seconds": {s: r["train_seconds"] for s, r in runs.items()},
                         "train_device": runs[a.starts[0]]["device"], "starts": a.starts, "workers": a.workers,
                         "decode": decode, "machine": platform.machine(), "python": platform.python_version()},
              "expert": expert, "points": points}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    a.out.with_suffix(".md").write_text(_markdown(result))
    _plot(result, a.out.with_suffix(".png"))
    print(_markdown(result))
    return result


def _markdown(r: dict[str, Any]) -> str:
    c = r["config"]
    seconds = c["train_seconds"]
    seconds = ", ".join(f"{s}: {v} s" for s, v in seconds.items()) if isinstance(seconds, dict) else f"{seconds} s"
    lines = [f"# Held-out online task success against Phase 2's budget ({c['tasks']} stratified held-out tasks, "
             f"{c['max_steps']}-step episodes; {c['train_rows']} training rows, {c['epochs']} epoch(s), "
             f"training {seconds} on {c.get('train_device', 'cpu')})", "",
             "| start | optimizer steps | rows seen | solved | task success | invalid actions | avg steps |",
             "|---|---|---|---|---|---|---|"]
    for p in r["points"]:
        lines.append(f"| {p.get('start', 'lam1')} | {p['step']} | {p['rows_seen']} | {p['solved']} / {p['tasks']} | "
                     f"{p['task_success_rate']:.1%} | {p['invalid_action_rate']:.1%} | {p['avg_steps']:.1f} |")
    e = r["expert"]
    lines += ["", f"The expert solves {e['solved']} / {e['tasks']} ({e['task_success_rate']:.1%}) of the same tasks. "
              "Step 0 is LAM1 (Phase 1 only); start `base` is Phase 2 without Phase 1 (the ablation)."]
    return "\n".join(lines) + "\n"


def _plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for start in r["config"].get("starts", ["lam1"]):
        mine = [p for p in r["points"] if p.get("start", "lam1") == start]
        ax.plot([p["rows_seen"] for p in mine], [p["task_success_rate"] for p in mine], marker="o",
                label=f"LAM2 from {start}")
    ax.axhline(r["expert"]["task_success_rate"], color="gray", linestyle="--", label="expert")
    ax.set_xlabel("Phase 2 rows seen")
    ax.set_ylabel("held-out online task success")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right")
    ax.set_title(f"{r['config']['tasks']} held-out tasks")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
