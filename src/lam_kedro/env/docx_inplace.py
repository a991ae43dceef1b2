"""Patching one paragraph's own XML to what the model says it became, instead of writing it anew.

An edited paragraph keeps its ``w:p``: the characters the edit kept stay in their runs, with
their ``w:rPr`` (character styles, sub/superscript, underline styles ...), and everything between
the runs (pictures, fields, bookmarks, comment marks, footnote references) stays where it was.
Old and new text are aligned character by character; text that replaces characters goes into
the run of the first one it replaces, typed text into the run of the character before it (Word's
rule; the run after it when that one has the model's format and link and the one before has not).
A run whose characters the edit reformatted is split and only the attributes that changed are
written. The paragraph properties keep every child the model does not hold (tab stops, a section
break, borders) and only the attributes that changed are set. The result is read back with the
document reader: when it is not exactly the model's paragraph, the caller writes the paragraph
anew instead (``docx_patch``), and what that would lose is named (``docx_loss``).
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from docx.enum.text import WD_COLOR_INDEX, WD_UNDERLINE
from docx.oxml import OxmlElement
from docx.shared import Emu, Pt, RGBColor
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run as DocxRun

from lam_kedro.env.document import Paragraph, RunFormat
from lam_kedro.env.docx_xml import W_NS

__all__ = ["align", "patch_paragraph", "run_pieces", "set_run_text", "split_at", "text_runs"]

W = f"{{{W_NS}}}"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_CONTAINERS = {W + t for t in ("ins", "smartTag", "fldSimple", "customXml", "moveTo", "dir", "bdo")}
# what a run holds besides text that is worth keeping when its text is gone
_NOT_CONTENT = {W + "rPr", W + "t", W + "tab", W + "cr", W + "noBreakHyphen", W + "lastRenderedPageBreak"}
_ALIGN = {"left": 0, "center": 1, "right": 2, "justify": 3}
_TWIP = 635


def _atom_text(c: Any) -> str | None:
    """The model text of one run child (as ``docx_io`` reads it), ``None`` for what is not text."""
    tag = c.tag
    if tag == W + "t":
        return c.text or ""
    if tag == W + "tab":
        return "\t"
    if tag == W + "br":
        return None if c.get(W + "type") == "page" else "\v"
    if tag == W + "cr":
        return "\v"
    if tag == W + "noBreakHyphen":
        return "-"
    return None


def run_text(r: Any) -> str:
    return "".join(t for c in r if (t := _atom_text(c)) is not None)


def text_runs(el: Any, link: Any = None) -> list[tuple[Any, Any]]:
    """(w:r, enclosing w:hyperlink or None) of every run the reader takes text from, in order."""
    out: list[tuple[Any, Any]] = []
    for child in el:
        tag = child.tag
        if tag == W + "r":
            out.append((child, link))
        elif tag == W + "hyperlink":
            out += text_runs(child, child)
        elif tag in _CONTAINERS:
            out += text_runs(child, link)
        elif tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                out += text_runs(content, link)
    return out


def _text_atoms(text: str) -> list[Any]:
    """w:t / w:tab / w:br elements holding ``text`` ("\\t" a tab, "\\v" a line break)."""
    out, buf = [], []

    def flush() -> None:
        if buf:
            t = OxmlElement("w:t")
            t.text = "".join(buf)
            t.set(_XML_SPACE, "preserve")
            out.append(t)
            buf.clear()

    for ch in text:
        if ch in "\t\v":
            flush()
            out.append(OxmlElement("w:tab" if ch == "\t" else "w:br"))
        else:
            buf.append(ch)
    flush()
    return out


def set_run_text(r: Any, text: str) -> None:
    """Give run ``r`` the text ``text``, leaving its other children (pictures, fields ...) as they are;
    a run left with no text and nothing else is removed (and a hyperlink left empty with it)."""
    atoms = [c for c in r if _atom_text(c) is not None]
    if "".join(_atom_text(a) or "" for a in atoms) == text:
        return
    if len(atoms) == 1 and atoms[0].tag == W + "t" and text and "\t" not in text and "\v" not in text:
        atoms[0].text = text
        if text != text.strip():
            atoms[0].set(_XML_SPACE, "preserve")
        return
    at = r.index(atoms[0]) if atoms else len(r)
    for a in atoms:
        r.remove(a)
    for k, el in enumerate(_text_atoms(text)):
        r.insert(at + k, el)
    if not text and all(c.tag in _NOT_CONTENT for c in r):
        parent = r.getparent()
        parent.remove(r)
        if parent.tag == W + "hyperlink" and len(parent) == 0:
            parent.getparent().remove(parent)


def align(old: str, new: str) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes from ``old`` to ``new``, after the common prefix and suffix are taken out
    (so one edit aligns as that edit, whatever repeats elsewhere in the paragraph)."""
    a = 0
    while a < len(old) and a < len(new) and old[a] == new[a]:
        a += 1
    b = 0
    while b < len(old) - a and b < len(new) - a and old[-1 - b] == new[-1 - b]:
        b += 1
    ops: list[tuple[str, int, int, int, int]] = [("equal", 0, a, 0, a)] if a else []
    mid = difflib.SequenceMatcher(None, old[a:len(old) - b], new[a:len(new) - b], autojunk=False)
    ops += [(t, i1 + a, i2 + a, j1 + a, j2 + a) for t, i1, i2, j1, j2 in mid.get_opcodes()]
    if b:
        ops.append(("equal", len(old) - b, len(old), len(new) - b, len(new)))
    return ops


