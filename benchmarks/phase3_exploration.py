"""Phase 3's exploration, variant against variant: how many expert-failed tasks LAM2 solves.

The paper's Phase 3 solved 21.7 % of the tasks GPT-4o failed (496 of 2,284). Here LAM2 retries
``phase3.exploration.max_tasks`` expert-failed training tasks (``select_tasks``, the node's
choice) with ``explore`` and ``model_policy_factory``, the functions the phase3 pipeline calls;
each variant changes only the keys it names in ``phase3.exploration`` (attempts, greedy_first,
decode.temperature, ...). Variants run side by side in worker processes, one model each, and are
compared in the same run. Run by hand after ``kedro run --pipelines phase2``:

    PYTHONPATH=src .venv/bin/python benchmarks/phase3_exploration.py --workers 2     # ~5 min a variant on 2 cores
    PYTHONPATH=src python benchmarks/phase3_exploration.py --workers 6              # a 16-core machine

Writes ``benchmarks/results/phase3_exploration.json`` and ``.md`` (``--out`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from lam_kedro.project_conf import project_parameters

REPO = Path(__file__).resolve().parents[1]

#: name -> overrides of ``phase3.exploration`` (a ``decode`` mapping is merged into the block's own)
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "attempts_3": {"attempts": 3},
    "greedy_first_2": {"greedy_first": True, "attempts": 2},
    "greedy_first_3": {"greedy_first": True, "attempts": 3},
    "temperature_1.0": {"decode": {"temperature": 1.0}},
    "temperature_0.6_attempts_3": {"attempts": 3, "decode": {"temperature": 0.6}},
}


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, default=REPO / "data", help="the project's data folder")
    ap.add_argument("--project", type=Path, default=REPO, help="the project whose phase3 parameters are read (default: this one)")
    ap.add_argument("--env", default=None, help="conf environment over conf/base, as kedro run --env (default: base)")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                    help="variants to run (default: all)")
    ap.add_argument("--max-tasks", type=int, default=None, help="tasks explored (default: phase3's max_tasks)")
    ap.add_argument("--workers", type=int, default=1, help="variants run at once, one process each")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/phase3_exploration",
                    help="output stem: writes STEM.json and STEM.md")
    return ap.parse_args(argv)


def variant_params(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``phase3.exploration`` with ``overrides`` applied (``decode`` merged key by key)."""
    out = {**base, **{k: v for k, v in overrides.items() if k != "decode"}}
    out["decode"] = {**base.get("decode", {}), **overrides.get("decode", {})}
    return out


def run_variant(name: str, params: dict[str, Any], data: str, threads: int) -> dict[str, Any]:
    """One exploration with ``params`` (``phase3.exploration``): solved tasks, attempts, seconds."""
    import torch

    from lam_kedro.agent.schema import InstantiatedTask
    from lam_kedro.env.docx_io import load_docx
    from lam_kedro.model.loading import load_bundle
    from lam_kedro.pipelines.phase3.nodes import explore_failed_tasks
    from lam_kedro.training.exploration import exploration_by_family

    torch.set_num_threads(threads)
    root = Path(data)
    tasks = [InstantiatedTask.model_validate_json(line) for line in
             (root / "05_model_input/trajectories/exploration_tasks.jsonl").read_text().splitlines() if line.strip()]
    # the templates as the catalog's DocxFolderDataset gives them: {file stem: loader}
    templates = {p.stem: (lambda p=p: load_docx(p)) for p in sorted((root / "02_intermediate/templates").glob("*.docx"))}
    lam2 = load_bundle(root / "06_models/lam2")
    t0 = time.perf_counter()
    trajectories, summary = explore_failed_tasks(lam2, tasks, templates, params)
    return {"variant": name, "params": params, "tasks": summary["exploration_tasks"],
            "solved": summary["exploration_solved"], "solve_rate": summary["exploration_solved"] / max(1, summary["exploration_tasks"]),
            "episodes": len(trajectories), "steps": sum(t.outcome.steps for t in trajectories),
            "seconds": round(time.perf_counter() - t0, 1), "by_family": exploration_by_family(trajectories)}


def _markdown(r: dict[str, Any]) -> str:
    lines = [f"# Phase 3 exploration variants (LAM2 on {r['config']['tasks']} expert-failed training tasks)", "",
             "| variant | changes | solved | solve rate | episodes | steps | seconds |", "|---|---|---|---|---|---|---|"]
    for v in r["variants"]:
        lines.append(f"| {v['variant']} | `{json.dumps(VARIANTS.get(v['variant'], {}))}` | {v['solved']} / {v['tasks']} | "
                     f"{v['solve_rate']:.1%} | {v['episodes']} | {v['steps']} | {v['seconds']} |")
    lines += ["", "Seconds are wall time with the variants running side by side "
              f"({r['config']['workers']} at once, {r['config']['threads']} torch threads each)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    a = _args(argv)
    if not (a.data / "06_models/lam2").exists():
        raise SystemExit(f"{a.data / '06_models/lam2'} is missing: run `kedro run --pipelines phase2` first")
    base = dict(project_parameters(a.project, a.env, ["phase3"])["phase3"]["exploration"])
    if a.max_tasks is not None:
        base["max_tasks"] = a.max_tasks
    jobs = [(name, variant_params(base, VARIANTS[name])) for name in a.variants]
    workers = max(1, min(a.workers, len(jobs)))
    threads = max(1, (os.cpu_count() or 1) // workers)
    def show(r: dict[str, Any]) -> dict[str, Any]:
        print(json.dumps({k: v for k, v in r.items() if k != "by_family"}), flush=True)
        return r

    if workers == 1:
        results = [show(run_variant(name, params, str(a.data), threads)) for name, params in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_variant, name, params, str(a.data), threads): name for name, params in jobs}
            done = {futures[f]: show(f.result()) for f in as_completed(futures)}
        results = [done[name] for name, _ in jobs]
    result = {"config": {"tasks": results[0]["tasks"] if results else 0, "workers": workers, "threads": threads,
                         "base": base, "machine": platform.machine(), "python": platform.python_version()},
              "variants": results}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    a.out.with_suffix(".md").write_text(_markdown(result))
    print(_markdown(result))
    return result


if __name__ == "__main__":
    main()
