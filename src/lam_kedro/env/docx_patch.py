"""Lossless saving: a document read from a .docx is saved by patching its own package.

``load_docx`` keeps the package it read (``DocxSource``: every zip entry, the model as loaded, and
how many model blocks each top-level body element produced). ``save_docx`` then:

- writes every part back byte for byte when the model is unchanged (a load and save is a copy);
- otherwise opens the original package, keeps each body element whose blocks are unchanged (its
  XML, with everything the model cannot represent: merged and nested tables, tab stops,
  character styles, sub/superscript, underline styles, pictures, fields, bookmarks ...), patches
  an edited paragraph's own XML (``docx_body``, ``docx_inplace``), writes only new blocks anew,
  patches only the section attributes, header and footer lines (``docx_hf``) and decorations
  that changed, and copies every part whose XML did not change from the original (compared
  canonically, so python-docx's re-serialisation does not count as a change).

Comments an action added are put on their anchor's runs (cut at its ends); comments an action
deleted are removed with their range marks and references. Where an element must be written
anew from the model, what that loses is named (``docx_loss``) and ``save_docx`` refuses it
(``DocxFlattenError``) unless told to allow it; ``flattening(doc)`` says it without writing.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from lam_kedro.env.document import Document, Paragraph, Table
from lam_kedro.env.document_parts import merge_runs

__all__ = ["DocxFlattenError", "DocxSource", "block_key", "flattening", "patch_limits", "save_patched"]


@dataclass(frozen=True)
class DocxSource:
    """The package a document was read from: entries in order, the model as read, body groups."""

    path: str
    entries: tuple[tuple[zipfile.ZipInfo, bytes], ...]
    baseline: Document
    group_sizes: tuple[int, ...]
    comment_ids: tuple[str, ...] = ()
    #: the features of the package the model cannot hold (``docx_loss.features``), by name; none:
    #: no edit can flatten anything, so tasks on it need no feasibility check
    unmodeled: tuple[str, ...] = ()
    #: (where, text) of text the model does not hold: text boxes, nested tables, notes
    hidden_text: tuple[tuple[str, str], ...] = ()

    @classmethod
    def capture(cls, path: Path, doc: Document, groups: list[tuple[Any, int]],
                comment_ids: list[str] | None = None, package: Any = None) -> DocxSource:
        with zipfile.ZipFile(path) as zf:
            entries = tuple((info, zf.read(info.filename)) for info in zf.infolist())
        baseline = doc.copy()
        baseline.source = None
        unmodeled: tuple[str, ...] = ()
        hidden: tuple[tuple[str, str], ...] = ()
        if package is not None:
            from lam_kedro.env.docx_loss import features, hidden_text

            roots = [p.element for p in package.part.package.iter_parts()
                     if p.partname.startswith(("/word/document", "/word/header", "/word/footer"))
                     and hasattr(p, "element")]
            unmodeled = tuple(sorted(features(roots)))
            hidden = tuple(hidden_text(package)) if unmodeled else ()
        return cls(str(path), entries, baseline, tuple(n for _, n in groups), tuple(comment_ids or ()),
                   unmodeled, hidden)

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


class DocxFlattenError(ValueError):
    """Saving would lose what the model cannot represent; the message names where and what."""


def _patch(doc: Document) -> tuple[list[tuple[Any, bytes]] | None, list[str]]:
    """(the entries of the patched package, what patching loses); no entries when ``doc`` cannot be
    patched at all (then the one loss says why)."""
    why = patch_limits(doc)
    if why is not None:
        return None, [f"the whole document would be written anew from the model: {why}"]
    src: DocxSource = doc.source
    base = src.baseline
    same_body = [block_key(b) for b in base.blocks] == [block_key(b) for b in doc.blocks]
    same_deco = (_section_tuple(doc), doc.watermark, doc.page_color, doc.page_border) == (
        _section_tuple(base), base.watermark, base.page_color, base.page_border)
    if same_body and same_deco and _comments(doc) == _comments(base):
        return list(src.entries), []
    try:
        got = _patched_parts(doc, src, same_body, same_deco)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as err:
        return None, [f"the whole document would be written anew from the model: {type(err).__name__}: {err}"]
    if got is None:
        return None, ["the whole document would be written anew from the model: its body does not match it"]
    new_parts, losses = got
    return _merge(src.entries, new_parts), losses


def flattening(doc: Document) -> list[str]:
    """What saving ``doc`` would lose of its package ("where: what"), nothing written; ``[]`` for a
    document built in code (there is nothing to lose)."""
    if doc.source is None:
        return []
    return _patch(doc)[1]


def save_patched(doc: Document, path: Path, allow_loss: bool = False) -> bool:
    """Save ``doc`` by patching the package it was read from; ``False`` if it cannot be patched and
    ``allow_loss`` says to write it anew. ``DocxFlattenError`` when saving would lose what the
    model cannot represent and ``allow_loss`` is false."""
    entries, losses = _patch(doc)
    if losses and not allow_loss:
        raise DocxFlattenError(f"{path}: saving would flatten what the document model cannot represent, so "
                               f"nothing was written ({'; '.join(losses)}); save_docx(..., allow_loss=True) "
                               "writes it anyway")
    if entries is None:
        return False
    _write_entries(path, entries)
    return True


def _patched_parts(doc: Document, src: DocxSource, same_body: bool, same_deco: bool
                   ) -> tuple[dict[str, bytes], list[str]] | None:
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
        from lam_kedro.env.docx_body import patch_body

        patch_body(doc, src, body, children, writer, force, written)
    if deleted:
        _delete_comments(pkg, {src.comment_ids[i] for i in deleted})
    for c in added:
        writer.add_comment_on(c, anchors[c], written)
    if not same_deco:
        writer.patch_section(src.baseline)
    buf = io.BytesIO()
    pkg.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}, writer.losses


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
