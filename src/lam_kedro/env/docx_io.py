""".docx in and out of the document model: ``load_docx``, ``save_docx`` (in ``docx_write``), ``DocxLoadError``.

(Over 400 lines on purpose: the reader for every part of the document model follows one XML schema top to bottom; ``docx_write`` is its writer.)

Loading walks the body XML itself (python-docx wrappers for styles and formats), so hyperlinks,
comment ranges, page breaks, fields and content controls all land where the model expects them;
what the model cannot represent (pictures, text boxes, footnotes) is left out of the model, never an
error, and kept in the package the document carries (``Document.source``), so ``save_docx`` gives
it back (``docx_patch``).
A file that is not a readable Word package raises ``DocxLoadError`` naming the file and the fault.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.enum.text import WD_COLOR_INDEX, WD_UNDERLINE
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph as DocxParagraph
from docx.text.run import Run as DocxRun
from lxml.etree import XMLSyntaxError

from lam_kedro.env import docx_xml as X
from lam_kedro.env.document import (
    Block,
    Comment,
    Document,
    PageBreak,
    Paragraph,
    ParagraphFormat,
    Run,
    RunFormat,
    Section,
    Table,
)
from lam_kedro.env.document_parts import merge_links, merge_runs
from lam_kedro.env.docx_write import save_docx
from lam_kedro.env.types import Span

__all__ = ["DocxLoadError", "load_docx", "save_docx"]

_W_R, _W_P, _W_TBL = qn("w:r"), qn("w:p"), qn("w:tbl")
_W_HYPERLINK, _W_SDT, _W_SDT_CONTENT = qn("w:hyperlink"), qn("w:sdt"), qn("w:sdtContent")
_CONTAINERS = {qn(f"w:{t}") for t in ("ins", "smartTag", "fldSimple", "customXml", "moveTo", "dir", "bdo")}
_C_START, _C_END = qn("w:commentRangeStart"), qn("w:commentRangeEnd")
_W_PPR, _W_RPR, _W_T, _W_TAB, _W_BR, _W_CR = (qn(f"w:{t}") for t in ("pPr", "rPr", "t", "tab", "br", "cr"))
_W_NB_HYPHEN, _W_TYPE, _W_ID = qn("w:noBreakHyphen"), qn("w:type"), qn("w:id")
_ALIGN = {"left": "left", "start": "left", "center": "center", "right": "right", "end": "right",
          "both": "justify", "distribute": "justify", "mediumKashida": "justify", "highKashida": "justify",
          "lowKashida": "justify", "thaiDistribute": "justify"}
_STRICT_NS = "purl.oclc.org/ooxml"


class DocxLoadError(ValueError):
    """A file that cannot be read as a Word document; the message names the file and the fault."""


#: The largest package read, by the total uncompressed size of its parts (a zip bomb stops here).
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
#: The most body paragraphs (at any depth, tables' included) a document may have.
DEFAULT_MAX_PARAGRAPHS = 200_000


def _check_size(path: Path, zf: zipfile.ZipFile, max_bytes: int | None) -> None:
    if max_bytes is None:
        return
    total = sum(info.file_size for info in zf.infolist())
    if total > max_bytes:
        raise DocxLoadError(f"{path}: {total / 2**20:.1f} MiB uncompressed, more than the limit of "
                            f"{max_bytes / 2**20:.1f} MiB (load_docx(max_bytes=...), or max_bytes of the "
                            "DocxFolderDataset in the catalog)")


def _check_package(path: Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> None:
    """Fail early, with a message a person can act on, for the usual ways a file is not a .docx."""
    if not path.exists():
        raise DocxLoadError(f"{path}: no such file")
    if not path.is_file():
        raise DocxLoadError(f"{path}: not a file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if not zipfile.is_zipfile(path):
        what = "a corrupt or truncated zip archive" if magic.startswith(b"PK") else "not a zip archive"
        raise DocxLoadError(f"{path}: {what}; a .docx file is a zip package")
    try:
        with zipfile.ZipFile(path) as zf:
            _check_size(path, zf, max_bytes)
            names = set(zf.namelist())
            rels = zf.read("_rels/.rels").decode("utf-8", "replace") if "_rels/.rels" in names else ""
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError) as err:
        if isinstance(err, DocxLoadError):
            raise
        raise DocxLoadError(f"{path}: a corrupt zip archive ({err})") from err
    if "[Content_Types].xml" not in names or not rels:
        raise DocxLoadError(f"{path}: a zip archive but not an Office Open XML package (no content types or rels)")
    if _STRICT_NS in rels:
        raise DocxLoadError(
            f"{path}: Strict Open XML is not supported; re-save it in Word as 'Word Document (*.docx)'")


def load_docx(path: str | Path, max_bytes: int | None = DEFAULT_MAX_BYTES,
              max_paragraphs: int | None = DEFAULT_MAX_PARAGRAPHS) -> Document:
    """Read a .docx into the model; the window title is the file's stem.

    A package over ``max_bytes`` (uncompressed) or a body of more than ``max_paragraphs``
    paragraphs is refused with a ``DocxLoadError`` saying so (``None``: no limit). Loading is
    linear in the document's size.
    """
    path = Path(path)
    _check_package(path, max_bytes)
    try:
        package = docx.Document(str(path))
    except (OpcError, KeyError, ValueError, TypeError, AttributeError, IndexError, zipfile.BadZipFile,
            XMLSyntaxError, OSError, RuntimeError, EOFError, RecursionError) as err:
        raise DocxLoadError(f"{path}: python-docx cannot open it as a Word document: {type(err).__name__}: "
                            f"{err}") from err
    body = package.element.body
    if max_paragraphs is not None and body is not None:
        n = sum(1 for _ in body.iter(_W_P))
        if n > max_paragraphs:
            raise DocxLoadError(f"{path}: {n} paragraphs, more than the limit of {max_paragraphs} "
                                "(load_docx(max_paragraphs=...), or max_paragraphs of the DocxFolderDataset)")
    try:
        reader = _Reader(package)
        doc = reader.read(path.stem)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, XMLSyntaxError, RecursionError) as err:
        raise DocxLoadError(f"{path}: could not read its content ({type(err).__name__}: {err})") from err
    from lam_kedro.env.docx_patch import DocxSource

    doc.source = DocxSource.capture(path, doc, reader.groups, getattr(reader, "comment_ids", []), package)
    return doc


class _Reader:
    """One pass over a python-docx document, building model blocks."""

    def __init__(self, package: Any) -> None:
        self.d = package
        self.part = package.part
        # comment id -> (model paragraph index, offset in it) of its range start / end
        self.c_start: dict[str, tuple[int, int]] = {}
        self.c_end: dict[str, tuple[int, int]] = {}
        self.n_paras = 0
        self._num_kinds: dict[str, dict[str, str | None]] | None = None
        # Formats depend only on the pPr / rPr element, so each distinct one is read once
        # (python-docx's style lookup scans every style: per paragraph it made loading quadratic).
        self._ppr_cache: dict[tuple, tuple[str, ParagraphFormat, str | None]] = {}
        self._rpr_cache: dict[tuple, RunFormat] = {}
        self._table_styles: dict[str, str] = {}
        # (top-level body element, number of model blocks it produced), in body order
        self.groups: list[tuple[Any, int]] = []

    def read(self, title: str) -> Document:
        blocks: list[Block] = []
        body = self.d.element.body
        if body is not None:  # a package without w:body is an empty document
            for child in body:
                n = len(blocks)
                self._walk_body([child], blocks)
                self.groups.append((child, len(blocks) - n))
        sect_pr = body.find(qn("w:sectPr")) if body is not None else None
        section, watermark = self._section()
        doc = Document(
            blocks=blocks,
            section=section,
            watermark=watermark,
            page_color=X.get_page_color(self.d),
            page_border=X.get_page_border(sect_pr) if sect_pr is not None else None,
            title=title,
        )
        self.comment_ids = [str(c.comment_id) for c in self.d.comments]
        doc.comments = [Comment(c.text, self._anchor(doc, str(c.comment_id)), c.author or "")
                        for c in self.d.comments]
        return doc

    def _anchor(self, doc: Document, cid: str) -> str:
        """The text between a comment's range marks ("" when a mark is missing, e.g. in a table)."""
        if cid not in self.c_start or cid not in self.c_end:
            return ""
        n = len(doc.paragraphs())

        def pos(mark: tuple[int, int]) -> int:
            i, offset = mark
            return len(doc.text()) if i >= n else doc.paragraph_span(i).start + offset

        start, end = pos(self.c_start[cid]), pos(self.c_end[cid])
        return doc.text()[start:end] if end > start else ""

    # ------------------------------------------------------------------ body

    def _walk_body(self, container: Any, blocks: list[Block]) -> None:
        for child in container:
            if child.tag == _W_P:
                self._paragraph(child, blocks)
            elif child.tag == _W_TBL:
                blocks.append(self._table(child))
            elif child.tag == _W_SDT:
                content = child.find(_W_SDT_CONTENT)
                if content is not None:
                    self._walk_body(content, blocks)
            elif child.tag == qn("w:customXml"):
                self._walk_body(child, blocks)

    def _table(self, tbl: Any) -> Table:
        rows = []
        for tr in tbl.iter(qn("w:tr")):
            if next(tr.iterancestors(_W_TBL)) is not tbl:
                continue  # a nested table's row
            rows.append([
                "\n".join(self._plain_text(p) for p in tc.findall(_W_P))
                for tc in tr.findall(qn("w:tc"))
            ])
        style = None
        tbl_style = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblStyle')}")
        if tbl_style is not None:
            style_id = tbl_style.get(qn("w:val"))
            if style_id not in self._table_styles:
                self._table_styles[style_id] = next((s.name for s in self.d.styles if s.style_id == style_id),
                                                    style_id)
            style = self._table_styles[style_id]
        return Table(rows, style)

    def _plain_text(self, p: Any) -> str:
        return "".join(ev[1] for ev in self._events(p, None) if ev[0] == "run")

    def _events(self, el: Any, url: str | None) -> Iterator[tuple]:
        """("run", text, fmt, url) | ("break",) | ("cstart", id) | ("cend", id), in document order."""
        for child in el:
            tag = child.tag
            if tag == _W_R:
                yield from self._run_events(child, url)
            elif tag == _W_HYPERLINK:
                yield from self._events(child, X.hyperlink_url(child, self.part) or url)
            elif tag in _CONTAINERS:
                yield from self._events(child, url)
            elif tag == _W_SDT:
                content = child.find(_W_SDT_CONTENT)
                if content is not None:
                    yield from self._events(content, url)
            elif tag == _C_START:
                yield ("cstart", child.get(_W_ID))
            elif tag == _C_END:
                yield ("cend", child.get(_W_ID))

    def _run_events(self, r: Any, url: str | None) -> Iterator[tuple]:
        fmt = self._run_format(r)
        buf: list[str] = []
        for c in r:
            tag = c.tag
            if tag == _W_T:
                buf.append(c.text or "")
            elif tag == _W_TAB:
                buf.append("\t")
            elif tag == _W_BR:
                if c.get(_W_TYPE) == "page":
                    if buf:
                        yield ("run", "".join(buf), fmt, url)
                        buf = []
                    yield ("break",)
                else:
                    buf.append("\v")  # a manual line break, as Word's own text API reports it
            elif tag == _W_CR:
                buf.append("\v")
            elif tag == _W_NB_HYPHEN:
                buf.append("-")
        if buf:
            yield ("run", "".join(buf), fmt, url)

    def _paragraph_props(self, p: Any) -> tuple[str, ParagraphFormat, str | None]:
        """(style name, paragraph format, list kind): all three are functions of the pPr element."""
        ppr = p.find(_W_PPR)
        key = _el_key(ppr) if ppr is not None else ()
        found = self._ppr_cache.get(key)
        if found is None:
            para = DocxParagraph(p, self.d._body)
            style = para.style.name if para.style is not None else "Normal"
            found = (style, self._paragraph_format(para), self._list_kind(p, para))
            self._ppr_cache[key] = found
        return found

    def _paragraph(self, p: Any, blocks: list[Block]) -> None:
        style, pfmt, kind = self._paragraph_props(p)
        runs: list[Run] = []
        links: list[tuple[Span, str]] = []
        pos = 0
        emitted = False

        def flush(force: bool) -> None:
            nonlocal runs, links, pos, emitted
            if force or runs:
                blocks.append(Paragraph(merge_runs(runs), style, pfmt, kind, merge_links(links)))
                emitted = True
                self.n_paras += 1
            runs, links, pos = [], [], 0

        for ev in self._events(p, None):
            if ev[0] == "run":
                _, text, fmt, url = ev
                runs.append(Run(text, fmt))
                if url:
                    links.append((Span(pos, pos + len(text)), url))
                pos += len(text)
            elif ev[0] == "break":
                flush(False)
                blocks.append(PageBreak())
                emitted = True
            elif ev[0] == "cstart":
                self.c_start[ev[1]] = (self.n_paras, pos)
            else:
                self.c_end[ev[1]] = (self.n_paras, pos)
        flush(not emitted)

    # ------------------------------------------------------------------ formats

    def _run_format(self, r: Any) -> RunFormat:
        rpr = r.find(_W_RPR)
        if rpr is None:
            return RunFormat()
        key = _el_key(rpr)
        found = self._rpr_cache.get(key)
        if found is None:
            found = self._rpr_cache[key] = self._read_run_format(r, rpr)
        return found

    def _read_run_format(self, r: Any, rpr: Any) -> RunFormat:
        font = DocxRun(r, None).font  # type: ignore[arg-type]
        rstyle = rpr.find(qn("w:rStyle"))
        rstyle_id = rstyle.get(qn("w:val")) if rstyle is not None else None
        u = font.underline
        color = None
        color_el = rpr.find(qn("w:color"))
        if color_el is not None and (color_el.get(qn("w:val")) or "auto").lower() != "auto":
            color = str(font.color.rgb) if font.color.rgb is not None else None
        highlight = None
        hl = rpr.find(qn("w:highlight"))
        if hl is not None:
            try:
                member = WD_COLOR_INDEX.from_xml(hl.get(qn("w:val")))
            except ValueError:  # "none" or a value Word never writes: no highlight the model knows
                member = None
            if member is not None and member.name not in ("AUTO", "INHERITED"):
                highlight = member.name
        return RunFormat(
            bold=bool(font.bold) or rstyle_id == "Strong",
            italic=bool(font.italic) or rstyle_id == "Emphasis",
            underline=u is not None and u is not False and u != WD_UNDERLINE.NONE,
            strike=bool(font.strike) or bool(font.double_strike),
            font_name=font.name,
            font_size=round(font.size.pt, 1) if font.size is not None else None,
            color=color,
            highlight=highlight,
        )

    def _paragraph_format(self, para: DocxParagraph) -> ParagraphFormat:
        pf = para.paragraph_format
        ppr = para._p.pPr
        jc = ppr.find(qn("w:jc")) if ppr is not None else None
        alignment = _ALIGN.get(jc.get(qn("w:val")) or "") if jc is not None else None
        ls = pf.line_spacing
        line_spacing = round(ls, 2) if isinstance(ls, float) else None

        def pt(length: Any) -> float | None:
            return round(length.pt, 2) if length is not None else None

        return ParagraphFormat(alignment, line_spacing, pt(pf.left_indent), pt(pf.right_indent),
                               pt(pf.first_line_indent), pt(pf.space_before), pt(pf.space_after))

    def _list_kind(self, p: Any, para: DocxParagraph) -> str | None:
        num_id, ilvl = _num_pr(p.pPr)
        style = para.style
        depth = 0
        while num_id is None and style is not None and depth < 10:
            num_id, ilvl = _num_pr(style.element.pPr)
            style, depth = style.base_style, depth + 1
        if num_id is not None:
            return self._num_kind(num_id, ilvl or "0")
        name = para.style.name if para.style is not None else ""
        if name.startswith("List Bullet"):
            return "bullet"
        if name.startswith("List Number"):
            return "number"
        return None

    def _num_kind(self, num_id: str, ilvl: str) -> str | None:
        if num_id == "0":
            return None
        if self._num_kinds is None:
            self._num_kinds = _numbering_kinds(self.part)
        levels = self._num_kinds.get(num_id)
        if levels is None:
            return None
        return levels.get(ilvl, levels.get("0"))

    # ------------------------------------------------------------------ section

    def _section(self) -> tuple[Section, str | None]:
        sections = self.d.sections if self.d.element.body is not None else []
        if len(sections) == 0:  # no w:sectPr: Word's defaults (Letter, 1" margins, no header)
            return Section(), None
        s = sections[-1]
        width = s.page_width.inches if s.page_width is not None else 8.5
        height = s.page_height.inches if s.page_height is not None else 11.0
        sec = Section(
            orientation="landscape" if width > height else "portrait",
            page_width=round(width, 2),
            page_height=round(height, 2),
            margin_top=_inches(s.top_margin, 1.0),
            margin_bottom=_inches(s.bottom_margin, 1.0),
            margin_left=_inches(s.left_margin, 1.0),
            margin_right=_inches(s.right_margin, 1.0),
            columns=X.get_columns(s._sectPr),
        )
        watermark = None
        for part_name in ("header", "footer"):
            for section in reversed(sections):
                hf = getattr(section, part_name)
                if hf.is_linked_to_previous:
                    continue
                lines = []
                for p in hf._element.iter(_W_P):
                    if X.has_page_field(p):
                        sec.page_numbers = "top" if part_name == "header" else "bottom"
                    else:
                        lines.append(self._plain_text(p))
                setattr(sec, part_name, "\n".join(lines).strip("\n"))
                break
        for section in sections:
            for hf in (section.header, section.first_page_header, section.even_page_header):
                if watermark is None and not hf.is_linked_to_previous:
                    watermark = X.find_watermark(hf._element)
        return sec, watermark


