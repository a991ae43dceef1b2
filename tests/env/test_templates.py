"""Built-in templates, user folders of .docx files, and the written template index."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from lam_kedro.env.document import Document, Paragraph
from lam_kedro.env.docx_io import load_docx, save_docx
from lam_kedro.env.templates import (
    Template,
    UnknownTemplateError,
    builtin_templates,
    describe_document,
    document_features,
    load_template,
    templates_from_folder,
    write_templates,
)
from lam_kedro.env.types import Span

TEMPLATES = builtin_templates()


def test_builtin_set_is_large_and_varied() -> None:
    names = [t.name for t in TEMPLATES]
    assert len(names) >= 14 and len(set(names)) == len(names)
    features = [document_features(t.document()) for t in TEMPLATES]
    assert sum(f["tables"] > 0 for f in features) >= 3
    assert sum(f["list_items"] > 0 for f in features) >= 4
    assert sum(f["comments"] > 0 for f in features) >= 1
    assert sum(f["has_header"] and f["has_footer"] for f in features) >= 1
    assert sum(f["headings"] >= 3 for f in features) >= 5
    assert sum(f["formatted_runs"] > 0 for f in features) >= 5
    assert sum(f["page_breaks"] > 0 for f in features) >= 1
    assert any(f["paragraphs"] == 1 for f in features)  # the one-line document


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_each_template_is_usable(template: Template) -> None:
    doc = template.document()
    assert doc.title == template.name
    assert re.fullmatch(r"[A-Z][^\n]{15,120}\.", template.description), template.description
    assert any(len(p.text.split()) >= 3 for p in doc.paragraphs())
    if template.name != "one_line":
        assert sum(len(p.text.split()) >= 3 for p in doc.paragraphs()) >= 3


def test_each_template_has_distinctive_words() -> None:
    """Tasks target phrases by text, so each template needs words no other template has."""
    words = {t.name: set(re.findall(r"[A-Za-z]{6,}", t.document().text().lower())) for t in TEMPLATES}
    counts = Counter(w for ws in words.values() for w in ws)
    for name, ws in words.items():
        assert sum(counts[w] == 1 for w in ws) >= 3, name


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_builtin_roundtrips_through_docx(template: Template, tmp_path: Path) -> None:
    doc = template.document()
    back = load_docx(save_docx(doc, tmp_path / f"{template.name}.docx"))
    assert back.to_dict() == doc.to_dict()


def test_load_template_gives_fresh_copies() -> None:
    a = load_template("grocery_list")
    a.apply_run_format(Span(0, 7), bold=True)
    a.insert_text(0, "CHANGED ")
    b = load_template("grocery_list")
    assert not b.text().startswith("CHANGED") and not b.format_at(Span(0, 7)).bold
    assert b.to_dict() == builtin_templates()[2].document().to_dict()


def test_load_template_by_path_and_unknown(tmp_path: Path) -> None:
    path = save_docx(load_template("office_memo"), tmp_path / "my memo.docx")
    doc = load_template(str(path))
    assert doc.title == "my memo" and "MEMORANDUM" in doc.text()
    doc.insert_text(0, "x")
    assert load_template(path).text().startswith("MEMORANDUM")
    with pytest.raises(UnknownTemplateError) as info:
        load_template("no_such_template")
    assert "grocery_list" in str(info.value) and isinstance(info.value, KeyError)
    with pytest.raises(UnknownTemplateError, match="does not exist"):
        load_template(tmp_path / "absent.docx")


def test_templates_from_folder_reports_unreadable(tmp_path: Path) -> None:
    save_docx(load_template("faq"), tmp_path / "faq copy.docx")
    save_docx(Document.from_paragraphs(["Plain first sentence here. Then more."]), tmp_path / "plain.docx")
    (tmp_path / "broken.docx").write_text("not a docx")
    (tmp_path / "notes.txt").write_text("ignored: not a .docx")
    templates, rejected = templates_from_folder(tmp_path)
    assert [t.name for t in templates] == ["faq copy", "plain"]
    assert templates[0].description.startswith("Frequently Asked Questions: Home Internet Service: a document with")
    assert templates[1].description == "Plain first sentence here.: a document with 1 paragraph"
    assert templates[0].document().text() == load_template("faq").text()
    assert len(rejected) == 1 and rejected[0][0].endswith("broken.docx") and "not a zip" in rejected[0][1]
    with pytest.raises(FileNotFoundError):
        templates_from_folder(tmp_path / "nope")


def test_write_templates_index(tmp_path: Path) -> None:
    rows = write_templates(TEMPLATES[:4], tmp_path / "out")
    assert [r["name"] for r in rows] == [t.name for t in TEMPLATES[:4]]
    for row, t in zip(rows, TEMPLATES[:4], strict=True):
        assert Path(row["path"]).is_file() and row["description"] == t.description
        assert row["paragraphs"] >= 1 and {"tables", "words", "headings", "list_items", "styles"} <= set(row)
    assert rows[2]["list_items"] == 6


def test_describe_document() -> None:
    assert describe_document(Document()) == "An empty document."
    doc = Document(blocks=[Paragraph.of("intro words here."), Paragraph.of("Big Title", "Title")])
    assert describe_document(doc) == "Big Title: a document with 2 paragraphs, 1 heading"