def owners(old: str, new: str, spans: list[tuple[int, int]], prefer: Any = None) -> list[int] | None:
    """The run (index into ``spans``) each character of ``new`` goes into; ``None`` when the runs
    would not stay in order. ``prefer(before, after, j)`` picks the run typed text at a boundary
    between two runs goes into (default: the one before)."""
    run_of = [k for k, (s, e) in enumerate(spans) for _ in range(s, e)]
    out: list[int] = []
    for tag, i1, i2, j1, j2 in align(old, new):
        if tag == "equal":
            out += run_of[i1:i2]
        elif j2 > j1:
            if tag == "replace":
                k = run_of[i1]
            else:
                before = run_of[i1 - 1] if i1 > 0 else None
                after = run_of[i1] if i1 < len(run_of) else None
                k = (after if before is None else before if after is None or after == before or prefer is None
                     else prefer(before, after, j1))
                if k is None:  # no text at all: the last run (an empty paragraph's)
                    if not spans:
                        return None
                    k = len(spans) - 1
            out += [k] * (j2 - j1)
    if any(b < a for a, b in zip(out, out[1:], strict=False)):
        return None
    return out


def _char_formats(p: Paragraph) -> list[RunFormat]:
    return [r.fmt for r in p.runs for _ in r.text]


def _in_link(p: Paragraph) -> list[bool]:
    marks = [False] * len(p.text)
    for span, _ in p.hyperlinks:
        for j in range(span.start, min(span.end, len(marks))):
            marks[j] = True
    return marks


def patch_rpr(r: Any, old: RunFormat, new: RunFormat) -> None:
    """Set on run ``r`` only the character attributes that differ between ``old`` and ``new``."""
    font = DocxRun(r, None).font  # type: ignore[arg-type]
    rpr = r.find(W + "rPr")
    rstyle = rpr.find(W + "rStyle") if rpr is not None else None
    for name, style in (("bold", "Strong"), ("italic", "Emphasis")):
        if getattr(old, name) != getattr(new, name):
            setattr(font, name, True if getattr(new, name) else None)
            if not getattr(new, name) and rstyle is not None and rstyle.get(W + "val") == style:
                rpr.remove(rstyle)
    if old.underline != new.underline:
        font.underline = WD_UNDERLINE.SINGLE if new.underline else None
    if old.strike != new.strike:
        font.strike = True if new.strike else None
        if not new.strike:
            font.double_strike = None
    if old.font_name != new.font_name:
        font.name = new.font_name
    if old.font_size != new.font_size:
        font.size = Pt(new.font_size) if new.font_size else None
    if old.color != new.color:
        if new.color:
            font.color.rgb = RGBColor.from_string(new.color)
        else:
            rpr = r.find(W + "rPr")
            color = rpr.find(W + "color") if rpr is not None else None
            if color is not None:
                rpr.remove(color)
    if old.highlight != new.highlight:
        font.highlight_color = WD_COLOR_INDEX[new.highlight] if new.highlight else None
    rpr = r.find(W + "rPr")
    if rpr is not None and len(rpr) == 0 and not rpr.attrib:
        r.remove(rpr)


