"""`kedro run --pipelines task_plans` on the conf/test sizes: counts, quarantine, splits, MLflow."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow

from tests.conftest import run_cli


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_task_plans_pipeline_on_test_sizes(project: Path, shared_dir: Path):
    files = project / "data/01_raw/task_files"
    files.mkdir(parents=True, exist_ok=True)
    for name in ("bulleted.json", "watermark.json"):
        shutil.copy2(shared_dir / "interop/ufo" / name, files / name)
    (files / "truncated.json").write_text('{"app": "word", "unique_id": "77", "task": "Bold')

    run_cli(["kedro", "run", "--env", "test", "--pipelines", "templates"], project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "task_plans"], project)

    stats = json.loads((project / "data/08_reporting/task_plans_stats.json").read_text())
    assert stats["sourced"]["generated"] == 80 and stats["sourced"]["imported"] == {"ufo": 2}
    assert sum(stats["evolution"]["evolved"].values()) == 60
    sourced = _lines(project / "data/02_intermediate/task_plans/pairs_sourced.jsonl")
    evolved = _lines(project / "data/02_intermediate/task_plans/pairs_evolved.jsonl")
    final = _lines(project / "data/03_primary/task_plans.jsonl")
    assert len(sourced) == 82 and len(evolved) == 60
    assert len(final) == stats["pairs"] == stats["filters"]["kept"]
    assert stats["filters"]["input"] == len(sourced) + len(evolved)
    assert {"5", "108"} <= {r["task_id"] for r in final}
    assert all(r["family"] and r["template"] for r in evolved)

    quarantine = _lines(project / "data/03_primary/task_plans_quarantine.jsonl")
    bad = [q for q in quarantine if q["stage"] == "import"]
    assert len(bad) == 1 and bad[0]["file"].endswith("truncated.json") and "JSON" in bad[0]["message"]

    train = _lines(project / "data/05_model_input/task_plans/train.jsonl")
    test = _lines(project / "data/05_model_input/task_plans/test.jsonl")
    assert len(train) + len(test) == len(final) and test
    assert not {r["task"] for r in train} & {r["task"] for r in test}

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("lam").experiment_id])
    metrics = {k: v for r in runs for k, v in r.data.metrics.items()}
    assert metrics["task_plans.pairs"] == len(final)
    assert metrics["task_plans.test"] == len(test)
