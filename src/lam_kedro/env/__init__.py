"""The simulated Microsoft Word an agent drives through UI-Automation-like controls.

``WordEnv`` (Gymnasium's reset/step shape), the shared value types, the document model and its
.docx round trip, the templates, the task families and the contract checker. Imports nothing
else of the project and no ML library. The .docx, template, task and checker names resolve on
first use, so ``import lam_kedro.env`` stays cheap (python-docx loads only when needed).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from lam_kedro.env.document import Document
from lam_kedro.env.types import Action, CheckResult, Control, Observation, Span, Task, UIStep
from lam_kedro.env.word_env import WordEnv

if TYPE_CHECKING:
    from lam_kedro.env.checker import check_env
    from lam_kedro.env.docx_io import DocxLoadError, load_docx, save_docx
    from lam_kedro.env.tasks import families, get_family, sample_task
    from lam_kedro.env.templates import Template, builtin_templates, load_template

#: Names imported on first access, from the module that defines them.
_LAZY: dict[str, str] = {
    "load_docx": "lam_kedro.env.docx_io",
    "save_docx": "lam_kedro.env.docx_io",
    "DocxLoadError": "lam_kedro.env.docx_io",
    "builtin_templates": "lam_kedro.env.templates",
    "load_template": "lam_kedro.env.templates",
    "Template": "lam_kedro.env.templates",
    "families": "lam_kedro.env.tasks",
    "get_family": "lam_kedro.env.tasks",
    "sample_task": "lam_kedro.env.tasks",
    "check_env": "lam_kedro.env.checker",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lam_kedro.env' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Action",
    "CheckResult",
    "Control",
    "Document",
    "DocxLoadError",
    "Observation",
    "Span",
    "Task",
    "Template",
    "UIStep",
    "WordEnv",
    "builtin_templates",
    "check_env",
    "families",
    "get_family",
    "load_docx",
    "load_template",
    "sample_task",
    "save_docx",
]
