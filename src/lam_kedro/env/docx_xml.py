"""Raw OOXML for what python-docx has no API for: watermark, page colour, page borders, columns,
page-number fields and hyperlinks. Each feature has a writer and a reader next to each other,
written the way Word itself writes it, so Word renders our files and we read Word's."""

from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import qn

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
V_NS = "urn:schemas-microsoft-com:vml"
O_NS = "urn:schemas-microsoft-com:office:office"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PAGE_FIELD = re.compile(r"\bPAGE\b")
# sectPr children that must come after w:pgBorders (ECMA-376 CT_SectPr order)
_AFTER_PG_BORDERS = ("lnNumType", "pgNumType", "cols", "formProt", "vAlign", "noEndnote", "titlePg",
                     "textDirection", "bidi", "rtlGutter", "docGrid", "printerSettings", "sectPrChange")


# ---------------------------------------------------------------- watermark (VML text path in a header)


def watermark_run(text: str):
    """A ``w:r`` holding Word's "PowerPlusWaterMarkObject": diagonal grey text behind the page."""
    return parse_xml(
        f'<w:r xmlns:w="{W_NS}" xmlns:v="{V_NS}" xmlns:o="{O_NS}"><w:rPr><w:noProof/></w:rPr><w:pict>'
        '<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" '
        'path="m@7,l@8,m@5,21600l@6,21600e"><v:path textpathok="t" o:connecttype="custom"/>'
        '<v:textpath on="t" fitshape="t"/><o:lock v:ext="edit" text="t" shapetype="t"/></v:shapetype>'
        '<v:shape id="PowerPlusWaterMarkObject1" o:spid="_x0000_s2049" type="#_x0000_t136" '
        'style="position:absolute;margin-left:0;margin-top:0;width:412.4pt;height:137.45pt;rotation:315;'
        'z-index:-251657216;mso-position-horizontal:center;mso-position-horizontal-relative:margin;'
        'mso-position-vertical:center;mso-position-vertical-relative:margin" o:allowincell="f" '
        'fillcolor="silver" stroked="f"><v:fill opacity=".5"/>'
        f'<v:textpath style="font-family:&quot;Calibri&quot;;font-size:1pt" string={quoteattr(text)}/>'
        "</v:shape></w:pict></w:r>"
    )


def find_watermark(element) -> str | None:
    """The text of the first VML text-path shape under ``element`` (a header), else ``None``."""
    for tp in element.iter(f"{{{V_NS}}}textpath"):
        text = tp.get("string")
        if text:
            return text
    return None


# ---------------------------------------------------------------- page number fields


def page_number_paragraph():
    """A centred header/footer paragraph holding a PAGE field (Word shows the page number)."""
    return parse_xml(
        f'<w:p xmlns:w="{W_NS}"><w:pPr><w:jc w:val="center"/></w:pPr>'
        '<w:fldSimple w:instr=" PAGE \\* MERGEFORMAT "><w:r><w:rPr><w:noProof/></w:rPr><w:t>1</w:t></w:r>'
        "</w:fldSimple></w:p>"
    )


def has_page_field(element) -> bool:
    """Whether ``element`` contains a PAGE field, simple or complex."""
    for f in element.iter(qn("w:fldSimple")):
        if _PAGE_FIELD.search(f.get(qn("w:instr")) or ""):
            return True
    return any(_PAGE_FIELD.search(t.text or "") for t in element.iter(qn("w:instrText")))


# ---------------------------------------------------------------- page colour (w:background)


