"""``lam_kedro.project_conf``: the conf as ``kedro run`` reads it (base + env), every block validated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lam_kedro.project_conf import project_parameters

REPO = Path(__file__).resolve().parents[1]


def test_the_env_overlays_base_block_by_block():
    base = project_parameters(REPO, "base", ["phase2", "evaluation"])
    smol = project_parameters(REPO, "smollm2", ["phase2", "evaluation"])
    assert base["phase2"]["training"]["lora"] is None
    assert smol["phase2"]["training"]["lora"]["r"] == 8                 # conf/smollm2 replaces the block
    assert smol["evaluation"]["online"]["max_tasks"] < base["evaluation"]["online"]["max_tasks"]
    assert set(project_parameters(REPO, "base")) >= {"base_model", "phase1", "phase4", "evaluation"}


def _project(tmp_path: Path, blocks: dict) -> Path:
    (tmp_path / "conf/base").mkdir(parents=True)
    for key, block in blocks.items():
        (tmp_path / f"conf/base/parameters_{key}.yml").write_text(yaml.safe_dump({key: block}))
    return tmp_path


def test_a_typo_names_the_file_and_key(tmp_path: Path):
    project = _project(tmp_path, {"phase3": {"exploration": {"max_taks": 3}}})
    with pytest.raises(ValueError, match=r"parameters_phase3\.yml.*max_taks"):
        project_parameters(project, "base", ["phase3"])


def test_a_missing_block_env_or_project_is_named(tmp_path: Path):
    project = _project(tmp_path, {"evaluation": {}})
    with pytest.raises(ValueError, match="no parameters block phase3"):
        project_parameters(project, "base", ["phase3"])
    with pytest.raises(ValueError, match="--env gpu: there is no"):
        project_parameters(project, "gpu", ["evaluation"])
    with pytest.raises(ValueError, match="not a lam-kedro project"):
        project_parameters(tmp_path / "elsewhere")
    assert project_parameters(project, "base", ["evaluation"]) == {"evaluation": {}}   # the model's defaults apply
