"""A private real libvirtd with its qemu driver: the oracle of the QEMU backend's tests.

``start_qemu_oracle(workdir)`` starts libvirt 9.0's ``libvirtd`` with only the
qemu connection driver loaded, privileged (``qemu:///system``), inside its own
mount namespace (``unshare -m``) where /etc/libvirt, /run, /var, /etc/passwd
and /etc/group are bind mounts of files under *workdir*: the daemon neither
sees nor touches the host's libvirt state, and the ``libvirt-qemu`` account it
expects exists only there. ``qemu.conf`` runs guests and ``swtpm`` as root
without a security driver and without virtlogd (the TPMs' local CA is
``var/lib/swtpm-localca`` of the private root). The daemon exits on its own when its
parent dies (``setpriv --pdeathsig``) or after ``IDLE_TIMEOUT`` seconds without
clients (``--timeout``), so a crashed test run leaves nothing behind.

Requests go through one long-lived ``/usr/bin/python3`` process that holds a
python3-libvirt connection (``qemu_libvirt_oracle_server.py``), so
errors come back as libvirt's (code, domain, message); ``virsh`` is available
too. QEMU's capabilities probed by the daemon are kept in a private cache
directory between runs (copied in at start, out at stop) so that a warm start
takes well under a second of probing.

As a script, ``qemu_libvirt_oracle.py uri`` starts a daemon, prints its URI
and keeps it until stdin closes.

When libvirt or its qemu driver is missing the pytest fixtures fail (they skip
only with ``VIRTCORE_ALLOW_NO_LIBVIRT=1``, see ``tests/libvirt_oracle.py``);
scripts get :class:`OracleUnavailable`.
"""

from __future__ import annotations

import atexit
import glob
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Run as a script, the project root is not on the path; the shared oracle rules live there.
sys.path.append(str(Path(__file__).resolve().parents[3]))
from tests.libvirt_oracle import oracle_missing

logger = logging.getLogger(__name__)

LIBVIRTD = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
VIRSH = shutil.which("virsh") or "/usr/bin/virsh"
LIBVIRT_PYTHON = "/usr/bin/python3"
IDLE_TIMEOUT = 60
STARTUP_LIMIT = 60.0
REQUEST_LIMIT = 120.0
SERVER_SCRIPT = Path(__file__).with_name("qemu_libvirt_oracle_server.py")
CAPS_CACHE = Path(
    os.environ.get("VIRTCORE_QEMU_ORACLE_CACHE", "/var/tmp/virtcore-qemu-oracle-caps")
)

QEMU_CONF = """\
user = "root"
group = "root"
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
remember_owner = 0
swtpm_user = "root"
swtpm_group = "root"
"""

LIBVIRTD_CONF = """\
log_outputs = "3:file:{log}"
"""

_NAMESPACE_SCRIPT = (
    'mount --bind "$1/etc" /etc/libvirt && mount --bind "$1/run" /run && '
    'mount --bind "$1/var" /var && mount --bind "$1/passwd" /etc/passwd && '
    'mount --bind "$1/group" /etc/group && '
    'exec env LIBVIRT_DRIVER_DIR="$1/drivers" "$2" --timeout "$3"'
)


class OracleUnavailable(RuntimeError):
    """libvirt, its qemu driver or root privileges are missing on this host."""


@dataclass(frozen=True)
class OracleError(Exception):
    """An error reported by real libvirt: its code, domain and message."""

    code: int
    domain: int
    message: str

    def __str__(self) -> str:
        return f"libvirt error {self.code} (domain {self.domain}): {self.message}"


@dataclass(frozen=True)
class DefineOutcome:
    """What defining a document did: its inactive XML, or libvirt's error."""

    xml: str | None
    error: OracleError | None


def _qemu_driver_module() -> str:
    patterns = (
        "/usr/lib*/*/libvirt/connection-driver/libvirt_driver_qemu.so",
        "/usr/lib*/libvirt/connection-driver/libvirt_driver_qemu.so",
    )
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise OracleUnavailable("libvirt's qemu driver (libvirt-daemon-driver-qemu) is not installed")


