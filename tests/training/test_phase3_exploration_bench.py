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
