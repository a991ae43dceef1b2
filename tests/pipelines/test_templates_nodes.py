"""The templates node: built-in templates, user documents, and quarantine for unreadable ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from lam_kedro.datasets import DocxFolderDataset
from lam_kedro.env import builtin_templates
from lam_kedro.pipelines.templates.nodes import build_templates


def test_builtin_templates_indexed():
    docs, index, quarantine = build_templates({}, {"builtin": True})
    assert len(docs) == len(builtin_templates()) == len(index)
    assert quarantine == []
    assert all(row["words"] > 0 and row["description"] for row in index)


def test_user_folder_with_bad_files_quarantines_them(tmp_path: Path, shared_dir: Path):
    folder = tmp_path / "user"
    folder.mkdir()
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 this is not a zip")
    (folder / "strict.docx").write_bytes((shared_dir / "corpus/docx/strict-format.docx").read_bytes())
    (folder / "tables.docx").write_bytes((shared_dir / "corpus/docx/tables.docx").read_bytes())
    docs, index, quarantine = build_templates(DocxFolderDataset(str(folder)).load(), {"builtin": False})
    assert set(docs) == {"user_tables"}
    assert [row["source"] for row in index] == ["user"]
    reasons = {row["name"]: row["reason"] for row in quarantine}
    assert set(reasons) == {"broken", "strict"}
    assert "broken.docx" in reasons["broken"] and "strict.docx" in reasons["strict"]


def test_no_templates_at_all_is_a_clear_error():
    with pytest.raises(ValueError, match="params:templates.builtin"):
        build_templates({}, {"builtin": False})


def test_docx_folder_round_trip(tmp_path: Path):
    docs, _, _ = build_templates({}, {"builtin": True})
    ds = DocxFolderDataset(str(tmp_path / "t"))
    assert ds.load() == {}
    ds.save(docs)
    loaded = {name: load() for name, load in ds.load().items()}
    assert set(loaded) == set(docs)
    for name, doc in docs.items():
        assert loaded[name].text() == doc.text(), name


def test_text_in_tables_counts_upper_case_docx_imports_other_files_are_noted(tmp_path: Path, shared_dir: Path):
    from lam_kedro.env.document import Document, Paragraph, Table
    from lam_kedro.env.docx_io import save_docx

    folder = tmp_path / "user"
    folder.mkdir()
    form = Document(blocks=[Paragraph.of(""), Table([["Name", "Alice Smith"], ["Role", "Engineer"]]),
                            Paragraph.of("")])
    save_docx(form, folder / "form.docx")
    (folder / "Report.DOCX").write_bytes((shared_dir / "corpus/docx/tables.docx").read_bytes())
    (folder / "notes.txt").write_text("hello")
    (folder / ".gitkeep").write_text("")
    save_docx(Document(blocks=[Paragraph.of("")]), folder / "blank.docx")
    docs, _, quarantine = build_templates(DocxFolderDataset(str(folder), note_other_files=True).load(),
                                          {"builtin": False, "min_words": 1})
    assert set(docs) == {"user_form", "user_Report"}
    reasons = {row["name"]: row["reason"] for row in quarantine}
    assert set(reasons) == {"blank", "notes"}
    assert str(folder / "blank.docx") in reasons["blank"] and "0 words" in reasons["blank"]
    assert str(folder / "notes.txt") in reasons["notes"] and "not a .docx" in reasons["notes"]
    assert all(row["path"] for row in quarantine)


def test_saving_a_template_name_with_a_path_is_refused(tmp_path: Path):
    from lam_kedro.env.document import Document, Paragraph
    from lam_kedro.env.safe_paths import UnsafePathError

    ds = DocxFolderDataset(str(tmp_path / "t"))
    with pytest.raises(Exception) as err:  # kedro wraps it in a DatasetError
        ds.save({"../escape": Document(blocks=[Paragraph.of("x")])})
    assert isinstance(err.value, UnsafePathError) or "outside" in str(err.value)
    assert not (tmp_path / "escape.docx").exists()
