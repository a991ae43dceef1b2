"""The document model's reading helpers and editing operations."""

from __future__ import annotations

import time

import pytest

from lam_kedro.env.document import (
    Comment,
    Document,
    PageBreak,
    Paragraph,
    Run,
    RunFormat,
    Table,
    normalize_highlight,
)
from lam_kedro.env.types import Span


def doc3() -> Document:
    return Document.from_paragraphs(["The quick brown fox", "jumps over the lazy dog", "The end"])


def test_text_and_positions() -> None:
    d = doc3()
    assert d.text() == "The quick brown fox\njumps over the lazy dog\nThe end"
    assert d.paragraph_index_at(0) == 0
    assert d.paragraph_index_at(19) == 0  # end of paragraph 0 belongs to it
    assert d.paragraph_index_at(20) == 1
    assert d.paragraph_span(1) == Span(20, 43)
    assert d.text_in(d.paragraph_span(2)) == "The end"
    assert [p.text for p in d.paragraphs_in(Span(5, 25))] == ["The quick brown fox", "jumps over the lazy dog"]


def test_find_case_and_start() -> None:
    d = doc3()
    assert d.find("the") == Span(31, 34)
    assert d.find("the", match_case=False) == Span(0, 3)
    assert d.find("the", start=1, match_case=False) == Span(31, 34)
    assert d.find("missing") is None and d.find("") is None
    assert len(d.find_all("the", match_case=False)) == 3


def test_apply_run_format_splits_then_merges() -> None:
    d = doc3()
    d.apply_run_format(d.find("quick"), bold=True)
    p = d.paragraphs()[0]
    assert [(r.text, r.fmt.bold) for r in p.runs] == [("The ", False), ("quick", True), (" brown fox", False)]
    d.apply_run_format(Span(0, 19), bold=True)
    assert [(r.text, r.fmt.bold) for r in p.runs] == [("The quick brown fox", True)]
    d.apply_run_format(d.find("quick"), bold=False)
    d.apply_run_format(d.find("quick"), bold=True)
    assert len(p.runs) == 1  # equal neighbours merge again


def test_apply_run_format_across_paragraphs_and_validation() -> None:
    d = doc3()
    d.apply_run_format(Span(16, 25), italic=True, color="#00ff00", highlight="bright green")
    assert d.paragraphs()[0].runs[-1] == Run("fox", RunFormat(italic=True, color="00FF00", highlight="BRIGHT_GREEN"))
    assert d.paragraphs()[1].runs[0].text == "jumps"
    with pytest.raises(ValueError, match="unknown run format"):
        d.apply_run_format(Span(0, 1), boldness=True)
    with pytest.raises(ValueError, match="past the end"):
        d.apply_run_format(Span(0, 999), bold=True)
    with pytest.raises(ValueError, match="hex"):
        d.apply_run_format(Span(0, 1), color="red")
    assert normalize_highlight("Purple") == "VIOLET"


def test_format_at_common_and_mixed() -> None:
    d = doc3()
    d.apply_run_format(d.find("quick"), bold=True, font_name="Arial", color="FF0000")
    d.apply_run_format(d.find("quick brown"), font_name="Arial")
    assert d.format_at(d.find("quick")) == RunFormat(bold=True, font_name="Arial", color="FF0000")
    mixed = d.format_at(d.find("quick brown"))
    assert mixed is not None
    assert mixed.bold is False  # bools are True only if every character is
    assert mixed.font_name == "Arial"  # common value kept
    assert mixed.color is None  # mixed value
    # a caret takes the format of the character before it
    assert d.format_at(Span(9, 9)).bold is True
    assert d.format_at(Span(0, 999)) is None


def test_insert_text_splits_paragraph_and_inherits() -> None:
    d = Document(blocks=[Paragraph.of("Heading text", "Heading 1", RunFormat(bold=True))])
    caret = d.insert_text(7, "one\ntwo\nthree ")
    assert d.text() == "Headingone\ntwo\nthree  text"
    assert caret == 7 + len("one\ntwo\nthree ")
    assert [p.style for p in d.paragraphs()] == ["Heading 1"] * 3
    assert all(r.fmt.bold for p in d.paragraphs() for r in p.runs)
    d.insert_text(len(d.text()), "\n")
    last = d.paragraphs()[-1]
    assert last.text == "" and last.runs[0].fmt.bold  # an empty paragraph remembers the format
    d.insert_text(0, "X", RunFormat(italic=True))
    assert d.paragraphs()[0].runs[0] == Run("X", RunFormat(italic=True))


