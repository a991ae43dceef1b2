"""What clicking a ribbon control or a menu item does: the command table of the UI.

Each command is ``fn(ui, arg)`` where ``arg`` comes from the control's row in ``controls``;
``COMMANDS`` maps the row's ``cmd`` to it (``WordUI`` adds ``open_dialog`` from ``ui_dialogs``), so a click is one dict lookup. Commands that change
the document call ``ui.begin_edit()`` first (the undo snapshot) and raise ``ActionError`` when
the click cannot do anything sensible (Paste with an empty clipboard, Cut with no selection).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lam_kedro.env.actions import ActionError
from lam_kedro.env.controls import (
    COLORS,
    DEFAULT_FONT_SIZE,
    FONT_SIZES,
    HIGHLIGHTS,
    INDENT_STEP,
    MARGIN_PRESETS,
)
from lam_kedro.env.document_parts import DEFAULT_RUN_FORMAT
from lam_kedro.env.types import Span

if TYPE_CHECKING:
    from lam_kedro.env.ui import WordUI


# ---------------------------------------------------------------- character formatting

def apply_format(ui: WordUI, **attrs: Any) -> None:
    """Format the selection, or (empty selection) set the format the next typed text takes."""
    sel = ui.selection
    if len(sel):
        ui.begin_edit()
        ui.doc.apply_run_format(sel, **attrs)
    else:
        ui.pending = {**ui.pending, **attrs}


def current_format(ui: WordUI, attr: str) -> Any:
    """The attribute as the ribbon shows it: the selection's common value, or the caret's
    (pending format first)."""
    if attr in ui.pending and not len(ui.selection):
        return ui.pending[attr]
    fmt = ui.doc.format_at(ui.selection)
    return getattr(fmt if fmt is not None else DEFAULT_RUN_FORMAT, attr)


def toggle(ui: WordUI, attr: str) -> None:
    """Bold / Italic / Underline / Strikethrough: on unless every selected character has it."""
    apply_format(ui, **{attr: not current_format(ui, attr)})


def grow_font(ui: WordUI, direction: int) -> None:
    """Step to the next size on Word's ladder (past 72 in tens, below 8 by one point)."""
    size = current_format(ui, "font_size") or DEFAULT_FONT_SIZE
    if direction > 0:
        bigger = [s for s in FONT_SIZES if s > size]
        new = float(bigger[0]) if bigger else min(1638.0, (math.floor(size / 10) + 1) * 10.0)
    else:
        smaller = [s for s in FONT_SIZES if s < size]
        new = float(smaller[-1]) if smaller else max(1.0, math.ceil(size) - 1.0)
    apply_format(ui, font_size=new)


def font_color(ui: WordUI, name: str | None) -> None:
    """The split button applies the last colour used; a menu item also becomes the last used."""
    if name is not None:
        ui.font_color = name
    apply_format(ui, color=COLORS[ui.font_color])


def highlight(ui: WordUI, name: str | None) -> None:
    if name == "No Color":
        apply_format(ui, highlight=None)
        return
    if name is not None:
        ui.highlight_color = name
    apply_format(ui, highlight=HIGHLIGHTS[ui.highlight_color])


def clear_formatting(ui: WordUI, _: Any = None) -> None:
    ui.begin_edit()
    sel = ui.selection
    ui.doc.clear_formatting(sel if len(sel) else ui.para_span())
    ui.pending = {}


# ---------------------------------------------------------------- paragraph formatting

def _para_op(ui: WordUI, op: str, *args: Any, **kw: Any) -> None:
    ui.begin_edit()
    getattr(ui.doc, op)(ui.para_span(), *args, **kw)


def indent_step(ui: WordUI, direction: int) -> None:
    """Move each touched paragraph's left indent to the next half-inch stop."""
    ui.begin_edit()
    doc = ui.doc
    for i in doc.paragraph_range(ui.selection):
        cur = doc.paragraphs()[i].fmt.left_indent or 0.0
        stops = cur / INDENT_STEP
        new = (math.floor(stops) + 1) * INDENT_STEP if direction > 0 else max(0.0, (math.ceil(stops) - 1) * INDENT_STEP)
        if new != cur:
            doc.set_indent(doc.paragraph_span(i), left=new)


