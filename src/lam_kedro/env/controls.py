"""The ribbon, its menus and its dialogs as data: which controls exist, where, of what type.

Keeping the window's layout in tables (rather than in code paths) means the observation, the
dispatcher and the documentation all read the same source, and adding a control is one row
plus, if it does something new, one command in ``ui_commands``. Each row is a ``Spec``:
what the screen reader shows (``text``, ``ctype``) and what a click does (``cmd`` and ``arg``,
looked up in the UI's command table).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Spec(NamedTuple):
    """One control: its visible text and type, and the command a click on it runs."""

    text: str
    ctype: str
    cmd: str
    arg: Any = None


#: The window's tabs, in the order UI Automation lists them.
TABS: tuple[str, ...] = ("File", "Home", "Insert", "Design", "Layout", "References", "Review", "View")

#: Word's colour names (menus and dialogs) and the hex values they write into the document.
COLORS: dict[str, str] = {
    "Black": "000000",
    "White": "FFFFFF",
    "Red": "FF0000",
    "Orange": "FFC000",
    "Yellow": "FFFF00",
    "Green": "00B050",
    "Blue": "0070C0",
    "Purple": "7030A0",
    "Gray": "808080",
}
#: Highlight menu names and the ``WD_COLOR_INDEX`` names the document stores.
HIGHLIGHTS: dict[str, str] = {
    "Black": "BLACK",
    "White": "WHITE",
    "Red": "RED",
    "Orange": "DARK_YELLOW",
    "Yellow": "YELLOW",
    "Green": "BRIGHT_GREEN",
    "Blue": "TURQUOISE",
    "Purple": "VIOLET",
    "Gray": "GRAY_25",
}
#: Word's font-size ladder, walked by Increase / Decrease Font Size.
FONT_SIZES: tuple[int, ...] = (8, 9, 10, 11, 12, 14, 16, 18, 20, 24, 28, 36, 48, 72)
#: The size Normal text has when no run sets one (Word's default body size).
DEFAULT_FONT_SIZE = 11.0
#: Line-spacing multiples offered by the Line and Paragraph Spacing menu.
LINE_SPACINGS: tuple[str, ...] = ("1.0", "1.15", "1.5", "2.0", "2.5", "3.0")
#: Style gallery items on the Home tab.
STYLES: tuple[str, ...] = ("Normal", "No Spacing", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Quote")
SYMBOLS: tuple[str, ...] = ("©", "®", "™", "€", "£", "°", "±", "§", "¶", "—")
WATERMARKS: tuple[str, ...] = ("CONFIDENTIAL", "DRAFT", "DO NOT COPY", "SAMPLE", "URGENT")
#: Margin presets (top, bottom, left, right) in inches, as Word's Margins gallery defines them.
MARGIN_PRESETS: dict[str, tuple[float, float, float, float]] = {
    "Normal": (1.0, 1.0, 1.0, 1.0),
    "Narrow": (0.5, 0.5, 0.5, 0.5),
    "Moderate": (1.0, 1.0, 0.75, 0.75),
    "Wide": (1.0, 1.0, 2.0, 2.0),
}
PAGE_SIZE_NAMES: tuple[str, ...] = ("Letter", "Legal", "A4", "A5")
COLUMN_COUNTS: dict[str, int] = {"One": 1, "Two": 2, "Three": 3}
#: How far Increase / Decrease Indent move the left indent (half an inch, in points).
INDENT_STEP = 36.0

_B, _SB, _CB, _LI, _MI, _E = "Button", "SplitButton", "ComboBox", "ListItem", "MenuItem", "Edit"

#: Always visible (unless a dialog is open), after the tabs.
QUICK_ACCESS: tuple[Spec, ...] = (Spec("Save", _B, "save"), Spec("Undo", _B, "undo"))
DOCUMENT_SPEC = Spec("Document", "Document", "click_document")

TAB_CONTROLS: dict[str, tuple[Spec, ...]] = {
    "File": (
        Spec("Save", _LI, "save"),
        Spec("Save As", _LI, "open_dialog", "Save As"),
        Spec("Close", _LI, "close_document"),
    ),
    "Home": (
        Spec("Cut", _B, "cut"),
        Spec("Copy", _B, "copy"),
        Spec("Paste", _B, "paste"),
        Spec("Font", _CB, "ribbon_field", "font_name"),
        Spec("Font Size", _CB, "ribbon_field", "font_size"),
        Spec("Increase Font Size", _B, "grow_font", 1),
        Spec("Decrease Font Size", _B, "grow_font", -1),
        Spec("Clear All Formatting", _B, "clear_formatting"),
        Spec("Bold", _B, "toggle", "bold"),
        Spec("Italic", _B, "toggle", "italic"),
        Spec("Underline", _B, "toggle", "underline"),
        Spec("Strikethrough", _B, "toggle", "strike"),
        Spec("Font Color", _SB, "font_color"),
        Spec("Font Color Options", _B, "open_menu", "Font Color"),
        Spec("Text Highlight Color", _SB, "highlight"),
        Spec("Text Highlight Color Options", _B, "open_menu", "Text Highlight Color"),
        Spec("Font Settings", _B, "open_dialog", "Font"),
        Spec("Bullets", _SB, "toggle_list", "bullet"),
        Spec("Numbering", _SB, "toggle_list", "number"),
        Spec("Decrease Indent", _B, "indent_step", -1),
        Spec("Increase Indent", _B, "indent_step", 1),
        Spec("Align Left", _B, "align", "left"),
        Spec("Center", _B, "align", "center"),
        Spec("Align Right", _B, "align", "right"),
        Spec("Justify", _B, "align", "justify"),
        Spec("Line and Paragraph Spacing", _SB, "open_menu", "Line and Paragraph Spacing"),
        Spec("Paragraph Settings", _B, "open_dialog", "Paragraph"),
        *(Spec(s, _LI, "style", s) for s in STYLES),
        Spec("Find", _B, "open_dialog", "Find and Replace"),
        Spec("Replace", _B, "open_dialog", "Find and Replace"),
        Spec("Select All", _B, "select_all"),
    ),
    "Insert": (
        Spec("Page Break", _B, "page_break"),
        Spec("Table", _SB, "open_menu", "Table"),
        Spec("Link", _B, "open_dialog", "Insert Hyperlink"),
        Spec("New Comment", _B, "open_dialog", "New Comment"),
        Spec("Header", _SB, "open_menu", "Header"),
        Spec("Footer", _SB, "open_menu", "Footer"),
        Spec("Page Number", _SB, "open_menu", "Page Number"),
        Spec("Symbol", _SB, "open_menu", "Symbol"),
    ),
    "Design": (
        Spec("Watermark", _SB, "open_menu", "Watermark"),
        Spec("Page Color", _SB, "open_menu", "Page Color"),
        Spec("Page Borders", _B, "open_dialog", "Borders and Shading"),
    ),
    "Layout": (
        Spec("Margins", _SB, "open_menu", "Margins"),
        Spec("Orientation", _SB, "open_menu", "Orientation"),
        Spec("Size", _SB, "open_menu", "Size"),
        Spec("Columns", _SB, "open_menu", "Columns"),
        Spec("Breaks", _SB, "open_menu", "Breaks"),
        Spec("Indent Left", _E, "ribbon_field", "left_indent"),
        Spec("Indent Right", _E, "ribbon_field", "right_indent"),
        Spec("Spacing Before", _E, "ribbon_field", "space_before"),
        Spec("Spacing After", _E, "ribbon_field", "space_after"),
        Spec("Page Setup", _B, "open_dialog", "Page Setup"),
    ),
    "References": (
        Spec("Insert Footnote", _B, "footnote"),
        Spec("Table of Contents", _SB, "open_menu", "Table of Contents"),
    ),
    "Review": (
        Spec("New Comment", _B, "open_dialog", "New Comment"),
        Spec("Word Count", _B, "open_dialog", "Word Count"),
        Spec("Delete All Comments", _B, "delete_comments"),
    ),
    "View": (
        Spec("Ruler", "CheckBox", "view_toggle", "ruler"),
        Spec("Gridlines", "CheckBox", "view_toggle", "gridlines"),
        Spec("Navigation Pane", "CheckBox", "view_toggle", "navigation_pane"),
        Spec("Print Layout", _B, "view_mode", "print"),
        Spec("Read Mode", _B, "view_mode", "read"),
        Spec("Web Layout", _B, "view_mode", "web"),
    ),
}

#: The tab whose button opens each menu (an open menu closes when its tab is left).
MENUS: dict[str, tuple[Spec, ...]] = {
    "Font Color": tuple(Spec(c, _LI, "font_color", c) for c in COLORS),
    "Text Highlight Color": (
        *(Spec(c, _LI, "highlight", c) for c in COLORS),
        Spec("No Color", _LI, "highlight", "No Color"),
    ),
    "Page Color": (
        *(Spec(c, _LI, "page_color", c) for c in COLORS),
        Spec("No Color", _LI, "page_color", None),
    ),
    "Line and Paragraph Spacing": tuple(Spec(s, _MI, "line_spacing", float(s)) for s in LINE_SPACINGS),
    "Table": (Spec("Insert Table...", _MI, "open_dialog", "Insert Table"),),
    "Header": (
        Spec("Edit Header", _MI, "open_dialog", "Header"),
        Spec("Remove Header", _MI, "header_footer", ("header", "")),
    ),
    "Footer": (
        Spec("Edit Footer", _MI, "open_dialog", "Footer"),
        Spec("Remove Footer", _MI, "header_footer", ("footer", "")),
    ),
    "Page Number": (
        Spec("Top of Page", _MI, "page_numbers", "top"),
        Spec("Bottom of Page", _MI, "page_numbers", "bottom"),
        Spec("Remove Page Numbers", _MI, "page_numbers", None),
    ),
    "Symbol": tuple(Spec(s, _LI, "type_text", s) for s in SYMBOLS),
    "Watermark": (
        *(Spec(w, _LI, "watermark", w) for w in WATERMARKS),
        Spec("Custom Watermark...", _MI, "open_dialog", "Custom Watermark"),
        Spec("Remove Watermark", _MI, "watermark", None),
    ),
    "Margins": (
        *(Spec(m, _LI, "margins", m) for m in MARGIN_PRESETS),
        Spec("Custom Margins...", _MI, "open_dialog", "Page Setup"),
    ),
    "Orientation": (Spec("Portrait", _LI, "orientation", "portrait"), Spec("Landscape", _LI, "orientation", "landscape")),
    "Size": tuple(Spec(s, _LI, "page_size", s) for s in PAGE_SIZE_NAMES),
    "Columns": tuple(Spec(name, _LI, "columns", n) for name, n in COLUMN_COUNTS.items()),
    "Breaks": (Spec("Page", _MI, "page_break"),),
    "Table of Contents": (Spec("Automatic Table", _LI, "toc"),),
}


class Field(NamedTuple):
    """A dialog field: how its value is parsed (``kind``) and what values it allows."""

    kind: str  # "text" | "number" | "int" | "choice" | "check"
    choices: tuple[str, ...] = ()
    low: float = 0.0
    high: float = 1e9


_OK, _CANCEL = Spec("OK", _B, "dialog_ok"), Spec("Cancel", _B, "dialog_cancel")


def _f(text: str, ctype: str = _E) -> Spec:
    return Spec(text, ctype, "field", text)


DIALOGS: dict[str, tuple[Spec, ...]] = {
    "Font": (
        _f("Font", _CB), _f("Font style", _CB), _f("Size", _CB), _f("Font color", _CB),
        _f("Underline style", _CB), Spec("Strikethrough", "CheckBox", "check", "Strikethrough"), _OK, _CANCEL,
    ),
    "Paragraph": (
        _f("Alignment", _CB), _f("Left"), _f("Right"), _f("Before"), _f("After"), _f("Line spacing", _CB), _OK, _CANCEL,
    ),
    "Find and Replace": (
        _f("Find what"), _f("Replace with"), Spec("Match case", "CheckBox", "check", "Match case"),
        Spec("Find Next", _B, "find_next"), Spec("Replace", _B, "replace_one"),
        Spec("Replace All", _B, "replace_all"), Spec("Close", _B, "dialog_cancel"),
    ),
    "Insert Table": (_f("Number of columns"), _f("Number of rows"), _OK, _CANCEL),
    "Insert Hyperlink": (_f("Text to display"), _f("Address"), _OK, _CANCEL),
    "New Comment": (_f("Comment Text"), Spec("Post", _B, "dialog_ok"), _CANCEL),
    "Header": (_f("Header Text"), Spec("Close Header and Footer", _B, "dialog_ok")),
    "Footer": (_f("Footer Text"), Spec("Close Header and Footer", _B, "dialog_ok")),
    "Page Setup": (
        _f("Top"), _f("Bottom"), _f("Left"), _f("Right"),
        Spec("Portrait", "RadioButton", "radio", ("Orientation", "Portrait")),
        Spec("Landscape", "RadioButton", "radio", ("Orientation", "Landscape")),
        _OK, _CANCEL,
    ),
    "Custom Watermark": (
        Spec("Text watermark", "RadioButton", "radio", ("Kind", "Text watermark")), _f("Text", _CB), _OK, _CANCEL,
    ),
    "Borders and Shading": (
        Spec("None", _LI, "radio", ("Setting", "None")),
        Spec("Box", _LI, "radio", ("Setting", "Box")),
        Spec("Shadow", _LI, "radio", ("Setting", "Shadow")),
        _OK, _CANCEL,
    ),
    # The Word Count "Text" row is built per document (its text is the counts).
    "Word Count": (Spec("Close", _B, "dialog_cancel"),),
    "Save As": (_f("File name"), Spec("Save", _B, "dialog_ok"), _CANCEL),
}

#: How each dialog's fields parse; a field missing here is free text.
FIELDS: dict[tuple[str, str], Field] = {
    ("Font", "Font style"): Field("choice", ("Regular", "Italic", "Bold", "Bold Italic")),
    ("Font", "Size"): Field("number", low=1.0, high=1638.0),
    ("Font", "Font color"): Field("choice", ("Automatic", *COLORS)),
    ("Font", "Underline style"): Field("choice", ("(none)", "Single")),
    ("Font", "Strikethrough"): Field("check"),
    ("Paragraph", "Alignment"): Field("choice", ("Left", "Centered", "Right", "Justified")),
    ("Paragraph", "Left"): Field("number", low=-1584.0, high=1584.0),
    ("Paragraph", "Right"): Field("number", low=-1584.0, high=1584.0),
    ("Paragraph", "Before"): Field("number", high=1584.0),
    ("Paragraph", "After"): Field("number", high=1584.0),
    ("Paragraph", "Line spacing"): Field("choice", ("Single", "1.5 lines", "Double")),
    ("Find and Replace", "Match case"): Field("check"),
    ("Insert Table", "Number of columns"): Field("int", low=1, high=63),
    ("Insert Table", "Number of rows"): Field("int", low=1, high=100),
    ("Page Setup", "Top"): Field("number", high=22.0),
    ("Page Setup", "Bottom"): Field("number", high=22.0),
    ("Page Setup", "Left"): Field("number", high=22.0),
    ("Page Setup", "Right"): Field("number", high=22.0),
}

#: Aliases a ComboBox accepts besides its listed choices (what people type).
CHOICE_ALIASES: dict[str, str] = {
    "center": "Centered",
    "centre": "Centered",
    "justify": "Justified",
    "1.0": "Single",
    "1": "Single",
    "1.5": "1.5 lines",
    "2.0": "Double",
    "2": "Double",
    "none": "(none)",
    "bold italic": "Bold Italic",
}
#: Paragraph-dialog line-spacing choices as multiples.
LINE_SPACING_CHOICES: dict[str, float] = {"Single": 1.0, "1.5 lines": 1.5, "Double": 2.0}
#: The button pressed by {ENTER} inside each dialog (Word's default button).
DEFAULT_BUTTON: dict[str, str] = {
    "Find and Replace": "find_next",
    "Word Count": "dialog_cancel",
}
