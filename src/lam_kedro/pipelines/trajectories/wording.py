"""How help authors word a plan: the same steps in other people's words, some of them looser.

The paper's plans come from application docs, WikiHow and search answers, written by many
people, and GPT-4o followed them to collect trajectories; it failed about half the tasks. Our
families' plans are all worded one way (the help-page style), so a plan follower that reads
that style never goes wrong. ``reword_plan`` rewrites one step of a plan the way another
author would. A careful author keeps every fact ("Click Bold on the Home tab.") and a careful
follower copes; a *loose* one drops a fact a follower needs, the way real how-tos do:

- ``no_tab``: the step omits the tab ("Click Page Break."), so the control is not on screen
  unless an earlier step left that tab open, or a control of the current tab has a similar
  name ("Size" -> "Font Size");
- ``split_button``: "click Font Color", the button that applies the last colour, instead of the
  arrow next to it that opens the colour menu;
- ``no_qualifier``: "set Spacing to 12 pt" (Before or After?), "click Heading" (which level?),
  "click Replace" (not Replace All), "Make the table 4 by 3" (rows or columns?);
- ``no_box``: "Type "X"." without saying which of the dialog's boxes, or that the box is on
  the ribbon; "set all four margins to 1"" with no box names;
- ``no_launcher_name``: "click the Font dialog launcher" without the button's name;
- ``short_quote``: the quote cut to its first word ("Select the paragraph that starts with
  "The""), which may open more than one paragraph;
- ``unquoted``: "Select the text you want to change." (the request says which; a request
  that quotes several texts leaves the follower to guess);
- ``left_out``: a step the author thought too obvious to write ("Press Backspace to remove
  the empty line.").

Whether a loose wording makes a follower fail depends on the instance (the request may say
"after", the tab may already be open, the first box may be the right one), so failures are
spread over instances and families, and each has its cause in the plan text. Everything is
deterministic: the same plan and ``rng`` give the same wording.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["VARIANTS", "Variant", "reword_plan"]

_NUM = re.compile(r"^\s*(\d+)[.)]\s*")


@dataclass(frozen=True, slots=True)
class Variant:
    """One way an author words a step differently: ``pattern`` on the step's text (no number),
    ``repl`` its rewording (``None``: the step is left out). ``loose`` variants drop a fact."""

    name: str
    loose: bool
    pattern: re.Pattern[str]
    repl: str | Callable[[re.Match[str]], str] | None


def _v(name: str, loose: bool, pattern: str, repl: str | Callable[[re.Match[str]], str] | None) -> Variant:
    return Variant(name, loose, re.compile(pattern), repl)


def _no_tab(m: re.Match[str]) -> str:
    rest = m.group(2)
    return rest[:1].upper() + rest[1:]


VARIANTS: tuple[Variant, ...] = (
    # -- the same facts, other words (a careful follower copes)
    _v("tab_last", False, r"^On the (\w+) tab, in the [^,]+ group, click ([^,]+)\.$", r"Click \2 on the \1 tab."),
    _v("go_to_tab", False, r"^On the (\w+) tab, in the [^,]+ group, click ([^,]+)\.$", r"Go to the \1 tab and click \2."),
    # only where a click in the paragraph will do (the plan says so): a click does not select it
    _v("click_in", False, r'^Select the paragraph ("[^"]+"|that starts with "[^"]+") \(or click in it\)\.$',
       r"Click in the paragraph \1."),
    _v("bare_quote", False, r'^Select the text ("[^"]+")\.$', r"Select \1."),
    _v("box_first", False, r"^On the (\w+) tab, in the [^,]+ group, type (.+) in the ([^,]+) box\.$",
       r"On the \1 tab, in the \3 box, type \2."),
    # -- looser wordings (a fact the follower needs is missing)
    _v("no_tab", True, r"^On the (\w+) tab, (?:in the [^,]+ group, )?((?:click|set|type) .+)$", _no_tab),
    _v("split_button", True, r"click the arrow next to ([^(]+?) \([^)]+\)\.$", r"click \1."),
    _v("no_qualifier", True, r"set Spacing (?:Before|After) to (.+)$", r"set Spacing to \1"),
    _v("no_qualifier", True, r"set Indent (?:Left|Right) to (.+)$", r"set Indent to \1"),
    _v("no_qualifier", True, r"click Heading \d\.$", "click Heading."),
    _v("no_qualifier", True, r"^Click Replace All, then Close\.$", "Click Replace, then Close."),
    _v("no_qualifier", True, r"^Set Number of columns to (\d+) and Number of rows to (\d+)\.$",
       r"Make the table \1 by \2."),
    _v("no_box", True, r"^In the (?:Address|Replace with|Find what|Font style) box, (?:type|choose) (.+)$", r"Type \1"),
    _v("no_box", True, r" in the Font(?: Size)? box\.$", "."),
    _v("no_box", True, r"set Top, Bottom, Left and Right to (.+)$", r"set all four margins to \1"),
    _v("no_launcher_name", True, r"click the Font dialog launcher \(Font Settings\)\.$", "click the Font dialog launcher."),
    _v("short_quote", True, r'^Select the text "(\S+) \S+ \S[^"]*"', r'Select the text "\1..."'),
    _v("short_quote", True, r'^Select the paragraph (?:that starts with )?"(\S+) \S+ \S[^"]*"',
       r'Select the paragraph that starts with "\1"'),
    _v("unquoted", True, r'^Select the (text|paragraph) (?:that starts with )?"[^"]+"(?: \(or click in it\))?\.$',
       r"Select the \1 you want to change."),
    _v("left_out", True, r"^Press Backspace to remove the empty line\.$", None),
)


def _apply(variant: Variant, body: str) -> str | None:
    """The reworded step (``""`` when it is left out), or ``None`` if the variant does not apply."""
    m = variant.pattern.search(body)
    if m is None:
        return None
    if variant.repl is None:
        return ""
    new = variant.pattern.sub(variant.repl, body, count=1)
    return new if new != body else None


def reword_plan(plan: Sequence[str], rng: random.Random, loose: bool = False,
                variants: Sequence[Variant] = VARIANTS) -> tuple[list[str], str | None]:
    """``plan`` with one step worded by another author, renumbered, and the variant's name.

    A ``loose`` author drops a fact where the plan offers one to drop (else rewords carefully), a
    careful one only rewords; among the steps and variants that apply, ``rng`` picks one. The
    plan comes back unchanged, with ``None``, if none applies.
    """
    bodies = [_NUM.sub("", s) for s in plan]
    options = [(i, v, new) for i, body in enumerate(bodies) for v in variants
               if (new := _apply(v, body)) is not None]
    options = [o for o in options if o[1].loose] if loose and any(o[1].loose for o in options) else [
        o for o in options if not o[1].loose]
    if not options:
        return list(plan), None
    i, variant, new = options[rng.randrange(len(options))]
    bodies = bodies[:i] + ([new] if new else []) + bodies[i + 1:]
    numbered = all(_NUM.match(s) for s in plan)
    return ([f"{k}. {b}" for k, b in enumerate(bodies, start=1)] if numbered else bodies), variant.name
