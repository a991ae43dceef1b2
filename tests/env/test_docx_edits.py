"""Text edits, header edits and infeasible tasks on real .docx files: an edit changes only the
XML it touches (a paragraph's text edit keeps its runs' properties and everything between them,
a header edit keeps the header's layout), and what the model cannot represent is refused with
the reason, never flattened. Each feature has a document the test builds; the corpus
(../shared/corpus/docx) is edited too."""

from __future__ import annotations

import random
from pathlib import Path

import docx
import pytest
from docx.shared import Inches
from lxml import etree

from lam_kedro.env import Action, WordEnv
from lam_kedro.env.docx_io import DocxLoadError, load_docx, save_docx
from lam_kedro.env.docx_patch import DocxFlattenError, flattening
from lam_kedro.env.feasibility import InfeasibleTask, infeasibility
from lam_kedro.env.tasks import families, get_family, make_task
from lam_kedro.env.types import Task
from tests.env.test_docx_lossless import CORPUS_FILES, NS, PNG, W, _changed, _parts, _xml, build


def _differences(a: etree._Element, b: etree._Element, path: str = "") -> list[str]:
    """Paths of the elements whose own tag, attributes or text differ, or whose children differ in number."""
    here = f"{path}/{etree.QName(a).localname}"
    if a.tag != b.tag or dict(a.attrib) != dict(b.attrib) or (a.text or "") != (b.text or ""):
        return [here]
    if len(a) != len(b):
        return [here + "[children]"]
    return [d for k, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{here}[{k}]")]


def _body(path: Path) -> etree._Element:
    return etree.fromstring(_parts(path)["word/document.xml"]).find("w:body", NS)


def _only_text_changed(before: Path, after: Path) -> list[str]:
    """The differing elements of the two bodies; the test asserts each is a w:t (text only)."""
    return _differences(_body(before), _body(after))


def _picture_paragraph(path: Path) -> Path:
    """A paragraph with text on both sides of an inline picture, then a second paragraph."""
    pic = path.with_suffix(".png")
    pic.write_bytes(PNG)
    d = docx.Document()
    p = d.add_paragraph("Before the picture ")
    p.add_run().add_picture(str(pic), width=Inches(0.5))
    p.add_run(" and after the picture some words")
    d.add_paragraph("Second paragraph here")
    d.save(str(path))
    return path


def _field_and_bookmark(path: Path) -> Path:
    d = docx.Document()
    _xml(d, '<w:bookmarkStart w:id="7" w:name="Target"/><w:r><w:t xml:space="preserve">Page </w:t></w:r>'
            '<w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'
            '<w:r><w:t xml:space="preserve"> of the report</w:t></w:r><w:bookmarkEnd w:id="7"/>')
    d.save(str(path))
    return path


# (builder, text to replace, replacement, XPath of what must survive)
TEXT_EDITS = {
    "character_styles": ("character_styles", " and ", " or ", "//w:rStyle"),
    "character_style_replaced": ("character_styles", "strong", "bold", "//w:rStyle[@w:val='Strong']"),
    "sub_superscript": ("sub_superscript", "O and x", "O plus y", "//w:vertAlign"),
    "double_underline": ("double_underline", "twice", "thrice", "//w:u[@w:val='double']"),
    "tab_stops": ("tab_stops", "Name", "Title", "//w:tabs/w:tab | //w:r/w:tab"),
    "comment_marks": ("comments", "Commented", "Reviewed", "//w:commentRangeStart | //w:commentReference"),
    "section_break": ("sections", "Portrait", "Upright", "//w:pPr/w:sectPr"),
    "picture_in_paragraph": ("picture_paragraph", "some words", "a few words", "//w:drawing"),
    "field_and_bookmark": ("field_and_bookmark", "the report", "this report", "//w:fldSimple | //w:bookmarkStart"),
}


def _build(kind: str, path: Path) -> Path:
    if kind == "picture_paragraph":
        return _picture_paragraph(path)
    if kind == "field_and_bookmark":
        return _field_and_bookmark(path)
    return build(kind, path)[0]


def _count(path: Path, xpath: str) -> float:
    return _body(path).xpath(f"count({xpath})", namespaces=NS)


@pytest.mark.parametrize("case", list(TEXT_EDITS))
def test_a_text_edit_changes_only_the_text_it_touched(case: str, tmp_path: Path) -> None:
    kind, find, repl, xpath = TEXT_EDITS[case]
    path = _build(kind, tmp_path / f"{case}.docx")
    doc = load_docx(path)
    assert doc.replace_all(find, repl, match_case=True) == 1
    out = save_docx(doc, tmp_path / "out.docx")
    assert _changed(_parts(path), _parts(out)) == {"word/document.xml"}
    diffs = _only_text_changed(path, out)
    assert diffs and all(d.endswith("/t") for d in diffs), diffs
    assert _count(out, xpath) == _count(path, xpath) > 0
    assert load_docx(out).to_dict()["blocks"] == doc.to_dict()["blocks"]


def test_an_episode_changes_only_what_its_actions_changed(tmp_path: Path) -> None:
    """Known actions through the UI (select a word in a Strong run, type over it, bold another):
    the saved body differs from the original in exactly the touched elements."""
    path = build("character_styles", tmp_path / "s.docx")[0]
    env = WordEnv(templates={"mine": load_docx(path)})
    obs, _ = env.reset(Task("t", "bold_text", "Make 'me' bold", {"text": "me"}, "mine"))
    document = obs.find("Document", "Document")
    assert document is not None
    for action in (Action(document.label, "select_text", {"text": "strong"}),
                   Action(document.label, "keyboard_input", {"keys": "bold"})):
        obs, *_ = env.step(action)
        assert obs.error is None, obs.error
    out = tmp_path / "out.docx"
    env.save(out)
    assert _changed(_parts(path), _parts(out)) == {"word/document.xml"}
    diffs = _only_text_changed(path, out)
    assert len(diffs) == 1 and diffs[0].endswith("/r[1]/t"), diffs  # the Strong run's text, nothing else
    assert _count(out, "//w:rStyle[@w:val='Strong']") == 1


def test_replaced_text_takes_the_format_of_the_run_it_replaces(tmp_path: Path) -> None:
    path = build("character_styles", tmp_path / "s.docx")[0]
    doc = load_docx(path)
    doc.replace(doc.find("emphasis"), "stress")  # the whole Emphasis run
    doc.insert_text(doc.find("strong").end, "est")  # typed after Strong: Word gives it Strong
    out = save_docx(doc, tmp_path / "out.docx")
    runs = [(r.xpath("string(w:t)", namespaces=NS), r.xpath("string(w:rPr/w:rStyle/@w:val)", namespaces=NS))
            for r in _body(out).iter(f"{{{W}}}r")]
    assert ("strongest", "Strong") in runs and ("stress", "Emphasis") in runs and (" and ", "") in runs


def test_a_format_edit_splits_only_its_run_and_keeps_its_properties(tmp_path: Path) -> None:
    path = build("sub_superscript", tmp_path / "s.docx")[0]
    doc = load_docx(path)
    doc.apply_run_format(doc.find("and"), bold=True)
    out = save_docx(doc, tmp_path / "out.docx")
    assert _count(out, "//w:vertAlign") == 2
    assert [r.xpath("string(w:t)", namespaces=NS) for r in _body(out).iter(f"{{{W}}}r")][1:] == [
        "H", "2", "O ", "and", " x", "2"]
    assert load_docx(out).format_at(load_docx(out).find("and")).bold


def test_merging_paragraphs_moves_the_second_ones_content_into_the_first(tmp_path: Path) -> None:
    path = _picture_paragraph(tmp_path / "p.docx")
    doc = load_docx(path)
    doc.delete(doc.find("words\n"))  # the paragraph mark goes: the paragraphs merge, as in Word
    out = save_docx(doc, tmp_path / "out.docx")
    assert _count(out, "//w:drawing") == 1 and _count(out, "w:p") == 1
    assert load_docx(out).text() == doc.text()


def test_a_style_change_keeps_the_section_break_in_the_paragraph_mark(tmp_path: Path) -> None:
    path = build("sections", tmp_path / "s.docx")[0]
    doc = load_docx(path)
    doc.set_style(doc.find("Portrait part"), "Heading 1")
    out = save_docx(doc, tmp_path / "out.docx")
    assert _count(out, "//w:sectPr") == 2 and _count(out, "//w:pgSz[@w:orient='landscape']") == 1
    assert load_docx(out).paragraph_at(doc.find("Portrait part").start).style == "Heading 1"


def test_adding_a_link_wraps_the_runs_in_place(tmp_path: Path) -> None:
    path = build("character_styles", tmp_path / "s.docx")[0]
    doc = load_docx(path)
    doc.add_hyperlink(doc.find("strong"), "https://example.com")
    out = save_docx(doc, tmp_path / "out.docx")
    assert _count(out, "//w:hyperlink/w:r/w:rPr/w:rStyle[@w:val='Strong']") == 1
    assert load_docx(out).paragraphs()[-1].hyperlinks == doc.paragraphs()[-1].hyperlinks


# ---------------------------------------------------------------------------- headers and footers


def _part(path: Path, name: str) -> etree._Element:
    return etree.fromstring(_parts(path)[name])


def _header_with(path: Path, text: str) -> str:
    return next(n for n, v in _parts(path).items() if n.startswith("word/header") and text.encode() in v)


def test_a_header_edit_patches_the_header_and_keeps_its_table(tmp_path: Path) -> None:
    path = build("header_table", tmp_path / "h.docx")[0]
    doc = load_docx(path)
    doc.set_header(doc.section.header.replace("Company", "Acme Ltd"))
    out = save_docx(doc, tmp_path / "out.docx")
    name = _header_with(path, "Company")
    assert _changed(_parts(path), _parts(out)) == {name}
    diffs = _differences(_part(path, name), _part(out, name))
    assert diffs and all(d.endswith("/t") for d in diffs), diffs
    assert load_docx(out).section.header == "Acme Ltd"


def test_a_new_header_line_and_page_numbers_keep_the_first_and_even_headers(tmp_path: Path) -> None:
    path = build("first_even_headers", tmp_path / "h.docx")[0]
    doc = load_docx(path)
    doc.set_header("Odd header\nSecond line")
    doc.set_page_numbers("top")
    out = save_docx(doc, tmp_path / "out.docx")
    name = _header_with(path, "Odd header")
    assert _changed(_parts(path), _parts(out)) == {name}  # first-page and even-page headers untouched
    back = load_docx(out)
    assert back.section.header == "Odd header\nSecond line" and back.section.page_numbers == "top"
    kept = _part(out, name).find("w:p", NS)
    assert etree.tostring(kept, method="c14n") == etree.tostring(_part(path, name).find("w:p", NS), method="c14n")


def test_a_watermark_is_added_to_the_header_and_removed_again(tmp_path: Path) -> None:
    path = build("first_even_headers", tmp_path / "h.docx")[0]
    doc = load_docx(path)
    doc.set_watermark("DRAFT")
    marked = save_docx(doc, tmp_path / "marked.docx")
    assert len(_changed(_parts(path), _parts(marked))) == 1 and load_docx(marked).watermark == "DRAFT"
    again = load_docx(marked)
    again.set_watermark(None)
    clean = save_docx(again, tmp_path / "clean.docx")
    assert _changed(_parts(path), _parts(clean)) == set()


# ---------------------------------------------------------------------------- refusing, not flattening


def test_a_split_that_cannot_keep_the_picture_is_refused_not_flattened(tmp_path: Path) -> None:
    path = _picture_paragraph(tmp_path / "p.docx")
    doc = load_docx(path)
    doc.insert_text(doc.find("the picture some").start, "\n")  # Enter after the picture
    losses = flattening(doc)
    assert losses and "a picture or drawing" in losses[0]
    with pytest.raises(DocxFlattenError, match="a picture or drawing"):
        save_docx(doc, tmp_path / "out.docx")
    assert not (tmp_path / "out.docx").exists()
    assert load_docx(save_docx(doc, tmp_path / "lossy.docx", allow_loss=True)).text() == doc.text()


def test_the_same_split_through_the_ui_is_refused_when_saving(tmp_path: Path) -> None:
    path = _picture_paragraph(tmp_path / "p.docx")
    env = WordEnv(templates={"mine": load_docx(path)})
    obs, _ = env.reset(Task("t", "bold_text", "Make 'words' bold", {"text": "words"}, "mine"))
    document = obs.find("Document", "Document")
    assert document is not None
    env.step(Action(document.label, "select_text", {"text": "the picture some"}))
    env.step(Action(document.label, "keyboard_input", {"keys": "{LEFT}{ENTER}"}))
    with pytest.raises(DocxFlattenError):
        env.save(tmp_path / "out.docx")


def _text_box(path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("Body text to edit")
    _xml(d, '<w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" style="width:100pt;height:40pt">'
            '<v:textbox><w:txbxContent><w:p><w:r><w:t>Boxed words</w:t></w:r></w:p></w:txbxContent>'
            "</v:textbox></v:shape></w:pict></w:r>")
    d.save(str(path))
    return path


@pytest.mark.parametrize(("kind", "text", "where"), [("text_box", "Boxed words", "a text box"),
                                                      ("nested_table", "inner", "a nested table")])
def test_a_task_on_text_the_model_does_not_hold_is_refused_with_the_reason(kind: str, text: str, where: str,
                                                                          tmp_path: Path) -> None:
    path = _text_box(tmp_path / "t.docx") if kind == "text_box" else build(kind, tmp_path / "n.docx")[0]
    doc = load_docx(path)
    assert text not in doc.summary_text()
    reason = infeasibility("bold_text", {"text": text}, doc)
    assert reason is not None and where in reason and text in reason
    env = WordEnv(templates={"mine": doc})
    with pytest.raises(InfeasibleTask, match=where):
        env.reset(Task("t", "bold_text", f"Make {text} bold", {"text": text}, "mine"))
    ok, _ = env.reset(Task("t2", "bold_text", "Make Edit bold", {"text": "Edit"}, "mine")) if kind != "text_box" \
        else env.reset(Task("t2", "bold_text", "Make Body bold", {"text": "Body"}, "mine"))
    assert ok.error is None


def test_code_built_and_featureless_documents_are_never_refused(tmp_path: Path) -> None:
    from lam_kedro.env.templates import builtin_templates, load_template

    doc = load_template(builtin_templates()[0].name)
    assert doc.source is None
    for name, fam in families().items():
        params = fam.sample_params(doc, random.Random(0))
        if params is not None:
            assert infeasibility(name, params, doc) is None, name


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_family_on_the_corpus_is_feasible_and_saves_without_loss(path: Path, tmp_path: Path) -> None:
    """Each family's sampled task, played by its scripted solution on a real document, saves by
    patching: nothing is refused, nothing is flattened, the file reads back as the model."""
    try:
        doc = load_docx(path)
    except DocxLoadError:
        pytest.skip(f"{path.name} is refused on load (Strict OOXML)")
    from lam_kedro.env.feasibility import _play

    for name in families():
        task = make_task(get_family(name), "mine", doc, 0)
        if task is None:
            continue
        after = _play(name, task.params, doc)
        out = save_docx(after, tmp_path / f"{name}.docx")  # raises DocxFlattenError on any loss
        assert load_docx(out).to_dict()["blocks"] == after.to_dict()["blocks"], name
