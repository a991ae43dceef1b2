"""Character-formatting families: bold, italic, underline, strikethrough, font, size, colour,
highlight, clear formatting, and Bold Italic through the Font dialog.

Every one targets a word or a short paragraph that occurs once in the body, and its checker
asks three things: the target has the format, the text is unchanged, and no character outside
the target changed format (so "select all, then Bold" does not pass).
"""

from __future__ import annotations

import random
from typing import Any

from lam_kedro.env.controls import COLORS, FONT_SIZES, HIGHLIGHTS
from lam_kedro.env.document import Document, RunFormat
from lam_kedro.env.tasks.base import TaskFamily, all_of, click, fail, numbered, select, tab, type_in
from lam_kedro.env.tasks.common import (
    char_formats,
    formats_unchanged_outside,
    same_text,
    short,
    span_has,
    unique_paragraphs,
    unique_words,
)
from lam_kedro.env.types import CheckResult, UIStep

FONTS: tuple[str, ...] = ("Arial", "Times New Roman", "Georgia", "Verdana", "Courier New", "Cambria", "Garamond")
_DEFAULT = RunFormat()


def _targets(doc: Document, skip: Any = None) -> list[str]:
    """Unique words and unique short paragraphs, minus those ``skip(fmts)`` rejects."""
    paras = doc.paragraphs()
    out = list(unique_words(doc))
    out += [paras[i].text for i in unique_paragraphs(doc, max_len=60)]
    if skip is None:
        return out
    fmts = char_formats(doc)
    keep = []
    for t in out:
        span = doc.find(t, match_case=True)
        if span is not None and not skip(fmts[span.start:span.end]):
            keep.append(t)
    return keep


def _pick(rng: random.Random, targets: list[str]) -> str | None:
    if not targets:
        return None
    words = [t for t in targets if " " not in t]
    phrases = [t for t in targets if " " in t]
    pool = phrases if phrases and (not words or rng.random() < 0.35) else words
    return rng.choice(sorted(pool))


class _TargetFamily(TaskFamily):
    """A family whose params are ``{"text": target, ...}`` and whose checker is span-based."""

    category = "formatting"

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "text": short(params["text"], 60)}

    def _check_span(self, before: Document, after: Document, params: dict[str, Any], **attrs: Any) -> CheckResult:
        text = params["text"]
        span = after.find(text)
        if span is None:
            return fail(f'the text "{short(text)}" is no longer in the document')
        return all_of(same_text(before, after), span_has(after, span, text, **attrs),
                      formats_unchanged_outside(before, after, span))


class ToggleFamily(_TargetFamily):
    """Bold / Italic / Underline / Strikethrough: one Home-tab toggle button."""

    def __init__(self, name: str, attr: str, button: str, wrong: str, adjective: str,
                 phrasings: tuple[str, ...]) -> None:
        self.name, self.attr, self.button, self.wrong, self.adjective = name, attr, button, wrong, adjective
        self.description = f"Make a word or phrase {adjective} with the {button} button."
        self.phrasings = phrasings

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        attr = self.attr
        text = _pick(rng, _targets(doc, skip=lambda fs: any(getattr(f, attr) for f in fs)))
        return None if text is None else {"text": text}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return self._check_span(before, after, params, **{self.attr: True})

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click(self.button, "Button")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click(self.wrong, "Button")]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{short(params["text"])}".',
                         f"On the Home tab, in the Font group, click {self.button}."])


