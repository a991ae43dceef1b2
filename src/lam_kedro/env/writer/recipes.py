"""How a person does each task family in LibreOffice Writer: plan text, a scripted solution, a near miss.

A task family (``env.tasks``) knows its request, its params and its checker, and its solution in
Word's ribbon. Writer has its own user interface, so a family that runs in Writer gets a
``Recipe`` here: the plan in Writer's words (menus, dialogs, the Formatting toolbar), the steps
that do it (``UIStep``s named by what the window shows, resolved to labels at run time like every
scripted solution) and a plausible wrong solution that the same checker must reject. The checker
is the family's own, on the .docx Writer saves.

``RECIPES`` is the list of families that run in Writer; ``tests/env/writer`` plays every one.
Not here yet: ``page_columns`` (the Columns dialog's count, set
through accessibility, does not reach the page style), the colour galleries, watermarks, borders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lam_kedro.env.tasks.base import click, doc_keys, keys, numbered, select, type_in
from lam_kedro.env.tasks.common import short
from lam_kedro.env.types import UIStep

__all__ = ["RECIPES", "Recipe", "writer_plan", "writer_solution", "writer_wrong_solution"]

Steps = Callable[[dict[str, Any]], list[UIStep]]


@dataclass(frozen=True)
class Recipe:
    """One family in Writer: ``plan(params)`` (numbered lines), ``solution`` and ``wrong`` (steps)."""

    plan: Callable[[dict[str, Any]], list[str]]
    solution: Steps
    wrong: Steps


def menu(*path: str) -> list[UIStep]:
    """Click through a menu path: ``menu("Format", "Align Text", "Centered")``."""
    return [click(p, "MenuItem") for p in path]


def _path(*path: str) -> str:
    return " > ".join(path)


def _selected(params: dict[str, Any], key: str = "text") -> str:
    return f'Select the text "{short(params[key])}".'


def _menu_recipe(key: str, right: tuple[str, ...], wrong: tuple[str, ...]) -> Recipe:
    """Select ``params[key]`` and choose a menu item (the wrong one: another item)."""
    return Recipe(
        plan=lambda p: numbered([_selected(p, key), f"Choose {_path(*right)}."]),
        solution=lambda p: [select(p[key]), *menu(*right)],
        wrong=lambda p: [select(p[key]), *menu(*wrong)],
    )


def _paragraphs(params: dict[str, Any]) -> str:
    return "\n".join(params["texts"])


def _list_recipe(item: str, other: str) -> Recipe:
    return Recipe(
        plan=lambda p: numbered([f'Select the paragraphs from "{short(p["texts"][0])}" to "{short(p["texts"][-1])}".',
                                 f"Choose {_path('Format', 'Lists', item)}."]),
        solution=lambda p: [select(_paragraphs(p)), *menu("Format", "Lists", item)],
        wrong=lambda p: [select(_paragraphs(p)), *menu("Format", "Lists", other)],
    )


def _character_dialog(field: str, value: Callable[[dict[str, Any]], str], wrong: Callable[[dict[str, Any]], str],
                      what: str) -> Recipe:
    """Select the text, Format > Character..., type in a field of the Font tab, OK."""
    def steps(p: dict[str, Any], v: str) -> list[UIStep]:
        return [select(p["text"]), *menu("Format", "Character..."), type_in(field, v), click("OK", "Button")]

    return Recipe(
        plan=lambda p: numbered([_selected(p), f"Choose {_path('Format', 'Character...')}.",
                                 f'On the Font tab, type "{value(p)}" in the {field} box ({what}).', "Click OK."]),
        solution=lambda p: steps(p, value(p)),
        wrong=lambda p: steps(p, wrong(p)),
    )


def _paragraph_dialog(field: str, what: str) -> Recipe:
    """Select the paragraph, Format > Paragraph..., type points in a field of Indents & Spacing, OK."""
    def steps(p: dict[str, Any], points: float) -> list[UIStep]:
        return [select(p["text"]), *menu("Format", "Paragraph..."), click("Indents & Spacing", "TabItem"),
                type_in(field, f"{points:g} pt", "Edit"), click("OK", "Button")]

    return Recipe(
        plan=lambda p: numbered([_selected(p), f"Choose {_path('Format', 'Paragraph...')}.",
                                 f'On the Indents & Spacing tab, type "{p["value"]:g} pt" in {field} ({what}).',
                                 "Click OK."]),
        solution=lambda p: steps(p, float(p["value"])),
        wrong=lambda p: steps(p, float(p["value"]) + 6),
    )


def _replace_steps(p: dict[str, Any], match_case: bool = False) -> list[UIStep]:
    case = [click("Match case", "CheckBox")] if match_case else []
    return [*menu("Edit", "Find and Replace..."), type_in("Find", p["old"], "ComboBox"),
            type_in("Replace", p["new"], "ComboBox"), *case, click("Replace All", "Button"), click("Close", "Button")]


def _replace_plan(p: dict[str, Any], match_case: bool = False) -> list[str]:
    case = ["Check Match case."] if match_case else []
    return numbered([f"Choose {_path('Edit', 'Find and Replace...')}.", f'Type "{p["old"]}" in the Find box.',
                     f'Type "{p["new"]}" in the Replace box.', *case, "Click Replace All.", "Click Close."])


_HEADING_WRONG = {"Heading 1": "Heading 2", "Heading 2": "Heading 3", "Heading 3": "Heading 1"}
_ALIGN_WRONG = {"Centered": "Right", "Right": "Centered", "Justified": "Centered"}
_STRIKE_WRONG = "Single Underline"


def _page_steps(*fields: UIStep) -> list[UIStep]:
    """Format > Page Style..., the Page tab, the given steps, OK."""
    return [*menu("Format", "Page Style..."), click("Page", "TabItem"), *fields, click("OK", "Button")]


def _margins(inches: float, sides: tuple[str, ...] = ("Top", "Bottom", "Left", "Right")) -> list[UIStep]:
    return _page_steps(*(type_in(side, f"{inches:g} in", "Edit") for side in sides))


def _spacing(value: float) -> str:
    return f"Line Spacing: {value:g}"


def _table_steps(p: dict[str, Any], columns: int, rows: int) -> list[UIStep]:
    return [select(p["text"]), doc_keys("{END}"), *menu("Table", "Insert Table..."),
            type_in("Columns", str(columns), "Edit"), type_in("Rows", str(rows), "Edit"), click("Insert", "Button")]


def _header_steps(part: str, text: str) -> list[UIStep]:
    return [*menu("Insert", "Header and Footer", part, "Default Page Style"),
            UIStep("Document", "set_edit_text", {"text": text}, "Document")]


def _align(item: str) -> Recipe:
    return _menu_recipe("text", ("Format", "Align Text", item), ("Format", "Align Text", _ALIGN_WRONG[item]))


def _text_effect(item: str, wrong: str) -> Recipe:
    return _menu_recipe("text", ("Format", "Text", item), ("Format", "Text", wrong))


RECIPES: dict[str, Recipe] = {
    # formatting: Format > Text, the Character dialog, the Formatting toolbar's Font Size box
    "bold_text": _text_effect("Bold", "Italic"),
    "italic_text": _text_effect("Italic", "Bold"),
    "underline_text": _text_effect("Single Underline", "Bold"),
    "strikethrough_text": _text_effect("Strikethrough", _STRIKE_WRONG),
    "font_name": _character_dialog(
        "Family", lambda p: p["font"], lambda p: "Courier New" if p["font"] != "Courier New" else "Arial", "the font"),
    "bold_italic_font_dialog": _character_dialog("Style", lambda p: "Bold Italic", lambda p: "Italic", "the style"),
    "font_size": Recipe(
        plan=lambda p: numbered([_selected(p), f'On the Formatting toolbar, type {p["size"]} in the Font Size box '
                                               "and press Enter."]),
        solution=lambda p: [select(p["text"]), type_in("Font Size", str(p["size"]), "ComboBox"),
                            keys("Font Size", "{ENTER}", "ComboBox")],
        wrong=lambda p: [select(p["text"]), type_in("Font Size", str(p["size"] + 2), "ComboBox"),
                         keys("Font Size", "{ENTER}", "ComboBox")],
    ),
    "clear_formatting": Recipe(
        plan=lambda p: numbered([_selected(p), f"Choose {_path('Format', 'Clear Direct Formatting')}."]),
        solution=lambda p: [select(p["text"]), *menu("Format", "Clear Direct Formatting")],
        wrong=lambda p: [select(p["text"]), *menu("Styles", "Text Body")],  # a paragraph style keeps direct formatting
    ),
    # paragraph: Format > Align Text, Format > Paragraph...
    "align_center": _align("Centered"),
    "align_right": _align("Right"),
    "justify_paragraph": _align("Justified"),
    "space_before": _paragraph_dialog("Above paragraph", "spacing before"),
    "space_after": _paragraph_dialog("Below paragraph", "spacing after"),
    "left_indent": _paragraph_dialog("Before text", "the left indent"),
    "line_spacing": Recipe(
        plan=lambda p: numbered([_selected(p), f"Choose {_path('Format', 'Spacing', _spacing(p['value']))}."]),
        solution=lambda p: [select(p["text"]), *menu("Format", "Spacing", _spacing(p["value"]))],
        wrong=lambda p: [select(p["text"]), *menu("Format", "Spacing", _spacing(2.0 if p["value"] != 2.0 else 1.5))],
    ),
    # styles and lists: the Styles menu, Format > Lists
    "apply_heading": Recipe(
        plan=lambda p: numbered([_selected(p), f"Choose {_path('Styles', p['style'])}."]),
        solution=lambda p: [select(p["text"]), *menu("Styles", p["style"])],
        wrong=lambda p: [select(p["text"]), *menu("Styles", _HEADING_WRONG[p["style"]])],
    ),
    "apply_title": _menu_recipe("text", ("Styles", "Title"), ("Styles", "Subtitle")),
    "bulleted_list": _list_recipe("Unordered List", "Ordered List"),
    "numbered_list": _list_recipe("Ordered List", "Unordered List"),
    # insert: Insert > Page Break
    "insert_page_break": Recipe(
        plan=lambda p: numbered([f'Click at the start of the paragraph "{short(p["text"])}".',
                                 f"Choose {_path('Insert', 'Page Break')}."]),
        solution=lambda p: [select(p["text"]), doc_keys("{HOME}"), *menu("Insert", "Page Break")],
        wrong=lambda p: [select(p["text"]), doc_keys("{HOME}"), doc_keys("{ENTER}")],  # a blank line, not a break
    ),
    "insert_table": Recipe(
        plan=lambda p: numbered([f'Click at the end of the paragraph "{short(p["text"])}".',
                                 f"Choose {_path('Table', 'Insert Table...')}.",
                                 f"Type {p['cols']} in Columns and {p['rows']} in Rows.", "Click Insert."]),
        solution=lambda p: _table_steps(p, p["cols"], p["rows"]),
        wrong=lambda p: _table_steps(p, p["rows"], p["cols"]),  # rows and columns swapped
    ),
    "add_header": Recipe(
        plan=lambda p: numbered([f"Choose {_path('Insert', 'Header and Footer', 'Header', 'Default Page Style')}.",
                                 f'Type "{p["text"]}" in the header.']),
        solution=lambda p: _header_steps("Header", p["text"]),
        wrong=lambda p: _header_steps("Footer", p["text"]),
    ),
    "add_footer": Recipe(
        plan=lambda p: numbered([f"Choose {_path('Insert', 'Header and Footer', 'Footer', 'Default Page Style')}.",
                                 f'Type "{p["text"]}" in the footer.']),
        solution=lambda p: _header_steps("Footer", p["text"]),
        wrong=lambda p: _header_steps("Header", p["text"]),
    ),
    # layout: Format > Page Style..., the Page tab
    "page_orientation": Recipe(
        plan=lambda p: numbered([f"Choose {_path('Format', 'Page Style...')}.", "Click the Page tab.",
                                 f"Under Orientation, select {p['orientation'].capitalize()}.", "Click OK."]),
        solution=lambda p: _page_steps(click(p["orientation"].capitalize(), "RadioButton")),
        wrong=lambda p: [*menu("Format", "Page Style..."), click("Page", "TabItem"),
                         click(p["orientation"].capitalize(), "RadioButton"), click("Cancel", "Button")],
    ),
    "margins_custom": Recipe(
        plan=lambda p: numbered([f"Choose {_path('Format', 'Page Style...')}.", "Click the Page tab.",
                                 f'Type "{p["inches"]:g} in" in the Top, Bottom, Left and Right margin boxes.',
                                 "Click OK."]),
        solution=lambda p: _margins(float(p["inches"])),
        wrong=lambda p: _margins(float(p["inches"]), ("Top", "Bottom", "Left")),  # forgot the right margin
    ),
    "page_size": Recipe(
        plan=lambda p: numbered([f"Choose {_path('Format', 'Page Style...')}.", "Click the Page tab.",
                                 f'Choose {p["size"]} in the Format box.', "Click OK."]),
        solution=lambda p: _page_steps(type_in("Format", p["size"], "ComboBox")),
        wrong=lambda p: _page_steps(type_in("Format", "A4" if p["size"] != "A4" else "Letter", "ComboBox")),
    ),
    # editing: Edit > Find and Replace..., the keyboard
    "find_replace": Recipe(
        plan=_replace_plan,
        solution=_replace_steps,
        wrong=lambda p: _replace_steps({**p, "new": p["new"] + "s"}),
    ),
    "replace_match_case": Recipe(
        plan=lambda p: _replace_plan(p, match_case=True),
        solution=lambda p: _replace_steps(p, match_case=True),
        wrong=_replace_steps,  # forgot Match case: the other case form is replaced too
    ),
    "delete_word": Recipe(
        plan=lambda p: numbered([f'Select the word "{p["text"]}" and the space after it.', "Press Delete."]),
        solution=lambda p: [select(p["text"] + " "), doc_keys("{DELETE}")],
        wrong=lambda p: [select(p["text"][:-1]), doc_keys("{DELETE}")],  # a sloppy drag misses a letter
    ),
    "delete_paragraph": Recipe(
        plan=lambda p: numbered([f'Select the paragraph "{short(p["text"])}".', "Press Delete, then Backspace."]),
        solution=lambda p: [select(p["text"]), doc_keys("{DELETE}"), doc_keys("{BACKSPACE}")],
        wrong=lambda p: [select(p["text"]), doc_keys("{DELETE}")],  # an empty line is left behind
    ),
    "add_paragraph": Recipe(
        plan=lambda p: numbered([f'Click at the end of the paragraph "{short(p["text"])}".', "Press Enter.",
                                 f'Type "{p["new"]}".']),
        solution=lambda p: [select(p["text"]), doc_keys("{END}"), doc_keys("{ENTER}"),
                            UIStep("Document", "set_edit_text", {"text": p["new"]}, "Document")],
        wrong=lambda p: [select(p["text"]), doc_keys("{END}"),
                         UIStep("Document", "set_edit_text", {"text": " " + p["new"]}, "Document")],
    ),
}


def _recipe(family: str) -> Recipe:
    try:
        return RECIPES[family]
    except KeyError:
        raise KeyError(f"task family {family!r} has no Writer recipe; families that run in Writer: "
                       f"{', '.join(sorted(RECIPES))}") from None


def writer_plan(family: str, params: dict[str, Any]) -> list[str]:
    """The family's plan in Writer's words (numbered lines)."""
    return _recipe(family).plan(params)


def writer_solution(family: str, params: dict[str, Any]) -> list[UIStep]:
    """The steps that do the task in Writer."""
    return _recipe(family).solution(params)


def writer_wrong_solution(family: str, params: dict[str, Any]) -> list[UIStep]:
    """A plausible near miss in Writer that the family's checker rejects."""
    return _recipe(family).wrong(params)