def test_delete_within_and_across_paragraphs() -> None:
    d = doc3()
    d.delete(d.find(" brown"))
    assert d.paragraphs()[0].text == "The quick fox"
    # delete from "fox" through "jumps " merges the two paragraphs
    span = Span(d.find("fox").start, d.find("over").start)
    d.delete(span)
    assert d.text() == "The quick over the lazy dog\nThe end"
    assert len(d.paragraphs()) == 2


def test_delete_across_removes_blocks_between() -> None:
    d = Document(blocks=[Paragraph.of("alpha"), Table([["a"]]), PageBreak(), Paragraph.of("beta")])
    d.delete(Span(5, 6))  # the paragraph break between alpha and beta
    assert d.text() == "alphabeta"
    assert d.blocks == [Paragraph.of("alphabeta")]


def test_replace_all_count_case_and_format() -> None:
    d = doc3()
    d.apply_run_format(Span(0, 3), bold=True)
    assert d.replace_all("the", "A") == 3
    assert d.text() == "A quick brown fox\njumps over A lazy dog\nA end"
    assert d.paragraphs()[0].runs[0] == Run("A", RunFormat(bold=True))  # takes the match's format
    d2 = doc3()
    assert d2.replace_all("The", "This", match_case=True) == 2
    assert "the lazy" in d2.text()
    assert d2.replace_all("zebra", "x") == 0
    with pytest.raises(ValueError):
        d2.replace_all("", "x")


def test_toggle_list_sets_and_clears() -> None:
    d = doc3()
    both = Span(0, 25)
    d.toggle_list(both, "bullet")
    assert [(p.style, p.list_kind) for p in d.paragraphs()][:2] == [("List Bullet", "bullet")] * 2
    assert d.paragraphs()[2].list_kind is None
    d.toggle_list(both, "number")  # a different kind replaces
    assert [p.list_kind for p in d.paragraphs()][:2] == ["number", "number"]
    d.toggle_list(Span(0, len(d.text())), "number")  # mixed: all become numbered
    assert [p.list_kind for p in d.paragraphs()] == ["number"] * 3
    d.toggle_list(Span(0, len(d.text())), "number")  # all already numbered: cleared
    assert [(p.style, p.list_kind) for p in d.paragraphs()] == [("Normal", None)] * 3
    d.set_style(Span(0, 0), "List Number")
    assert d.paragraphs()[0].list_kind == "number"
    d.set_style(Span(0, 0), "Heading 2")
    assert d.paragraphs()[0].list_kind is None


def test_paragraph_formatting_ops() -> None:
    d = doc3()
    d.set_alignment(Span(0, 25), "center")
    d.set_line_spacing(Span(0, 0), 1.5)
    d.set_indent(Span(0, 0), left=36, first_line=-18)
    d.set_indent(Span(0, 0), right=12)  # other indents kept
    d.set_spacing(Span(0, 0), after=6)
    p0 = d.paragraphs()[0].fmt
    assert (p0.alignment, p0.line_spacing, p0.left_indent, p0.first_line_indent, p0.right_indent, p0.space_after) == (
        "center", 1.5, 36.0, -18.0, 12.0, 6.0)
    assert d.paragraph_format_at(Span(0, 25))["alignment"] == "center"
    assert d.paragraph_format_at(Span(0, 25))["line_spacing"] is None  # differs
    with pytest.raises(ValueError):
        d.set_alignment(Span(0, 0), "middle")
    d.apply_run_format(Span(0, 3), bold=True)
    d.clear_formatting(Span(0, 19))
    assert d.paragraphs()[0].runs == [Run("The quick brown fox")]
    assert d.paragraphs()[0].fmt.alignment is None


def test_insert_table_and_page_break() -> None:
    d = doc3()
    table = d.insert_table(9, 2, 3)  # after "The quick"
    assert isinstance(d.blocks[1], Table) and d.blocks[1] is table
    assert table.rows == [["", "", ""], ["", "", ""]]
    assert d.text().startswith("The quick\n brown fox\n")
    caret = d.insert_page_break(d.find("The end").start)
    assert caret == d.find("The end").start
    assert isinstance(d.blocks[-2], PageBreak)
    d2 = Document.from_paragraphs(["last"])
    d2.insert_table(4, 1, 1)
    assert isinstance(d2.blocks[1], Table) and isinstance(d2.blocks[2], Paragraph)  # caret needs a paragraph
    with pytest.raises(ValueError):
        d2.insert_table(0, 0, 3)


