"""The UI state machine: visibility rules, labels, and every control's effect on the document.

Each case drives a ``WordEnv`` the way an agent does (by control text, resolved to the label of
the moment) on a small fixed document, then checks the document. ``test_every_control_is_exercised``
keeps the cases honest: a control added to ``controls`` without a case here fails it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lam_kedro.env import episode, word_env
from lam_kedro.env.controls import COLORS, DIALOGS, MENUS, QUICK_ACCESS, TAB_CONTROLS, TABS
from lam_kedro.env.document import Document, Paragraph, Table
from lam_kedro.env.document_parts import Comment
from lam_kedro.env.types import Action, Observation, Span, Task

TASK = Task("ui-test", "bold_text", "Bold the word fox.", {"text": "fox"}, "ui-test-doc")


def make_doc() -> Document:
    """Title, three body paragraphs, a table, a heading and one comment."""
    doc = Document(
        blocks=[
            Paragraph.of("Quarterly Report", style="Title"),
            Paragraph.of("The quick brown fox jumps over the lazy dog."),
            Paragraph.of("Revenue grew by 12 percent this quarter."),
            Table([["Region", "Sales"], ["North", "10"]]),
            Paragraph.of("Outlook", style="Heading 1"),
            Paragraph.of("Costs were stable in every quarter."),
        ],
        comments=[Comment("check this", "Costs")],
        title="report.docx",
    )
    return doc


class Driver:
    """Acts by what a person reads on screen; fails the test on an unexpected error."""

    def __init__(self, env: word_env.WordEnv) -> None:
        self.env = env
        self.last: Observation = env.observation()

    def do(self, text: str, function: str = "click_input", args: dict[str, Any] | None = None,
           ctype: str | None = None, expect_error: bool = False) -> Observation:
        c = self.env.observation().find(text, ctype)
        assert c is not None, f"{text!r} not visible: {[x.control_text for x in self.env.observation().controls]}"
        if args is None:
            args = {"button": "left", "double": False} if function == "click_input" else {}
        obs = self.env.step(Action(c.label, function, args))[0]
        assert (obs.error is not None) == expect_error, obs.error
        self.last = obs
        return obs

    def click(self, text: str, ctype: str | None = None) -> Observation:
        return self.do(text, ctype=ctype)

    def tab(self, name: str) -> Observation:
        return self.do(name, ctype="TabItem")

    def type(self, text: str, value: str) -> Observation:
        return self.do(text, "set_edit_text", {"text": value})

    def keys(self, keys: str, target: str = "Document") -> Observation:
        return self.do(target, "keyboard_input", {"keys": keys})

    def select(self, text: str) -> Observation:
        return self.do("Document", "select_text", {"text": text}, ctype="Document")

    @property
    def doc(self) -> Document:
        return self.env.document


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> word_env.WordEnv:
    monkeypatch.setattr(word_env, "_load_template", lambda name: make_doc())
    monkeypatch.setattr(episode, "check_task", lambda task, before, after: (False, "no checker in UI tests"))
    e = word_env.WordEnv(max_steps=1000)
    e.reset(TASK, seed=0)
    return e


@pytest.fixture()
def d(env: word_env.WordEnv) -> Driver:
    return Driver(env)


def fmt(d: Driver, text: str) -> Any:
    span = d.doc.find(text)
    assert span is not None, text
    return d.doc.format_at(span)


def para(d: Driver, text: str) -> Paragraph:
    span = d.doc.find(text)
    assert span is not None, text
    return d.doc.paragraph_at(span.start)


# ---------------------------------------------------------------- visibility and labels

def test_home_is_active_after_reset_and_labels_are_ordered(d: Driver) -> None:
    obs = d.env.observation()
    texts = [c.control_text for c in obs.controls]
    assert texts[: len(TABS)] == list(TABS)
    assert texts[len(TABS): len(TABS) + 3] == ["Save", "Undo", "Document"]
    assert texts[len(TABS) + 3:] == [s.text for s in TAB_CONTROLS["Home"]]
    assert [c.label for c in obs.controls] == [str(i) for i in range(1, len(obs.controls) + 1)]
    assert d.env.observation().controls is obs.controls  # cached per state: stable labels


def test_other_tabs_controls_appear_only_after_clicking_the_tab(d: Driver) -> None:
    assert d.env.observation().find("Margins") is None
    d.tab("Layout")
    assert d.env.observation().find("Margins") is not None
    assert d.env.observation().find("Bold") is None


def test_menu_adds_items_and_escape_closes_it(d: Driver) -> None:
    n = len(d.env.observation().controls)
    d.click("Font Color Options")
    items = d.env.observation().controls[n:]
    assert [c.control_text for c in items] == [s.text for s in MENUS["Font Color"]]
    d.keys("{ESC}")
    assert len(d.env.observation().controls) == n


def test_dialog_hides_ribbon_and_document_until_closed(d: Driver) -> None:
    d.click("Font Settings")
    obs = d.env.observation()
    assert [c.control_text for c in obs.controls] == [s.text for s in DIALOGS["Font"]]
    assert obs.find("Home") is None and obs.find("Document") is None
    d.keys("{ESC}", target="Size")
    assert d.env.observation().find("Document") is not None


def test_clicking_elsewhere_closes_a_menu(d: Driver) -> None:
    d.click("Font Color Options")
    d.click("Bold")
    assert d.env.observation().find("Purple") is None


# ---------------------------------------------------------------- every control's effect

Check = Callable[[Driver], bool]
S = list[tuple[Any, ...]]


def run(d: Driver, steps: S) -> None:
    for step in steps:
        getattr(d, step[0])(*step[1:])


CASES: list[tuple[str, S, Check]] = [
    # Home: clipboard
    ("tabs", [("tab", "Insert"), ("tab", "Home")], lambda d: d.env.observation().find("Bold") is not None),
    ("cut", [("select", "quick "), ("click", "Cut")], lambda d: "quick" not in d.doc.text() and d.env.ui.clipboard == "quick "),
    ("copy-paste", [("select", "fox"), ("click", "Copy"), ("keys", "{END}"), ("click", "Paste")],
     lambda d: "lazy dog.fox" in d.doc.text()),
    # Home: font
    ("font", [("select", "fox"), ("type", "Font", "Arial")], lambda d: fmt(d, "fox").font_name == "Arial"),
    ("font size", [("select", "fox"), ("type", "Font Size", "14")], lambda d: fmt(d, "fox").font_size == 14),
    ("grow", [("select", "fox"), ("click", "Increase Font Size"), ("click", "Increase Font Size")],
     lambda d: fmt(d, "fox").font_size == 14),
    ("shrink", [("select", "fox"), ("click", "Decrease Font Size")], lambda d: fmt(d, "fox").font_size == 10),
    ("clear", [("select", "fox"), ("click", "Bold"), ("click", "Clear All Formatting")], lambda d: not fmt(d, "fox").bold),
    ("bold", [("select", "fox"), ("click", "Bold")], lambda d: fmt(d, "fox").bold and not fmt(d, "quick").bold),
    ("bold twice", [("select", "fox"), ("click", "Bold"), ("click", "Bold")], lambda d: not fmt(d, "fox").bold),
    ("italic", [("select", "fox"), ("click", "Italic")], lambda d: fmt(d, "fox").italic),
    ("underline", [("select", "fox"), ("click", "Underline")], lambda d: fmt(d, "fox").underline),
    ("strike", [("select", "fox"), ("click", "Strikethrough")], lambda d: fmt(d, "fox").strike),
    ("font color default", [("select", "fox"), ("click", "Font Color")], lambda d: fmt(d, "fox").color == "FF0000"),
    ("font color menu", [("select", "fox"), ("click", "Font Color Options"), ("click", "Blue"),
                         ("select", "dog"), ("click", "Font Color")],
     lambda d: fmt(d, "fox").color == "0070C0" and fmt(d, "dog").color == "0070C0"),
    *[(f"font color {c}", [("select", "fox"), ("click", "Font Color Options"), ("click", c)],
       lambda d, h=h: fmt(d, "fox").color == h) for c, h in COLORS.items()],
    ("highlight default", [("select", "fox"), ("click", "Text Highlight Color")], lambda d: fmt(d, "fox").highlight == "YELLOW"),
    ("highlight menu", [("select", "fox"), ("click", "Text Highlight Color Options"), ("click", "Green")],
     lambda d: fmt(d, "fox").highlight == "BRIGHT_GREEN"),
    ("highlight none", [("select", "fox"), ("click", "Text Highlight Color"), ("click", "Text Highlight Color Options"),
                        ("click", "No Color")], lambda d: fmt(d, "fox").highlight is None),
    ("font dialog", [("select", "fox"), ("click", "Font Settings"), ("type", "Font", "Georgia"),
                     ("type", "Font style", "Bold Italic"), ("type", "Size", "20"), ("type", "Font color", "Purple"),
                     ("type", "Underline style", "Single"), ("click", "Strikethrough"), ("click", "OK")],
     lambda d: fmt(d, "fox") == fmt(d, "fox").__class__(True, True, True, True, "Georgia", 20.0, "7030A0", None)),
    ("font dialog cancel", [("select", "fox"), ("click", "Font Settings"), ("type", "Size", "20"), ("click", "Cancel")],
     lambda d: fmt(d, "fox").font_size is None and d.env.ui.dialog is None),
    # Home: paragraph
    ("bullets", [("select", "fox"), ("click", "Bullets")], lambda d: para(d, "fox").list_kind == "bullet"),
    ("numbering", [("select", "fox"), ("click", "Numbering")], lambda d: para(d, "fox").list_kind == "number"),
    ("indent", [("select", "fox"), ("click", "Increase Indent"), ("click", "Increase Indent")],
     lambda d: para(d, "fox").fmt.left_indent == 72),
    ("outdent", [("select", "fox"), ("click", "Increase Indent"), ("click", "Decrease Indent")],
     lambda d: para(d, "fox").fmt.left_indent == 0),
    ("align left", [("select", "fox"), ("click", "Align Left")], lambda d: para(d, "fox").fmt.alignment == "left"),
    ("center", [("select", "fox"), ("click", "Center")], lambda d: para(d, "fox").fmt.alignment == "center"),
    ("align right", [("select", "fox"), ("click", "Align Right")], lambda d: para(d, "fox").fmt.alignment == "right"),
    ("justify", [("select", "fox jumps over the lazy dog.\nRevenue"), ("click", "Justify")],
     lambda d: para(d, "fox").fmt.alignment == "justify" == para(d, "Revenue").fmt.alignment),
    *[(f"spacing {s}", [("select", "fox"), ("click", "Line and Paragraph Spacing"), ("click", s)],
       (lambda v: lambda d: para(d, "fox").fmt.line_spacing == v)(float(s)))
      for s in ("1.0", "1.15", "1.5", "2.0", "2.5", "3.0")],
    ("paragraph dialog", [("select", "fox"), ("click", "Paragraph Settings"), ("type", "Alignment", "Centered"),
                          ("type", "Left", "10"), ("type", "Right", "5"), ("type", "Before", "6"), ("type", "After", "12"),
                          ("type", "Line spacing", "Double"), ("click", "OK")],
     lambda d: para(d, "fox").fmt.__class__("center", 2.0, 10.0, 5.0, None, 6.0, 12.0) == para(d, "fox").fmt),
    *[(f"style {s}", [("select", "fox"), ("click", s)], lambda d, s=s: para(d, "fox").style == s)
      for s in ("Normal", "No Spacing", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Quote")],
    # Home: editing
    ("find next", [("click", "Find"), ("type", "Find what", "quarter"), ("click", "Find Next"), ("click", "Find Next")],
     lambda d: d.env.ui.selection == d.doc.find("quarter")),  # the 1st match (case-insensitive) is Quarterly
    ("replace one", [("click", "Replace"), ("type", "Find what", "quarter"), ("type", "Replace with", "period"),
                     ("click", "Match case"), ("click", "Replace"), ("click", "Replace")],
     lambda d: d.doc.text().count("period") == 1 and "Quarterly" in d.doc.text()),
    ("replace all", [("click", "Replace"), ("type", "Find what", "quarter"), ("type", "Replace with", "period"),
                     ("click", "Replace All")],
     lambda d: "quarter" not in d.doc.text().lower()
     and d.env.observation().find("Word has made 3 replacements.", "Text") is not None),
    ("replace close", [("click", "Replace"), ("click", "Close")], lambda d: d.env.ui.dialog is None),
    ("select all", [("click", "Select All")], lambda d: d.env.observation().selection == d.doc.text()),
    # Insert
    ("page break", [("select", "Revenue"), ("tab", "Insert"), ("click", "Page Break")],
     lambda d: d.doc.page_breaks() == 1 and "[Page Break]\nRevenue" in d.doc.summary_text()),
    ("table", [("select", "fox"), ("tab", "Insert"), ("click", "Table"), ("click", "Insert Table..."),
               ("type", "Number of rows", "3"), ("type", "Number of columns", "4"), ("click", "OK")],
     lambda d: len(d.doc.tables()) == 2 and d.doc.tables()[0].n_rows == 3 and d.doc.tables()[0].n_cols == 4),
    ("link on selection", [("select", "fox"), ("tab", "Insert"), ("click", "Link"),
                           ("type", "Address", "https://example.com"), ("click", "OK")],
     lambda d: para(d, "fox").hyperlinks == [(Span(16, 19), "https://example.com")]),
    ("link at caret", [("select", "Outlook"), ("keys", "{END} "), ("tab", "Insert"), ("click", "Link"),
                       ("type", "Text to display", "docs"), ("type", "Address", "https://d.example"), ("click", "OK")],
     lambda d: para(d, "Outlook").text == "Outlook docs" and para(d, "Outlook").hyperlinks[0][1] == "https://d.example"),
    ("comment insert", [("select", "fox"), ("tab", "Insert"), ("click", "New Comment"),
                        ("type", "Comment Text", "Nice"), ("click", "Post")],
     lambda d: d.doc.comments[-1].text == "Nice" and d.doc.comments[-1].anchor == "fox"),
    ("header", [("tab", "Insert"), ("click", "Header"), ("click", "Edit Header"), ("type", "Header Text", "ACME"),
                ("click", "Close Header and Footer")], lambda d: d.doc.section.header == "ACME"),
    ("remove header", [("tab", "Insert"), ("click", "Header"), ("click", "Edit Header"), ("type", "Header Text", "X"),
                       ("click", "Close Header and Footer"), ("click", "Header"), ("click", "Remove Header")],
     lambda d: d.doc.section.header == ""),
    ("footer", [("tab", "Insert"), ("click", "Footer"), ("click", "Edit Footer"), ("type", "Footer Text", "p. 1"),
                ("click", "Close Header and Footer")], lambda d: d.doc.section.footer == "p. 1"),
    ("remove footer", [("tab", "Insert"), ("click", "Footer"), ("click", "Edit Footer"), ("type", "Footer Text", "Y"),
                       ("click", "Close Header and Footer"), ("click", "Footer"), ("click", "Remove Footer")],
     lambda d: d.doc.section.footer == ""),
    ("page numbers top", [("tab", "Insert"), ("click", "Page Number"), ("click", "Top of Page")],
     lambda d: d.doc.section.page_numbers == "top"),
    ("page numbers bottom", [("tab", "Insert"), ("click", "Page Number"), ("click", "Bottom of Page")],
     lambda d: d.doc.section.page_numbers == "bottom"),
    ("page numbers remove", [("tab", "Insert"), ("click", "Page Number"), ("click", "Top of Page"),
                             ("click", "Page Number"), ("click", "Remove Page Numbers")],
     lambda d: d.doc.section.page_numbers is None),
    *[(f"symbol {s}", [("select", "Outlook"), ("keys", "{END}"), ("tab", "Insert"), ("click", "Symbol"), ("click", s)],
       lambda d, s=s: para(d, "Outlook").text == "Outlook" + s)
      for s in ("©", "®", "™", "€", "£", "°", "±", "§", "¶", "—")],
    # Design
    *[(f"watermark {w}", [("tab", "Design"), ("click", "Watermark"), ("click", w)],
       lambda d, w=w: d.doc.watermark == w)
      for w in ("CONFIDENTIAL", "DRAFT", "DO NOT COPY", "SAMPLE", "URGENT")],
    ("custom watermark", [("tab", "Design"), ("click", "Watermark"), ("click", "Custom Watermark..."),
                          ("click", "Text watermark"), ("type", "Text", "INTERNAL"), ("click", "OK")],
     lambda d: d.doc.watermark == "INTERNAL"),
    ("remove watermark", [("tab", "Design"), ("click", "Watermark"), ("click", "DRAFT"), ("click", "Watermark"),
                          ("click", "Remove Watermark")], lambda d: d.doc.watermark is None),
    ("page color", [("tab", "Design"), ("click", "Page Color"), ("click", "Orange")], lambda d: d.doc.page_color == "FFC000"),
    ("page color none", [("tab", "Design"), ("click", "Page Color"), ("click", "Gray"), ("click", "Page Color"),
                         ("click", "No Color")], lambda d: d.doc.page_color is None),
    *[(f"border {b}", [("tab", "Design"), ("click", "Page Borders"), ("click", "Shadow"), ("click", "OK"),
                       ("click", "Page Borders"), ("click", b), ("click", "OK")],
       lambda d, v=v: d.doc.page_border == v) for b, v in (("Box", "box"), ("None", None))],
    # Layout
    *[(f"margins {m}", [("tab", "Layout"), ("click", "Margins"), ("click", m)],
       lambda d, v=v: (d.doc.section.margin_top, d.doc.section.margin_left) == v)
      for m, v in (("Normal", (1.0, 1.0)), ("Narrow", (0.5, 0.5)), ("Moderate", (1.0, 0.75)), ("Wide", (1.0, 2.0)))],
    ("custom margins", [("tab", "Layout"), ("click", "Margins"), ("click", "Custom Margins..."), ("type", "Top", "1.5"),
                        ("type", "Bottom", "0.5"), ("type", "Left", "1.25"), ("type", "Right", "0.75"),
                        ("click", "Landscape"), ("click", "OK")],
     lambda d: (d.doc.section.margin_top, d.doc.section.margin_bottom, d.doc.section.margin_left,
                d.doc.section.margin_right, d.doc.section.orientation) == (1.5, 0.5, 1.25, 0.75, "landscape")),
    ("page setup portrait", [("tab", "Layout"), ("click", "Orientation"), ("click", "Landscape"), ("click", "Page Setup"),
                             ("click", "Portrait"), ("click", "OK")], lambda d: d.doc.section.orientation == "portrait"),
    ("landscape", [("tab", "Layout"), ("click", "Orientation"), ("click", "Landscape")],
     lambda d: d.doc.section.orientation == "landscape" and d.doc.section.page_width == 11.0),
    ("portrait", [("tab", "Layout"), ("click", "Orientation"), ("click", "Landscape"), ("click", "Orientation"),
                  ("click", "Portrait")], lambda d: d.doc.section.orientation == "portrait"),
    *[(f"size {s}", [("tab", "Layout"), ("click", "Size"), ("click", s)],
       lambda d, s=s: d.doc.section.page_size_name() == s) for s in ("Letter", "Legal", "A4", "A5")],
    *[(f"columns {c}", [("tab", "Layout"), ("click", "Columns"), ("click", c)],
       lambda d, n=n: d.doc.section.columns == n) for c, n in (("Two", 2), ("Three", 3), ("One", 1))],
    ("breaks page", [("select", "Revenue"), ("tab", "Layout"), ("click", "Breaks"), ("click", "Page")],
     lambda d: d.doc.page_breaks() == 1),
    ("indent left", [("select", "fox"), ("tab", "Layout"), ("type", "Indent Left", "18")],
     lambda d: para(d, "fox").fmt.left_indent == 18),
    ("indent right", [("select", "fox"), ("tab", "Layout"), ("type", "Indent Right", "9 pt")],
     lambda d: para(d, "fox").fmt.right_indent == 9),
    ("spacing before", [("select", "fox"), ("tab", "Layout"), ("type", "Spacing Before", "6")],
     lambda d: para(d, "fox").fmt.space_before == 6),
    ("spacing after", [("select", "fox"), ("tab", "Layout"), ("keys", "12{ENTER}", "Spacing After")],
     lambda d: para(d, "fox").fmt.space_after == 12),
    # References
    ("footnote", [("select", "fox"), ("tab", "References"), ("click", "Insert Footnote"), ("click", "Insert Footnote")],
     lambda d: "fox[1][2] jumps" in d.doc.text()),
    ("toc", [("tab", "References"), ("click", "Table of Contents"), ("click", "Automatic Table")],
     lambda d: d.doc.paragraphs()[0].text == "Contents" and d.doc.paragraphs()[1].text == "Outlook"
     and d.doc.paragraphs()[2].text == "Quarterly Report" and d.doc.paragraphs()[2].style == "Title"),
    # Review
    ("comment review", [("select", "dog"), ("tab", "Review"), ("click", "New Comment"), ("type", "Comment Text", "Why?"),
                        ("click", "Post")], lambda d: d.doc.comments[-1].anchor == "dog"),
    ("word count", [("tab", "Review"), ("click", "Word Count")],
     lambda d: any(c.control_type == "Text" and "Words: 25" in c.control_text for c in d.env.observation().controls)),
    ("word count close", [("tab", "Review"), ("click", "Word Count"), ("click", "Close")], lambda d: d.env.ui.dialog is None),
    ("delete comments", [("tab", "Review"), ("click", "Delete All Comments")], lambda d: d.doc.comments == []),
    # View
    *[(f"view {c}", [("tab", "View"), ("click", c)], lambda d, k=k: d.env.ui.view[k] is True)
      for c, k in (("Ruler", "ruler"), ("Gridlines", "gridlines"), ("Navigation Pane", "navigation_pane"))],
    *[(f"view {c}", [("tab", "View"), ("click", c)], lambda d, m=m: d.env.ui.view["mode"] == m)
      for c, m in (("Read Mode", "read"), ("Web Layout", "web"), ("Print Layout", "print"))],
    # File and quick access
    ("file save", [("keys", "x"), ("tab", "File"), ("click", "Save", "ListItem")], lambda d: d.env.ui.saved),
    ("quick save", [("keys", "x"), ("click", "Save", "Button")], lambda d: d.env.ui.saved),
    ("save as", [("tab", "File"), ("click", "Save As"), ("type", "File name", "final.docx"), ("click", "Save", "Button")],
     lambda d: d.doc.title == "final.docx" and d.env.observation().title == "final.docx - Word"),
    ("save as cancel", [("tab", "File"), ("click", "Save As"), ("type", "File name", "x.docx"), ("click", "Cancel")],
     lambda d: d.doc.title == "report.docx"),
    ("close", [("tab", "File"), ("click", "Close")], lambda d: d.env.ui.closed),
    ("undo", [("select", "fox"), ("click", "Bold"), ("click", "Italic"), ("click", "Undo")],
     lambda d: fmt(d, "fox").bold and not fmt(d, "fox").italic),
]


@pytest.mark.parametrize(("name", "steps", "check"), CASES, ids=[c[0] for c in CASES])
def test_control_effect(d: Driver, name: str, steps: S, check: Check) -> None:
    run(d, steps)
    assert check(d), name


def _clicked(steps: S) -> set[str]:
    out = set()
    for s in steps:
        if s[0] in ("click", "tab", "type"):
            out.add(s[1])
        elif s[0] == "keys" and len(s) > 2:
            out.add(s[2])
    return out


def test_every_control_is_exercised() -> None:
    """Each ribbon, menu and dialog control appears in at least one effect case."""
    used = set().union(*(_clicked(steps) for _, steps, _ in CASES))
    every = {s.text for s in QUICK_ACCESS} | set(TABS)
    for group in (*TAB_CONTROLS.values(), *MENUS.values(), *DIALOGS.values()):
        every |= {s.text for s in group}
    assert every - used == set()
