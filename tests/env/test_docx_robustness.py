""".docx input that is valid but unusual, too large, or garbage: it loads, or it is refused with a
``DocxLoadError`` naming the file, never another exception; loading is linear in size."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lam_kedro.env.document import Document
from lam_kedro.env.docx_io import DocxLoadError, load_docx

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "docx"


def _base_package(tmp_path: Path) -> dict[str, bytes]:
    path = tmp_path / "base.docx"
    d = docx.Document()
    d.add_paragraph("Hello world")
    d.save(str(path))
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(parts: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _with_body(parts: dict[str, bytes], body_xml: str | None) -> dict[str, bytes]:
    xml = parts["word/document.xml"].decode()
    xml = re.sub(r"<w:body>.*</w:body>", "" if body_xml is None else f"<w:body>{body_xml}</w:body>", xml,
                 flags=re.S)
    return {**parts, "word/document.xml": xml.encode()}


def test_a_document_without_sect_pr_loads_with_word_defaults(tmp_path: Path) -> None:
    parts = _with_body(_base_package(tmp_path), "<w:p><w:r><w:t>No section</w:t></w:r></w:p>")
    doc = load_docx(_write(parts, tmp_path / "nosect.docx"))
    assert doc.text() == "No section" and doc.section.page_width == 8.5 and doc.section.header == ""


def test_a_document_without_a_body_loads_empty(tmp_path: Path) -> None:
    doc = load_docx(_write(_with_body(_base_package(tmp_path), None), tmp_path / "nobody.docx"))
    assert doc.text() == "" and len(doc.paragraphs()) == 1


def _many_paragraphs(tmp_path: Path, n: int, name: str) -> Path:
    para = ('<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t>Para {i} '
            'words</w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t> more</w:t></w:r></w:p>')
    body = "".join(para.format(i=i) for i in range(n)) + "<w:sectPr/>"
    return _write(_with_body(_base_package(tmp_path), body), tmp_path / name)


def test_size_limits_refuse_with_a_clear_message(tmp_path: Path) -> None:
    path = _many_paragraphs(tmp_path, 300, "many.docx")
    assert len(load_docx(path).paragraphs()) == 300
    with pytest.raises(DocxLoadError, match=r"many\.docx: 300 paragraphs, more than the limit of 100"):
        load_docx(path, max_paragraphs=100)
    with pytest.raises(DocxLoadError, match=r"many\.docx: .* MiB uncompressed, more than the limit"):
        load_docx(path, max_bytes=10_000)


def test_many_paragraphs_load_whole(tmp_path: Path) -> None:
    """A long document loads every paragraph, in order. How fast is a benchmark, not a test (these
    machines are shared): benchmarks/docx_load_speed.py holds 50,000 paragraphs in <= 7 s (3.6 ms
    per paragraph before, when the style was looked up five times per paragraph)."""
    path = _many_paragraphs(tmp_path, 8_000, "p8000.docx")
    doc = load_docx(path)
    paragraphs = doc.paragraphs()
    assert len(paragraphs) == 8_000
    assert paragraphs[0].text != paragraphs[-1].text


@pytest.fixture(scope="module")
def real_docx() -> bytes:
    path = CORPUS / "tables.docx"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path.read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_garbage_docx_loads_or_is_refused_naming_the_file(tmp_path_factory, real_docx: bytes, data) -> None:
    """Mutated parts of a real document, truncated zips, random bytes: a Document or a DocxLoadError."""
    folder = tmp_path_factory.mktemp("garbage")
    with zipfile.ZipFile(io.BytesIO(real_docx)) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    how = data.draw(st.sampled_from(["mutate_part", "drop_part", "truncate", "random"]))
    path = folder / "g.docx"
    if how == "random":
        path.write_bytes(data.draw(st.binary(max_size=500)))
    elif how == "truncate":
        path.write_bytes(real_docx[: data.draw(st.integers(0, len(real_docx)))])
    else:
        name = data.draw(st.sampled_from(sorted(parts)))
        if how == "drop_part":
            del parts[name]
        else:
            blob = bytearray(parts[name])
            for _ in range(data.draw(st.integers(1, 5))):
                if blob:
                    i = data.draw(st.integers(0, len(blob) - 1))
                    blob[i] = data.draw(st.integers(0, 255))
            cut = data.draw(st.integers(0, len(blob)))
            parts[name] = bytes(blob[:cut]) + data.draw(st.binary(max_size=40))
        _write(parts, path)
    try:
        doc = load_docx(path)
    except DocxLoadError as err:
        assert str(path) in str(err)
    else:
        assert isinstance(doc, Document)
