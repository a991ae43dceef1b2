"""Writing the document model as a .docx that Word opens and ``load_docx`` reads back unchanged.

(Over 400 lines on purpose: the writer for every part of the document model (paragraphs, runs, tables, lists, sections, headers and footers) follows one XML schema top to bottom; ``docx_io`` is its reader.)

The file is built on python-docx's default template (all of Word's built-in styles, list
numbering for "List Bullet" / "List Number"); a style the template lacks is added by name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX, WD_UNDERLINE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Emu, Inches, Pt, RGBColor
from docx.text.run import Run as DocxRun

from lam_kedro.env import docx_xml as X
from lam_kedro.env.document import LIST_STYLES, PAGE_SIZES, Document, PageBreak, Paragraph, RunFormat, Table

_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
          "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}
# Word's exact page sizes in twips (portrait), so a named size stays that size in Word's UI.
_PAGE_TWIPS = {"Letter": (12240, 15840), "Legal": (12240, 20160), "A4": (11906, 16838), "A5": (8391, 11906)}
_XML_BAD = re.compile("[\x00-\x08\x0c\x0e-\x1f]")
_TWIP = 635  # EMU per twip
assert set(_PAGE_TWIPS) == set(PAGE_SIZES)


def save_docx(doc: Document, path: str | Path, allow_loss: bool = False) -> Path:
    """Write ``doc`` to ``path`` (parent folders created); returns the path.

    A document read from a .docx is saved by patching its own package (``docx_patch``): what no
    action changed comes back exactly as it was. Others (built in code) are written anew. When
    the patch would lose something the model cannot represent (an edited paragraph's picture, a
    merged paragraph's field ...), ``DocxFlattenError`` says what and nothing is written, unless
    ``allow_loss``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if doc.source is not None:
        from lam_kedro.env.docx_patch import save_patched

        if save_patched(doc, path, allow_loss):
            return path
    package = docx.Document()
    _Writer(package, doc).write()
    package.save(str(path))
    return path


class _Writer:
    def __init__(self, package: Any, doc: Document) -> None:
        self.d = package
        self.doc = doc
        self._styles: dict[tuple[str, Any], str] = {}
        self._list_num_ids = {kind: self._style_num_id(style) for kind, style in LIST_STYLES.items()}
        # runs written for each paragraph: (paragraph index, start, end, python-docx Run)
        self.written: list[list[tuple[int, int, Any]]] = []

    def write(self) -> None:
        self.d.core_properties.title = self.doc.title
        anchors = self._comment_anchors()
        cuts: dict[int, set[int]] = {}
        for spans in anchors:
            for i, lo, hi in spans:
                cuts.setdefault(i, set()).update((lo, hi))
        k = 0
        for block in self.doc.blocks:
            if isinstance(block, Paragraph):
                self._paragraph(block, cuts.get(k, set()))
                k += 1
            elif isinstance(block, Table):
                self._table(block)
            elif isinstance(block, PageBreak):
                self.d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        self._section()
        self._comments(anchors)
        if self.doc.page_color:
            X.set_page_color(self.d, self.doc.page_color)

    # ------------------------------------------------------------------ styles

    def _style(self, name: str, kind: Any = WD_STYLE_TYPE.PARAGRAPH) -> str:
        """The style's name, adding a custom style of that name when the template lacks it."""
        key = (name, kind)
        if key not in self._styles:
            styles = self.d.styles
            try:
                style = styles[name]
            except KeyError:
                style = styles.add_style(name, kind)
                if kind == WD_STYLE_TYPE.PARAGRAPH:
                    style.base_style = styles["Normal"]
                elif name == "Hyperlink":
                    style.font.color.rgb = RGBColor.from_string("0563C1")
                    style.font.underline = True
            self._styles[key] = style.name
        return self._styles[key]

    def _style_num_id(self, style_name: str) -> str | None:
        ppr = self.d.styles[style_name].element.pPr
        num_id = ppr.find(f"{qn('w:numPr')}/{qn('w:numId')}") if ppr is not None else None
        return num_id.get(qn("w:val")) if num_id is not None else None

    # ------------------------------------------------------------------ blocks

    def _paragraph(self, p: Paragraph, extra_cuts: set[int]) -> None:
        dp = self.d.add_paragraph(style=self._style(p.style or "Normal"))
        self._paragraph_format(dp, p)
        self._list(dp, p)
        text = p.text
        cuts = {0, len(text)} | {c for c in extra_cuts if 0 <= c <= len(text)}
        pos = 0
        for r in p.runs:
            pos += len(r.text)
            cuts.add(pos)
        for span, _ in p.hyperlinks:
            cuts.update((span.start, span.end))
        points = sorted(c for c in cuts if c <= len(text))
        runs_here: list[tuple[int, int, Any]] = []
        link_el, link_url = None, None
        for a, b in zip(points, points[1:], strict=False):
            if a == b:
                continue
            fmt = fmt_at(p, a)
            url = next((u for s, u in p.hyperlinks if s.start <= a < s.end), None)
            if url is None:
                link_el = None
                run = dp.add_run()
            else:
                if link_el is None or url != link_url:
                    link_el, link_url = X.add_hyperlink_element(dp, url), url
                r_el = OxmlElement("w:r")
                link_el.append(r_el)
                run = DocxRun(r_el, dp)
                run.style = self._style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
            _set_text(run, text[a:b])
            _set_run_format(run, fmt)
            runs_here.append((a, b, run))
        self.written.append(runs_here)

    def _paragraph_format(self, dp: Any, p: Paragraph) -> None:
        f, pf = p.fmt, dp.paragraph_format
        if f.alignment is not None:
            pf.alignment = _ALIGN[f.alignment]
        if f.line_spacing is not None:
            pf.line_spacing = float(f.line_spacing)
        for attr in ("left_indent", "right_indent", "first_line_indent", "space_before", "space_after"):
            value = getattr(f, attr)
            if value is not None:
                setattr(pf, attr, Emu(round(value * 20) * _TWIP))

    def _list(self, dp: Any, p: Paragraph) -> None:
        """Direct numbering where the style does not already say what the paragraph's list is."""
        style_kind = next((k for k, s in LIST_STYLES.items() if p.style == s), None)
        if p.list_kind == style_kind:
            return
        num_id = self._list_num_ids.get(p.list_kind) if p.list_kind else "0"
        if num_id is None:
            return
        ppr = dp._p.get_or_add_pPr()
        num_pr = parse_xml(
            f'<w:numPr xmlns:w="{X.W_NS}"><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>')
        style_el = ppr.find(qn("w:pStyle"))
        if style_el is not None:
            style_el.addnext(num_pr)
        else:
            ppr.insert(0, num_pr)

    def _table(self, t: Table) -> None:
        n_rows, n_cols = max(t.n_rows, 1), max(t.n_cols, 1)
        table = self.d.add_table(rows=n_rows, cols=n_cols)
        if t.style:
            table.style = self._style(t.style, WD_STYLE_TYPE.TABLE)
        for r, row in enumerate(t.rows):
            cells = table.rows[r].cells
            for c, value in enumerate(row):
                if value:
                    _set_text(cells[c].paragraphs[0].add_run(), value)

    # ------------------------------------------------------------------ section and decorations

    def _section(self) -> None:
        sec, s = self.doc.section, self.d.sections[0]
        self._page_setup(s)
        X.set_columns(s._sectPr, sec.columns)
        if self.doc.page_border:
            X.set_page_border(s._sectPr, self.doc.page_border)
        if sec.header or self.doc.watermark or sec.page_numbers == "top":
            self._header_footer(s.header, sec.header, sec.page_numbers == "top", self.doc.watermark)
        if sec.footer or sec.page_numbers == "bottom":
            self._header_footer(s.footer, sec.footer, sec.page_numbers == "bottom", None)

    def _page_setup(self, s: Any) -> None:
        sec = self.doc.section
        landscape = sec.orientation == "landscape"
        s.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        name = sec.page_size_name()
        if name is not None:
            w, h = _PAGE_TWIPS[name]
            w, h = (h, w) if sec.page_width > sec.page_height else (w, h)
            s.page_width, s.page_height = Emu(w * _TWIP), Emu(h * _TWIP)
        else:
            s.page_width, s.page_height = Inches(sec.page_width), Inches(sec.page_height)
        s.top_margin, s.bottom_margin = Inches(sec.margin_top), Inches(sec.margin_bottom)
        s.left_margin, s.right_margin = Inches(sec.margin_left), Inches(sec.margin_right)

    def _header_footer(self, hf: Any, text: str, page_numbers: bool, watermark: str | None) -> None:
        hf.is_linked_to_previous = False
        lines = text.split("\n") if text else []
        first = hf.paragraphs[0]
        if lines:
            _set_text(first.add_run(), lines[0])
        for line in lines[1:]:
            _set_text(hf.add_paragraph().add_run(), line)
        if watermark:
            first._p.append(X.watermark_run(watermark))
        if page_numbers:
            hf._element.append(X.page_number_paragraph())
        if not lines and not watermark and page_numbers:
            hf._element.remove(first._p)

    def _comment_anchors(self) -> list[list[tuple[int, int, int]]]:
        """For each comment, the (paragraph, start, end) pieces of the first occurrence of its anchor."""
        out = []
        for c in self.doc.comments:
            span = self.doc.find(c.anchor) if c.anchor else None
            pieces = []
            if span is not None:
                for i in self.doc.paragraph_range(span):
                    ps = self.doc.paragraph_span(i)
                    lo, hi = max(span.start, ps.start) - ps.start, min(span.end, ps.end) - ps.start
                    if hi > lo:
                        pieces.append((i, lo, hi))
            out.append(pieces)
        return out

    def _comments(self, anchors: list[list[tuple[int, int, int]]]) -> None:
        for c, pieces in zip(self.doc.comments, anchors, strict=True):
            runs = [run for i, lo, hi in pieces for a, b, run in self.written[i] if a >= lo and b <= hi]
            if not runs:  # the anchor text is gone: Word keeps such a comment on an empty range
                runs = [self.d.paragraphs[0].add_run()]
            initials = "".join(w[0] for w in c.author.split()[:3]).upper()
            self.d.add_comment(runs, text=_clean(c.text), author=c.author, initials=initials)


class PatchWriter(_Writer):
    """The writer over a package read from a file (``docx_patch``): writes single blocks at the
    end of the body and patches only the section settings and decorations that changed."""

    def __init__(self, package: Any, doc: Document) -> None:  # noqa: D107 - no title, no new template
        self.d = package
        self.doc = doc
        self._styles = {}
        self.written = []
        self.cuts: dict[int, set[int]] = {}  # block index -> offsets where a run must end
        self.losses: list[str] = []  # what writing anew lost, "where: what"
        self._list_num_ids = {}
        for kind, style in LIST_STYLES.items():
            try:
                self._list_num_ids[kind] = self._style_num_id(style)
            except KeyError:  # the document has no such style: the list kind is not written
                self._list_num_ids[kind] = None

    def reader(self) -> Any:
        """A reader of this package (``docx_io``), to read patched XML back as the model."""
        from lam_kedro.env.docx_io import _Reader

        return _Reader(self.d)

    def note_loss(self, where: str, before: list[Any], after: list[Any]) -> None:
        """Record what ``after`` (written anew) lacks of ``before`` (the original XML)."""
        from lam_kedro.env.docx_loss import lost

        gone = lost(before, after)
        if gone:
            self.losses.append(f"{where}: {', '.join(gone)}")

    def write_paragraph(self, p: Paragraph, cuts: set[int] | None = None) -> Any:
        self._paragraph(p, cuts or set())
        return self.d.element.body.findall(qn("w:p"))[-1]

    def write_table(self, t: Table) -> None:
        self._table(t)

    def add_comment_on(self, index: int, pieces: list[tuple[int, int, int]], written: dict[int, Any]) -> None:
        """Add comment ``index`` of the model on the runs written for its anchor's paragraphs."""
        c = self.doc.comments[index]
        para_blocks = [j for j, b in enumerate(self.doc.blocks) if isinstance(b, Paragraph)]
        runs = [run for i, lo, hi in pieces for a, b, run in written.get(para_blocks[i], []) if a >= lo and b <= hi]
        if not runs:  # the anchor text is gone: Word keeps such a comment on an empty range
            runs = [self.d.paragraphs[0].add_run()]
        initials = "".join(w[0] for w in c.author.split()[:3]).upper()
        self.d.add_comment(runs, text=_clean(c.text), author=c.author, initials=initials)

    def write_page_break(self) -> None:
        self.d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def patch_section(self, base: Document) -> None:
        """Apply what differs from ``base`` (the model as read) to the last section only."""
        sec, old, s = self.doc.section, base.section, self.d.sections[-1]
        page = ("orientation", "page_width", "page_height", "margin_top", "margin_bottom", "margin_left",
                "margin_right")
        if any(getattr(sec, a) != getattr(old, a) for a in page):
            self._page_setup(s)
        if sec.columns != old.columns:
            X.set_columns(s._sectPr, sec.columns)
        if self.doc.page_border != base.page_border:
            border = s._sectPr.find(qn("w:pgBorders"))
            if border is not None:
                s._sectPr.remove(border)
            if self.doc.page_border:
                X.set_page_border(s._sectPr, self.doc.page_border)
        self._patch_part("header", (old.header, old.page_numbers == "top"), (sec.header, sec.page_numbers == "top"))
        self._patch_part("footer", (old.footer, old.page_numbers == "bottom"),
                         (sec.footer, sec.page_numbers == "bottom"))
        if self.doc.watermark != base.watermark:
            from lam_kedro.env.docx_hf import patch_watermark

            patch_watermark(self.d, self._part("header"), self.doc.watermark)
        if self.doc.page_color != base.page_color:
            background = self.d.element.find(qn("w:background"))
            if background is not None:
                self.d.element.remove(background)
            if self.doc.page_color:
                X.set_page_color(self.d, self.doc.page_color)

    def _part(self, kind: str) -> Any:
        """The header or footer the model's text was read from (the last section's own one), else
        the last section's (linked to the previous: writing to it makes its own part)."""
        for s in reversed(self.d.sections):
            hf = getattr(s, kind)
            if not hf.is_linked_to_previous:
                return hf
        return getattr(self.d.sections[-1], kind)

    def _patch_part(self, kind: str, old: tuple[str, bool], new: tuple[str, bool]) -> None:
        """Patch the header or footer's text and page numbers (``docx_hf``); where that cannot be,
        write it anew and name what that loses."""
        import copy

        from lam_kedro.env.docx_hf import patch_header_footer

        if old == new:
            return
        hf = self._part(kind)
        if hf.is_linked_to_previous:  # no part yet: nothing to keep
            self._rewrite(hf, *new, None)
            return
        if patch_header_footer(hf, old[0], new[0], old[1], new[1], self.reader()):
            return
        before = [copy.deepcopy(c) for c in hf._element]
        self._rewrite(hf, *new, X.find_watermark(hf._element))
        self.note_loss(f"the {kind}", before, list(hf._element))

    def _rewrite(self, hf: Any, text: str, page_numbers: bool, watermark: str | None) -> None:
        hf.is_linked_to_previous = False
        for child in list(hf._element):
            if child.tag in (qn("w:p"), qn("w:tbl"), qn("w:sdt")):
                hf._element.remove(child)
        hf._element.append(OxmlElement("w:p"))
        self._header_footer(hf, text, page_numbers, watermark)


def fmt_at(p: Paragraph, offset: int) -> RunFormat:
    pos = 0
    for r in p.runs:
        if pos <= offset < pos + len(r.text):
            return r.fmt
        pos += len(r.text)
    return p.runs[-1].fmt


def _clean(text: str) -> str:
    """Text XML can hold: manual line breaks ("\\v") become python-docx's "\\n" (a w:br)."""
    return _XML_BAD.sub("", text.replace("\v", "\n").replace("\r", "\n"))


def _set_text(run: Any, text: str) -> None:
    run.text = _clean(text)


def _set_run_format(run: Any, f: RunFormat) -> None:
    font = run.font
    if f.bold:
        font.bold = True
    if f.italic:
        font.italic = True
    if f.underline:
        font.underline = WD_UNDERLINE.SINGLE
    if f.strike:
        font.strike = True
    if f.font_name:
        font.name = f.font_name
    if f.font_size:
        font.size = Pt(f.font_size)
    if f.color:
        font.color.rgb = RGBColor.from_string(f.color)
    if f.highlight:
        font.highlight_color = WD_COLOR_INDEX[f.highlight]
