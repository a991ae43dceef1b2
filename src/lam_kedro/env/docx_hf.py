"""Patching a header or footer part to the model's text, page numbers and watermark.

The model holds a header as lines of text (one per paragraph, tables' and text boxes' included,
blank lines at either end dropped), whether a PAGE field is there, and the watermark's text. An
edit patches the part the text was read from: lines are aligned, a changed line keeps its
paragraph and runs (``docx_inplace.patch_text``), a new line is a paragraph after the line before
it with that line's properties, a removed line's paragraph goes (a table cell or a text box
keeps an empty one); everything else in the part (a layout table, pictures, fields, the
first-page and even-page headers, other sections' headers) is carried through. The result is
read back; when it is not what the model says, the caller writes the part anew and names what
that loses.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from lam_kedro.env import docx_xml as X
from lam_kedro.env.docx_inplace import patch_text, text_runs

__all__ = ["patch_header_footer", "patch_watermark"]

W = f"{{{X.W_NS}}}"
_BLOCKS = (W + "p", W + "tbl", W + "sdt")


def _lines(root: Any, reader: Any) -> tuple[list[Any], list[str], bool]:
    """(text paragraphs, their texts, whether a PAGE field is there) as ``docx_io`` reads them."""
    paras, page = [], False
    for p in root.iter(W + "p"):
        if X.has_page_field(p):
            page = True
        else:
            paras.append(p)
    return paras, [reader._plain_text(p) for p in paras], page


def _new_paragraph(like: Any | None, text: str) -> Any:
    """A paragraph holding ``text``, with the properties of ``like`` and of its first run."""
    from docx.oxml import OxmlElement

    if like is None:
        p = OxmlElement("w:p")
    else:
        p = copy.deepcopy(like)
        runs = [r for r, _ in text_runs(p)]
        keep = runs[0] if runs else None
        for c in list(p):
            if c.tag != W + "pPr" and c is not keep:
                p.remove(c)
        if keep is not None:
            for c in list(keep):
                if c.tag != W + "rPr":
                    keep.remove(c)
    patch_text(p, "", text)
    return p


def _remove_line(p: Any, text: str) -> None:
    parent = p.getparent()
    if sum(1 for c in parent if c.tag in _BLOCKS) > 1:
        parent.remove(p)
    else:  # a table cell, a text box or the part itself needs one paragraph
        patch_text(p, text, "")


def _patch(root: Any, old_text: str, new_text: str, old_pn: bool, new_pn: bool, reader: Any) -> bool:
    paras, texts, page = _lines(root, reader)
    if "\n".join(texts).strip("\n") != old_text or page != old_pn:
        return False
    if old_text != new_text:
        new_lines = new_text.split("\n") if new_text else []
        if not new_text:
            full = [""] * len(texts)
        elif not old_text:
            full = new_lines + [""] * max(0, len(texts) - 1)
        else:
            lead = next(i for i, t in enumerate(texts) if t)
            trail = next(i for i, t in enumerate(reversed(texts)) if t)
            full = [""] * lead + new_lines + [""] * trail
        sm = difflib.SequenceMatcher(None, texts, full, autojunk=False)
        for tag, i1, i2, j1, j2 in reversed(sm.get_opcodes()):
            if tag == "equal":
                continue
            n = min(i2 - i1, j2 - j1)
            for k in range(n):
                if not patch_text(paras[i1 + k], texts[i1 + k], full[j1 + k]):
                    return False
            for k in range(i1 + n, i2):
                _remove_line(paras[k], texts[k])
            anchor = paras[i1 + n - 1] if n else (paras[i1 - 1] if i1 > 0 else None)
            for line in full[j1 + n:j2]:
                new_p = _new_paragraph(anchor if anchor is not None else (paras[0] if paras else None), line)
                if anchor is not None:
                    anchor.addnext(new_p)
                elif paras:
                    paras[0].addprevious(new_p)
                else:
                    root.insert(0, new_p)
                anchor = new_p
    if old_pn and not new_pn:
        for p in [p for p in root.iter(W + "p") if X.has_page_field(p)]:
            _remove_line(p, reader._plain_text(p))
    elif new_pn and not old_pn:
        root.append(X.page_number_paragraph())
    _, texts, page = _lines(root, reader)
    return "\n".join(texts).strip("\n") == new_text and page == new_pn


def patch_header_footer(hf: Any, old_text: str, new_text: str, old_pn: bool, new_pn: bool, reader: Any) -> bool:
    """Patch the header or footer part ``hf`` (python-docx) from the model's old text and page
    numbers to the new ones; ``False`` (and ``hf`` untouched) when the result would not read back."""
    root = hf._element
    work = copy.deepcopy(root)
    if not _patch(work, old_text, new_text, old_pn, new_pn, reader):
        return False
    for c in list(root):
        root.remove(c)
    for c in list(work):
        root.append(c)
    return True


def _watermark_paths(package: Any) -> list[Any]:
    out, seen = [], set()
    for s in package.sections:
        for hf in (s.header, s.first_page_header, s.even_page_header):
            if hf.is_linked_to_previous or id(hf._element) in seen:
                continue
            seen.add(id(hf._element))
            out += [tp for tp in hf._element.iter(f"{{{X.V_NS}}}textpath") if tp.get("string")]
    return out


def patch_watermark(package: Any, header: Any, new: str | None) -> None:
    """Set the watermark's text where it is (every header that shows it), remove it, or add it to
    ``header`` (python-docx) when there is none."""
    paths = _watermark_paths(package)
    if new is None:
        for tp in paths:
            run = next((a for a in tp.iterancestors(W + "r")), None)
            if run is not None and run.getparent() is not None:
                run.getparent().remove(run)
        return
    if paths:
        for tp in paths:
            tp.set("string", new)
        return
    header.is_linked_to_previous = False
    root = header._element
    first = root.find(W + "p")
    if first is None:
        from docx.oxml import OxmlElement

        first = OxmlElement("w:p")
        root.insert(0, first)
    first.append(X.watermark_run(new))