# ---------------------------------------------------------------- clipboard and selection

def cut(ui: WordUI, _: Any = None) -> None:
    copy(ui)
    ui.begin_edit()
    sel = ui.selection
    ui.doc.delete(sel)
    ui.set_selection(sel.start)


def copy(ui: WordUI, _: Any = None) -> None:
    text = ui.selected_text()
    if not text:
        raise ActionError("nothing is selected to copy or cut; select text first")
    ui.clipboard = text


def paste(ui: WordUI, _: Any = None) -> None:
    if not ui.clipboard:
        raise ActionError("the clipboard is empty; Copy or Cut something first")
    ui.type_text(ui.clipboard)


def select_all(ui: WordUI, _: Any = None) -> None:
    ui.set_selection(0, len(ui.doc.text()))


def select_word(ui: WordUI) -> None:
    """Double-click in the body: select the word at the caret."""
    text, c = ui.doc.text(), ui.caret
    start, end = c, c
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    ui.set_selection(start, end)


# ---------------------------------------------------------------- insertions

def page_break(ui: WordUI, _: Any = None) -> None:
    """Insert a page break before the selection (the selected text moves to the new page)."""
    ui.begin_edit()
    caret = ui.doc.insert_page_break(ui.selection.start)
    ui.set_selection(caret)


def insert_table(ui: WordUI, rows: int, columns: int) -> None:
    """A table after the caret's paragraph; it becomes the selected table."""
    ui.begin_edit()
    doc = ui.doc
    end = doc.paragraph_span(doc.paragraph_index_at(ui.selection.end)).end
    table = doc.insert_table(end, rows, columns)
    ui.set_selection(end)
    ui.table = next(i for i, t in enumerate(doc.tables(), start=1) if t is table)


def type_text(ui: WordUI, text: str) -> None:
    ui.type_text(text)


def footnote(ui: WordUI, _: Any = None) -> None:
    """The model has no footnotes: Insert Footnote types the next reference mark ``[n]``."""
    n = 1
    while ui.doc.find(f"[{n}]") is not None:
        n += 1
    ui.set_selection(ui.selection.end)
    ui.type_text(f"[{n}]")


def toc(ui: WordUI, _: Any = None) -> None:
    """Automatic Table: a "Contents" heading and one line per Heading paragraph, before the
    caret's paragraph (or Word's message when there are no headings)."""
    doc = ui.doc
    entries = [(p.text, p.style[-1]) for p in doc.paragraphs() if p.style.startswith("Heading ") and p.text]
    lines = [("Contents", "TOC Heading")]
    lines += [(t, f"TOC {level}") for t, level in entries] or [("No table of contents entries found.", "Normal")]
    ui.begin_edit()
    start = doc.paragraph_span(doc.paragraph_index_at(ui.selection.start)).start
    doc.insert_text(start, "\n".join(t for t, _ in lines) + "\n", DEFAULT_RUN_FORMAT)
    pos = start
    for text, style in lines:
        doc.set_style(Span(pos, pos + len(text)), style)
        pos += len(text) + 1
    ui.set_selection(pos)


# ---------------------------------------------------------------- page and document

def _doc_op(op: str) -> Callable[[WordUI, Any], None]:
    def command(ui: WordUI, arg: Any) -> None:
        ui.begin_edit()
        getattr(ui.doc, op)(arg)
    command.__name__ = op
    return command


def header_footer(ui: WordUI, arg: tuple[str, str]) -> None:
    which, text = arg
    ui.begin_edit()
    (ui.doc.set_header if which == "header" else ui.doc.set_footer)(text)


def page_color(ui: WordUI, name: str | None) -> None:
    ui.begin_edit()
    ui.doc.set_page_color(COLORS[name] if name else None)


def margins(ui: WordUI, name: str) -> None:
    top, bottom, left, right = MARGIN_PRESETS[name]
    ui.begin_edit()
    ui.doc.set_margins(top=top, bottom=bottom, left=left, right=right)


def delete_comments(ui: WordUI, _: Any = None) -> None:
    if not ui.doc.comments:
        raise ActionError("Delete All Comments: the document has no comments")
    ui.begin_edit()
    ui.doc.delete_comments()


# ---------------------------------------------------------------- window

