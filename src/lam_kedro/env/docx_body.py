"""The body of a patched package: each top-level element kept, patched in place or written anew.

``patch_body`` aligns the blocks as read with the blocks now (``difflib`` over ``block_key``):
an unchanged element keeps its XML; an edited paragraph is patched in place (``docx_inplace``),
also one that paragraphs were merged into (their content moved in, as Word does); a new
paragraph written after one of the same style takes that one's paragraph properties; only where
patching cannot give the model's paragraph is it written anew from the model, keeping what it
can of the original's properties, and what that loses is recorded (``PatchWriter.note_loss``).
"""

from __future__ import annotations

from typing import Any

from lam_kedro.env.document import Document, PageBreak, Paragraph, Table
from lam_kedro.env.docx_patch import DocxSource, block_key

__all__ = ["patch_body"]


def patch_body(doc: Document, src: DocxSource, body: Any, children: list[Any], writer: Any,
                force: set[int] = frozenset(), written: dict[int, Any] | None = None) -> None:
    """Rebuild the body: unchanged groups keep their XML, changed blocks are written anew."""
    import difflib

    from lam_kedro.env.docx_xml import W_NS

    sect_tag = f"{{{W_NS}}}sectPr"
    base_keys = [block_key(b) for b in src.baseline.blocks]
    cur_keys = [block_key(b) for b in doc.blocks]
    match: dict[int, int] = {}  # current block -> baseline block
    sm = difflib.SequenceMatcher(a=base_keys, b=cur_keys, autojunk=False)
    for tag, i1, i2, j1, _j2 in sm.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                match[j1 + k] = i1 + k
    # baseline block -> (group index, offset in group); groups of 0 blocks stay with the one before
    group_of: dict[int, tuple[int, int]] = {}
    start = 0
    firsts: dict[int, int] = {}
    for g, n in enumerate(src.group_sizes):
        for k in range(n):
            group_of[start + k] = (g, k)
        if n:
            firsts[start] = g
        start += n
    # a current block that replaced one baseline block (1:1): its paragraph properties can stay
    replaced: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                replaced[j1 + k] = i1 + k
    # a current paragraph that several baseline ones were merged into (a deleted paragraph mark)
    merged: dict[int, list[int]] = {}
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "replace" and j2 - j1 == 1 and i2 - i1 > 1:
            merged[j1] = [i for i in range(i1, i2) if isinstance(src.baseline.blocks[i], Paragraph)]
    sect = next((c for c in reversed(children) if c.tag == sect_tag), None)
    for c in children:
        if c is not sect:
            body.remove(c)
    attached: dict[int, list[Any]] = {}  # group -> the 0-block elements that follow it
    owner = -1
    for g, n in enumerate(src.group_sizes):
        if children[g] is sect:
            continue
        if n == 0:
            attached.setdefault(owner, []).append(children[g])
        else:
            owner = g

    def put(el: Any) -> None:
        if sect is not None:
            sect.addprevious(el)
        else:
            body.append(el)

    for el in attached.get(-1, []):
        put(el)
    used: set[int] = set()  # the original paragraphs an edited one was patched or rewritten from
    kept: set[int] = set()  # groups kept as they were
    out_el: dict[int, Any] = {}  # current paragraph -> the element written for it
    j, n_cur = 0, len(doc.blocks)
    while j < n_cur:
        b = match.get(j)
        if b is not None and b in firsts and not force & set(range(j, j + src.group_sizes[firsts[b]])):
            g = firsts[b]
            size = src.group_sizes[g]
            if all(match.get(j + k) == b + k for k in range(size)):
                put(children[g])
                kept.add(g)
                if size == 1:
                    out_el[j] = children[g]
                for el in attached.get(g, []):
                    put(el)
                j += size
                continue
        block = doc.blocks[j]
        if isinstance(block, Paragraph):
            base_j = match[j] if j in match else replaced.get(j)
            orig = _original_paragraph(base_j, src, children) if base_j is not None else None
            if j in merged:
                el = _merged_in_place(merged[j], block, src, children, writer, used)
                if el is not None:
                    put(el)
                    out_el[j] = el
                    j += 1
                    continue
            if orig is not None:
                used.add(id(orig))
                el = _in_place(orig, src.baseline.blocks[base_j], block, writer, writer.cuts.get(j), written, j)
                if el is not None:
                    put(el)
                    out_el[j] = el
                    j += 1
                    continue
            el = writer.write_paragraph(block, writer.cuts.get(j, set()) | _original_cuts(block, base_j, src, children))
            _keep_paragraph_props(el, block, base_j, src, children)
            _keep_run_props(writer.written[-1], block, base_j, src, children)
            out_el[j] = el
            if orig is None and j - 1 in out_el and isinstance(doc.blocks[j - 1], Paragraph):
                _inherit_props(el, out_el[j - 1], doc.blocks[j - 1], block, writer)
            if orig is not None:
                writer.note_loss(f"paragraph {j + 1} ({_quote(block.text)})", [orig], [el])
            if written is not None:
                written[j] = writer.written[-1]
        elif isinstance(block, Table):
            writer.write_table(block)
        elif isinstance(block, PageBreak):
            writer.write_page_break()
        j += 1
    if sect is not None and sect.getparent() is None:
        body.append(sect)
    # paragraphs merged or split by an edit were written anew: name what they held that is gone
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "replace":
            continue
        olds = [children[g] for g in sorted({group_of[b][0] for b in range(i1, i2) if b in group_of})
                if g not in kept and id(children[g]) not in used and children[g].tag == f"{{{W_NS}}}p"]
        if olds:
            where = f"paragraphs {i1 + 1}-{i2} as read" if i2 - i1 > 1 else f"paragraph {i1 + 1} as read"
            writer.note_loss(where, olds, [out_el[k] for k in range(j1, j2) if k in out_el])