def unavailable_reason() -> str | None:
    """Why the oracle cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the qemu oracle needs root (a privileged libvirtd)"
    for path, what in (
        (LIBVIRTD, "libvirtd (libvirt-daemon)"),
        (VIRSH, "virsh (libvirt-clients)"),
        (LIBVIRT_PYTHON, "the system python3"),
    ):
        if not os.path.exists(path):
            return f"{what} is not installed"
    try:
        _qemu_driver_module()
    except OracleUnavailable as exc:
        return str(exc)
    probe = subprocess.run(
        [LIBVIRT_PYTHON, "-c", "import libvirt"], capture_output=True, check=False, timeout=60
    )
    if probe.returncode != 0:
        return "python3-libvirt is not installed"
    return None


def _with_libvirt_qemu(source: str, line: str) -> str:
    text = Path(source).read_text()
    if any(entry.split(":", 1)[0] == "libvirt-qemu" for entry in text.splitlines()):
        return text
    return text + ("" if text.endswith("\n") else "\n") + line + "\n"


def _prepare_root(root: Path) -> None:
    # var/lib/swtpm-localca: the CA swtpm_setup signs a new TPM's certificates with.
    for sub in (
        "etc", "run", "var", "drivers", "var/cache/libvirt/qemu/capabilities",
        "var/lib/swtpm-localca",
    ):  # fmt: skip
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.symlink(_qemu_driver_module(), root / "drivers" / "libvirt_driver_qemu.so")
    (root / "etc" / "qemu.conf").write_text(QEMU_CONF)
    # The daemon sees root/var as /var.
    (root / "etc" / "libvirtd.conf").write_text(LIBVIRTD_CONF.format(log="/var/libvirtd.log"))
    (root / "passwd").write_text(
        _with_libvirt_qemu(
            "/etc/passwd", "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin"
        )
    )
    (root / "group").write_text(_with_libvirt_qemu("/etc/group", "libvirt-qemu:x:64055:"))
    cached = root / "var" / "cache" / "libvirt" / "qemu" / "capabilities"
    if CAPS_CACHE.is_dir():
        for entry in CAPS_CACHE.glob("*.xml"):
            shutil.copy2(entry, cached / entry.name)


def _save_caps_cache(root: Path) -> None:
    cached = root / "var" / "cache" / "libvirt" / "qemu" / "capabilities"
    try:
        CAPS_CACHE.mkdir(parents=True, exist_ok=True)
        for entry in cached.glob("*.xml"):
            target = CAPS_CACHE / entry.name
            temporary = target.with_suffix(f".{os.getpid()}.tmp")
            shutil.copy2(entry, temporary)
            os.replace(temporary, target)
    except OSError as exc:
        logger.warning("cannot keep the qemu capabilities cache: %s", exc)


class QemuOracle:
    """A running private libvirtd with the qemu driver, and ways to ask it things."""

    def __init__(self, workdir: Path, daemon: subprocess.Popen[bytes]) -> None:
        self.workdir = workdir
        self.socket = workdir / "run" / "libvirt" / "libvirt-sock"
        self.uri = f"qemu:///system?socket={self.socket}"
        self._daemon = daemon
        self._server: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._server_log = open(workdir / "server.log", "ab")  # noqa: SIM115 - lives with the oracle

    # -- requests through python3-libvirt ---------------------------------

    def _server_process(self) -> subprocess.Popen[str]:
        if self._server is None or self._server.poll() is not None:
            self._server = subprocess.Popen(
                [LIBVIRT_PYTHON, str(SERVER_SCRIPT), str(self.socket)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._server_log,
                text=True,
            )
        return self._server

    def request(self, op: str, **arguments: Any) -> Any:
        """Run one operation in the python3-libvirt server; raises :class:`OracleError`."""
        with self._lock:
            server = self._server_process()
            assert server.stdin is not None and server.stdout is not None
            server.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
            server.stdin.flush()
            line = server.stdout.readline()
        if not line:
            raise RuntimeError(f"the libvirt oracle server died during {op!r}: {self.log_tail()}")
        reply = json.loads(line)
        if "error" in reply:
            code, domain, message = reply["error"]
            raise OracleError(code, domain, message)
        return reply["result"]

    def define_and_dump(self, xml: str, inactive: bool = True) -> str:
        """Define *xml*, return its dumpxml (``--inactive`` by default), undefine it."""
        result: str = self.request("define_and_dump", xml=xml, inactive=inactive)
        return result

    def define_outcome(self, xml: str) -> DefineOutcome:
        """Like :meth:`define_and_dump` but returning libvirt's error instead of raising it."""
        try:
            return DefineOutcome(self.define_and_dump(xml), None)
        except OracleError as exc:
            return DefineOutcome(None, exc)

    def domxml_to_native_text(self, xml: str) -> str:
        """libvirt's ``domxml-to-native qemu-argv`` text (environment, emulator, arguments)."""
        result: str = self.request("to_native", xml=xml)
        return result

    def domxml_to_native(self, xml: str) -> list[str]:
        """The QEMU argv libvirt builds for *xml* (argv[0] is the emulator, no environment)."""
        words = split_native(self.domxml_to_native_text(xml))
        while words and "=" in words[0] and not words[0].startswith("/"):
            words.pop(0)
        return words

    def domxml_to_native_env(self, xml: str) -> dict[str, str]:
        """The environment libvirt sets for the QEMU process of *xml*."""
        env: dict[str, str] = {}
        for word in split_native(self.domxml_to_native_text(xml)):
            if "=" not in word or word.startswith("/"):
                break
            name, value = word.split("=", 1)
            env[name] = value
        return env

    def capabilities(self) -> str:
        """``virsh capabilities``."""
        result: str = self.request("capabilities")
        return result

    def domain_capabilities(
        self, emulator: str = "", arch: str = "", machine: str = "", virttype: str = ""
    ) -> str:
        """``virsh domcapabilities``."""
        result: str = self.request(
            "domcaps", emulator=emulator, arch=arch, machine=machine, virttype=virttype
        )
        return result

    def virsh(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """``virsh -c URI ARGS...`` against the private daemon."""
        return subprocess.run(
            [VIRSH, "-q", "-c", self.uri, *args],
            input=input,
            capture_output=True,
            text=True,
            check=check,
            timeout=REQUEST_LIMIT,
        )

    def log_tail(self, lines: int = 30) -> str:
        """The end of the daemon's log, for failure messages."""
        tails = []
        for log in (self.workdir / "var" / "libvirtd.log", self.workdir / "server.log"):
            try:
                tails.append("\n".join(log.read_text(errors="replace").splitlines()[-lines:]))
            except OSError:
                tails.append(f"(no {log.name})")
        return "\n".join(tails)

    def alive(self) -> bool:
        return self._daemon.poll() is None

    def stop(self) -> None:
        """Stop the server and the daemon and remove the work directory's runtime state."""
        if self._server is not None:
            if self._server.stdin is not None:
                self._server.stdin.close()
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
            if self._server.stdout is not None:
                self._server.stdout.close()
            self._server = None
        if self._daemon.poll() is None:
            self._daemon.terminate()
            try:
                self._daemon.wait(timeout=STARTUP_LIMIT)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
                self._daemon.wait()
        self._server_log.close()
        _save_caps_cache(self.workdir)

    def __enter__(self) -> QemuOracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def split_native(text: str) -> list[str]:
    """Split libvirt's shell-quoted ``qemu-argv`` text (with ``\\``-newline continuations)."""
    return shlex.split(text.replace("\\\n", " "))


def start_qemu_oracle(workdir: str | Path) -> QemuOracle:
    """Start a private libvirtd (qemu driver) under the empty directory *workdir*."""
    reason = unavailable_reason()
    if reason is not None:
        raise OracleUnavailable(reason)
    root = Path(workdir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    _prepare_root(root)
    daemon = subprocess.Popen(
        [
            "setpriv",
            "--pdeathsig",
            "TERM",
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            _NAMESPACE_SCRIPT,
            "sh",
            str(root),
            LIBVIRTD,
            str(IDLE_TIMEOUT),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    oracle = QemuOracle(root, daemon)
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        if oracle.socket.exists():
            try:
                oracle.request("ping")
                return oracle
            except (OracleError, RuntimeError):
                pass
        if daemon.poll() is not None or time.monotonic() > deadline:
            tail = oracle.log_tail()
            oracle.stop()
            raise RuntimeError(f"the private libvirtd did not start:\n{tail}")
        time.sleep(0.05)


_shared: dict[str, QemuOracle] = {}
_shared_lock = threading.Lock()


def shared_qemu_oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    """The test session's one oracle, started on first use and stopped at exit.

    A missing libvirt fails the calling test (skips it with
    ``VIRTCORE_ALLOW_NO_LIBVIRT=1``).
    """
    with _shared_lock:
        current = _shared.get("oracle")
        if current is not None and current.alive():
            return current
        reason = unavailable_reason()
        if reason is not None:
            oracle_missing(reason)
        oracle = start_qemu_oracle(tmp_path_factory.mktemp("qemu-oracle"))
        atexit.register(oracle.stop)
        _shared["oracle"] = oracle
        return oracle


@pytest.fixture(scope="session")
def qemu_oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    """Session fixture: import it into a test module (or conftest) to use the oracle."""
    return shared_qemu_oracle(tmp_path_factory)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "uri":
        import tempfile

        workdir = tempfile.mkdtemp(prefix="virtcore-qemu-oracle-")
        oracle = start_qemu_oracle(workdir)
        try:
            sys.stdout.write(oracle.uri + "\n")
            sys.stdout.flush()
            sys.stdin.read()
        finally:
            oracle.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    sys.stderr.write(f"usage: {argv[0]} uri\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
