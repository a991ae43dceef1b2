"""Task-plan pairs per second at 1x, 2x, 4x and 8x the default size, measured in one run.

Run by hand (not a test: shared machines are noisy):

    .venv/bin/python benchmarks/task_plans_speed.py          # writes benchmarks/results/task_plans_speed.json
    .venv/bin/python benchmarks/task_plans_speed.py --paper  # also the paper's 29,182 + 47,490 pairs

The default size is ``conf/base/parameters_task_plans.yml`` (generation + evolution n_pairs); each
scale multiplies both and runs the pipeline's nodes in process (source -> evolve -> filter ->
split) over the built-in templates, so Kedro's start-up and the MLflow logging are not counted.
Cost should grow linearly: ``seconds_per_1k_pairs`` stays flat across scales.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

from lam_kedro.env import builtin_templates, load_template
from lam_kedro.pipelines.task_plans.nodes import (
    evolve_task_plans,
    filter_task_plans,
    source_task_plans,
    split_task_plans,
)
from lam_kedro.project_conf import project_parameters

ROOT = Path(__file__).resolve().parents[1]


def run_once(params: dict[str, Any], templates: dict[str, Any], gen: int, evo: int) -> dict[str, Any]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    sourced, import_rejects, _ = source_task_plans(
        templates, {"plans": [], "rejects": []}, {**params["generation"], "n_pairs": gen})
    timings["source_s"] = time.perf_counter() - start
    t = time.perf_counter()
    evolved, evolve_rejects, _ = evolve_task_plans(sourced, templates, {**params["evolution"], "n_pairs": evo})
    timings["evolve_s"] = time.perf_counter() - t
    t = time.perf_counter()
    kept, quarantine, _ = filter_task_plans(sourced, evolved, import_rejects, evolve_rejects, params["filters"])
    train, test, _ = split_task_plans(kept, params["split"])
    timings["filter_split_s"] = time.perf_counter() - t
    elapsed = time.perf_counter() - start
    return {
        "requested": gen + evo,
        "sourced": len(sourced),
        "evolved": len(evolved),
        "pairs": len(kept),
        "quarantined": len(quarantine),
        "train": len(train),
        "test": len(test),
        "seconds": round(elapsed, 3),
        "pairs_per_s": round(len(kept) / elapsed, 1),
        "seconds_per_1k_pairs": round(1000 * elapsed / max(1, len(kept)), 3),
        **{k: round(v, 3) for k, v in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--paper", action="store_true", help="also run the paper's 29,182 + 47,490 pairs")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results/task_plans_speed.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TQDM_DISABLE", "1")
    params = project_parameters(ROOT, "base", ["task_plans"])["task_plans"]
    docs = {t.name: load_template(t.name) for t in builtin_templates()}
    templates = {name: (lambda d=d: d.copy()) for name, d in docs.items()}
    gen, evo = params["generation"]["n_pairs"], params["evolution"]["n_pairs"]
    runs = []
    for scale in args.scales:
        row = {"scale": scale, **run_once(params, templates, gen * scale, evo * scale)}
        print(json.dumps(row))
        runs.append(row)
    if args.paper:
        row = {"scale": "paper", **run_once(params, templates, 29_182, 47_490)}
        print(json.dumps(row))
        runs.append(row)
    base = runs[0]["seconds_per_1k_pairs"]
    result = {
        "benchmark": "task_plans_speed",
        "default_size": {"generation": gen, "evolution": evo},
        "templates": len(docs),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "runs": runs,
        "cost_ratio_vs_1x": {str(r["scale"]): round(r["seconds_per_1k_pairs"] / base, 2) for r in runs},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
