"""`kedro viz` shows every registered pipeline; its JSON rendered without a server (`kedro viz build`)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

from tests.conftest import run_cli


def test_kedro_viz_renders_every_registered_pipeline(project: Path):
    assert importlib.util.find_spec("kedro_viz"), "kedro-viz is a dependency of the project: run scripts/setup.sh"
    listed = run_cli(["kedro", "registry", "list"], project).stdout
    registered = set(re.findall(r"^- (\S+)$", listed, re.M))
    assert {"__default__", "data_collection", "templates", "evaluation"} <= registered, listed

    run_cli(["kedro", "viz", "build"], project)
    api = project / "build/api"
    main = json.loads((api / "main").read_text())
    assert {p["id"] for p in main["pipelines"]} == registered
    for name in sorted(registered):
        view = json.loads((api / "pipelines" / name).read_text())
        assert view["selected_pipeline"] == name
        assert any(n["type"] == "task" for n in view["nodes"]), f"kedro-viz shows no node of '{name}'"