def run_pieces(r: Any, pieces: list[tuple[str, RunFormat | None]], fmt: RunFormat | None) -> list[Any]:
    """Run ``r`` (read as ``fmt``) split into one run per (text, format) piece, in its place; the
    first keeps whatever else the run holds, the others are copies of its text and properties."""
    out = [r]
    for _ in pieces[1:]:
        twin = copy.deepcopy(r)
        for c in list(twin):
            if c.tag != W + "rPr":
                twin.remove(c)
        out[-1].addnext(twin)
        out.append(twin)
    for el, (text, new_fmt) in zip(out, pieces, strict=True):
        if fmt is not None and new_fmt is not None and new_fmt != fmt:
            patch_rpr(el, fmt, new_fmt)
        set_run_text(el, text)
    return out


def patch_ppr(p: Any, parent: Any, old: Paragraph, new: Paragraph, writer: Any) -> None:
    """Set on paragraph ``p`` only the style, list and paragraph attributes that changed."""
    dp = DocxParagraph(p, parent)
    if old.style != new.style:
        dp.style = writer._style(new.style or "Normal")
    if old.list_kind != new.list_kind:
        ppr = p.pPr
        num_pr = ppr.find(W + "numPr") if ppr is not None else None
        if num_pr is not None:
            ppr.remove(num_pr)
        writer._list(dp, new)
    pf = dp.paragraph_format
    for name in old.fmt.__dataclass_fields__:
        v = getattr(new.fmt, name)
        if getattr(old.fmt, name) == v:
            continue
        if name == "alignment":
            from docx.enum.text import WD_ALIGN_PARAGRAPH

            pf.alignment = WD_ALIGN_PARAGRAPH(_ALIGN[v]) if v else None
        elif name == "line_spacing":
            pf.line_spacing = float(v) if v is not None else None
        else:
            setattr(pf, name, Emu(round(v * 20) * _TWIP) if v is not None else None)


def patch_paragraph(p: Any, parent: Any, old: Paragraph, new: Paragraph, writer: Any, reader: Any) -> bool:
    """Patch ``p`` (the XML ``old`` was read from; a copy the caller may throw away) into ``new``.
    ``False`` when the patched XML would not read back as ``new`` (the caller then writes it anew)."""
    runs = text_runs(p)
    texts = [run_text(r) for r, _ in runs]
    if "".join(texts) != old.text:
        return False
    if not runs:
        r = OxmlElement("w:r")
        p.append(r)
        runs, texts = [(r, None)], [""]
    spans, pos = [], 0
    for t in texts:
        spans.append((pos, pos + len(t)))
        pos += len(t)
    fmts = [reader._run_format(r) for r, _ in runs]
    new_fmts, new_links = _char_formats(new), _in_link(new)

    def prefer(before: int, after: int, j: int) -> int:
        want = (new_fmts[j], new_links[j])
        if (fmts[before], runs[before][1] is not None) == want:
            return before
        return after if (fmts[after], runs[after][1] is not None) == want else before

    own = owners(old.text, new.text, spans, prefer)
    if own is None:
        return False
    if (old.style, old.fmt, old.list_kind) != (new.style, new.fmt, new.list_kind):
        patch_ppr(p, parent, old, new, writer)
    held: list[list[int]] = [[] for _ in runs]
    for j, k in enumerate(own):
        held[k].append(j)
    for k in reversed(range(len(runs))):  # back to front: a removed run does not move the others
        js = held[k]
        pieces: list[tuple[str, RunFormat | None]] = []
        for j in js:
            if pieces and pieces[-1][1] == new_fmts[j]:
                pieces[-1] = (pieces[-1][0] + new.text[j], new_fmts[j])
            else:
                pieces.append((new.text[j], new_fmts[j]))
        if not pieces:
            set_run_text(runs[k][0], "")
        elif len(pieces) == 1 and pieces[0] == (texts[k], fmts[k]):
            continue
        else:
            run_pieces(runs[k][0], pieces, fmts[k])
    if new.hyperlinks != old.hyperlinks:
        _add_links(p, parent, new, writer)
    from lam_kedro.env.docx_patch import block_key

    blocks: list[Any] = []
    reader._paragraph(p, blocks)
    return len(blocks) == 1 and block_key(blocks[0]) == block_key(new)