def _quote(text: str, limit: int = 30) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _in_place(orig: Any, old: Any, new: Paragraph, writer: Any, cuts: set[int] | None,
              written: dict[int, Any] | None, j: int) -> Any:
    """A copy of ``orig`` patched into ``new`` (``docx_inplace``), cut at ``cuts`` for comments an
    edit added; ``None`` when it cannot be (the caller writes the paragraph anew)."""
    import copy

    from lam_kedro.env.docx_inplace import patch_paragraph, split_at

    if not isinstance(old, Paragraph):
        return None
    el = copy.deepcopy(orig)
    if not patch_paragraph(el, writer.d._body, old, new, writer, writer.reader()):
        return None
    if cuts and written is not None:
        written[j] = split_at(el, cuts, writer.d._body)
    return el


def _merged_in_place(bases: list[int], new: Paragraph, src: DocxSource, children: list[Any], writer: Any,
                     used: set[int]) -> Any:
    """The first of the paragraphs ``bases`` with the others' content moved into it (their paragraph
    marks were deleted), patched into ``new``; ``None`` when that does not read back as ``new``."""
    import copy

    from lam_kedro.env.docx_inplace import patch_paragraph
    from lam_kedro.env.docx_xml import W_NS
    from lam_kedro.env.types import Span

    origs = [_original_paragraph(b, src, children) for b in bases]
    olds = [src.baseline.blocks[b] for b in bases]
    if len(origs) < 2 or any(o is None for o in origs):
        return None
    el = copy.deepcopy(origs[0])
    runs, links, pos = [], [], 0
    for o, old in zip(origs, olds, strict=True):
        if o is not origs[0]:
            for c in o:
                if c.tag != f"{{{W_NS}}}pPr":
                    el.append(copy.deepcopy(c))
        runs += old.runs
        links += [(Span(s.start + pos, s.end + pos), u) for s, u in old.hyperlinks]
        pos += len(old.text)
    first = olds[0]
    joined = Paragraph(runs, first.style, first.fmt, first.list_kind, links)
    if not patch_paragraph(el, writer.d._body, joined, new, writer, writer.reader()):
        return None
    used.update(id(o) for o in origs)
    marks = [o.find(f"{{{W_NS}}}pPr") for o in origs[1:]]
    writer.note_loss(f"the paragraph marks merged into paragraph {bases[0] + 1} as read",
                     [m for m in marks if m is not None], [el.find(f"{{{W_NS}}}pPr")] if el.find(
                         f"{{{W_NS}}}pPr") is not None else [])
    return el


def _inherit_props(el: Any, like: Any, like_block: Paragraph, block: Paragraph, writer: Any) -> None:
    """A new paragraph after ``like`` with its style, format and list kind takes its ``w:pPr`` (as
    Word's Enter does: numbering, tab stops ...), but not its section break; kept only when the
    paragraph still reads back as ``block``."""
    import copy

    from lam_kedro.env.docx_xml import W_NS

    w = f"{{{W_NS}}}"
    if (like_block.style, like_block.fmt, like_block.list_kind) != (block.style, block.fmt, block.list_kind):
        return
    like_ppr = like.find(f"{w}pPr")
    if like_ppr is None:
        return
    new = copy.deepcopy(like_ppr)
    for c in list(new):
        if c.tag in (f"{w}sectPr", f"{w}pPrChange"):
            new.remove(c)
    old = el.find(f"{w}pPr")
    if old is not None:
        el.replace(old, new)
    else:
        el.insert(0, new)
    blocks: list[Any] = []
    writer.reader()._paragraph(el, blocks)
    if not (len(blocks) == 1 and block_key(blocks[0]) == block_key(block)):
        if old is not None:
            el.replace(new, old)
        else:
            el.remove(new)


