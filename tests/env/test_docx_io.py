""".docx round trips of everything the model holds, real-world files, and load errors."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from lam_kedro.env.document import Comment, Document, PageBreak, Paragraph, RunFormat, Table
from lam_kedro.env.docx_io import DocxLoadError, load_docx, save_docx
from lam_kedro.env.templates import builtin_templates
from lam_kedro.env.types import Span

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "docx"
CORPUS_FILES = sorted(CORPUS.glob("*.docx")) if CORPUS.is_dir() else []


def roundtrip(doc: Document, tmp_path: Path) -> Document:
    path = save_docx(doc, tmp_path / f"{doc.title}.docx")
    return load_docx(path)


def sample() -> Document:
    return Document.from_paragraphs(
        ["Quarterly results summary", "Revenue grew in every region this year.", "Thanks to the whole team."],
        title="sample")


@pytest.mark.parametrize(("attrs"), [
    {"bold": True}, {"italic": True}, {"underline": True}, {"strike": True},
    {"font_name": "Georgia"}, {"font_size": 14.5}, {"color": "1F4E79"}, {"highlight": "YELLOW"},
    {"highlight": "BRIGHT_GREEN"}, {"bold": True, "italic": True, "color": "FF0000", "font_size": 9.0},
])
def test_run_format_roundtrip(attrs: dict, tmp_path: Path) -> None:
    d = sample()
    span = d.find("grew in every")
    d.apply_run_format(span, **attrs)
    back = roundtrip(d, tmp_path)
    assert back.format_at(span) == RunFormat(**attrs)
    assert back.format_at(back.find("Revenue")) == RunFormat()  # neighbours untouched
    assert back.to_dict()["blocks"] == d.to_dict()["blocks"]


@pytest.mark.parametrize(("op", "args", "field", "expected"), [
    ("set_alignment", ("center",), "alignment", "center"),
    ("set_alignment", ("justify",), "alignment", "justify"),
    ("set_alignment", ("right",), "alignment", "right"),
    ("set_line_spacing", (1.15,), "line_spacing", 1.15),
    ("set_line_spacing", (2.0,), "line_spacing", 2.0),
    ("set_indent", (), "left_indent", 36.0),
    ("set_spacing", (), "space_after", 12.0),
])
def test_paragraph_format_roundtrip(op: str, args: tuple, field: str, expected: object, tmp_path: Path) -> None:
    d = sample()
    kwargs = {"set_indent": {"left": 36, "right": 18, "first_line": -9}, "set_spacing": {"before": 6, "after": 12}}
    getattr(d, op)(Span(30, 35), *args, **kwargs.get(op, {}))
    back = roundtrip(d, tmp_path)
    assert getattr(back.paragraphs()[1].fmt, field) == expected
    assert back.paragraphs()[1].fmt == d.paragraphs()[1].fmt
    assert back.paragraphs()[0].fmt == d.paragraphs()[0].fmt


@pytest.mark.parametrize("style", ["Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Quote",
                                   "No Spacing", "My Custom Style"])
def test_style_roundtrip(style: str, tmp_path: Path) -> None:
    d = sample()
    d.set_style(Span(0, 0), style)
    assert roundtrip(d, tmp_path).paragraphs()[0].style == style


def test_lists_roundtrip(tmp_path: Path) -> None:
    d = Document.from_paragraphs(["Apples", "Pears", "Step one", "Step two", "Heading item", "Plain"], title="lists")
    d.toggle_list(Span(0, 12), "bullet")
    d.toggle_list(Span(13, 26), "number")
    d.set_style(d.find("Heading item"), "Heading 2")
    d.paragraphs()[4].list_kind = "number"  # a numbered heading: numbering written on the paragraph
    d.paragraphs()[5].style = "List Bullet"  # a list style with its numbering switched off
    d.touch()
    back = roundtrip(d, tmp_path)
    assert [(p.style, p.list_kind) for p in back.paragraphs()] == [
        ("List Bullet", "bullet"), ("List Bullet", "bullet"), ("List Number", "number"),
        ("List Number", "number"), ("Heading 2", "number"), ("List Bullet", None)]


def test_hyperlink_and_comment_roundtrip(tmp_path: Path) -> None:
    d = sample()
    d.apply_run_format(d.find("every region"), bold=True)
    d.add_hyperlink(d.find("grew in every region"), "https://example.com/q3")
    d.add_comment(d.find("Quarterly"), "Is Q3 right?", "Priya Shah")
    d.add_comment(d.find("results summary\nRevenue"), "Spans two paragraphs", "Tom")
    d.add_comment(d.find("team"), "Name them", "")
    back = roundtrip(d, tmp_path)
    assert back.paragraphs()[1].hyperlinks == [(Span(8, 28), "https://example.com/q3")]
    assert back.format_at(back.find("every region")).bold
    assert back.comments == d.comments
    assert back.comments[1] == Comment("Spans two paragraphs", "results summary\nRevenue", "Tom")


def test_comment_whose_anchor_is_gone_keeps_an_empty_anchor(tmp_path: Path) -> None:
    d = sample()
    d.comments.append(Comment("orphan", "no such text", "Ann"))
    d.touch()
    assert roundtrip(d, tmp_path).comments == [Comment("orphan", "", "Ann")]


def test_blocks_and_document_features_roundtrip(tmp_path: Path) -> None:
    d = sample()
    d.insert_table(len("Quarterly results summary"), 2, 3, [["Region", "Q3", "Q4"], ["East", "1.2", "1.4"]])
    d.insert_page_break(d.find("Thanks").start)
    d.set_header("Acme Corp\nFinance")
    d.set_footer("Internal use only")
    d.set_page_numbers("bottom")
    d.set_orientation("landscape")
    d.set_page_size("A4")
    d.set_margins(top=0.5, bottom=0.75, left=1.25, right=1.5)
    d.set_columns(2)
    d.set_watermark("CONFIDENTIAL")
    d.set_page_color("FFF2CC")
    d.set_page_border("shadow")
    back = roundtrip(d, tmp_path)
    assert back.to_dict() == d.to_dict()
    assert [type(b) for b in back.blocks] == [Paragraph, Table, Paragraph, PageBreak, Paragraph]
    assert back.section.page_size_name() == "A4" and back.section.orientation == "landscape"
    assert "[Watermark] CONFIDENTIAL" in back.summary_text()


@pytest.mark.parametrize(("where", "kind"), [("top", "box"), ("bottom", None), (None, "box")])
def test_page_numbers_and_borders(where: str | None, kind: str | None, tmp_path: Path) -> None:
    d = sample()
    d.set_page_numbers(where)
    d.set_page_border(kind)
    back = roundtrip(d, tmp_path)
    assert (back.section.page_numbers, back.page_border, back.section.header) == (where, kind, "")


def test_written_xml_is_what_word_writes(tmp_path: Path) -> None:
    d = sample()
    d.set_watermark("DRAFT")
    d.set_page_color("FF0000")
    d.set_page_numbers("top")
    path = save_docx(d, tmp_path / "x.docx")
    with zipfile.ZipFile(path) as zf:
        header = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("word/header"))
        settings = zf.read("word/settings.xml").decode()
        body = zf.read("word/document.xml").decode()
    assert 'string="DRAFT"' in header and "v:textpath" in header and "PAGE" in header
    assert "<w:displayBackgroundShape/>" in settings
    assert body.index("<w:background") < body.index("<w:body")


def test_special_characters(tmp_path: Path) -> None:
    d = Document.from_paragraphs(["tab\there", "line\vbreak", "bad\x01char & <xml> “quotes” ©"], title="chars")
    back = roundtrip(d, tmp_path)
    assert back.text() == "tab\there\nline\vbreak\nbadchar & <xml> “quotes” ©"


def test_empty_document_roundtrip(tmp_path: Path) -> None:
    back = roundtrip(Document(title="empty"), tmp_path)
    assert back.text() == "" and back.title == "empty"


@pytest.mark.skipif(not CORPUS_FILES, reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_corpus_loads_and_saves_back(path: Path, tmp_path: Path) -> None:
    if path.stem == "strict-format":
        with pytest.raises(DocxLoadError, match="Strict") as info:
            load_docx(path)
        assert str(path) in str(info.value)
        return
    doc = load_docx(path)
    assert doc.title == path.stem and doc.paragraphs()
    back = roundtrip(doc, tmp_path)
    assert back.to_dict()["blocks"] == doc.to_dict()["blocks"]
    assert back.comments == doc.comments


@pytest.mark.skipif(not CORPUS_FILES, reason=f"shared corpus not found at {CORPUS}")
def test_corpus_content_is_read() -> None:
    assert [p.list_kind for p in load_docx(CORPUS / "simple-list.docx").paragraphs()] == ["bullet", "bullet"]
    assert load_docx(CORPUS / "tables.docx").tables()[0].rows == [["Top left", "Top right"],
                                                                  ["Bottom left", "Bottom right"]]
    strike = load_docx(CORPUS / "strikethrough.docx")
    assert strike.format_at(strike.find("Salmon")).strike
    comments = load_docx(CORPUS / "comments.docx").comments
    assert comments[0].anchor == "Ouch" and comments[0].text == "A tachyon walks into a bar."


def _bad_files(tmp: Path) -> dict[str, Path]:
    good = save_docx(sample(), tmp / "good.docx").read_bytes()
    (tmp / "truncated.docx").write_bytes(good[: len(good) // 2])
    (tmp / "text.docx").write_text("just some text, not a zip")
    with zipfile.ZipFile(tmp / "plainzip.docx", "w") as zf:
        zf.writestr("hello.txt", "hi")
    (tmp / "folder.docx").mkdir()
    return {"truncated": tmp / "truncated.docx", "text": tmp / "text.docx", "plainzip": tmp / "plainzip.docx",
            "missing": tmp / "missing.docx", "folder": tmp / "folder.docx"}


@pytest.mark.parametrize(("case", "message"), [
    ("truncated", "corrupt or truncated zip"), ("text", "not a zip archive"),
    ("plainzip", "not an Office Open XML package"), ("missing", "no such file"), ("folder", "not a file"),
])
def test_load_errors_name_the_file(case: str, message: str, tmp_path: Path) -> None:
    path = _bad_files(tmp_path)[case]
    with pytest.raises(DocxLoadError) as info:
        load_docx(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert isinstance(info.value, ValueError)



def _random_edit(d: Document, rng: random.Random, step: int) -> None:
    n = len(d.text())
    a = rng.randint(0, n)
    span = Span(a, rng.randint(a, min(n, a + rng.choice((3, 30, 300)))))
    op = rng.randrange(11)
    if op == 0:
        d.apply_run_format(span, **rng.choice(({"bold": True}, {"color": "00B050"}, {"highlight": "YELLOW"})))
    elif op == 1:
        d.insert_text(a, rng.choice(("x", "two\nlines", "\n", "tab\t", "soft\vbreak")))
    elif op == 2:
        d.delete(span)
    elif op == 3:
        d.toggle_list(span, rng.choice(("bullet", "number")))
    elif op == 4:
        d.replace_all(rng.choice(("the", "e", "\n")), rng.choice(("", "X", "Y\nZ")))
    elif op == 5:
        d.insert_table(a, 2, 2, [["r1", "c2"]])
    elif op == 6:
        d.insert_page_break(a)
    elif op == 7 and d.text_in(span).strip("\n"):
        d.add_comment(span, "note")
    elif op == 8 and len(span) and d.paragraph_index_at(span.start) == d.paragraph_index_at(span.end):
        d.add_hyperlink(span, f"https://x.org/{step}")
    elif op == 9:
        d.set_style(span, rng.choice(("Heading 1", "Normal", "Quote", "List Bullet")))
    elif op == 10:
        d.replace(span, "new text")


def test_random_edits_roundtrip(tmp_path: Path) -> None:
    """Whatever sequence of edits the UI makes, the saved file reads back as the same model."""
    rng = random.Random(7)
    templates = builtin_templates()
    for trial in range(12):
        d = rng.choice(templates).document()
        for step in range(25):
            _random_edit(d, rng, step)
        d.title = f"fuzz{trial}"
        back = roundtrip(d, tmp_path)
        expected = d.to_dict()
        # a comment whose anchor text was edited away is written on an empty range
        expected["comments"] = [{**c, "anchor": c["anchor"] if d.find(c["anchor"]) else ""}
                                for c in expected["comments"]]
        assert back.to_dict() == expected, f"trial {trial}"
