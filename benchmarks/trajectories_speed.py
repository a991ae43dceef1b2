"""Expert trajectories per second through the trajectories pipeline's nodes, at 1x, 2x, 4x, 8x.

Run by hand (not a test: shared machines are noisy):

    .venv/bin/python benchmarks/trajectories_speed.py            # writes benchmarks/results/trajectories_speed.json
    .venv/bin/python benchmarks/trajectories_speed.py --workers 4

The default size is the task_plans pipeline's default output (generation.n_pairs +
evolution.n_pairs in conf/base/parameters_task_plans.yml, else 3,900); task plans are generated
from the families over the built-in templates, as the task_plans pipeline does. One run per
size: instantiation (template choice + prefill) and expert rollouts are timed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from lam_kedro.agent.schema import TaskPlan
from lam_kedro.env import builtin_templates
from lam_kedro.env.tasks import get_family, sample_tasks
from lam_kedro.pipelines.trajectories import nodes
from lam_kedro.project_conf import project_parameters

ROOT = Path(__file__).resolve().parents[1]


def default_size() -> int:
    p = project_parameters(ROOT, "base", ["task_plans"])["task_plans"]
    return int(p["generation"]["n_pairs"]) + int(p["evolution"]["n_pairs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/trajectories_speed.json")
    args = parser.parse_args()
    params = project_parameters(ROOT, "base", ["trajectories"])["trajectories"]
    params = {**params, "workers": args.workers, "split": {"test_size": None}}
    ts = builtin_templates()
    templates = {t.name: t.build for t in ts}
    index = [{"name": t.name, "description": t.description} for t in ts]
    base = default_size()
    results = []
    for scale in args.scales:
        n = base * scale
        tasks = sample_tasks([t.name for t in ts], n, seed=scale)
        plans = [TaskPlan(task_id=f"b{i}", task=t.request, plan=get_family(t.family).plan(t.params),
                          family=t.family) for i, t in enumerate(tasks)]
        start = time.perf_counter()
        inst, _, quarantine = nodes.instantiate_tasks(plans, [], templates, index, params)
        t_inst = time.perf_counter() - start
        start = time.perf_counter()
        trajs = nodes.run_expert(inst, templates, params)
        t_run = time.perf_counter() - start
        steps = sum(t.outcome.steps for t in trajs)
        row = {"scale": scale, "task_plans": len(plans), "instantiated": len(inst), "quarantined": len(quarantine),
               "trajectories": len(trajs), "steps": steps,
               "success_rate": round(sum(t.outcome.success for t in trajs) / max(1, len(trajs)), 4),
               "instantiate_s": round(t_inst, 2), "rollout_s": round(t_run, 2),
               "rollout_trajectories_per_s": round(len(trajs) / t_run, 1),
               "end_to_end_trajectories_per_s": round(len(trajs) / (t_inst + t_run), 1)}
        print(json.dumps(row))
        results.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "trajectories_speed", "default_size": base, "workers": args.workers,
                                    "python": platform.python_version(), "cpus": os.cpu_count(),
                                    "results": results}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