def split_at(p: Any, cuts: set[int], parent: Any) -> list[tuple[int, int, Any]]:
    """Cut the text runs of ``p`` at the offsets ``cuts``; then (start, end, python-docx Run) of
    each text run, so a comment can be put on exactly the runs of its anchor."""
    pos = 0
    for r, _ in text_runs(p):
        t = run_text(r)
        s, e = pos, pos + len(t)
        pos = e
        inner = sorted(c for c in cuts if s < c < e)
        if inner:
            pts = [s, *inner, e]
            run_pieces(r, [(t[a - s:b - s], None) for a, b in zip(pts, pts[1:], strict=False)], None)
    dp = DocxParagraph(p, parent)
    out, pos = [], 0
    for r, _ in text_runs(p):
        n = len(run_text(r))
        if n:
            out.append((pos, pos + n, DocxRun(r, dp)))
        pos += n
    return out


def patch_text(p: Any, old: str, new: str) -> bool:
    """Give paragraph ``p`` (read as ``old``) the text ``new``, each character in the run the
    alignment gives it (no format changes: a header's text); ``False`` if its runs disagree."""
    runs = [r for r, _ in text_runs(p)]
    texts = [run_text(r) for r in runs]
    if "".join(texts) != old:
        return False
    if not runs:
        if not new:
            return True
        runs, texts = [OxmlElement("w:r")], [""]
        p.append(runs[0])
    spans, pos = [], 0
    for t in texts:
        spans.append((pos, pos + len(t)))
        pos += len(t)
    own = owners(old, new, spans)
    if own is None:
        return False
    for k in reversed(range(len(runs))):
        set_run_text(runs[k], "".join(ch for ch, o in zip(new, own, strict=True) if o == k))
    return True


def _add_links(p: Any, parent: Any, new: Paragraph, writer: Any) -> None:
    """Wrap the runs of each of ``new``'s links that the XML has no link on in a new w:hyperlink
    (the runs cut at its ends, kept with their properties)."""
    from docx.enum.style import WD_STYLE_TYPE

    from lam_kedro.env.docx_xml import add_hyperlink_element

    for span, url in new.hyperlinks:
        pos, linked = 0, []
        for r, link in text_runs(p):
            n = len(run_text(r))
            if n and pos < span.end and pos + n > span.start:
                linked.append(link is not None)
            pos += n
        if any(linked):
            continue  # a link the XML has (or part of one): left for the read-back to judge
        pieces = [(a, b, run._r) for a, b, run in split_at(p, {span.start, span.end}, parent)
                  if span.start <= a and b <= span.end]
        if not pieces or len({r.getparent() for _, _, r in pieces}) != 1:
            continue
        first, last = pieces[0][2], pieces[-1][2]
        dp = DocxParagraph(p, parent)
        link = add_hyperlink_element(dp, url)
        first.addprevious(link)
        sibling = first
        while sibling is not None:
            nxt = sibling.getnext()
            link.append(sibling)
            if sibling is last:
                break
            sibling = nxt
        for r in link.iter(W + "r"):
            rpr = r.find(W + "rPr")
            if rpr is None or rpr.find(W + "rStyle") is None:
                DocxRun(r, dp).style = writer._style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
