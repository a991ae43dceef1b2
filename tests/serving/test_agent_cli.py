"""``lam agent``: tasks from a family, a task file or free text; the scripted expert for the success
path; a small real model folder (in process and as the installed console script) for the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lam_kedro.agent.schema import InstantiatedTask, Trajectory
from lam_kedro.console import main
from lam_kedro.env import load_docx, load_template, sample_task
from lam_kedro.env.episode import NO_CHECKER
from lam_kedro.env.tasks import get_family
from lam_kedro.serving.project_conf import agent_settings

REPO = Path(__file__).resolve().parents[2]


def _lam(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["agent", *args], input=input, catch_exceptions=False)


def _outputs(out: Path) -> tuple[Trajectory, dict]:
    assert (out / "result.docx").is_file()
    traj = Trajectory.model_validate_json((out / "trajectory.json").read_text())
    record = json.loads((out / "ufo_execution.json").read_text())
    return traj, record


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny untrained LAM saved as a Hugging Face folder (it emits garbage: tasks fail)."""
    from lam_kedro.model.loading import save_bundle
    from tests.evaluation.conftest import tiny_bundle

    path = tmp_path_factory.mktemp("models") / "lam_tiny"
    save_bundle(tiny_bundle(), path)
    return path


# ------------------------------------------------------------------ success path (the expert)