def save(ui: WordUI, _: Any = None) -> None:
    ui.mark_saved()


def close_document(ui: WordUI, _: Any = None) -> None:
    ui.closed = True


def set_tab(ui: WordUI, name: str) -> None:
    ui.tab = name


def open_menu(ui: WordUI, name: str) -> None:
    ui.menu = name


def view_toggle(ui: WordUI, key: str) -> None:
    ui.view[key] = not ui.view[key]


def view_mode(ui: WordUI, mode: str) -> None:
    ui.view["mode"] = mode


def noop(ui: WordUI, _: Any = None) -> None:
    """Focus only: clicking the body, an Edit box or a static Text changes nothing."""


# ---------------------------------------------------------------- ribbon Edit / ComboBox boxes

def parse_points(text: str, what: str, low: float, high: float) -> float:
    """A number of points from what a person types (``"12"``, ``"12 pt"``, ``"10.5"``)."""
    raw = text.strip().lower().removesuffix("pt").strip()
    try:
        value = float(raw)
    except ValueError:
        raise ActionError(f"{what} expects a number, got {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ActionError(f"{what} must be between {low:g} and {high:g}, got {text!r}")
    return value


_RIBBON_FIELDS: dict[str, tuple[str, float, float]] = {
    "font_size": ("Font Size", 1.0, 1638.0),
    "left_indent": ("Indent Left", -1584.0, 1584.0),
    "right_indent": ("Indent Right", -1584.0, 1584.0),
    "space_before": ("Spacing Before", 0.0, 1584.0),
    "space_after": ("Spacing After", 0.0, 1584.0),
}


def set_ribbon_field(ui: WordUI, key: str, text: str) -> None:
    """Typing into a ribbon box applies at once (Word applies on Enter; agents rarely press it)."""
    if key == "font_name":
        name = text.strip()
        if not name:
            raise ActionError("Font expects a font name, got an empty text")
        apply_format(ui, font_name=name)
        return
    what, low, high = _RIBBON_FIELDS[key]
    value = parse_points(text, what, low, high)
    if key == "font_size":
        apply_format(ui, font_size=round(value * 2) / 2)
    elif key == "left_indent":
        _para_op(ui, "set_indent", left=value)
    elif key == "right_indent":
        _para_op(ui, "set_indent", right=value)
    elif key == "space_before":
        _para_op(ui, "set_spacing", before=value)
    else:
        _para_op(ui, "set_spacing", after=value)


def ribbon_field_value(ui: WordUI, key: str) -> str:
    if key in ("font_name", "font_size"):
        value = current_format(ui, key)
        if key == "font_size" and value is None:
            value = DEFAULT_FONT_SIZE
        return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    value = ui.doc.paragraph_format_at(ui.selection).get(key)
    return f"{value or 0:g}"


COMMANDS: dict[str, Callable[[WordUI, Any], Any]] = {
    "tab": set_tab,
    "save": save,
    "undo": lambda ui, _: ui.undo(),
    "click_document": noop,
    "noop": noop,
    "ribbon_field": noop,
    "open_menu": open_menu,
    "close_document": close_document,
    "cut": cut,
    "copy": copy,
    "paste": paste,
    "grow_font": grow_font,
    "clear_formatting": clear_formatting,
    "toggle": toggle,
    "font_color": font_color,
    "highlight": highlight,
    "toggle_list": lambda ui, kind: _para_op(ui, "toggle_list", kind),
    "indent_step": indent_step,
    "align": lambda ui, a: _para_op(ui, "set_alignment", a),
    "line_spacing": lambda ui, v: _para_op(ui, "set_line_spacing", v),
    "style": lambda ui, s: _para_op(ui, "set_style", s),
    "select_all": select_all,
    "page_break": page_break,
    "type_text": type_text,
    "footnote": footnote,
    "toc": toc,
    "header_footer": header_footer,
    "page_numbers": _doc_op("set_page_numbers"),
    "watermark": _doc_op("set_watermark"),
    "page_color": page_color,
    "margins": margins,
    "orientation": _doc_op("set_orientation"),
    "page_size": _doc_op("set_page_size"),
    "columns": _doc_op("set_columns"),
    "delete_comments": delete_comments,
    "view_toggle": view_toggle,
    "view_mode": view_mode,
}