def set_page_color(document, color: str) -> None:
    """``w:background`` on the document plus ``w:displayBackgroundShape`` so Word shows it."""
    root = document.element
    for old in root.findall(qn("w:background")):
        root.remove(old)
    root.insert(0, parse_xml(f'<w:background xmlns:w="{W_NS}" w:color="{color}"/>'))
    settings = document.settings.element
    if settings.find(qn("w:displayBackgroundShape")) is None:
        # it follows writeProtection/view/zoom/removePersonalInformation/removeDateAndTime
        anchor = None
        for tag in ("w:removeDateAndTime", "w:removePersonalInformation", "w:zoom", "w:view", "w:writeProtection"):
            anchor = settings.find(qn(tag))
            if anchor is not None:
                break
        el = parse_xml(f'<w:displayBackgroundShape xmlns:w="{W_NS}"/>')
        if anchor is None:
            settings.insert(0, el)
        else:
            anchor.addnext(el)


def get_page_color(document) -> str | None:
    bg = document.element.find(qn("w:background"))
    if bg is None:
        return None
    color = bg.get(qn("w:color"))
    return color.upper() if color and color.lower() != "auto" else None


# ---------------------------------------------------------------- page borders and columns (sectPr)


def set_page_border(sect_pr, kind: str) -> None:
    """``w:pgBorders``: a single line round the page, with a shadow for ``"shadow"``."""
    for old in sect_pr.findall(qn("w:pgBorders")):
        sect_pr.remove(old)
    shadow = ' w:shadow="1"' if kind == "shadow" else ""
    sides = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="24" w:color="auto"{shadow}/>'
        for side in ("top", "left", "bottom", "right")
    )
    el = parse_xml(f'<w:pgBorders xmlns:w="{W_NS}" w:offsetFrom="page">{sides}</w:pgBorders>')
    for tag in _AFTER_PG_BORDERS:
        successor = sect_pr.find(qn(f"w:{tag}"))
        if successor is not None:
            successor.addprevious(el)
            return
    sect_pr.append(el)


def get_page_border(sect_pr) -> str | None:
    borders = sect_pr.find(qn("w:pgBorders"))
    if borders is None:
        return None
    sides = [s for s in borders if s.get(qn("w:val")) not in (None, "none", "nil")]
    if not sides:
        return None
    shadow = any(s.get(qn("w:shadow")) in ("1", "true", "on") for s in sides)
    return "shadow" if shadow else "box"


def set_columns(sect_pr, n: int) -> None:
    cols = sect_pr.find(qn("w:cols"))
    if cols is None:
        cols = parse_xml(f'<w:cols xmlns:w="{W_NS}" w:space="720"/>')
        successor = next((sect_pr.find(qn(f"w:{t}")) for t in _AFTER_PG_BORDERS[3:]
                          if sect_pr.find(qn(f"w:{t}")) is not None), None)
        if successor is None:
            sect_pr.append(cols)
        else:
            successor.addprevious(cols)
    if n > 1:
        cols.set(qn("w:num"), str(n))
    elif qn("w:num") in cols.attrib:
        del cols.attrib[qn("w:num")]


def get_columns(sect_pr) -> int:
    cols = sect_pr.find(qn("w:cols"))
    num = cols.get(qn("w:num")) if cols is not None else None
    return int(num) if num and num.isdigit() and int(num) > 0 else 1


# ---------------------------------------------------------------- hyperlinks


def add_hyperlink_element(paragraph, url: str):
    """Append an external ``w:hyperlink`` to a python-docx paragraph; returns it (add runs into it)."""
    if url.startswith("#"):
        link = parse_xml(f'<w:hyperlink xmlns:w="{W_NS}" w:anchor={quoteattr(url[1:])} w:history="1"/>')
    else:
        r_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
        link = parse_xml(f'<w:hyperlink xmlns:w="{W_NS}" xmlns:r="{R_NS}" r:id="{r_id}" w:history="1"/>')
    paragraph._p.append(link)
    return link


def hyperlink_url(link, part) -> str | None:
    """Where a ``w:hyperlink`` points: its external target, or ``#anchor`` for an internal one."""
    r_id = link.get(qn("r:id"))
    if r_id:
        rel = part.rels.get(r_id)
        return rel.target_ref if rel is not None else None
    anchor = link.get(qn("w:anchor"))
    return f"#{anchor}" if anchor else None