def test_hyperlinks_follow_edits() -> None:
    d = Document.from_paragraphs(["see our website now"])
    d.add_hyperlink(d.find("our website"), "https://example.com")
    d.insert_text(0, "Please ")
    assert d.paragraphs()[0].hyperlinks == [(Span(11, 22), "https://example.com")]
    d.delete(d.find(" website"))
    assert d.paragraphs()[0].hyperlinks == [(Span(11, 14), "https://example.com")]
    d.delete(d.find("our"))
    assert d.paragraphs()[0].hyperlinks == []
    with pytest.raises(ValueError, match="one paragraph"):
        doc3().add_hyperlink(Span(0, 25), "https://x.org")


def test_page_setup() -> None:
    d = doc3()
    d.set_page_size("A4")
    assert (d.section.page_width, d.section.page_height) == (8.27, 11.69)
    d.set_orientation("landscape")
    assert (d.section.page_width, d.section.page_height) == (11.69, 8.27)
    d.set_page_size("Legal")
    assert (d.section.page_width, d.section.page_height) == (14.0, 8.5)
    assert d.section.page_size_name() == "Legal"
    d.set_margins(top=0.5)
    assert (d.section.margin_top, d.section.margin_left) == (0.5, 1.0)
    d.set_columns(3)
    assert d.section.columns == 3
    with pytest.raises(ValueError):
        d.set_page_size("Tabloid")


def test_summary_text_and_caching() -> None:
    d = Document(blocks=[Paragraph.of("Intro"), Table([["a", "b"], ["c", "d"]]), PageBreak(), Paragraph.of("End")])
    d.set_header("Acme")
    d.set_footer("Confidential draft")
    d.set_page_numbers("bottom")
    d.set_watermark("DRAFT")
    d.add_comment(d.find("Intro"), "Expand this", "Ann")
    assert d.summary_text().splitlines() == [
        "[Header] Acme", "Intro", "| a | b |", "| c | d |", "[Page Break]", "End",
        "[Footer] Confidential draft", "[Page numbers: bottom]", "[Watermark] DRAFT", '[Comment on "Intro"] Expand this',
    ]
    assert d.comments == [Comment("Expand this", "Intro", "Ann")]
    first = d.summary_text()
    assert d.summary_text() is first  # cached per version
    v = d.version
    d.insert_text(0, "An ")
    assert d.version > v and d.summary_text().splitlines()[1] == "An Intro"
    assert d.stats()["words"] == 3 and d.stats()["pages"] == 2


def test_copy_is_independent() -> None:
    d = doc3()
    d.add_comment(Span(0, 3), "c")
    c = d.copy()
    c.apply_run_format(Span(0, 3), bold=True)
    c.insert_text(0, "X")
    c.set_header("h")
    c.comments.clear()
    assert d.text().startswith("The quick") and d.format_at(Span(0, 3)).bold is False
    assert d.section.header == "" and len(d.comments) == 1
    assert c.to_dict() != d.to_dict() and doc3().to_dict()["blocks"] == d.to_dict()["blocks"]


def test_editing_is_fast_enough() -> None:
    """A step of the environment does a copy-free edit plus reads; thousands per second are needed."""
    base = Document.from_paragraphs([f"Paragraph number {i} with some words in it." for i in range(40)])
    t0 = time.perf_counter()
    for i in range(2000):
        d = base.copy() if i % 20 == 0 else d  # noqa: F821
        d.apply_run_format(Span(5, 60), bold=bool(i % 2))
        d.format_at(Span(5, 60))
        d.find("number 7")
        d.summary_text()
    assert time.perf_counter() - t0 < 2.0


def test_comment_anchor_excludes_paragraph_marks() -> None:
    d = doc3()
    c = d.add_comment(Span(16, 21), "spans a paragraph mark")
    assert c.anchor == "fox\nj"
    assert d.add_comment(Span(10, 20), "x").anchor == "brown fox"
    with pytest.raises(ValueError, match="no text"):
        d.add_comment(Span(19, 20), "only the paragraph mark")
