"""Shared fixtures for the agent tests: small, real records (no fakes of our own components)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lam_kedro.agent.schema import InstantiatedTask, Outcome, Step, Trajectory

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
UFO_DIR = SHARED / "interop" / "ufo"


@pytest.fixture
def ufo_dir() -> Path:
    if not UFO_DIR.is_dir():
        pytest.skip(f"UFO interop files not found at {UFO_DIR} (the shared folder sits beside the repo)")
    return UFO_DIR


@pytest.fixture
def observation() -> dict:
    return {
        "title": "report.docx - Word",
        "controls": [
            {"label": "1", "control_text": "Home", "control_type": "TabItem"},
            {"label": "2", "control_text": "Bold", "control_type": "Button"},
            {"label": "3", "control_text": "Document", "control_type": "Document"},
        ],
        "document": "Quarterly report\nSales grew.",
        "selection": "",
        "error": None,
    }


@pytest.fixture
def trajectory(observation: dict) -> Trajectory:
    task = InstantiatedTask(
        task_id="t1",
        task="Make 'Sales' bold",
        plan=["Select Sales", "Click Bold on the Home tab"],
        template="report",
        template_description="A short report",
        family="bold_text",
        params={"text": "Sales"},
        source_task_id="5",
    )
    steps = [
        Step(
            index=0,
            observation=observation,
            thought="Select the word first",
            control_label="3",
            control_name="Document",
            function="select_text",
            args={"text": "Sales"},
            plan=["Click Bold"],
            latency_s=0.01,
        ),
        Step(
            index=1,
            observation={**observation, "selection": "Sales"},
            thought="Now bold it",
            control_label="2",
            control_name="Bold",
            function="click_input",
            args={"button": "left", "double": False},
            status="FINISH",
            raw_output='{"function": "click_input"}',
        ),
    ]
    outcome = Outcome(
        success=True,
        reason="'Sales' is bold",
        terminated=True,
        truncated=False,
        steps=2,
        invalid_actions=0,
        duration_s=0.5,
    )
    return Trajectory(
        trajectory_id="t1-expert-0", task=task, steps=steps, outcome=outcome, actor="expert", seed=0
    )