BOLD = ToggleFamily("bold_text", "bold", "Bold", "Italic", "bold", (
    'Make "{text}" bold.',
    'Bold the text "{text}".',
    'Can you put "{text}" in bold?',
    'I want the words "{text}" to stand out - make them bold please',
    'Apply bold formatting to "{text}" in this document.',
))
ITALIC = ToggleFamily("italic_text", "italic", "Italic", "Bold", "italic", (
    'Italicize "{text}".',
    'Make the text "{text}" italic.',
    'Put "{text}" in italics.',
    'Please change "{text}" to italic type.',
))
UNDERLINE = ToggleFamily("underline_text", "underline", "Underline", "Bold", "underlined", (
    'Underline "{text}".',
    'Add an underline to the text "{text}".',
    'Can you underline the words "{text}" for me?',
    'I need "{text}" underlined.',
))
STRIKE = ToggleFamily("strikethrough_text", "strike", "Strikethrough", "Underline", "struck through", (
    'Strike through "{text}".',
    'Apply strikethrough to the text "{text}".',
    'Cross out "{text}" with a line through it.',
    'Mark "{text}" as deleted using strikethrough formatting.',
))


class FontNameFamily(_TargetFamily):
    name = "font_name"
    description = "Change the font of a word or phrase with the Font box on the Home tab."
    phrasings = (
        'Change the font of "{text}" to {font}.',
        'Set "{text}" in {font}.',
        'Use the {font} font for the text "{text}".',
        'Could you switch "{text}" to {font}?',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        text = _pick(rng, _targets(doc))
        if text is None:
            return None
        span = doc.find(text)
        current = doc.format_at(span) if span else None
        choices = [f for f in FONTS if current is None or (current.font_name or "").lower() != f.lower()]
        return {"text": text, "font": rng.choice(choices)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return self._check_span(before, after, params, font_name=params["font"])

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), type_in("Font", params["font"], "ComboBox")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        other = next(f for f in FONTS if f != params["font"])
        return [select(params["text"]), tab("Home"), type_in("Font", other, "ComboBox")]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{short(params["text"])}".',
                         f'On the Home tab, in the Font group, type "{params["font"]}" in the Font box.'])


class FontSizeFamily(_TargetFamily):
    name = "font_size"
    description = "Change the size of a word or phrase with the Font Size box on the Home tab."
    phrasings = (
        'Change the font size of "{text}" to {size} pt.',
        'Make "{text}" {size} point.',
        'Set the text "{text}" to size {size}.',
        'I want "{text}" at {size}pt font size.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        text = _pick(rng, _targets(doc))
        if text is None:
            return None
        span = doc.find(text)
        current = doc.format_at(span) if span else None
        sizes = [s for s in FONT_SIZES if 9 <= s <= 36 and (current is None or current.font_size != s) and s != 11]
        return {"text": text, "size": rng.choice(sizes)}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return self._check_span(before, after, params, font_size=float(params["size"]))

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), type_in("Font Size", str(params["size"]), "ComboBox")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        wrong = params["size"] + 2
        return [select(params["text"]), tab("Home"), type_in("Font Size", str(wrong), "ComboBox")]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{short(params["text"])}".',
                         f'On the Home tab, in the Font group, type {params["size"]} in the Font Size box.'])


class ColorFamily(_TargetFamily):
    """Font colour or highlight: open the colour menu, pick a named colour."""

    def __init__(self, name: str, attr: str, options: str, table: dict[str, str], noun: str,
                 phrasings: tuple[str, ...]) -> None:
        self.name, self.attr, self.options, self.table, self.noun = name, attr, options, table, noun
        self.description = f"Set the {noun} of a word or phrase from the {options} menu."
        self.phrasings = phrasings

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        text = _pick(rng, _targets(doc))
        if text is None:
            return None
        span = doc.find(text)
        current = getattr(doc.format_at(span), self.attr) if span else None
        names = [n for n, v in self.table.items() if n not in ("Black", "White") and v != current]
        return {"text": text, "color": rng.choice(names)}

    def slots(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**super().slots(params), "color": params["color"].lower()}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return self._check_span(before, after, params, **{self.attr: self.table[params["color"]]})

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click(self.options, "Button"),
                click(params["color"], "ListItem")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        # The classic mix-up: font colour instead of highlight, or a neighbouring colour.
        if self.attr == "highlight":
            return [select(params["text"]), tab("Home"), click("Font Color Options", "Button"),
                    click(params["color"], "ListItem")]
        other = next(n for n in ("Blue", "Red", "Green") if n != params["color"])
        return [select(params["text"]), tab("Home"), click(self.options, "Button"), click(other, "ListItem")]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{short(params["text"])}".',
                         # the arrow is a control of its own; the parenthesis names it, as for the launcher
                         f"On the Home tab, in the Font group, click the arrow next to {self.options[:-8]} "
                         f"({self.options}).",
                         f"Choose {params['color']}."])


