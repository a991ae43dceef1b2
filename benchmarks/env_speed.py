"""Environment steps per second, scripted and random policies, on one core.

Run by hand (not a test: shared machines are noisy):

    .venv/bin/python benchmarks/env_speed.py            # writes benchmarks/results/env_speed.json

Two loops per policy: ``env+policy`` is the bare act/step loop (what the >= 5,000 steps/s
target is about), ``run_episode`` adds what data collection pays on top (recording every step
as a validated ``Step`` with its observation). Resets are counted in the time, not as steps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import RandomPolicy, ScriptedPolicy
from lam_kedro.env import WordEnv, builtin_templates, families, sample_task


def _tasks(per_family: int) -> list:
    tasks = []
    names = [t.name for t in builtin_templates()]
    for i, family in enumerate(sorted(families())):
        made = 0
        for j, name in enumerate(names):
            task = sample_task(family, name, seed=7 * i + j)
            if task is not None:
                tasks.append(task)
                made += 1
            if made == per_family:
                break
    return tasks


def bare_loop(env: WordEnv, policy, tasks: list, min_steps: int) -> dict[str, float]:
    steps = episodes = successes = 0
    start = time.perf_counter()
    while steps < min_steps:
        for task in tasks:
            obs, _ = env.reset(task, seed=episodes)
            policy.reset(task)
            episodes += 1
            done = False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(policy.act(obs).action)
                steps += 1
                done = terminated or truncated
            successes += reward > 0
    elapsed = time.perf_counter() - start
    return {"steps": steps, "episodes": episodes, "seconds": round(elapsed, 3),
            "steps_per_s": round(steps / elapsed, 1), "success_rate": round(successes / episodes, 3)}


def episode_loop(env: WordEnv, policy, tasks: list, min_steps: int) -> dict[str, float]:
    steps = episodes = 0
    start = time.perf_counter()
    while steps < min_steps:
        for task in tasks:
            steps += run_episode(env, policy, task, seed=episodes).outcome.steps
            episodes += 1
    elapsed = time.perf_counter() - start
    return {"steps": steps, "episodes": episodes, "seconds": round(elapsed, 3), "steps_per_s": round(steps / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-steps", type=int, default=50_000)
    parser.add_argument("--per-family", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results/env_speed.json")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target says
    tasks = _tasks(args.per_family)
    env = WordEnv(max_steps=30)
    results = {
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "cores_used": 1},
        "tasks": len(tasks),
        "families": len(families()),
        "scripted": {"env+policy": bare_loop(env, ScriptedPolicy(), tasks, args.min_steps),
                     "run_episode": episode_loop(env, ScriptedPolicy(), tasks, args.min_steps // 5)},
        "random": {"env+policy": bare_loop(env, RandomPolicy(seed=0), tasks, args.min_steps),
                   "run_episode": episode_loop(env, RandomPolicy(seed=0), tasks, args.min_steps // 5)},
        "target_steps_per_s": 5000,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
