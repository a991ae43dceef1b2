"""benchmarks/writer_speed.py runs for real on two families and reports both worlds."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.writer_speed import main

from tests.env.writer.conftest import require_writer


def test_the_benchmark_plays_writer_and_the_simulated_word_on_the_same_tasks(tmp_path: Path) -> None:
    require_writer()
    out = tmp_path / "writer_speed.json"
    result = main(["--families", "bold_text", "delete_word", "--out", str(out)])
    assert json.loads(out.read_text()) == result
    for world in ("writer", "simulated_word"):
        assert result[world]["episodes"] == result[world]["solved"] == 2
        assert result[world]["steps"] > 0 and result[world]["steps_per_s"] > 0
    assert result["office_start_s"] > 0 and result["writer"]["reset_ms"] > result["simulated_word"]["reset_ms"]