def test_scripted_expert_succeeds_and_the_result_passes_the_checker(tmp_path: Path, shared_dir: Path) -> None:
    out = tmp_path / "run"
    result = _lam("--family", "bold_text", "--doc", "one_line", "--policy", "scripted", "--unattended",
                  "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output and "checker agrees" in result.output
    assert "--- step 2" in result.output  # printed step by step
    traj, record = _outputs(out)
    assert traj.outcome.success and traj.actor == "expert" and traj.task.family == "bold_text"
    task = sample_task("bold_text", "one_line", seed=0)
    check = get_family("bold_text").check(load_template("one_line"), load_docx(out / "result.docx"), task.params)
    assert check.success, check.reason
    assert record["execution_result"]["result"]["complete"] == "yes"
    import jsonschema

    schema = json.loads((shared_dir / "interop" / "ufo" / "execution_schema.json").read_text())
    jsonschema.validate(record, schema)


def test_a_user_docx_with_explicit_params_and_wording(tmp_path: Path) -> None:
    from lam_kedro.env import save_docx

    doc = tmp_path / "memo.docx"
    save_docx(load_template("office_memo"), doc)
    params = sample_task("bold_text", str(doc), seed=0).params
    out = tmp_path / "run"
    result = _lam("--family", "bold_text", "--params", json.dumps(params), "--task", "Please embolden it",
                  "--doc", str(doc), "--policy", "scripted", "--unattended", "--out", str(out))
    assert result.exit_code == 0, result.output
    traj, _ = _outputs(out)
    assert traj.task.template == str(doc) and traj.task.params == params and traj.outcome.success
    assert traj.task.task == "Please embolden it"


def _write_task_file(tmp_path: Path, template: str = "one_line") -> tuple[Path, InstantiatedTask]:
    task = sample_task("italic_text", template, seed=1)
    assert task is not None
    inst = InstantiatedTask.from_env_task(task, plan=get_family("italic_text").plan(task.params))
    folder = tmp_path / "trajectories"
    folder.mkdir()
    other = InstantiatedTask.from_env_task(sample_task("bold_text", template, seed=0))
    (folder / "instantiated_tasks.jsonl").write_text(
        other.model_dump_json() + "\n" + inst.model_dump_json() + "\n")
    (folder / "splits.jsonl").write_text(json.dumps({"task_id": inst.task_id, "split": "test"}) + "\n")
    return folder / "instantiated_tasks.jsonl", inst


def test_a_held_out_task_by_id_from_the_catalogs_task_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare --task-id reads the catalog's instantiated_tasks, its split the catalog's trajectory_splits."""
    task_file, inst = _write_task_file(tmp_path)
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "base" / "catalog.yml").write_text(
        "instantiated_tasks: {type: lam_kedro.datasets.JSONLDataset, filepath: trajectories/instantiated_tasks.jsonl}\n"
        "trajectory_splits: {type: lam_kedro.datasets.JSONLDataset, filepath: trajectories/splits.jsonl}\n")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    result = _lam("--task-id", inst.task_id, "--policy", "scripted", "--unattended", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"task file {task_file}" in result.output
    assert "split: test" in result.output and "plan (the task's)" in result.output
    traj, _ = _outputs(out)
    assert traj.task.task_id == inst.task_id and traj.task.plan == inst.plan and traj.outcome.success


def test_a_task_on_a_template_of_the_templates_folder(tmp_path: Path) -> None:
    """Data tasks name templates of the templates pipeline (``user_*``): loaded from --templates."""
    templates = tmp_path / "templates"
    templates.mkdir()
    from lam_kedro.env import save_docx

    save_docx(load_template("office_memo"), templates / "user_memo.docx")
    task = sample_task("bold_text", str(templates / "user_memo.docx"), seed=0)
    inst = InstantiatedTask.from_env_task(task).model_copy(update={"template": "user_memo"})
    task_file = tmp_path / "tasks.jsonl"
    traj_row = {"trajectory_id": "t-1", "task": inst.model_dump(mode="json"), "steps": []}
    task_file.write_text(json.dumps(traj_row) + "\n")  # a trajectories file works too
    out = tmp_path / "run"
    result = _lam("--task-id", inst.task_id, "--task-file", str(task_file), "--templates", str(templates),
                  "--policy", "scripted", "--unattended", "--out", str(out))
    assert result.exit_code == 0, result.output
    missing = _lam("--task-id", inst.task_id, "--task-file", str(task_file), "--templates", str(tmp_path / "none"),
                   "--policy", "scripted", "--out", str(out))
    assert missing.exit_code == 2 and "user_memo" in missing.output and "--templates" in missing.output


# ------------------------------------------------------------------ safety in the command


def _delete_config(tmp_path: Path) -> Path:
    path = tmp_path / "safety.yml"
    path.write_text("delete_threshold: 2\n")
    return path


def test_a_sensitive_action_is_refused_unattended(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _lam("--family", "delete_word", "--doc", "one_line", "--policy", "scripted", "--unattended",
                  "--safety-config", str(_delete_config(tmp_path)), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert "refused by safety (delete_chars)" in result.output and "FAILURE" in result.output
    traj, _ = _outputs(out)
    assert any(s.error and s.error.startswith("refused by safety") for s in traj.steps)


@pytest.mark.parametrize("answer, code", [("y\n", 0), ("n\n", 1), ("", 1)])
def test_a_sensitive_action_asks_for_confirmation(tmp_path: Path, answer: str, code: int) -> None:
    result = _lam("--family", "delete_word", "--doc", "one_line", "--policy", "scripted",
                  "--safety-config", str(_delete_config(tmp_path)), "--out", str(tmp_path / "run"), input=answer)
    assert "sensitive action at step 1:" in result.output and "allow it?" in result.output
    assert result.exit_code == code, result.output
    assert ("confirmed" if code == 0 else "refused") in result.output


# ------------------------------------------------------------------ bad input: exit 2, naming the option


@pytest.mark.parametrize(
    "args, names",
    [
        (["--family", "no_such_family", "--policy", "scripted"], "--family"),
        (["--family", "bold_text", "--params", "{nope", "--policy", "scripted"], "--params"),
        (["--family", "bold_text", "--doc", "missing.docx", "--policy", "scripted"], "--doc"),
        (["--task-id", "x", "--task-file", "missing.jsonl", "--policy", "scripted"], "--task-file"),
        (["--task-id", "x", "--family", "bold_text"], "--family"),
        (["--task-file", "x.jsonl"], "--task-id"),
        (["--policy", "scripted"], "--task"),
        (["--task", "Make it nice", "--policy", "scripted"], "--policy scripted"),
        (["--task", "Make it nice", "--model", "no/such/folder"], "--model"),
        (["--task", "Make it nice", "--allow", "rm_rf"], "--allow"),
        (["--task", "Make it nice", "--max-steps", "0"], "--max-steps"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(tmp_path: Path, args: list[str], names: str) -> None:
    result = CliRunner().invoke(main, ["agent", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert names in result.output


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize(
    "case, names",
    [
        ("non_utf8_task_file", "not UTF-8"),
        ("deep_task_file", "nested too deeply"),
        ("params_wrong_type", "'text' must be a string"),
        ("params_unknown_key", "unknown ['colour']"),
        ("task_id_traversal", "character '/'"),
        ("task_id_absolute", "character '/'"),
        ("bad_model_uri", "does not exist"),
        ("out_is_a_file", "is a file"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            case: str, names: str) -> None:
    """Exit 2 (never 1, which says the checker failed the task, nor a traceback) and no file made,
    in the current folder (no mlflow.db, no agent_runs/) or anywhere else."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "bad.jsonl").write_bytes(b'\xff\xfe{"task_id": "x"}\n')
    (tmp_path / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    (tmp_path / "a_file").write_text("")
    args = {
        "non_utf8_task_file": ["--task-id", "x", "--task-file", "bad.jsonl", "--policy", "scripted"],
        "deep_task_file": ["--task-id", "x", "--task-file", "deep.jsonl", "--policy", "scripted"],
        "params_wrong_type": ["--family", "bold_text", "--params", '{"text": 5}', "--policy", "scripted"],
        "params_unknown_key": ["--family", "bold_text", "--params", '{"text": "x", "colour": 1}',
                               "--policy", "scripted"],
        "task_id_traversal": ["--task-id", "../../x", "--policy", "scripted"],
        "task_id_absolute": ["--task-id", "/abs/path", "--policy", "scripted"],
        "bad_model_uri": ["--task", "Make it nice", "--model", "models:/nope@x"],
        "out_is_a_file": ["--family", "bold_text", "--policy", "scripted", "--out", "a_file"],
    }[case]
    before = _files(tmp_path)
    result = CliRunner().invoke(main, ["agent", *args])
    assert result.exit_code == 2, result.output
    assert names in result.output and "Traceback" not in result.output
    assert _files(tmp_path) == before


def test_a_task_id_with_a_path_in_the_task_file_never_leaves_agent_runs(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    task_file, inst = _write_task_file(tmp_path)
    row = json.loads(task_file.read_text().splitlines()[0])
    row["task_id"] = "../../escape"
    (tmp_path / "evil.jsonl").write_text(json.dumps(row) + "\n")
    result = CliRunner().invoke(main, ["agent", "--task-id", "../../escape", "--task-file", "evil.jsonl",
                                       "--policy", "scripted"])
    assert result.exit_code == 2 and "--task-id" in result.output
    assert not (tmp_path.parent.parent / "escape").exists() and not (tmp_path / "agent_runs").exists()


def test_the_default_output_folder_is_confined_to_agent_runs() -> None:
    from lam_kedro.env.safe_paths import UnsafePathError, confined

    assert confined("agent_runs", "bold_text-1a2b").parent == Path("agent_runs").resolve()
    for bad in ("..", "../x", "/abs", "a/../../b"):
        with pytest.raises(UnsafePathError):
            confined("agent_runs", bad)


def test_an_unknown_task_id_lists_some_that_exist(tmp_path: Path) -> None:
    task_file, inst = _write_task_file(tmp_path)
    result = CliRunner().invoke(main, ["agent", "--task-id", "nope", "--task-file", str(task_file)])
    assert result.exit_code == 2 and "no task 'nope'" in result.output and inst.task_id in result.output


# ------------------------------------------------------------------ a real (tiny) model


def test_free_text_with_a_model_has_no_checker(tmp_path: Path, model_dir: Path) -> None:
    out = tmp_path / "run"
    result = _lam("--model", str(model_dir), "--task", "Make the first word bold", "--no-constrained",
                  "--max-new-tokens", "24", "--unattended", "--max-steps", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert NO_CHECKER in result.output and "plan (the model's own, Phase 1)" in result.output
    traj, record = _outputs(out)
    assert traj.task.family is None and traj.actor == "lam2"
    assert record["execution_result"]["result"]["complete"] == "unsure"


def test_constrained_decoding_respects_the_allowlist(tmp_path: Path, model_dir: Path) -> None:
    pytest.importorskip("lam_kedro.model.decoder")
    out = tmp_path / "run"
    result = _lam("--model", str(model_dir), "--family", "bold_text", "--doc", "one_line", "--constrained",
                  "--allow", "select_text", "--allow", "summary", "--unattended", "--max-steps", "3",
                  "--out", str(out))
    assert result.exit_code == 1, result.output
    traj, _ = _outputs(out)
    assert traj.steps and {s.function for s in traj.steps} <= {"select_text", "summary", ""}


def test_the_installed_command_with_a_model_folder_fails_the_task(tmp_path: Path, model_dir: Path) -> None:
    """``.venv/bin/lam agent`` end to end in a subprocess: an untrained model fails, the checker says why."""
    lam = Path(sys.executable).with_name("lam")
    if not lam.is_file():
        pytest.skip(f"{lam} is not installed (pip install -e .)")
    out = tmp_path / "run"
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(
        [str(lam), "agent", "--model", str(model_dir), "--family", "bold_text", "--doc", "one_line",
         "--no-constrained", "--max-new-tokens", "24", "--unattended", "--max-steps", "2", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILURE" in proc.stdout and "the checker says" in proc.stdout
    traj, record = _outputs(out)
    assert not traj.outcome.success and traj.outcome.reason in proc.stdout
    assert record["execution_result"]["result"]["complete"] == "no"


def test_agent_settings_come_through_kedros_config_loader(tmp_path: Path) -> None:
    """conf/base overlaid with the selected env, as `kedro run --env` reads it; paths are the catalog's."""
    repo = agent_settings(REPO, env="base")
    assert repo.max_steps == 15 and repo.decode.max_new_tokens == 256 and not repo.decode.do_sample
    assert repo.task_file == REPO / "data/03_primary/trajectories/instantiated_tasks.jsonl"
    assert repo.splits_file == REPO / "data/03_primary/trajectories/splits.jsonl"
    assert repo.templates_dir == REPO / "data/02_intermediate/templates"
    assert agent_settings(REPO, env="test").max_steps == 12  # conf/test's evaluation block
    base, local = tmp_path / "conf" / "base", tmp_path / "conf" / "local"
    base.mkdir(parents=True)
    (base / "parameters_evaluation.yml").write_text(
        "evaluation:\n  generate: {max_new_tokens: 64}\n  online: {max_steps: 7, use_task_plan: false}\n")
    (base / "catalog.yml").write_text("templates: {type: lam_kedro.datasets.DocxFolderDataset, path: tpl}\n")
    s = agent_settings(tmp_path)  # no conf/local: conf/base alone
    assert s.max_steps == 7 and not s.use_task_plan and s.templates_dir == tmp_path.resolve() / "tpl"
    assert s.decode.max_new_tokens == 64 and s.decode.do_sample is False and s.decode.constrained
    assert s.task_file is None  # the catalog has no instantiated_tasks
    local.mkdir()
    (local / "parameters_evaluation.yml").write_text("evaluation:\n  online: {max_steps: 9}\n")
    assert agent_settings(tmp_path).max_steps == 9  # conf/local is the default env, as for kedro run
    with pytest.raises(ValueError, match="no .*conf/prod folder"):
        agent_settings(tmp_path, env="prod")
    assert agent_settings(tmp_path / "elsewhere").max_steps == 15  # outside a project: the evaluation's defaults
    (local / "parameters_evaluation.yml").write_text("evaluation:\n  online: {max_stepz: 9}\n")
    with pytest.raises(ValueError, match=r"conf/local/parameters_evaluation\.yml .*params:evaluation\.online\.max_stepz: "
                                         r"unknown key"):
        agent_settings(tmp_path)  # a typo fails, naming the file and key, instead of falling back to a default
    (local / "parameters_evaluation.yml").write_text("evaluation:\n  generate: {max_new_tokenz: 64}\n")
    with pytest.raises(ValueError, match=r"evaluation\.generate\.max_new_tokenz: unknown key"):
        agent_settings(tmp_path)


def test_the_tracking_uri_is_kedro_mlflows_through_the_same_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    from lam_kedro.serving.models import resolve_tracking_uri
    from lam_kedro.serving.project_conf import tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(REPO, env="base") == "sqlite:///mlflow.db"  # conf/base/mlflow.yml
    assert resolve_tracking_uri(project=REPO) == f"sqlite:///{(REPO / 'mlflow.db').resolve()}"
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "base" / "mlflow.yml").write_text("server: {mlflow_tracking_uri: sqlite:///base.db}\n")
    (tmp_path / "conf" / "shared").mkdir()
    (tmp_path / "conf" / "shared" / "mlflow.yml").write_text("server: {mlflow_tracking_uri: http://mlflow:5000}\n")
    assert tracking_uri(tmp_path) == "sqlite:///base.db"
    assert tracking_uri(tmp_path, env="shared") == "http://mlflow:5000"
    assert tracking_uri(tmp_path / "elsewhere") is None
    assert resolve_tracking_uri("sqlite:///given.db", tmp_path) == "sqlite:///given.db"
