"""Does Phase 1 help Phase 2? Phase 2 trained from the base model and from LAM1, same data, same budget.

The paper's Phase 1 (task -> plan, LAM1) is the starting point of Phase 2 (expert steps -> actions,
LAM2). This ablation trains Phase 2 twice with ``train_sft``, the function the phase2 pipeline calls,
once from ``data/06_models/base`` and once from ``data/06_models/lam1``: the same training and eval
rows (``step_rows`` + ``train_eval_split`` with phase2's seed), the same hyperparameters
(``conf/base/parameters_phase2.yml``'s ``sft`` block), the same number of optimizer steps. It
reports each start's eval loss and eval token accuracy before training (step 0) and after, and
the differences (LAM1 minus base). Run by hand after ``kedro run --pipelines base_model,phase1``
(and data collection):

    PYTHONPATH=src .venv/bin/python benchmarks/phase1_ablation.py            # ~10 min on 2 CPU cores
    PYTHONPATH=src .venv/bin/python benchmarks/phase1_ablation.py --max-steps 125 --max-train-rows 2000 \\
        --max-eval-rows 128 --seeds 0 1 2                                  # phase2's full budget, 3 seeds

Writes ``benchmarks/results/phase1_ablation.json`` and ``.md`` (``--out`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lam_kedro.agent.schema import Trajectory
from lam_kedro.model.formatting import step_rows, train_eval_split
from lam_kedro.model.loading import load_bundle
from lam_kedro.project_conf import project_parameters
from lam_kedro.training.sft import train_sft

REPO = Path(__file__).resolve().parents[1]
METRICS = ("start_eval_loss", "start_eval_token_accuracy", "final_eval_loss", "final_eval_token_accuracy",
           "first_loss", "final_loss")


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, default=REPO / "data", help="the project's data folder")
    ap.add_argument("--base", type=Path, help="base model folder (default DATA/06_models/base)")
    ap.add_argument("--lam1", type=Path, help="LAM1 folder (default DATA/06_models/lam1)")
    ap.add_argument("--trajectories", type=Path,
                    help="Phase 2 data (default DATA/05_model_input/trajectories/train_trajectories.jsonl)")
    ap.add_argument("--project", type=Path, default=REPO, help="the project whose phase2 training block (the recipe both starts follow) is read (default: this one)")
    ap.add_argument("--env", default=None, help="conf environment over conf/base, as kedro run --env (default: base)")
    ap.add_argument("--max-train-rows", type=int, default=320, help="training rows (phase2 default: 2000)")
    ap.add_argument("--max-eval-rows", type=int, default=64, help="eval rows, the same for both starts")
    ap.add_argument("--max-steps", type=int, default=20, help="optimizer steps per run (phase2 default: ~125)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (each start, each seed)")
    ap.add_argument("--no-bf16", action="store_true", help="fp32 (a CPU without bf16 support)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/phase1_ablation",
                    help="output stem: writes STEM.json and STEM.md")
    return ap.parse_args(argv)


def _curve_value(curves: dict[str, list[dict[str, float]]], key: str, step: int) -> float | None:
    points = [p["value"] for p in curves.get(key, []) if int(p["step"]) == step]
    return points[0] if points else None


def run_once(start: str, bundle: Any, train_rows: list[dict], eval_rows: list[dict], training: dict[str, Any],
             steps: int, seed: int, bf16: bool) -> dict[str, Any]:
    """One Phase 2 training from ``bundle``: eval loss / token accuracy at step 0 and at the end."""
    with tempfile.TemporaryDirectory(prefix=f"ablation-{start}-") as tmp:
        sft = {**training.get("sft", {}), "output_dir": tmp, "seed": seed, "max_steps": steps,
               "num_train_epochs": 1, "eval_strategy": "steps", "eval_steps": steps, "eval_on_start": True,
               "save_strategy": "no", "logging_steps": max(1, min(10, steps // 4)), "report_to": "none",
               "disable_tqdm": True, "bf16": bf16 and training.get("sft", {}).get("bf16", True)}
        sft.pop("save_steps", None)
        sft.pop("save_total_limit", None)
        params = {**training, "sft": sft, "resume": False, "keep_checkpoints": False}
        t0 = time.perf_counter()
        trained, curves = train_sft(bundle, train_rows, eval_rows, params, generation=f"lam2_from_{start}")
        wall = time.perf_counter() - t0
    m = trained.info["metrics"]
    return {"start": start, "seed": seed, "steps": int(m.get("steps", 0)), "wall_s": round(wall, 1),
            "start_eval_loss": _curve_value(curves, "eval_loss", 0),
            "start_eval_token_accuracy": _curve_value(curves, "eval_mean_token_accuracy", 0),
            "final_eval_loss": m.get("final_eval_loss"), "final_eval_token_accuracy": m.get("final_eval_token_accuracy"),
            "first_loss": m.get("first_loss"), "final_loss": m.get("final_loss"),
            "train_tokens": m.get("train_tokens"), "tokens_per_s": m.get("tokens_per_s")}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of every metric per start, and LAM1 minus base (negative loss / positive accuracy: LAM1 helps)."""
    means: dict[str, dict[str, float | None]] = {}
    for start in ("base", "lam1"):
        mine = [r for r in runs if r["start"] == start]
        means[start] = {k: (round(statistics.fmean(v), 6) if (v := [r[k] for r in mine if r[k] is not None]) else None)
                        for k in METRICS}
    diff = {k: (round(means["lam1"][k] - means["base"][k], 6)
                if means["lam1"][k] is not None and means["base"][k] is not None else None) for k in METRICS}
    loss, acc = diff["final_eval_loss"], diff["final_eval_token_accuracy"]
    if loss is None or acc is None:
        verdict = "not measured (no eval rows)"
    elif loss < 0 and acc > 0:
        verdict = "Phase 1 helps Phase 2: from LAM1, lower eval loss and higher eval token accuracy"
    elif loss > 0 and acc < 0:
        verdict = "Phase 1 does not help Phase 2 here: from LAM1, higher eval loss and lower eval token accuracy"
    else:
        verdict = "mixed: eval loss and eval token accuracy disagree"
    return {"mean": means, "lam1_minus_base": diff, "verdict": verdict}


