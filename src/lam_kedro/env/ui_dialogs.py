"""Modal dialogs: their pending field values, and what OK does with them.

Opening a dialog fills its fields from the current document state (as Word pre-fills the Font
dialog with the selection's font); typing into a field only changes the pending value, checked
as soon as it is set so the agent learns at once that "abc" is not a size; ``OK`` (or ``Post``,
``Save``, ``Close Header and Footer``) applies the fields the agent touched; ``Cancel``,
``Close`` or ``{ESC}`` discard them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lam_kedro.env import ui_commands
from lam_kedro.env.actions import ActionError, Key
from lam_kedro.env.controls import (
    CHOICE_ALIASES,
    COLORS,
    DEFAULT_BUTTON,
    FIELDS,
    LINE_SPACING_CHOICES,
    Field,
    Spec,
)
from lam_kedro.env.types import Span

if TYPE_CHECKING:
    from lam_kedro.env.ui import WordUI

_ALIGN_NAMES = {"left": "Left", "center": "Centered", "right": "Right", "justify": "Justified"}
_ALIGN_VALUES = {v: k for k, v in _ALIGN_NAMES.items()}
_HEX_NAMES = {v: k for k, v in COLORS.items()}
_STYLE_FLAGS = {"Regular": (False, False), "Italic": (False, True), "Bold": (True, False), "Bold Italic": (True, True)}
_BORDERS = {"None": None, "Box": "box", "Shadow": "shadow"}


def _g(value: float | None) -> str:
    return f"{value or 0:g}"


# ---------------------------------------------------------------- opening and closing

def _initial_fields(ui: WordUI, name: str) -> dict[str, Any]:
    doc, sel = ui.doc, ui.selection
    if name == "Font":
        f = doc.format_at(sel)
        if f is None:
            return {}
        style = {v: k for k, v in _STYLE_FLAGS.items()}[(f.bold, f.italic)]
        return {
            "Font": f.font_name or "", "Font style": style, "Size": "" if f.font_size is None else _g(f.font_size),
            "Font color": _HEX_NAMES.get(f.color or "", "Automatic"),
            "Underline style": "Single" if f.underline else "(none)", "Strikethrough": f.strike,
        }
    if name == "Paragraph":
        pf = doc.paragraph_format_at(sel)
        spacing = pf["line_spacing"]
        spacing_name = {v: k for k, v in LINE_SPACING_CHOICES.items()}.get(spacing or 1.0, _g(spacing))
        return {
            "Alignment": _ALIGN_NAMES.get(pf["alignment"] or "left", "Left"), "Left": _g(pf["left_indent"]),
            "Right": _g(pf["right_indent"]), "Before": _g(pf["space_before"]), "After": _g(pf["space_after"]),
            "Line spacing": spacing_name,
        }
    if name == "Find and Replace":
        selected = ui.selected_text()
        find = selected if selected and "\n" not in selected and len(selected) <= 255 else ui.find_text
        return {"Find what": find, "Replace with": ui.replace_text, "Match case": ui.match_case}
    if name == "Insert Table":
        return {"Number of columns": "5", "Number of rows": "2"}
    if name == "Insert Hyperlink":
        return {"Text to display": ui.selected_text() if ui.table is None else "", "Address": ""}
    if name == "New Comment":
        return {"Comment Text": ""}
    if name in ("Header", "Footer"):
        return {f"{name} Text": doc.section.header if name == "Header" else doc.section.footer}
    if name == "Page Setup":
        s = doc.section
        return {
            "Top": _g(s.margin_top), "Bottom": _g(s.margin_bottom), "Left": _g(s.margin_left),
            "Right": _g(s.margin_right), "Orientation": s.orientation.capitalize(),
        }
    if name == "Custom Watermark":
        return {"Kind": "Text watermark", "Text": doc.watermark or ""}
    if name == "Borders and Shading":
        return {"Setting": {v: k for k, v in _BORDERS.items()}[doc.page_border]}
    if name == "Save As":
        return {"File name": doc.title}
    return {}


def open_dialog(ui: WordUI, name: str) -> None:
    ui.menu = None
    ui.dialog = name
    ui.fields = _initial_fields(ui, name)
    ui.dirty, ui.replace_on_type = set(), set()
    ui.status_text = None
    if name == "Word Count":
        st = ui.doc.stats()
        ui.status_text = (
            f"Pages: {st['pages']}; Words: {st['words']}; Characters (no spaces): {st['characters_no_spaces']}; "
            f"Characters (with spaces): {st['characters']}; Paragraphs: {st['paragraphs']}"
        )


def close_dialog(ui: WordUI, _: Any = None) -> None:
    ui.dialog, ui.fields, ui.status_text = None, {}, None
    ui.dirty, ui.replace_on_type = set(), set()


# ---------------------------------------------------------------- field values

def parse_field(dialog: str, name: str, raw: Any) -> Any:
    """The typed value of a field, or an ``ActionError`` naming the field and what it takes."""
    spec = FIELDS.get((dialog, name), Field("text"))
    what = f"{dialog} field {name!r}"
    if spec.kind == "check":
        return bool(raw)
    text = str(raw).strip()
    if spec.kind == "number":
        return ui_commands.parse_points(text, what, spec.low, spec.high)
    if spec.kind == "int":
        if not text.isdigit():
            raise ActionError(f"{what} expects a whole number, got {raw!r}")
        value = int(text)
        if not spec.low <= value <= spec.high:
            raise ActionError(f"{what} must be between {spec.low:g} and {spec.high:g}, got {value}")
        return value
    if spec.kind == "choice":
        for choice in spec.choices:
            if choice.lower() == text.lower():
                return choice
        alias = CHOICE_ALIASES.get(text.lower())
        if alias in spec.choices:
            return alias
        if name == "Line spacing":  # a multiple such as 1.15 is allowed too
            return ui_commands.parse_points(text, what, 0.25, 10.0)
        raise ActionError(f"{what} must be one of {', '.join(spec.choices)}, got {raw!r}")
    return str(raw)


def set_field(ui: WordUI, spec: Spec, text: str) -> None:
    if spec.cmd != "field":
        raise ActionError(f"{spec.text!r} is not a text field")
    parse_field(ui.dialog or "", spec.arg, text)
    ui.fields[spec.arg] = text
    ui.dirty.add(spec.arg)
    ui.replace_on_type.discard(spec.arg)


def keyboard(ui: WordUI, spec: Spec, keys: tuple[Key, ...]) -> None:
    """Keys into a dialog field: typed text appends (``^a`` first replaces), ``{BACKSPACE}``
    erases, ``{ENTER}`` presses the default button, ``{ESC}`` cancels."""
    name = spec.arg
    for k in keys:
        if k.name == "ESC":
            close_dialog(ui)
            return
        if k.name == "ENTER":
            click(ui, Spec("", "Button", DEFAULT_BUTTON.get(ui.dialog or "", "dialog_ok")))
            return
        if spec.cmd != "field":
            raise ActionError(f"{spec.text!r} does not take typing")
        value = str(ui.fields.get(name, ""))
        if k.name == "":
            value = k.text if name in ui.replace_on_type else value + k.text
            ui.replace_on_type.discard(name)
        elif k.name == "BACKSPACE":
            value = "" if name in ui.replace_on_type else value[:-1]
            ui.replace_on_type.discard(name)
        elif k.mods == "^" and k.name == "a":
            ui.replace_on_type.add(name)
            continue
        elif k.mods and k.mods != "+":
            raise ActionError(f"the shortcut {k.mods}{k.name} does nothing in the {ui.dialog} dialog")
        else:
            continue  # caret movement inside a field: the value is unchanged
        ui.fields[name] = value
        ui.dirty.add(name)


def _values(ui: WordUI) -> dict[str, Any]:
    """The touched fields, parsed (validated again: typed keys may have made them invalid)."""
    return {name: parse_field(ui.dialog or "", name, ui.fields[name]) for name in ui.dirty}


# ---------------------------------------------------------------- buttons

def click(ui: WordUI, spec: Spec) -> None:
    cmd = spec.cmd
    if cmd == "check":
        ui.fields[spec.arg] = not ui.fields.get(spec.arg, False)
        ui.dirty.add(spec.arg)
    elif cmd == "radio":
        group, value = spec.arg
        ui.fields[group] = value
        ui.dirty.add(group)
    elif cmd == "dialog_ok":
        _APPLY[ui.dialog or ""](ui, _values(ui))
        close_dialog(ui)
    elif cmd in _BUTTONS:
        _BUTTONS[cmd](ui)
    # "field" and "noop": focusing a box or a static text changes nothing


def _apply_font(ui: WordUI, v: dict[str, Any]) -> None:
    attrs: dict[str, Any] = {}
    if v.get("Font"):
        attrs["font_name"] = v["Font"].strip()
    if "Font style" in v:
        attrs["bold"], attrs["italic"] = _STYLE_FLAGS[v["Font style"]]
    if "Size" in v:
        attrs["font_size"] = round(v["Size"] * 2) / 2
    if "Font color" in v:
        attrs["color"] = COLORS.get(v["Font color"])
    if "Underline style" in v:
        attrs["underline"] = v["Underline style"] == "Single"
    if "Strikethrough" in v:
        attrs["strike"] = v["Strikethrough"]
    if attrs:
        ui_commands.apply_format(ui, **attrs)


def _apply_paragraph(ui: WordUI, v: dict[str, Any]) -> None:
    if not v:
        return
    ui.begin_edit()
    doc, span = ui.doc, ui.para_span()
    if "Alignment" in v:
        doc.set_alignment(span, _ALIGN_VALUES[v["Alignment"]])
    if "Left" in v or "Right" in v:
        doc.set_indent(span, **{k.lower(): v[k] for k in ("Left", "Right") if k in v})
    if "Before" in v or "After" in v:
        doc.set_spacing(span, **{k.lower(): v[k] for k in ("Before", "After") if k in v})
    if "Line spacing" in v:
        ls = v["Line spacing"]
        doc.set_line_spacing(span, LINE_SPACING_CHOICES.get(ls, ls) if isinstance(ls, str) else ls)


def _apply_table(ui: WordUI, v: dict[str, Any]) -> None:
    cols = v.get("Number of columns", parse_field("Insert Table", "Number of columns", ui.fields["Number of columns"]))
    rows = v.get("Number of rows", parse_field("Insert Table", "Number of rows", ui.fields["Number of rows"]))
    ui_commands.insert_table(ui, rows, cols)


def _apply_link(ui: WordUI, v: dict[str, Any]) -> None:
    url = str(ui.fields.get("Address", "")).strip()
    if not url:
        raise ActionError("Insert Hyperlink: type the link in 'Address' first")
    display = str(ui.fields.get("Text to display", ""))
    ui.begin_edit()
    sel, doc = ui.selection, ui.doc
    if len(sel) and (not display or display == ui.selected_text()):
        doc.add_hyperlink(sel, url)
        return
    ui.type_text(display or url)  # replaces the selection, or inserts at the caret
    doc = ui.doc
    doc.add_hyperlink(Span(sel.start, ui.caret), url)
    ui.set_selection(sel.start, ui.caret)


def _apply_comment(ui: WordUI, v: dict[str, Any]) -> None:
    text = str(ui.fields.get("Comment Text", "")).strip()
    if not text:
        raise ActionError("New Comment: type the 'Comment Text' first")
    ui.begin_edit()
    ui.doc.add_comment(ui.selection, text)


def _apply_header_footer(which: str) -> Callable[[WordUI, dict[str, Any]], None]:
    def apply(ui: WordUI, v: dict[str, Any]) -> None:
        text = str(ui.fields.get(f"{which} Text", "")).strip()
        current = ui.doc.section.header if which == "Header" else ui.doc.section.footer
        if text != current:
            ui.begin_edit()
            (ui.doc.set_header if which == "Header" else ui.doc.set_footer)(text)
    return apply


def _apply_page_setup(ui: WordUI, v: dict[str, Any]) -> None:
    margins = {k.lower(): v[k] for k in ("Top", "Bottom", "Left", "Right") if k in v}
    if margins or "Orientation" in v:
        ui.begin_edit()
    if margins:
        ui.doc.set_margins(**margins)
    if "Orientation" in v:
        ui.doc.set_orientation(v["Orientation"].lower())


def _apply_watermark(ui: WordUI, v: dict[str, Any]) -> None:
    text = str(ui.fields.get("Text", "")).strip()
    if not text:
        raise ActionError("Custom Watermark: type the watermark 'Text' first")
    ui.begin_edit()
    ui.doc.set_watermark(text)


def _apply_borders(ui: WordUI, v: dict[str, Any]) -> None:
    if "Setting" in v:
        ui.begin_edit()
        ui.doc.set_page_border(_BORDERS[v["Setting"]])


def _apply_save_as(ui: WordUI, v: dict[str, Any]) -> None:
    name = str(ui.fields.get("File name", "")).strip()
    if not name:
        raise ActionError("Save As: type a 'File name' first")
    ui.doc.title = name
    ui.mark_saved()


_APPLY: dict[str, Callable[[WordUI, dict[str, Any]], None]] = {
    "Font": _apply_font,
    "Paragraph": _apply_paragraph,
    "Insert Table": _apply_table,
    "Insert Hyperlink": _apply_link,
    "New Comment": _apply_comment,
    "Header": _apply_header_footer("Header"),
    "Footer": _apply_header_footer("Footer"),
    "Page Setup": _apply_page_setup,
    "Custom Watermark": _apply_watermark,
    "Borders and Shading": _apply_borders,
    "Save As": _apply_save_as,
}


# ---------------------------------------------------------------- Find and Replace

def _find_args(ui: WordUI) -> tuple[str, bool]:
    find = str(ui.fields.get("Find what", ""))
    if not find:
        raise ActionError("Find and Replace: type the text to find in 'Find what' first")
    ui.find_text, ui.match_case = find, bool(ui.fields.get("Match case", False))
    ui.replace_text = str(ui.fields.get("Replace with", ""))
    return find, ui.match_case


def find_next(ui: WordUI) -> None:
    """Select the next match after the selection, wrapping to the top, as Word does."""
    find, case = _find_args(ui)
    doc = ui.doc
    span = doc.find(find, ui.selection.end, case) or doc.find(find, 0, case)
    if span is None:
        ui.status_text = f"Word has finished searching the document. The search item '{find}' was not found."
        return
    ui.status_text = None
    ui.set_selection(span.start, span.end)


def replace_one(ui: WordUI) -> None:
    """Replace the selection if it is a match, then find the next one."""
    find, case = _find_args(ui)
    selected = ui.selected_text()
    if selected and (selected == find if case else selected.lower() == find.lower()):
        ui.begin_edit()
        caret = ui.doc.replace(ui.selection, ui.replace_text)
        ui.set_selection(caret)
    find_next(ui)


def replace_all(ui: WordUI) -> None:
    find, case = _find_args(ui)
    ui.begin_edit()
    n = ui.doc.replace_all(find, ui.replace_text, match_case=case)
    ui.set_selection(min(ui.caret, len(ui.doc.text())))
    ui.status_text = f"Word has made {n} replacements."


_BUTTONS: dict[str, Callable[[WordUI], None]] = {
    "dialog_cancel": close_dialog,
    "find_next": find_next,
    "replace_one": replace_one,
    "replace_all": replace_all,
}

