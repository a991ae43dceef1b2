"""benchmarks/worlds_report.py: two worlds' reporting folders side by side (markdown, JSON, a plot)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from benchmarks.worlds_report import ACTORS, main


def _folder(root: Path, online: list[float], expert: tuple[int, int], solved: int, families: dict[str, int]) -> Path:
    root.mkdir(parents=True)
    (root / "trajectories_stats.json").write_text(json.dumps(
        {"tasks": expert[1], "successes": expert[0], "success_steps": 3 * expert[0],
         "families": {f: {} for f in families}}))
    (root / "phase3.json").write_text(json.dumps({"exploration_tasks": 30, "exploration_solved": solved}))
    (root / "reward_model.json").write_text(json.dumps({"lam3_heldout_auc": 0.75, "lam3_heldout_accuracy": 0.7}))
    with (root / "evaluation_table.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["section", "metric", "label", *ACTORS, "paper"])
        w.writerow(["online", "task_success_rate", "Task Success Rate (%)", *online, ""])
        w.writerow(["offline", "task_success_rate", "Task Success Rate (%)", 0, 40, 41, 42, "", "", ""])
    with (root / "evaluation_families.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["family", "actor", "tasks", "successes", "success_rate", "steps", "invalid_action_rate"])
        for fam, wins in families.items():
            for actor in ACTORS:
                w.writerow([fam, actor, 2, wins if actor in ("lam4", "expert") else 0, wins / 2, 6, 0.0])
    return root


def test_the_report_puts_each_worlds_numbers_side_by_side(tmp_path: Path) -> None:
    word = _folder(tmp_path / "word", [0.0, 70.0, 70.5, 71.5, 74.0, 0.0], (2877, 3688), 26,
                   {"bold_text": 2, "page_color": 1})
    writer = _folder(tmp_path / "writer", ["skipped", 50.0, 55.0, 56.0, 90.0, 0.0], (350, 391), 3,
                     {"bold_text": 1, "font_size": 2})
    out = tmp_path / "results" / "worlds"
    main(["--word", str(word), "--writer", str(writer), "--out", str(out)])
    md = out.with_suffix(".md").read_text()
    assert "| expert trajectories solved | 2877 / 3688 (78.0 %) | 350 / 391 (89.5 %) |" in md
    assert "| Online task success (%) | Word | 0.0 | 70.0 | 70.5 | 71.5 | 74.0 | 0.0 |" in md
    assert "| Online task success (%) | Writer | skipped | 50.0 | 55.0 | 56.0 | 90.0 | 0.0 |" in md
    assert "| Phase 3: expert-failed tasks LAM2 solved | 26 / 30 (86.7 %) | 3 / 30 (10.0 %) |" in md
    assert "| bold_text | 2/2 | 1/2 | 2/2 | 1/2 |" in md          # only the families both worlds ran
    assert "page_color" not in md and "font_size" not in md
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["writer"]["evaluation"]["online.task_success_rate"]["lam4"] == "56.0"
    assert out.with_suffix(".png").stat().st_size > 1000


def test_a_missing_report_is_named(tmp_path: Path) -> None:
    word = _folder(tmp_path / "word", [0.0] * 6, (1, 2), 0, {"bold_text": 0})
    with pytest.raises(FileNotFoundError, match=r"writer/trajectories_stats\.json is missing: run that world"):
        main(["--word", str(word), "--writer", str(tmp_path / "writer"), "--out", str(tmp_path / "o")])
