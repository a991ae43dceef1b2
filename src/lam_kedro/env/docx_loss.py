"""What writing an element anew from the model would lose: the features the model cannot hold.

``features`` counts, in some XML, each thing a person would miss if it disappeared (a picture, a
field, a bookmark, merged cells, a character style ...); ``lost`` names what the rewritten XML
has fewer of than the original. Saving refuses a loss unless asked not to (``save_docx``), and
a task whose scripted solution would cause one is refused as infeasible (``feasibility``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from lam_kedro.env.docx_xml import W_NS

__all__ = ["features", "lost"]

W = f"{{{W_NS}}}"
_M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_NAMES = {
    W + "drawing": "a picture or drawing", W + "pict": "a picture or drawing (VML)",
    W + "object": "an embedded object", W + "txbxContent": "a text box", W + "fldSimple": "a field",
    W + "footnoteReference": "a footnote reference", W + "endnoteReference": "an endnote reference",
    W + "bookmarkStart": "a bookmark", W + "commentRangeStart": "a comment mark",
    W + "commentReference": "a comment reference", W + "sdt": "a content control",
    W + "ins": "a tracked insertion", W + "del": "a tracked deletion", _M + "oMath": "an equation",
    W + "sym": "a symbol", W + "tabs": "tab stops",
    W + "pBdr": "paragraph borders", W + "framePr": "a frame", W + "keepNext": "keep with next",
    W + "keepLines": "keep lines together", W + "pageBreakBefore": "page break before",
    W + "outlineLvl": "an outline level", W + "smallCaps": "small capitals", W + "caps": "all capitals",
    W + "dstrike": "double strikethrough", W + "vanish": "hidden text", W + "emboss": "embossing",
    W + "imprint": "engraving", W + "outline": "outline text", W + "shadow": "shadowed text",
    W + "position": "raised or lowered text", W + "kern": "kerning", W + "em": "an emphasis mark",
    W + "gridSpan": "merged cells", W + "vMerge": "merged cells", W + "hMerge": "merged cells",
    W + "ruby": "phonetic guide text", W + "smartTag": "a smart tag", W + "customXml": "custom XML markup",
    W + "altChunk": "an imported chunk", W + "contentPart": "ink", W + "shd": "shading",
}


def features(elements: Iterable[Any]) -> Counter[str]:
    """How many of each feature the model cannot hold the elements (and everything in them) carry."""
    out: Counter[str] = Counter()
    for top in elements:
        for el in top.iter():
            tag = el.tag
            if not isinstance(tag, str):
                continue
            if tag == W + "fldChar":
                if el.get(W + "fldCharType") == "begin":
                    out["a field"] += 1
            elif tag == W + "rStyle":
                out[f"the character style {el.get(W + 'val')}"] += 1
            elif tag == W + "vertAlign" and el.get(W + "val") in ("superscript", "subscript"):
                out[el.get(W + "val")] += 1
            elif tag == W + "u" and el.get(W + "val") not in (None, "single", "none"):
                out[f"a {el.get(W + 'val')} underline"] += 1
            elif tag == W + "tbl":
                parent = el.getparent()
                if any(a.tag == W + "tc" for a in el.iterancestors()):
                    out["a nested table"] += 1
                elif parent is None or parent.tag != W + "body":  # the body's tables the model holds
                    out["a table"] += 1
            elif tag == W + "sectPr":
                parent = el.getparent()
                if parent is None or parent.tag != W + "body":  # the body's last one is the model's section
                    out["a section break"] += 1
            elif tag == W + "spacing" and el.getparent() is not None and el.getparent().tag == W + "rPr":
                out["character spacing"] += 1
            elif tag in _NAMES:
                out[_NAMES[tag]] += 1
    return out


def lost(before: Iterable[Any], after: Iterable[Any]) -> list[str]:
    """The features ``before`` has more of than ``after``, as "2 x a picture or drawing"."""
    gone = features(before) - features(after)
    return [name if n == 1 else f"{n} x {name}" for name, n in sorted(gone.items())]


def _text(el: Any) -> str:
    return "".join(t.text or "" for t in el.iter(W + "t"))


def hidden_text(package: Any) -> list[tuple[str, str]]:
    """(where, text) of each text the document model does not hold: text boxes and nested tables
    in the body, footnotes and endnotes (python-docx ``package``)."""
    out: list[tuple[str, str]] = []
    body = package.element.body
    if body is not None:
        for box in body.iter(W + "txbxContent"):
            out.append(("a text box", _text(box)))
        for tbl in body.iter(W + "tbl"):
            if any(a.tag == W + "tc" for a in tbl.iterancestors()):
                out.append(("a nested table", _text(tbl)))
    for part in package.part.package.iter_parts():
        name = str(part.partname)
        if name in ("/word/footnotes.xml", "/word/endnotes.xml") and hasattr(part, "element"):
            out.append(("a footnote" if "foot" in name else "an endnote", _text(part.element)))
        elif name in ("/word/footnotes.xml", "/word/endnotes.xml"):
            from lxml import etree

            try:
                out.append(("a footnote" if "foot" in name else "an endnote", _text(etree.fromstring(part.blob))))
            except etree.XMLSyntaxError:
                continue
    return [(w, t) for w, t in out if t.strip()]
