"""`kedro run --env test --pipelines trajectories` on the real project, after the templates pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import yaml

from lam_kedro.env import builtin_templates
from lam_kedro.env.tasks import get_family, sample_tasks
from lam_kedro.project_conf import config_loader
from tests.conftest import run_cli

INPUTS = {"task_plans_train": "data/05_model_input/task_plans/train.jsonl",
          "task_plans_test": "data/05_model_input/task_plans/test.jsonl"}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write_task_plans(project: Path) -> None:
    """Task plans as the task_plans pipeline writes them (half drawn from a template, half plain),
    at the paths its catalog names (``${globals:...}`` resolved, as ``kedro run --env test`` reads
    them); a catalog entry is added when that pipeline has none yet."""
    catalog: dict = dict(config_loader(project / "conf", "test")[0]["catalog"])
    missing = {name: {"type": "lam_kedro.datasets.JSONLDataset", "filepath": fp, "model": "lam_kedro.agent.schema.TaskPlan"}
               for name, fp in INPUTS.items() if name not in catalog}
    if missing:
        (project / "conf/test/catalog_task_plans_inputs.yml").write_text(yaml.safe_dump(missing))
    tasks = sample_tasks([t.name for t in builtin_templates()], 60, seed=11)
    for name, rows in (("task_plans_train", tasks[:48]), ("task_plans_test", tasks[48:])):
        filepath = project / (catalog.get(name) or missing[name])["filepath"]
        filepath.parent.mkdir(parents=True, exist_ok=True)
        with filepath.open("w") as f:
            for i, t in enumerate(rows):
                row = {"task_id": f"{name}-{i}", "task": t.request, "plan": get_family(t.family).plan(t.params),
                       "family": t.family}
                if i % 2 and name in catalog:  # rows the task_plans pipeline drew from a template
                    row.update(template=t.template, params=t.params)
                f.write(json.dumps(row) + "\n")


def test_trajectories_pipeline_runs_and_logs_to_mlflow(project: Path):
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "templates"], project)
    _write_task_plans(project)
    run_cli(["kedro", "run", "--env", "test", "--pipelines", "trajectories"], project)

    out = project / "data"
    tasks = _lines(out / "03_primary/trajectories/instantiated_tasks.jsonl")
    splits = _lines(out / "03_primary/trajectories/splits.jsonl")
    experts = _lines(out / "07_model_output/trajectories/expert_trajectories.jsonl")
    train = _lines(out / "05_model_input/trajectories/train_trajectories.jsonl")
    test = _lines(out / "05_model_input/trajectories/test_trajectories.jsonl")
    explore = _lines(out / "05_model_input/trajectories/exploration_tasks.jsonl")
    assert len(experts) == len(tasks) == len(splits) >= 40
    assert all(t["outcome"]["success"] for t in train + test)
    assert explore and len(train) + len(explore) == sum(s["split"] == "train" for s in splits)
    test_ids = {s["task_id"] for s in splits if s["split"] == "test"}
    assert {t["task"]["task_id"] for t in test} <= test_ids
    assert not {t["task"]["task_id"] for t in train} & test_ids

    stats = json.loads((out / "08_reporting/trajectories_stats.json").read_text())
    assert stats["tasks"] == len(experts) and 0.15 <= 1 - stats["success_rate"] <= 0.8, stats
    assert (out / "08_reporting/trajectories_family_stats.csv").read_text().startswith("family,")
    assert (out / "08_reporting/trajectories_expert_success.png").stat().st_size > 1000

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("lam").experiment_id])
    run = next(r for r in runs if "trajectories.success_rate" in r.data.metrics)
    assert run.data.metrics["trajectories.success_rate"] == stats["success_rate"]
    assert "trajectories_expert_success.png" in {a.path for a in client.list_artifacts(run.info.run_id)}
