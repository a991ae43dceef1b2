"""LibreOffice Writer on Linux: a real office application behind the environment's contract.

``WriterEnv`` has ``WordEnv``'s ``reset`` / ``step`` contract, the same ``Observation`` (window
title, the visible controls read from the accessibility tree as UI Automation control types, the
document's text) and the same ``Action``s, so a policy, the agent loop and a served LAM drive it
unchanged; the task families' checkers judge the .docx Writer saves. ``Office`` starts and stops
LibreOffice (and a virtual display when there is no desktop); ``recipes`` holds each task family's
plan and scripted solutions in Writer's own menus and dialogs.

Needs the Debian packages ``libreoffice-writer python3-uno xvfb`` (``scripts/setup_writer.sh``);
this package imports without them and says what to install when an office is started.
"""

from __future__ import annotations

from lam_kedro.env.writer.backend import WriterEnv
from lam_kedro.env.writer.office import INSTALL_HINT, Office, OfficeDied, WriterUnavailable, writer_available

__all__ = ["INSTALL_HINT", "Office", "OfficeDied", "WriterEnv", "WriterUnavailable", "writer_available"]
