"""benchmarks/phase3_exploration.py: every variant is a valid ``phase3.exploration`` block."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from benchmarks.phase3_exploration import VARIANTS, _markdown, variant_params

from lam_kedro.pipelines.phase3.nodes import Phase3Exploration

BASE = yaml.safe_load((Path(__file__).parents[2] / "conf/base/parameters_phase3.yml").read_text())["phase3"]["exploration"]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_validates_and_changes_only_its_keys(name: str):
    params = variant_params(BASE, VARIANTS[name])
    parsed = Phase3Exploration.parse(params, f"variant {name}")
    assert parsed.max_tasks == BASE["max_tasks"] and parsed.seed == BASE["seed"]
    for key, value in VARIANTS[name].items():
        if key == "decode":
            for k, v in value.items():
                assert getattr(parsed.decode, k) == v
        else:
            assert getattr(parsed, key) == value
    # the decode block keeps the keys the variant does not name
    assert parsed.decode.max_new_tokens == BASE["decode"]["max_new_tokens"]
    assert parsed.decode.constrained is True and parsed.decode.do_sample is True


def test_markdown_lists_each_variant():
    r = {"config": {"tasks": 4, "workers": 2, "threads": 1},
         "variants": [{"variant": "default", "solved": 1, "tasks": 4, "solve_rate": 0.25, "episodes": 7, "steps": 30,
                       "seconds": 2.0}]}
    text = _markdown(r)
    assert "| default | `{}` | 1 / 4 | 25.0% | 7 | 30 | 2.0 |" in text


def test_the_benchmark_explores_for_real(tmp_path: Path):
    """``main`` on a data folder laid out as the pipeline writes it: a LAM2, expert-failed tasks and
    the templates as .docx; each variant runs ``explore_failed_tasks`` and is reported."""
    from benchmarks.phase3_exploration import main

    from lam_kedro.env.docx_write import save_docx
    from lam_kedro.env.templates import builtin_templates
    from lam_kedro.model.loading import save_bundle
    from tests.evaluation.conftest import make_tasks, tiny_bundle

    tasks = make_tasks(2)
    (tmp_path / "05_model_input/trajectories").mkdir(parents=True)
    (tmp_path / "05_model_input/trajectories/exploration_tasks.jsonl").write_text(
        "".join(t.model_dump_json() + "\n" for t in tasks))
    (tmp_path / "02_intermediate/templates").mkdir(parents=True)
    for template in builtin_templates():
        if template.name in {t.template for t in tasks}:
            save_docx(template.document(), tmp_path / f"02_intermediate/templates/{template.name}.docx")
    save_bundle(tiny_bundle(), tmp_path / "06_models/lam2")
    result = main(["--data", str(tmp_path), "--variants", "default", "attempts_3", "--max-tasks", "2",
                   "--out", str(tmp_path / "out/p3")])
    by_name = {v["variant"]: v for v in result["variants"]}
    assert set(by_name) == {"default", "attempts_3"} and all(v["tasks"] == 2 for v in by_name.values())
    # an unsolved task gets every attempt: 2 or 3 episodes per task, one less for each solved one
    assert 2 <= by_name["default"]["episodes"] <= 4 and 2 <= by_name["attempts_3"]["episodes"] <= 6
    assert sum(row["explored"] for row in by_name["default"]["by_family"]) == 2
    assert (tmp_path / "out/p3.md").read_text().startswith("# Phase 3 exploration variants")
