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

What it cannot yet patch (a change to the comments) falls back to writing a new package
(``docx_write``), as documents built in code always are; ``patch_limits`` says why.
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

    @classmethod
    def capture(cls, path: Path, doc: Document, groups: list[tuple[Any, int]]) -> DocxSource:
        with zipfile.ZipFile(path) as zf:
            entries = tuple((info, zf.read(info.filename)) for info in zf.infolist())
        baseline = doc.copy()
        baseline.source = None
        return cls(str(path), entries, baseline, tuple(n for _, n in groups))

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
    if _comments(doc) != _comments(doc.source.baseline):
        return "its comments changed (adding or deleting comments is not patched yet)"
    return None


def save_patched(doc: Document, path: Path) -> bool:
    """Save ``doc`` by patching the package it was read from; ``False`` if it cannot be patched."""
    if patch_limits(doc) is not None:
        return False
    src: DocxSource = doc.source
    base = src.baseline
    same_body = [block_key(b) for b in base.blocks] == [block_key(b) for b in doc.blocks]
    same_deco = (_section_tuple(doc), doc.watermark, doc.page_color, doc.page_border) == (
        _section_tuple(base), base.watermark, base.page_color, base.page_border)
    if same_body and same_deco:
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
    if not same_body:
        _patch_body(doc, src, body, children, writer)
    if not same_deco:
        writer.patch_section(src.baseline)
    buf = io.BytesIO()
    pkg.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


def _patch_body(doc: Document, src: DocxSource, body: Any, children: list[Any], writer: Any) -> None:
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
        if b is not None and b in firsts:
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
            el = writer.write_paragraph(block)
            _keep_paragraph_props(el, block, replaced.get(j), src, children)
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
