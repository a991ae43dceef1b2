"""The CUDA path, checked by hand on a GPU machine: SFT, generation in the agent loop, offline PPO.

CI has no GPU, so this is run by hand where one is lent (writes benchmarks/results/cuda_check.json):

    PYTHONPATH=src:. python benchmarks/cuda_check.py
    PYTHONPATH=src:. python benchmarks/cuda_check.py --data data --generation lam4 --tasks 24

With ``--data``, a trained generation also plays held-out tasks online with the evaluation's
decoder (``evaluation.generate``: greedy, constrained to the action grammar) once on CUDA and once
on the CPU, both fp32, and the two runs are compared action by action (``decode_parity``).

It trains the same code the pipelines call (``train_sft``, ``model.policy.lam_policy`` (the
served decoder, constrained to the action grammar) + ``run_episode``, ``ppo_offline.train``) on scripted-expert data, once on CUDA in bf16 and once
on the CPU in fp32, and records devices, losses and throughput of both in one run.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
from tests.training.phase12_data import base_params, expert_data, sft_params

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.prompt import step_examples
from lam_kedro.env import WordEnv
from lam_kedro.model.formatting import step_rows
from lam_kedro.model.loading import build_base_model
from lam_kedro.model.policy import lam_policy
from lam_kedro.training import ppo_offline
from lam_kedro.training.sft import train_sft

CONFIG = {"hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 4, "num_attention_heads": 4,
          "num_key_value_heads": 4, "max_position_embeddings": 2048, "tie_word_embeddings": True}


def run(device: str, bf16: bool, steps: int) -> dict:
    plans, trajs = expert_data(48)
    bundle = build_base_model(plans, trajs, base_params(config=dict(CONFIG)))
    rows = step_rows(trajs, bundle.info)
    with tempfile.TemporaryDirectory() as tmp:
        params = sft_params(tmp, max_steps=steps, bf16=bf16, use_cpu=device == "cpu", logging_steps=5,
                            per_device_train_batch_size=16)
        t0 = time.perf_counter()
        trained, curves = train_sft(bundle, rows, rows[:16], params, generation="cuda_check")
        sft_s = time.perf_counter() - t0
    model = trained.model.to(device)
    losses = [p["value"] for p in curves.get("loss", [])]

    task = trajs[0].task
    policy = lam_policy(trained, {"max_new_tokens": 64}, name="cuda_check",
                        plan_for=lambda _t: task.plan)
    t0 = time.perf_counter()
    episode = run_episode(WordEnv(max_steps=5), policy, task, seed=0)
    episode_s = time.perf_counter() - t0

    examples = [{**ex, "episode": t.trajectory_id} for t in trajs[:6] for ex in step_examples(t)]
    scores = [1.0 if i % 2 else -1.0 for i in range(len(examples))]
    args = ppo_offline.Args(epochs=1, batch_size=8)
    t0 = time.perf_counter()
    _, ppo_curves = ppo_offline.train(model, trained.tokenizer, examples, scores, args, info=trained.info)
    ppo_s = time.perf_counter() - t0
    return {
        "device": str(model.device),
        "device_name": torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu",
        "dtype": "bf16" if bf16 else "fp32",
        "parameters": sum(p.numel() for p in model.parameters()),
        "sft_steps": steps,
        "sft_seconds": round(sft_s, 2),
        "sft_steps_per_s": round(steps / sft_s, 2),
        "sft_first_loss": losses[0] if losses else None,
        "sft_last_loss": losses[-1] if losses else None,
        "episode_steps": episode.outcome.steps,
        "episode_seconds": round(episode_s, 3),
        "episode_first_output": episode.steps[0].raw_output if episode.steps else None,
        "ppo_updates": len(ppo_curves.get("loss", [])),
        "ppo_seconds": round(ppo_s, 2),
        "ppo_final_kl": ppo_curves["kl"][-1]["value"] if ppo_curves.get("kl") else None,
    }


def decode_parity(data: Path, generation: str, n_tasks: int, devices: tuple[str, str] = ("cuda", "cpu")) -> dict:
    """``generation`` plays ``n_tasks`` held-out tasks on CUDA and on the CPU (fp32, the evaluation's
    greedy constrained decoder): solved tasks on each, and how many trajectories took the same actions."""
    from lam_kedro.agent.schema import InstantiatedTask
    from lam_kedro.env.docx_io import load_docx
    from lam_kedro.evaluation import online
    from lam_kedro.model.loading import load_bundle
    from lam_kedro.pipelines.evaluation.nodes import held_out_tasks
    from lam_kedro.project_conf import project_parameters

    def jsonl(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    evaluation = project_parameters(Path(__file__).parents[1], "base", ["evaluation"])["evaluation"]
    tasks = [InstantiatedTask.model_validate(r) for r in jsonl(data / "03_primary/trajectories/instantiated_tasks.jsonl")]
    held_out = held_out_tasks(tasks, jsonl(data / "03_primary/trajectories/splits.jsonl"), n_tasks, "stratified",
                              int(evaluation["online"].get("min_per_family", 2)), int(evaluation.get("seed", 0)))
    docs = {p.stem: load_docx(p) for p in sorted((data / "02_intermediate/templates").glob("*.docx"))}
    runs: dict[str, dict] = {}
    for device in devices:
        def load(device: str = device) -> object:
            bundle = load_bundle(data / f"06_models/{generation}", dtype="float32")
            bundle.model.to(device)
            return bundle

        spec = online.ActorSpec(kind="lam", name=generation, load_bundle=load, decode=evaluation.get("generate", {}))
        t0 = time.perf_counter()
        trajs = online.rollout_actor(spec, held_out, docs, int(evaluation["online"]["max_steps"]), 1, 8,
                                     progress=False)
        runs[device] = {"trajectories": trajs, "seconds": round(time.perf_counter() - t0, 1)}

    def actions(traj: object) -> list[tuple]:
        return [(s.function, s.control_label, json.dumps(s.args, sort_keys=True), s.status) for s in traj.steps]

    first, second = (runs[d]["trajectories"] for d in devices)
    same = sum(actions(a) == actions(b) for a, b in zip(first, second, strict=True))
    return {"generation": generation, "tasks": len(held_out), "same_actions": same,
            **{f"{d}_solved": sum(t.outcome.success for t in r["trajectories"]) for d, r in runs.items()},
            **{f"{d}_seconds": r["seconds"] for d, r in runs.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, help="a data folder with trained generations: adds decode_parity")
    ap.add_argument("--generation", default="lam4", help="the generation decode_parity plays")
    ap.add_argument("--tasks", type=int, default=40, help="held-out tasks decode_parity plays")
    a = ap.parse_args()
    results = {"torch": torch.__version__, "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        results["cuda"] = run("cuda", bf16=True, steps=60)
        if a.data is not None:
            results["decode_parity"] = decode_parity(a.data, a.generation, a.tasks)
    results["cpu"] = run("cpu", bf16=False, steps=20)
    out = Path(__file__).parent / "results/cuda_check.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
