"""One LibreOffice for the Writer tests of a module, started for real (no mocks of the office).

Where LibreOffice cannot be installed the tests skip and say why; where the setup installed it
(``scripts/test.sh`` sets ``LAM_REQUIRE_WRITER=1`` when ``scripts/setup_writer.sh`` succeeds and the venv can drive the office) a
missing office is a failure, so CI never passes by skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lam_kedro.env.writer import Office, WriterEnv, writer_available


def require_writer() -> None:
    """Skip (or, where the setup installed LibreOffice, fail) when the backend cannot run here."""
    reason = writer_available()
    if reason is None:
        return
    if os.environ.get("LAM_REQUIRE_WRITER") == "1":
        pytest.fail(f"LAM_REQUIRE_WRITER=1 but the writer backend cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def office() -> Iterator[Office]:
    """A running office shared by the tests of one module (each test opens its own document)."""
    require_writer()
    with Office(virtual_display=True) as office:
        yield office


@pytest.fixture
def writer_env(office: Office, tmp_path) -> Iterator[WriterEnv]:
    env = WriterEnv(office=office, work_dir=tmp_path, max_steps=12)
    yield env
    env.close()
