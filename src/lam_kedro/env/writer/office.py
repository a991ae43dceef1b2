"""``Office``: one LibreOffice process (and, without a desktop, one Xvfb) that this process started and owns.

Each ``Office`` has its own user profile folder (``-env:UserInstallation``), its own UNO port and,
when ``$DISPLAY`` is not set (or ``virtual_display=True``), its own virtual display, so several run
side by side (one per rollout worker) and none touches a person's LibreOffice. ``start`` launches
them and connects over UNO with retries; ``call(fn)`` runs one piece of UNO work on a watchdog
thread, and an office that crashed (the bridge is gone, the process exited) or hangs (the call
takes longer than ``call_timeout_s``) is killed and reported as ``OfficeDied``, after which
``restart`` brings up a fresh one. ``close`` (also at interpreter exit, in a multiprocessing
worker too, and as a context manager) ends every process it started, by process group, and
removes the profile folder.

The UNO bridge is the system's ``python3-uno`` (Debian's package), built for the system Python;
``import_uno`` makes it importable from the project's virtual environment (same minor version)
without leaving the system's site-packages on ``sys.path``.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import multiprocessing.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["INSTALL_HINT", "Office", "OfficeDied", "OfficeStuck", "WriterUnavailable", "import_uno", "writer_available"]

INSTALL_HINT = ("install LibreOffice Writer, its Python-UNO bridge and Xvfb: `bash scripts/setup_writer.sh` "
                "(Debian/Ubuntu: apt-get install libreoffice-writer python3-uno xvfb)")
#: Where Debian puts ``uno.py`` (python3-uno) and ``pyuno.so`` (LibreOffice's program folder).
UNO_PATHS: tuple[str, ...] = ("/usr/lib/python3/dist-packages", "/usr/lib/libreoffice/program")

T = TypeVar("T")


class WriterUnavailable(RuntimeError):
    """LibreOffice, its UNO bridge or Xvfb is missing; the message says what to install."""


class OfficeDied(RuntimeError):
    """The office crashed or hung during a call; it has been killed (``Office.restart`` starts another)."""


class OfficeStuck(OfficeDied):
    """The office runs but will not leave a state (Writer vetoes closing the document: an alert no
    button dismisses, a job in flight); the caller restarts it, as after a crash."""


def import_uno() -> Any:
    """The ``uno`` module (python3-uno), importable from this interpreter or raising ``WriterUnavailable``.

    Importing ``uno`` replaces ``builtins.__import__`` with a hook (``uno._uno_import``, for
    ``from com.sun.star... import X``) that re-raises every failed ``from`` import as a plain
    ``ImportError``; libraries that probe an optional module with ``except ModuleNotFoundError``
    (uvicorn's ``a2wsgi``) then fail in the same process. We use no such imports, so Python's own
    ``__import__`` is put back."""
    import builtins  # noqa: PLC0415

    try:
        import uno  # noqa: PLC0415
    except ImportError:
        added = [p for p in UNO_PATHS if os.path.isdir(p) and p not in sys.path]
        sys.path.extend(added)
        try:
            import uno  # noqa: PLC0415
            import unohelper  # noqa: F401, PLC0415  (loads while the path is there)
        except ImportError as err:
            raise WriterUnavailable(f"cannot import the UNO bridge ({err}); {INSTALL_HINT}") from err
        finally:
            for p in added:
                sys.path.remove(p)
    original = getattr(uno, "_builtin_import", None)
    if original is not None and builtins.__import__ is not original:
        builtins.__import__ = original
    return uno


def writer_available() -> str | None:
    """``None`` when the backend can run here, else why not (for a test's skip message)."""
    missing = [tool for tool in ("soffice", "Xvfb") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found; {INSTALL_HINT}"
    try:
        import_uno()
    except WriterUnavailable as err:
        return str(err)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_LIVE: weakref.WeakSet[Office] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for office in list(_LIVE):
        office.close()


# A multiprocessing worker (a rollout's) leaves through os._exit, which skips atexit: its
# finalizers with an exit priority run instead.
multiprocessing.util.Finalize(None, _close_all, exitpriority=100)


class Office:
    """A LibreOffice process of our own, reached over UNO.

    ``virtual_display``: ``None`` runs on ``$DISPLAY`` when it is set (a visible window on a
    desktop) and on a fresh Xvfb otherwise; ``True`` always uses Xvfb; ``False`` needs ``$DISPLAY``.
    ``start_timeout_s`` bounds the start (process up and UNO answering); ``call_timeout_s`` bounds
    every ``call``. ``started_s`` is how long the last start took.
    """

    def __init__(self, virtual_display: bool | None = None, start_timeout_s: float = 60.0,
                 call_timeout_s: float = 30.0, soffice: str = "soffice") -> None:
        self.virtual_display = virtual_display
        self.start_timeout_s = start_timeout_s
        self.call_timeout_s = call_timeout_s
        self.soffice = soffice
        self.display: str | None = None
        self.port: int | None = None
        self.profile: Path | None = None
        self.ctx: Any = None
        self.desktop: Any = None
        self.started_s = 0.0
        self.starts = 0
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._office: subprocess.Popen[bytes] | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._log: Any = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Office:
        """Start Xvfb (if needed) and soffice, and connect; a second call on a running office does nothing."""
        if self._office is not None and self._office.poll() is None and self.desktop is not None:
            return self
        self.close()
        uno = import_uno()
        if shutil.which(self.soffice) is None:
            raise WriterUnavailable(f"{self.soffice} not found; {INSTALL_HINT}")
        t0 = time.perf_counter()
        _LIVE.add(self)
        self.display = self._display()
        self.port = _free_port()
        self.profile = Path(tempfile.mkdtemp(prefix="lam-writer-profile-"))
        env = {**os.environ, "DISPLAY": self.display, "SAL_USE_VCLPLUGIN": os.environ.get("SAL_USE_VCLPLUGIN", "x11")}
        self._log = open(self.profile / "soffice.log", "wb")  # noqa: SIM115 - closed in close()
        self._office = subprocess.Popen(
            [self.soffice, f"-env:UserInstallation={self.profile.as_uri()}", "--norestore", "--nologo",
             "--nodefault", "--nolockcheck", "--nofirststartwizard",
             f"--accept=socket,host=127.0.0.1,port={self.port};urp;"],
            env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._connect(uno, t0)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lam-writer-uno")
        self.started_s = time.perf_counter() - t0
        self.starts += 1
        return self

    def _display(self) -> str:
        """``$DISPLAY``, or a new Xvfb's display (Xvfb picks a free number and tells us through a pipe)."""
        wanted = self.virtual_display if self.virtual_display is not None else not os.environ.get("DISPLAY")
        if not wanted:
            if not os.environ.get("DISPLAY"):
                raise WriterUnavailable("virtual_display=False needs $DISPLAY (a desktop session)")
            return os.environ["DISPLAY"]
        if shutil.which("Xvfb") is None:
            raise WriterUnavailable(f"Xvfb not found (no $DISPLAY to show the office on); {INSTALL_HINT}")
        read, write = os.pipe()
        try:
            self._xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"],
                pass_fds=(write,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
            os.close(write)
            write = -1
            number = b""
            deadline = time.monotonic() + 20
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = os.read(read, 16)
                if not chunk:
                    break
                number += chunk
        finally:
            os.close(read)
            if write >= 0:
                os.close(write)
        if not number.strip().isdigit():
            self.close()
            raise WriterUnavailable("Xvfb did not start (it reported no display number)")
        display = number.strip().decode()
        _wait_for_x(Path(f"/tmp/.X11-unix/X{display}"), deadline)
        return f":{display}"

    def _connect(self, uno: Any, t0: float) -> None:
        """Resolve the office's component context over the socket, retrying until it answers."""
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:socket,host=127.0.0.1,port={self.port};urp;StarOffice.ComponentContext"
        last: Exception | None = None
        while time.perf_counter() - t0 < self.start_timeout_s:
            assert self._office is not None
            code = self._office.poll()
            if code is not None:
                log = self._log_tail()
                self.close()
                raise WriterUnavailable(f"soffice exited with status {code} while starting: {log}")
            try:
                self.ctx = resolver.resolve(url)
                self.desktop = self.ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
                return
            except Exception as err:  # NoConnectException until soffice listens
                last = err
                time.sleep(0.2)
        self.close()
        raise WriterUnavailable(f"soffice did not answer on port {self.port} within {self.start_timeout_s:.0f} s: {last}")

    def _log_tail(self) -> str:
        """The last lines soffice wrote (its start-up errors), for an error message."""
        if self.profile is None or not (self.profile / "soffice.log").is_file():
            return "(no output)"
        lines = (self.profile / "soffice.log").read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-5:]) or "(no output)"

    def alive(self) -> bool:
        """Whether the office process runs and its bridge is connected."""
        return self._office is not None and self._office.poll() is None and self.desktop is not None

    def check(self) -> None:
        """``OfficeDied`` (after ending what is left of it) when the office process has exited."""
        code = self._office.poll() if self._office is not None else None
        if self._office is None or self.desktop is None:
            raise OfficeDied("the office is not running (start or restart it)")
        if code is not None:
            self.close()
            raise OfficeDied(f"the office crashed (exit status {code})")

    def _exited(self, wait_s: float = 1.0) -> bool:
        """Whether the office process has exited (waiting a moment: a killed process is reaped late)."""
        if self._office is None:
            return True
        if wait_s > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._office.wait(wait_s)
        return self._office.poll() is not None

    def pids(self) -> list[int]:
        """The ids of the processes this office started (soffice's launcher and Xvfb) that still run."""
        return [p.pid for p in (self._office, self._xvfb) if p is not None and p.poll() is None]

    def restart(self) -> Office:
        """Kill whatever is left of this office and start a fresh one."""
        self.close()
        return self.start()

    def close(self) -> None:
        """End every process this office started (by process group: soffice.bin and its helpers too)
        and remove the profile folder. Safe to call twice."""
        with self._lock:
            if self.desktop is not None and self._office is not None and self._office.poll() is None:
                # a clean quit first, on a thread: a hung office must not hang close
                quitter = threading.Thread(target=_terminate, args=(self.desktop,), daemon=True)
                quitter.start()
                quitter.join(3)
            self.ctx = self.desktop = None
            for proc in (self._office, self._xvfb):
                if proc is not None:
                    _kill_group(proc)
            self._office = self._xvfb = None
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            if self._log is not None:
                self._log.close()
                self._log = None
            if self.profile is not None:
                shutil.rmtree(self.profile, ignore_errors=True)
                self.profile = None
            _LIVE.discard(self)

    def __enter__(self) -> Office:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ work

    def service(self, name: str) -> Any:
        """An instance of the UNO service ``name`` in the office."""
        return self.ctx.ServiceManager.createInstanceWithContext(name, self.ctx)

    def call(self, fn: Callable[[], T], timeout_s: float | None = None) -> T:
        """``fn()`` on the UNO worker thread. A crash (bridge disposed, process gone) or a call past
        ``timeout_s`` (default ``call_timeout_s``) kills the office and raises ``OfficeDied``."""
        if not self.alive() or self._pool is None:
            raise OfficeDied("the office is not running (start or restart it)")
        timeout = self.call_timeout_s if timeout_s is None else timeout_s
        future = self._pool.submit(fn)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            self.close()
            raise OfficeDied(f"the office did not answer within {timeout:.0f} s (hung); it was killed") from None
        except Exception as err:
            if _bridge_error(err) or self._exited(1.0 if _uno_error(err) else 0.0):
                code = self._office.returncode if self._office is not None else None
                self.close()
                raise OfficeDied(f"the office crashed (exit status {code}): {type(err).__name__}: {err}") from err
            raise


def _terminate(desktop: Any) -> None:
    """Ask the office to quit; whatever it answers (a dead bridge raises), ``close`` kills the group next."""
    with contextlib.suppress(Exception):
        desktop.terminate()


def _wait_for_x(path: Path, deadline: float) -> None:
    """Wait until the X server accepts connections on its socket (Xvfb may report its number a
    moment before, on a loaded machine). Xvfb runs with ``-noreset``: without it, this probe's
    disconnect (its last client leaving) resets the server just as soffice connects."""
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(path))
                return
            except OSError:
                time.sleep(0.05)
    raise WriterUnavailable(f"Xvfb reported a display but {path} does not accept connections")


def _uno_error(err: BaseException) -> bool:
    """An exception the office raised (a ``com.sun.star`` type), which a dying office raises too."""
    return "com.sun.star" in f"{type(err).__module__}.{type(err).__qualname__}"


def _bridge_error(err: BaseException) -> bool:
    """A UNO error that means the connection is gone (``DisposedException``, a dead bridge)."""
    name = type(err).__name__
    text = str(err)
    return name == "DisposedException" or "bridge" in text.lower() and "dispos" in text.lower()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group ``proc`` leads, SIGKILL it after 5 s, and reap ``proc``."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
            os.killpg(proc.pid, signal.SIGCONT)  # a stopped (hung) process acts on SIGTERM only once continued
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            # the leader is gone; its group may still hold children: check the group itself
            os.killpg(proc.pid, 0)
        except (subprocess.TimeoutExpired, PermissionError):
            continue
        except ProcessLookupError:
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(1)