def _markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    lines = ["# Phase 1 ablation: Phase 2 from the base model vs from LAM1", "",
             f"{result['config']['max_steps']} optimizer steps, {result['config']['train_rows']} train rows, "
             f"{result['config']['eval_rows']} eval rows, seeds {result['config']['seeds']}. {s['verdict']}.", "",
             "| metric | base | lam1 | lam1 - base |", "|---|---|---|---|"]
    for k in METRICS:
        lines.append(f"| {k} | {s['mean']['base'][k]} | {s['mean']['lam1'][k]} | {s['lam1_minus_base'][k]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    a = _args(argv)
    base_dir, lam1_dir = a.base or a.data / "06_models/base", a.lam1 or a.data / "06_models/lam1"
    traj_path = a.trajectories or a.data / "05_model_input/trajectories/train_trajectories.jsonl"
    for path, how in ((base_dir, "kedro run --pipelines base_model"), (lam1_dir, "kedro run --pipelines phase1"),
                      (traj_path, "kedro run --pipelines data_collection")):
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `{how}` first (or pass its path)")
    training = project_parameters(a.project, a.env, ["phase2"])["phase2"]["training"]
    trajectories = [Trajectory.model_validate_json(line) for line in traj_path.read_text().splitlines() if line.strip()]
    bundles = {"base": load_bundle(base_dir), "lam1": load_bundle(lam1_dir)}
    splits = {}
    for start, bundle in bundles.items():
        rows = step_rows(trajectories, bundle.info)
        splits[start] = train_eval_split(rows, float(training.get("eval_fraction", 0.05)), int(training.get("seed", 0)),
                                         a.max_train_rows, a.max_eval_rows)
    if [r["completion"] for r in splits["base"][1]] != [r["completion"] for r in splits["lam1"][1]]:
        raise SystemExit("base and LAM1 got different eval rows; their infos render prompts differently")
    train_rows, eval_rows = splits["base"]
    runs = []
    for seed in a.seeds:
        for start, bundle in bundles.items():
            r = run_once(start, bundle, splits[start][0], splits[start][1], training, a.max_steps, seed, not a.no_bf16)
            print(json.dumps(r), flush=True)
            runs.append(r)
    result = {"config": {"max_steps": a.max_steps, "train_rows": len(train_rows), "eval_rows": len(eval_rows),
                         "seeds": a.seeds, "trajectories": len(trajectories), "base": str(base_dir),
                         "lam1": str(lam1_dir), "conf": f"{a.project}/conf ({a.env or 'base'})", "bf16": not a.no_bf16,
                         "machine": platform.machine(), "python": platform.python_version()},
              "runs": runs, "summary": summarize(runs)}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    a.out.with_suffix(".md").write_text(_markdown(result))
    print(_markdown(result))
    return result


if __name__ == "__main__":
    main()
