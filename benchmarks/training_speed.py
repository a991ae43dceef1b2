"""Training tokens per second for Phases 1 and 2: our ``train_sft`` vs a plain TRL ``SFTTrainer``.

Run by hand (not a test: shared machines are noisy):

    .venv/bin/python benchmarks/training_speed.py     # writes benchmarks/results/training_speed.json

Same data, same model (the default tiny base of ``conf/base/parameters_base_model.yml``), same
batch size, learning rate and number of steps; every variant is measured in this one run so the
ratios compare like with like. Variants:

- ``plain_trl``: ``SFTTrainer(model, SFTConfig(output_dir, max_steps, batch size, lr, use_cpu))``,
  i.e. TRL's defaults (bf16 autocast, gradient checkpointing on);
- ``ours``: ``train_sft`` with the phase's ``conf/base`` block (fp32, no checkpointing);
- ``ours_packing``: the same plus ``packing: true`` (BFD packing, padding-free batches);
- ``ours_grouped``: the same plus ``train_sampling_strategy: group_by_length`` (batches of rows of
  similar length, so little padding; the rows and the loss are unchanged);
- ``ours_padding_free``: the same plus ``padding_free: true`` (each batch one flat sequence with
  per-row positions; transformers' masks keep the rows apart).

Tokens are real (non-padding) tokens as TRL counts them; the data is the scripted expert's
successes on tasks sampled from the environment, as the default pipelines produce them.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import torch

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.agent.schema import InstantiatedTask, TaskPlan
from lam_kedro.env import WordEnv, builtin_templates
from lam_kedro.env.tasks import get_family, sample_tasks
from lam_kedro.model.formatting import plan_rows, step_rows
from lam_kedro.model.loading import build_base_model
from lam_kedro.project_conf import project_parameters
from lam_kedro.training.sft import build_trainer, train_sft

ROOT = Path(__file__).resolve().parents[1]


def _data(n_tasks: int, seed: int = 0):
    tasks = sample_tasks([t.name for t in builtin_templates()], n_tasks, seed=seed)
    env, policy = WordEnv(max_steps=30), ScriptedPolicy(name="expert")
    plans, trajs = [], []
    for t in tasks:
        plan = get_family(t.family).plan(t.params)
        plans.append(TaskPlan(task_id=t.task_id, task=t.request, plan=plan, family=t.family, template=t.template))
        traj = run_episode(env, policy, InstantiatedTask.from_env_task(t, plan=plan), seed=seed)
        if traj.outcome.success:
            trajs.append(traj)
    return plans, trajs


def _conf(name: str) -> dict:
    return project_parameters(ROOT, "base", [name])


def _plain_trl(bundle, rows, sft: dict, steps: int, out: str) -> dict:
    """TRL as its docs show it: only the run length, batch size and learning rate set (plus
    ``use_cpu``: TRL's default ``bf16=True`` refuses to start on a CPU-only machine without it)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=sft["per_device_train_batch_size"],
                     learning_rate=sft["learning_rate"], report_to="none", save_strategy="no", disable_tqdm=True,
                     seed=0, use_cpu=not torch.cuda.is_available())
    trainer = SFTTrainer(model=copy.deepcopy(bundle.model), args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=bundle.tokenizer)
    result = trainer.train()
    return {"tokens": trainer._total_train_tokens, "seconds": result.metrics["train_runtime"],
            "bf16": args.bf16, "gradient_checkpointing": args.gradient_checkpointing,
            "final_loss": trainer.state.log_history[-2].get("loss")}


def _ours(bundle, rows, training: dict, steps: int, out: str, **extra) -> dict:
    sft = {**training["sft"], "output_dir": out, "max_steps": steps, "eval_strategy": "no", "eval_on_start": False,
           "save_strategy": "no", "disable_tqdm": True, **extra}
    if extra.get("padding_free") and not extra.get("packing"):
        sft["max_length"] = None  # TRL 1.16 does not truncate padding-free batches: it refuses a max_length
    if extra.get("packing") or extra.get("padding_free"):
        trainer = build_trainer(bundle, rows, [], {**training, "sft": sft})
        result = trainer.train()
        return {"tokens": trainer._total_train_tokens, "seconds": result.metrics["train_runtime"],
                "final_loss": trainer.state.log_history[-2].get("loss")}
    lam, curves = train_sft(bundle, rows, [], {**training, "sft": sft, "lora": training.get("lora")}, "bench")
    m = lam.info["metrics"]
    return {"tokens": m["train_tokens"], "seconds": m["train_runtime_s"], "final_loss": m["final_loss"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=120, help="tasks sampled for the data")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per variant")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/training_speed.json"))
    args = parser.parse_args()
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

    plans, trajs = _data(args.tasks)
    base = build_base_model(plans, trajs, _conf("base_model")["base_model"])
    results: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                 "torch_threads": torch.get_num_threads(), "torch": torch.__version__},
                     "model": {k: base.info[k] for k in ("base", "parameters", "vocab_size", "dtype")},
                     "steps": args.steps, "phases": {}}
    tmp = tempfile.mkdtemp(prefix="lam-bench-")
    try:
        for phase, rows in (("phase1", plan_rows(plans, base.info)), ("phase2", step_rows(trajs, base.info))):
            training = _conf(phase)[phase]["training"]
            variants = {
                "plain_trl": lambda rows=rows, training=training: _plain_trl(base, rows, training["sft"], args.steps,
                                                                             f"{tmp}/plain"),
                "ours": lambda rows=rows, training=training: _ours(base, rows, training, args.steps, f"{tmp}/ours"),
                "ours_packing": lambda rows=rows, training=training: _ours(base, rows, training, args.steps,
                                                                           f"{tmp}/pack", packing=True),
                "ours_grouped": lambda rows=rows, training=training: _ours(
                    base, rows, training, args.steps, f"{tmp}/grouped", train_sampling_strategy="group_by_length"),
                "ours_padding_free": lambda rows=rows, training=training: _ours(
                    base, rows, training, args.steps, f"{tmp}/pfree", padding_free=True),
            }
            out = {"rows": len(rows)}
            for name, run in variants.items():
                start = time.perf_counter()
                r = run()
                r["wall_s"] = round(time.perf_counter() - start, 2)
                r["tokens_per_s"] = round(r["tokens"] / r["seconds"], 1) if r["seconds"] else None
                out[name] = r
                print(phase, name, r, flush=True)
            for name in ("ours", "ours_packing", "ours_grouped", "ours_padding_free"):
                out[f"{name}_vs_plain_trl"] = round(out[name]["tokens_per_s"] / out["plain_trl"]["tokens_per_s"], 3)
            results["phases"][phase] = out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({p: {k: v for k, v in o.items() if k.endswith("plain_trl")} for p, o in results["phases"].items()}))


if __name__ == "__main__":
    main()
