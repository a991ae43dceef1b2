"""An episode on a person's own .docx changes only what its actions changed: the expert plays a
task on a document full of things the model cannot hold, and the saved file keeps them all."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from lam_kedro.agent.episode import run_episode
from lam_kedro.agent.policies import ScriptedPolicy
from lam_kedro.env import WordEnv
from lam_kedro.env.docx_io import load_docx
from lam_kedro.env.tasks import get_family, make_task
from tests.env.test_docx_lossless import FEATURES, NS, _changed, _count, _parts, build


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("family", ["bold_text"])
def test_the_expert_edits_a_user_document_and_everything_else_survives(feature: str, family: str,
                                                                       tmp_path: Path) -> None:
    path, xpath = build(feature, tmp_path / f"{feature}.docx")
    doc = load_docx(path)
    task = None
    for seed in range(40):  # a task on the EDIT_ME paragraph, so the feature's own XML is untouched
        task = make_task(get_family(family), "mine", doc, seed)
        if task is not None and "Edit" in str(task.params):
            break
    if task is None or "Edit" not in str(task.params):
        pytest.skip(f"{family} finds no task on the edit paragraph of {feature}")
    env = WordEnv(templates={"mine": doc})
    traj = run_episode(env, ScriptedPolicy(), task, seed=0)
    assert traj.outcome.success, traj.outcome.reason
    out = tmp_path / "out.docx"
    env.save(out)
    assert _count(out, xpath) == _count(path, xpath)
    before, after = _parts(path), _parts(out)
    assert _changed(before, after) <= {"word/document.xml", "[Content_Types].xml"}
    body_before = etree.fromstring(before["word/document.xml"]).find("w:body", NS)
    body_after = etree.fromstring(after["word/document.xml"]).find("w:body", NS)
    assert [etree.tostring(e, method="c14n") for e in body_after][1:] == [
        etree.tostring(e, method="c14n") for e in body_before][1:]