FONT_COLOR = ColorFamily("font_color", "color", "Font Color Options", COLORS, "font color", (
    'Make "{text}" {color}.',
    'Change the color of the text "{text}" to {color}.',
    'Color "{text}" {color}, please.',
    'Set the font color of "{text}" to {color}.',
))
HIGHLIGHT = ColorFamily("highlight_text", "highlight", "Text Highlight Color Options", HIGHLIGHTS,
                        "highlight", (
                            'Highlight "{text}" in {color}.',
                            'Add a {color} highlight to the text "{text}".',
                            'Use the {color} highlighter on "{text}".',
                            'Mark "{text}" with {color} highlighting so I can find it later.',
                        ))


class ClearFormattingFamily(_TargetFamily):
    name = "clear_formatting"
    description = "Remove all character formatting from a formatted word or phrase."
    phrasings = (
        'Clear the formatting of "{text}".',
        'Remove all formatting from the text "{text}".',
        'Make "{text}" plain text again.',
        'Strip the bold/italic/colour formatting off "{text}".',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        text = _pick(rng, _targets(doc, skip=lambda fs: not any(_shown(f) for f in fs)))
        return None if text is None else {"text": text}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        attrs = {name: getattr(_DEFAULT, name) for name in ("bold", "italic", "underline", "strike", "color",
                                                              "highlight")}
        return self._check_span(before, after, params, **attrs)

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click("Clear All Formatting", "Button")]

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        # Applying the Normal style leaves direct character formatting in place.
        return [select(params["text"]), tab("Home"), click("Normal", "ListItem")]

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{short(params["text"])}".',
                         "On the Home tab, in the Font group, click Clear All Formatting."])


def _shown(f: RunFormat) -> bool:
    """Formatting a user would call 'formatting' (bold, colour ...), not just a font choice."""
    return bool(f.bold or f.italic or f.underline or f.strike or f.color or f.highlight)


class BoldItalicDialogFamily(_TargetFamily):
    name = "bold_italic_font_dialog"
    description = "Make text bold italic through the Font dialog."
    phrasings = (
        'Use the Font dialog to make "{text}" bold italic.',
        'Make "{text}" both bold and italic.',
        'Set the font style of "{text}" to Bold Italic.',
    )

    def sample_params(self, doc: Document, rng: random.Random) -> dict[str, Any] | None:
        text = _pick(rng, _targets(doc, skip=lambda fs: any(f.bold or f.italic for f in fs)))
        return None if text is None else {"text": text}

    def check(self, before: Document, after: Document, params: dict[str, Any]) -> CheckResult:
        return self._check_span(before, after, params, bold=True, italic=True)

    def _steps(self, params: dict[str, Any], last: str) -> list[UIStep]:
        return [select(params["text"]), tab("Home"), click("Font Settings", "Button"),
                type_in("Font style", "Bold Italic", "ComboBox"), click(last, "Button")]

    def solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "OK")

    def wrong_solution(self, params: dict[str, Any]) -> list[UIStep]:
        return self._steps(params, "Cancel")

    def plan(self, params: dict[str, Any]) -> list[str]:
        return numbered([f'Select the text "{short(params["text"])}".',
                         "On the Home tab, in the Font group, click the Font dialog launcher (Font Settings).",
                         "In the Font style box, choose Bold Italic.",
                         "Click OK."])


FAMILIES: list[TaskFamily] = [BOLD, ITALIC, UNDERLINE, STRIKE, FontNameFamily(), FontSizeFamily(), FONT_COLOR,
                              HIGHLIGHT, ClearFormattingFamily(), BoldItalicDialogFamily()]