def _keep_paragraph_props(el: Any, block: Paragraph, base_index: int | None, src: DocxSource,
                          children: list[Any]) -> None:
    """A rewritten paragraph whose style, format and list kind did not change keeps the original
    ``w:pPr`` (tab stops, numbering, borders, keep-with-next ... that the model does not hold)."""
    import copy

    from lam_kedro.env.docx_xml import W_NS

    if base_index is None:
        return
    old = src.baseline.blocks[base_index]
    if not isinstance(old, Paragraph) or (old.style, old.fmt, old.list_kind) != (block.style, block.fmt,
                                                                                 block.list_kind):
        return
    start = 0
    for g, n in enumerate(src.group_sizes):
        if start == base_index and n == 1 and children[g].tag == f"{{{W_NS}}}p":
            old_ppr = children[g].find(f"{{{W_NS}}}pPr")
            new_ppr = el.find(f"{{{W_NS}}}pPr")
            if new_ppr is not None:
                el.remove(new_ppr)
            if old_ppr is not None:
                el.insert(0, copy.deepcopy(old_ppr))
            return
        start += n


def _original_paragraph(base_index: int, src: DocxSource, children: list[Any]) -> Any:
    """The ``w:p`` that alone produced baseline block ``base_index`` (``None`` if none did)."""
    from lam_kedro.env.docx_xml import W_NS

    start = 0
    for g, n in enumerate(src.group_sizes):
        if start == base_index:
            return children[g] if n == 1 and children[g].tag == f"{{{W_NS}}}p" else None
        if start > base_index:
            return None
        start += n
    return None


def _run_spans(p: Any) -> list[tuple[int, int, Any]]:
    """(start, end, w:rPr or None) of each text-bearing run of an original paragraph, as the reader
    counts text (w:t, and one character for a tab, a line break, a non-breaking hyphen)."""
    from lam_kedro.env.docx_xml import W_NS

    w = f"{{{W_NS}}}"
    out, pos = [], 0
    for r in p.iter(f"{w}r"):
        if any(a.tag == f"{w}txbxContent" for a in r.iterancestors()):
            continue
        n = 0
        for c in r:
            if c.tag == f"{w}t":
                n += len(c.text or "")
            elif c.tag in (f"{w}tab", f"{w}cr", f"{w}noBreakHyphen") or (
                    c.tag == f"{w}br" and c.get(f"{w}type") != "page"):
                n += 1
        if n:
            out.append((pos, pos + n, r.find(f"{w}rPr")))
            pos += n
    return out


def _original_cuts(block: Paragraph, base_index: int | None, src: DocxSource, children: list[Any]) -> set[int]:
    """The original runs' boundaries when the text is unchanged, so each written run lies in one."""
    if base_index is None:
        return set()
    old = src.baseline.blocks[base_index]
    p = _original_paragraph(base_index, src, children)
    if p is None or not isinstance(old, Paragraph) or old.text != block.text:
        return set()
    return {a for a, _, _ in _run_spans(p)} | {b for _, b, _ in _run_spans(p)}


def _keep_run_props(written: list[tuple[int, int, Any]], block: Paragraph, base_index: int | None,
                    src: DocxSource, children: list[Any]) -> None:
    """In a rewritten paragraph whose text is unchanged (a format edit), a run whose format the
    edit did not change takes back the original ``w:rPr`` (character style, sub/superscript,
    underline style, ... that the model does not hold)."""
    import copy

    from lam_kedro.env.docx_write import fmt_at

    if base_index is None:
        return
    old = src.baseline.blocks[base_index]
    p = _original_paragraph(base_index, src, children)
    if p is None or not isinstance(old, Paragraph) or old.text != block.text:
        return
    spans = _run_spans(p)
    if not spans or spans[-1][1] != len(old.text):
        return  # the XML and the model disagree on the text: leave the written runs as they are
    for a, b, run in written:
        if fmt_at(block, a) != fmt_at(old, a):
            continue
        src_run = next((s for s in spans if s[0] <= a and b <= s[1]), None)
        if src_run is None:
            continue
        r = run._r
        if r.rPr is not None:
            r.remove(r.rPr)
        if src_run[2] is not None:
            r.insert(0, copy.deepcopy(src_run[2]))
