"""Lossless saving: a document read from a .docx is saved by patching its own package.

``load_docx`` keeps the package it read (``DocxSource``: every zip entry, the model as loaded, and
how many model blocks each top-level body element produced). ``save_docx`` then:

- writes every part back byte for byte when the model is unchanged (a load and save is a copy);
- otherwise opens the original package, keeps each body element whose blocks are unchanged (its
  XML, with everything the model cannot represent: merged and nested tables, tab stops,
  character styles, sub/superscript, underline styles, pictures, fields, bookmarks ...), writes
  only the blocks an action changed, patches only the section attributes, header, footer and
  decorations that changed, and copies every part whose XML did not change from the original
  (compared canonically, so python-docx's re-serialisation does not count as a change).

Comments an action added are written on the paragraphs of their anchor (those are rewritten);
comments an action deleted are removed with their range marks and references. What it cannot
patch falls back to writing a new package (``docx_write``), as documents built in code always
are; ``patch_limits`` says why.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from lam_kedro.env.document import Document, PageBreak, Paragraph, Table
from lam_kedro.env.document_parts import merge_runs

__all__ = ["DocxSource", "block_key", "patch_limits", "save_patched"]


@dataclass(frozen=True)
class DocxSource:
    """The package a document was read from: entries in order, the model as read, body groups."""

    path: str
    entries: tuple[tuple[zipfile.ZipInfo, bytes], ...]
    baseline: Document
    group_sizes: tuple[int, ...]
    comment_ids: tuple[str, ...] = ()

    @classmethod
    def capture(cls, path: Path, doc: Document, groups: list[tuple[Any, int]],
                comment_ids: list[str] | None = None) -> DocxSource:
        with zipfile.ZipFile(path) as zf:
            entries = tuple((info, zf.read(info.filename)) for info in zf.infolist())
        baseline = doc.copy()
        baseline.source = None
        return cls(str(path), entries, baseline, tuple(n for _, n in groups), tuple(comment_ids or ()))

    def package_bytes(self) -> bytes:
        buf = io.BytesIO()
        _write_entries(buf, [(info, data) for info, data in self.entries])
        return buf.getvalue()


def block_key(block: Any) -> tuple:
    """Equal for blocks the model cannot tell apart (run splits and empty runs do not count)."""
    if isinstance(block, Paragraph):
        runs = tuple((r.text, r.fmt) for r in merge_runs(list(block.runs)) if r.text)
        return ("p", block.style, block.fmt, block.list_kind, runs, tuple(block.hyperlinks))
    if isinstance(block, Table):
        return ("t", tuple(tuple(r) for r in block.rows), block.style)
    return ("pb",)


def _section_tuple(doc: Document) -> tuple:
    s = doc.section
    return (s.orientation, s.page_width, s.page_height, s.margin_top, s.margin_bottom, s.margin_left,
            s.margin_right, s.columns, s.header, s.footer, s.page_numbers)


def _comments(doc: Document) -> list[tuple[str, str, str]]:
    return [(c.text, c.anchor, c.author) for c in doc.comments]


def patch_limits(doc: Document) -> str | None:
    """Why ``doc`` cannot be saved by patching its package (``None``: it can)."""
    if doc.source is None:
        return "the document was not read from a .docx"
    if len(doc.source.comment_ids) != len(doc.source.baseline.comments):
        return "its comments could not be matched to the package's"
    return None


def _comment_changes(doc: Document, base: Document) -> tuple[list[int], list[int]]:
    """(baseline comments deleted, current comments added), by index: kept ones match in order."""
    import difflib

    sm = difflib.SequenceMatcher(a=_comments(base), b=_comments(doc), autojunk=False)
    deleted: list[int] = []
    added: list[int] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag != "equal":
            deleted += range(i1, i2)
            added += range(j1, j2)
    return deleted, added


def save_patched(doc: Document, path: Path) -> bool:
    """Save ``doc`` by patching the package it was read from; ``False`` if it cannot be patched."""
    if patch_limits(doc) is not None:
        return False
    src: DocxSource = doc.source
    base = src.baseline
    same_body = [block_key(b) for b in base.blocks] == [block_key(b) for b in doc.blocks]
    same_deco = (_section_tuple(doc), doc.watermark, doc.page_color, doc.page_border) == (
        _section_tuple(base), base.watermark, base.page_color, base.page_border)
    if same_body and same_deco and _comments(doc) == _comments(base):
        _write_entries(path, list(src.entries))
        return True
    try:
        new_parts = _patched_parts(doc, src, same_body, same_deco)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError):
        return False
    if new_parts is None:
        return False
    _write_entries(path, _merge(src.entries, new_parts))
    return True


def _patched_parts(doc: Document, src: DocxSource, same_body: bool, same_deco: bool) -> dict[str, bytes] | None:
    import docx

    from lam_kedro.env.docx_write import PatchWriter

    pkg = docx.Document(io.BytesIO(src.package_bytes()))
    body = pkg.element.body
    if body is None:
        return None
    children = list(body)
    if len(children) != len(src.group_sizes):
        return None
    writer = PatchWriter(pkg, doc)
    deleted, added = _comment_changes(doc, src.baseline)
    anchors = writer._comment_anchors()
    force = _blocks_of_paragraphs(doc, {i for c in added for i, _, _ in anchors[c]})
    para_blocks = [j for j, b in enumerate(doc.blocks) if isinstance(b, Paragraph)]
    for c in added:  # the anchor's ends become run boundaries, so the comment spans exactly it
        for i, lo, hi in anchors[c]:
            writer.cuts.setdefault(para_blocks[i], set()).update((lo, hi))
    written: dict[int, Any] = {}
    if not same_body or force:
        _patch_body(doc, src, body, children, writer, force, written)
    if deleted:
        _delete_comments(pkg, {src.comment_ids[i] for i in deleted})
    for c in added:
        writer.add_comment_on(c, anchors[c], written)
    if not same_deco:
        writer.patch_section(src.baseline)
    buf = io.BytesIO()
    pkg.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


def _blocks_of_paragraphs(doc: Document, paragraphs: set[int]) -> set[int]:
    """Block indices of the given paragraph indices."""
    out, k = set(), 0
    for j, b in enumerate(doc.blocks):
        if isinstance(b, Paragraph):
            if k in paragraphs:
                out.add(j)
            k += 1
    return out


def _delete_comments(pkg: Any, ids: set[str]) -> None:
    """Remove the comments ``ids``: their range marks and references in the body, their part entries."""
    from lam_kedro.env.docx_xml import W_NS

    w = f"{{{W_NS}}}"
    for el in list(pkg.element.body.iter(f"{w}commentRangeStart", f"{w}commentRangeEnd", f"{w}commentReference")):
        if el.get(f"{w}id") in ids:
            parent = el.getparent()
            parent.remove(el)
            if parent.tag == f"{w}r" and all(c.tag == f"{w}rPr" for c in parent):
                parent.getparent().remove(parent)
    comments = pkg.part._comments_part.element
    for c in list(comments):
        if c.get(f"{w}id") in ids:
            comments.remove(c)


def _patch_body(doc: Document, src: DocxSource, body: Any, children: list[Any], writer: Any,
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
    j, n_cur = 0, len(doc.blocks)
    while j < n_cur:
        b = match.get(j)
        if b is not None and b in firsts and not force & set(range(j, j + src.group_sizes[firsts[b]])):
            g = firsts[b]
            size = src.group_sizes[g]
            if all(match.get(j + k) == b + k for k in range(size)):
                put(children[g])
                for el in attached.get(g, []):
                    put(el)
                j += size
                continue
        block = doc.blocks[j]
        if isinstance(block, Paragraph):
            base_j = replaced.get(j) if j not in force else match.get(j)
            el = writer.write_paragraph(block, writer.cuts.get(j, set()) | _original_cuts(block, base_j, src, children))
            _keep_paragraph_props(el, block, base_j, src, children)
            _keep_run_props(writer.written[-1], block, base_j, src, children)
            if written is not None:
                written[j] = writer.written[-1]
        elif isinstance(block, Table):
            writer.write_table(block)
        elif isinstance(block, PageBreak):
            writer.write_page_break()
        j += 1
    if sect is not None and sect.getparent() is None:
        body.append(sect)


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


def _canonical(data: bytes) -> bytes | None:
    try:
        return etree.tostring(etree.fromstring(data), method="c14n")
    except etree.XMLSyntaxError:
        return None


def _union(old: bytes, new: bytes, key: str) -> bytes | None:
    """The original list (relationships, content types) plus the entries only the new one has:
    python-docx re-serialises these and drops what it does not follow; nothing of the original is
    lost, and a part an edit added (a header, the comments) still gets its entry."""
    try:
        old_root, new_root = etree.fromstring(old), etree.fromstring(new)
    except etree.XMLSyntaxError:
        return None

    def ident(el: Any) -> tuple:
        return (etree.QName(el).localname, el.get(key) or el.get("Extension", "").lower())

    have = {ident(el) for el in old_root}
    added = [el for el in new_root if ident(el) not in have]
    if not added:
        return old
    for el in added:
        old_root.append(el)
    return etree.tostring(old_root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _merge(entries: tuple[tuple[zipfile.ZipInfo, bytes], ...], new: dict[str, bytes]
           ) -> list[tuple[zipfile.ZipInfo | str, bytes]]:
    """Original entries, each replaced only where its XML changed; then the parts that are new."""
    out: list[tuple[zipfile.ZipInfo | str, bytes]] = []
    for info, data in entries:
        name = info.filename
        if name in new and new[name] != data:
            if name == "[Content_Types].xml" or name.endswith(".rels"):
                merged = _union(data, new[name], "PartName" if name == "[Content_Types].xml" else "Id")
                out.append((info, merged if merged is not None else new[name]))
                continue
            else:
                old_c = _canonical(data)
                changed = old_c is None or _canonical(new[name]) != old_c
            if changed:
                out.append((info, new[name]))
                continue
        out.append((info, data))
    names = {info.filename for info, _ in entries}
    out += [(name, data) for name, data in new.items() if name not in names]
    return out


def _write_entries(target: Any, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> None:
    if isinstance(target, (str, Path)):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            if isinstance(info, zipfile.ZipInfo):
                zf.writestr(info, data, compress_type=info.compress_type)
            else:
                zf.writestr(info, data)
