"""Build the template set: the generated templates plus every readable .docx a user supplies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import Field

from lam_kedro.env.document import Document
from lam_kedro.env.docx_io import DocxLoadError
from lam_kedro.env.templates import builtin_templates, describe_document, document_features
from lam_kedro.model.config import Params

logger = logging.getLogger(__name__)


def count_words(doc: Document) -> int:
    """Words of the body's paragraphs and of every table cell (a form laid out as a table counts)."""
    return len(doc.text().split()) + sum(len(cell.split()) for t in doc.tables() for row in t.rows for cell in row)


def _index_row(name: str, description: str, source: str, doc: Document) -> dict[str, Any]:
    return {"name": name, "description": description, "source": source, **document_features(doc)}


class TemplatesParams(Params):
    """``params:templates`` (defaults: ``conf/base/parameters_templates.yml``)."""

    builtin: bool = Field(True, description="include the generated template set (lam_kedro.env.templates)")
    min_words: int = Field(1, ge=0, description="user documents with fewer words are quarantined")


def build_templates(
    user_documents: dict[str, Callable[[], Document]], params: dict[str, Any]
) -> tuple[dict[str, Document], list[dict[str, Any]], list[dict[str, Any]]]:
    """Return ``(documents by name, index rows, quarantined files with reasons)``.

    A user document that cannot be read (Strict OOXML, a corrupt zip) goes to quarantine with
    the reader's message; the rest of the folder is still used.
    """
    documents: dict[str, Document] = {}
    index: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    p = TemplatesParams.parse(params, "params:templates")
    if p.builtin:
        for template in builtin_templates():
            doc = template.build()
            documents[template.name] = doc
            index.append(_index_row(template.name, template.description, "builtin", doc))
    min_words = p.min_words
    for name, load in sorted(user_documents.items()):
        key = f"user_{name}"
        where = str(getattr(load, "path", name))
        try:
            doc = load()
        except DocxLoadError as err:  # its message names the file
            quarantine.append({"name": name, "path": where, "reason": str(err)})
            logger.warning("template '%s' quarantined: %s", name, err)
            continue
        words = count_words(doc)
        if words < min_words:
            quarantine.append({"name": name, "path": where,
                               "reason": f"{where}: {words} words (in paragraphs and tables), fewer than "
                                         f"params:templates.min_words={min_words}"})
            continue
        documents[key] = doc
        index.append(_index_row(key, describe_document(doc), "user", doc))
    if not documents:
        raise ValueError("no templates: enable params:templates.builtin or add .docx files to the user folder")
    logger.info("%d templates (%d quarantined)", len(documents), len(quarantine))
    return documents, index, quarantine
