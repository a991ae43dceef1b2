"""``lam agent --backend writer``: the same command, episode rules and outputs, in real LibreOffice Writer."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lam_kedro.agent.schema import Trajectory
from lam_kedro.console import main
from lam_kedro.env import load_docx, sample_task
from lam_kedro.env.writer.recipes import writer_plan, writer_solution
from tests.env.writer.conftest import require_writer


def test_the_scripted_expert_plays_a_task_in_writer_and_saves_the_docx(tmp_path: Path) -> None:
    require_writer()
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["agent", "--backend", "writer", "--family", "align_center", "--doc",
                                       "community_garden", "--policy", "scripted", "--unattended", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output and "checker agrees" in result.output
    traj = Trajectory.model_validate_json((out / "trajectory.json").read_text())
    task = sample_task("align_center", "community_garden", 0)
    assert traj.outcome.success and traj.outcome.steps == len(writer_solution("align_center", task.params))
    assert traj.steps[1].observation["title"].endswith(" - LibreOffice Writer")
    assert [c["control_text"] for c in traj.steps[1].observation["controls"]][:2] == ["File", "Edit"]
    saved = load_docx(out / "result.docx")
    assert saved.paragraphs()[task.params["paragraph"]].fmt.alignment == "center"
    plan = writer_plan("align_center", task.params)  # Writer's menus, not Word's ribbon
    assert traj.task.plan == plan and traj.steps[1].thought.startswith(plan[1][3:] + " Now: click 'Format'")


def test_a_family_without_a_writer_recipe_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["agent", "--backend", "writer", "--family", "watermark_custom",
                                       "--policy", "scripted", "--unattended", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "task family 'watermark_custom' has no Writer recipe" in result.output and not (tmp_path / "o").exists()