def _el_key(el: Any) -> tuple:
    """A hashable value equal for equal elements (tag, attributes, text, children): a cache key."""
    return (el.tag, tuple(el.attrib.items()), el.text, tuple(_el_key(c) for c in el))


def _inches(length: Any, default: float) -> float:
    return round(length.inches, 2) if length is not None else default


def _num_pr(ppr: Any) -> tuple[str | None, str | None]:
    if ppr is None:
        return None, None
    num_pr = ppr.find(qn("w:numPr"))
    if num_pr is None:
        return None, None
    num_id = num_pr.find(qn("w:numId"))
    ilvl = num_pr.find(qn("w:ilvl"))
    return (num_id.get(qn("w:val")) if num_id is not None else None,
            ilvl.get(qn("w:val")) if ilvl is not None else None)


def _numbering_kinds(part: Any) -> dict[str, dict[str, str | None]]:
    """numId -> {ilvl: "bullet" | "number" | None} from the numbering part (empty if none)."""
    try:
        numbering = part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract: dict[str, dict[str, str | None]] = {}
    for an in numbering.findall(qn("w:abstractNum")):
        levels: dict[str, str | None] = {}
        for lvl in an.findall(qn("w:lvl")):
            fmt_el = lvl.find(qn("w:numFmt"))
            fmt = fmt_el.get(qn("w:val")) if fmt_el is not None else "decimal"
            levels[lvl.get(qn("w:ilvl")) or "0"] = (
                "bullet" if fmt == "bullet" else None if fmt == "none" else "number")
        abstract[an.get(qn("w:abstractNumId")) or ""] = levels
    out = {}
    for num in numbering.findall(qn("w:num")):
        ref = num.find(qn("w:abstractNumId"))
        if ref is not None:
            out[num.get(qn("w:numId")) or ""] = abstract.get(ref.get(qn("w:val")) or "", {})
    return out
