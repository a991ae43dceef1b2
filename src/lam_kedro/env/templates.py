"""Starting documents for tasks: the built-in set, a user's folder of .docx files, and writing them out.

The paper instantiates each task on a Word template chosen by its description; here a template is
a name, a one-sentence description to choose by, and either a builder (built-in) or a .docx path.
``load_template`` serves every reset, so it caches and hands out copies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lam_kedro.env.document import Document, RunFormat
from lam_kedro.env.docx_io import DocxLoadError, load_docx, save_docx
from lam_kedro.env.template_library import BUILDERS

__all__ = [
    "Template",
    "UnknownTemplateError",
    "builtin_templates",
    "describe_document",
    "document_features",
    "load_template",
    "templates_from_folder",
    "write_templates",
]


class UnknownTemplateError(KeyError):
    """A template name that is neither built in nor a readable .docx path."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True)
class Template:
    """A starting document: built by ``build`` (built-ins) or read from ``path`` (user files)."""

    name: str
    description: str
    build: Callable[[], Document] | None = None
    path: str | None = None

    def document(self) -> Document:
        """A fresh document for this template."""
        if self.build is not None:
            return self.build()
        if self.path is not None:
            return load_docx(self.path)
        raise ValueError(f"template {self.name!r} has neither a builder nor a path")


def builtin_templates() -> list[Template]:
    return [Template(name, desc, build) for name, (desc, build) in BUILDERS.items()]


_CACHE: dict[Any, Document] = {}


def load_template(name_or_path: str | Path) -> Document:
    """A fresh copy of a built-in template (by name) or of a .docx file (by path)."""
    key: Any = str(name_or_path)
    if key in BUILDERS:
        if key not in _CACHE:
            _CACHE[key] = BUILDERS[key][1]()
        return _CACHE[key].copy()
    path = Path(name_or_path)
    if path.suffix.lower() == ".docx" or path.exists():
        if not path.exists():
            raise UnknownTemplateError(f"template file {path} does not exist")
        stat = path.stat()
        file_key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if file_key not in _CACHE:
            _CACHE[file_key] = load_docx(path)
        return _CACHE[file_key].copy()
    raise UnknownTemplateError(
        f"unknown template {key!r}: not a .docx path and not a built-in; built-ins are {sorted(BUILDERS)}")


def describe_document(doc: Document) -> str:
    """One line to choose a user's document by: its title or first heading (else its first
    sentence), then what it contains, so a short lead like "Apple" still says what it is."""
    paras = [p for p in doc.paragraphs() if p.text.strip()]
    if not paras:
        return "An empty document."
    lead = next((p.text for p in paras if p.style == "Title" or p.style.startswith("Heading")), None)
    if lead is None:
        lead = re.split(r"(?<=[.!?])\s", paras[0].text.strip(), maxsplit=1)[0]
    f = document_features(doc)
    parts = [f"{f['paragraphs']} paragraph{'s' * (f['paragraphs'] != 1)}"]
    for key, noun in (("list_items", "list item"), ("tables", "table"), ("headings", "heading"),
                      ("comments", "comment"), ("hyperlinks", "hyperlink")):
        if f[key]:
            parts.append(f"{f[key]} {noun}{'s' * (f[key] != 1)}")
    if f["has_header"] or f["has_footer"]:
        parts.append("a header/footer")
    return _one_line(f"{_one_line(lead, 100)}: a document with {', '.join(parts)}")


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def templates_from_folder(folder: str | Path) -> tuple[list[Template], list[tuple[str, str]]]:
    """Templates for every .docx in ``folder`` (sorted), and ``(path, reason)`` for each one that
    could not be read, so the caller reports them instead of losing them silently."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"template folder {folder} does not exist")
    templates: list[Template] = []
    rejected: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.docx")):
        try:
            doc = load_docx(path)
        except DocxLoadError as err:
            rejected.append((str(path), str(err)))
            continue
        templates.append(Template(path.stem, describe_document(doc), None, str(path)))
    return templates, rejected


def document_features(doc: Document) -> dict[str, Any]:
    """What a document contains, for the template index and for choosing templates that suit a task."""
    paras = doc.paragraphs()
    styles = sorted({p.style for p in paras})
    return {
        "paragraphs": sum(1 for p in paras if p.text.strip()),
        "tables": len(doc.tables()),
        "words": len(doc.text().split()),
        "headings": sum(1 for p in paras if p.style.startswith("Heading") or p.style in ("Title", "Subtitle")),
        "list_items": sum(1 for p in paras if p.list_kind),
        "comments": len(doc.comments),
        "page_breaks": doc.page_breaks(),
        "hyperlinks": sum(len(p.hyperlinks) for p in paras),
        "formatted_runs": sum(1 for p in paras for r in p.runs if r.text and r.fmt != RunFormat()),
        "has_header": bool(doc.section.header),
        "has_footer": bool(doc.section.footer),
        "styles": styles,
    }



def write_templates(templates: list[Template], folder: str | Path) -> list[dict[str, Any]]:
    """Save each template as ``<folder>/<name>.docx``; returns one index row per template."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for t in templates:
        doc = t.document()
        path = save_docx(doc, folder / f"{t.name}.docx")
        rows.append({"name": t.name, "description": t.description, "path": str(path), **document_features(doc)})
    return rows
