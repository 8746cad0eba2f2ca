"""Persistence helpers shared by every stateful driver.

* :class:`StatePaths` — where a driver keeps its configs, runtime state, data,
  cache and logs, for a privileged daemon, an unprivileged user (XDG base
  directories) or an embedded driver rooted in one directory.
* :func:`atomic_write` / :func:`read_text` — every write goes to a temporary
  file in the same directory, is flushed and fsync'ed, renamed over the target
  and the directory is fsync'ed. A failure at any step leaves the previous
  content intact and no temporary file behind.
* :func:`safe_object_path` — object names come from users; a name can never
  address a file outside its directory.
* :class:`DirectoryLock` — one process owns a state directory; a second one
  gets :class:`~virtcore.errors.ResourceBusyError` naming the owner's pid and
  program.
* :class:`ConfigStore` — a directory of ``<name><suffix>`` files with libvirt's
  ``autostart/`` symlinks beside them.

Failures of the operating system are reported as
:class:`~virtcore.errors.SystemCallError` with libvirt-style wording
(``"cannot write data to file '/x': No space left on device"``).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import pwd
import stat
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import ClassVar, NamedTuple

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    OperationInvalidError,
    ResourceBusyError,
    SystemCallError,
    VirtError,
    XMLError,
)

__all__ = [
    "MAX_FILE_SIZE",
    "ConfigStore",
    "DirectoryLock",
    "LockOwner",
    "StatePaths",
    "atomic_write",
    "read_text",
    "safe_object_path",
]

logger = logging.getLogger(__name__)

#: Largest file :func:`read_text` accepts (stored documents are small).
MAX_FILE_SIZE = 10 * 1024 * 1024

# NAME_MAX on every filesystem a driver directory is likely to live on.
_NAME_MAX = 255
_TEMP_SUFFIX = ".tmp"


# -- directory layout -------------------------------------------------------


@dataclass(frozen=True)
class StatePaths:
    """The directories one driver uses.

    Build it with :meth:`for_driver`. Layouts (``<drv>`` is the driver name):

    ==========  =========================  ====================================  =============
    attribute   privileged                 unprivileged (XDG)                    embedded (R)
    ==========  =========================  ====================================  =============
    config_dir  /etc/virtcore/<drv>        $XDG_CONFIG_HOME/virtcore/<drv>       R/etc/<drv>
    state_dir   /run/virtcore/<drv>        $XDG_RUNTIME_DIR/virtcore/<drv>/run   R/run/<drv>
    data_dir    /var/lib/virtcore/<drv>    $XDG_DATA_HOME/virtcore/<drv>         R/lib/<drv>
    cache_dir   /var/cache/virtcore/<drv>  $XDG_CACHE_HOME/virtcore/<drv>/cache  R/cache/<drv>
    log_dir     /var/log/virtcore/<drv>    $XDG_CACHE_HOME/virtcore/<drv>/log    R/log/<drv>
    ==========  =========================  ====================================  =============

    The privileged, runtime, cache, log and embedded layouts are libvirt's
    (its qemu driver) with ``virtcore`` for ``libvirt``. Without
    ``$XDG_RUNTIME_DIR`` the runtime base falls back to the cache base, as
    libvirt's does (``~/.cache/virtcore/<drv>/run``). Unset or relative XDG
    variables fall back to ``~/.config``, ``~/.local/share`` and ``~/.cache``.
    Unlike libvirt, which keeps an unprivileged driver's bulky data (save
    images, snapshots, NVRAM) under ``~/.config``, virtcore follows the XDG
    specification and puts it under ``$XDG_DATA_HOME``.
    """

    config_dir: Path
    state_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def for_driver(
        cls,
        name: str,
        *,
        privileged: bool,
        root: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> StatePaths:
        """The layout for driver *name* (see the class documentation).

        *root* selects the embedded layout (``qemu:///embed?root=R``) and wins
        over *privileged*; it must be absolute, otherwise
        :class:`ConfigUnsupportedError` "root path must be absolute" is raised
        exactly as libvirt does. *environ* replaces :data:`os.environ` for the
        XDG and ``HOME`` lookups.
        """
        if not name or "/" in name or "\0" in name or name in (".", ".."):
            raise InvalidArgError(f"invalid driver name '{name}'")
        if root is not None:
            base = Path(os.fspath(root))
            if not base.is_absolute():
                raise ConfigUnsupportedError("root path must be absolute")
            return cls(
                config_dir=base / "etc" / name,
                state_dir=base / "run" / name,
                data_dir=base / "lib" / name,
                cache_dir=base / "cache" / name,
                log_dir=base / "log" / name,
            )
        if privileged:
            return cls(
                config_dir=Path("/etc/virtcore") / name,
                state_dir=Path("/run/virtcore") / name,
                data_dir=Path("/var/lib/virtcore") / name,
                cache_dir=Path("/var/cache/virtcore") / name,
                log_dir=Path("/var/log/virtcore") / name,
            )
        env = os.environ if environ is None else environ
        home = _home_dir(env)
        config_base = _xdg_dir(env, "XDG_CONFIG_HOME", home / ".config")
        data_base = _xdg_dir(env, "XDG_DATA_HOME", home / ".local" / "share")
        cache_base = _xdg_dir(env, "XDG_CACHE_HOME", home / ".cache")
        runtime_base = _xdg_dir(env, "XDG_RUNTIME_DIR", cache_base)
        return cls(
            config_dir=config_base / "virtcore" / name,
            state_dir=runtime_base / "virtcore" / name / "run",
            data_dir=data_base / "virtcore" / name,
            cache_dir=cache_base / "virtcore" / name / "cache",
            log_dir=cache_base / "virtcore" / name / "log",
        )

    @property
    def autostart_dir(self) -> Path:
        """Where autostart symlinks live: ``<config_dir>/autostart``."""
        return self.config_dir / "autostart"

    def ensure(self) -> None:
        """Create every directory that is missing (parents included).

        New directories get mode ``0o700``: configs may hold secrets, the
        runtime directory holds sockets, and data and logs hold guest memory
        images and command lines. Existing directories are left as they are.
        """
        for f in fields(self):
            _make_dir(getattr(self, f.name))


def _home_dir(env: Mapping[str, str]) -> Path:
    home = env.get("HOME", "")
    if os.path.isabs(home):
        return Path(home)
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def _xdg_dir(env: Mapping[str, str], var: str, default: Path) -> Path:
    # The XDG specification says relative values are invalid and are ignored.
    value = env.get(var, "")
    return Path(value) if os.path.isabs(value) else default


def _make_dir(path: Path, mode: int = 0o700) -> None:
    try:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"cannot create directory '{path}'", exc) from exc


# -- atomic files -----------------------------------------------------------


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *, mode: int = 0o600) -> None:
    """Replace *path* with *data* atomically and durably.

    The data goes to a temporary file in the same directory, which is written,
    flushed, fsync'ed, given *mode* (exactly, the umask does not apply) and
    renamed over *path*; then the directory is fsync'ed so the rename itself
    survives a crash. Readers see the old or the new content, never a mix. On
    any failure the old file is untouched, the temporary file is removed and
    :class:`SystemCallError` is raised. *str* data is written as UTF-8.
    """
    target = Path(path)
    directory = target.parent
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd = -1
    tmp: str | None = None
    step = f"cannot create file '{target}'"
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{_truncate(target.name, 100)}.", suffix=_TEMP_SUFFIX, dir=directory
        )
        step = f"cannot write data to file '{target}'"
        os.fchmod(fd, mode)
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        step = f"cannot sync file '{target}'"
        os.fsync(fd)
        os.close(fd)
        fd = -1
        step = f"cannot rename file '{tmp}' as '{target}'"
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise SystemCallError.from_os_error(step, exc) from exc
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp is not None:
            _unlink_quietly(Path(tmp))
    _fsync_dir(directory)


def read_text(path: str | os.PathLike[str], *, max_size: int = MAX_FILE_SIZE) -> str | None:
    """The UTF-8 content of *path*, or ``None`` when it does not exist.

    Other failures raise :class:`SystemCallError` (libvirt's "Failed to open
    file" / "Failed to read file" wording; a file over *max_size* bytes fails
    with ``EFBIG``, a directory with ``EISDIR``) or :class:`InternalError` for
    content that is not UTF-8 and for special files (a FIFO planted under a
    config name must not hang the reader).
    """
    target = Path(path)
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SystemCallError.from_os_error(f"Failed to open file '{target}'", exc) from exc
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(kind):
            raise InternalError(f"'{target}' is not a regular file")
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # owned by fh now
            raw = fh.read(max_size + 1)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"Failed to read file '{target}'", exc) from exc
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > max_size:
        too_big = OSError(errno.EFBIG, os.strerror(errno.EFBIG))
        raise SystemCallError.from_os_error(f"Failed to read file '{target}'", too_big)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InternalError(f"file '{target}' is not valid UTF-8 text (byte {exc.start})") from exc


def _temp_name(filename: str) -> str:
    return f".{_truncate(filename, 100)}.{os.urandom(4).hex()}{_TEMP_SUFFIX}"


def _is_temp_name(filename: str) -> bool:
    return filename.startswith(".") and filename.endswith(_TEMP_SUFFIX)


def _truncate(text: str, limit: int) -> str:
    return text.encode("utf-8", "surrogateescape")[:limit].decode("utf-8", "ignore")


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("cannot remove temporary file '%s': %s", path, exc.strerror)


def _fsync_dir(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"cannot open directory '{directory}'", exc) from exc
    try:
        os.fsync(dir_fd)
    except OSError as exc:
        # Some filesystems cannot sync a directory; the rename is all we get there.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise SystemCallError.from_os_error(
                f"cannot sync directory '{directory}'", exc
            ) from exc
    finally:
        os.close(dir_fd)


# -- object names -----------------------------------------------------------


def safe_object_path(directory: str | os.PathLike[str], name: str, suffix: str = ".xml") -> Path:
    """``<directory>/<name><suffix>``, after checking *name* cannot escape *directory*.

    Rejected, with ``ErrorDomain.DOMAIN`` errors as libvirt reports bad names:

    * an empty name — ``VIR_ERR_NO_NAME`` "missing name information";
    * a name containing ``/`` — ``VIR_ERR_XML_ERROR`` "XML error: name a/b
      cannot contain '/'" (libvirt's exact text);
    * ``.`` and ``..``, control characters (NUL included), text that cannot be
      encoded as a file name, and names whose file name would exceed 255 bytes
      — ``VIR_ERR_XML_ERROR`` with a message saying why.

    Finally the path is checked to lie directly inside the directory (after
    resolving the directory's own symlinks). The returned path is not resolved.
    """
    if not name:
        raise VirtError.from_code(ErrorNumber.NO_NAME, None, domain=ErrorDomain.DOMAIN)
    if "/" in name:
        raise XMLError(f"name {name} cannot contain '/'")
    shown = name.encode("unicode_escape", "backslashreplace").decode("ascii")
    if name in (".", ".."):
        raise XMLError(f"name {name} is not allowed")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise XMLError(f"name {shown} cannot contain control characters")
    filename = name + suffix
    try:
        encoded = filename.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise XMLError(f"name {shown} is not valid Unicode text") from exc
    if len(encoded) > _NAME_MAX:
        raise XMLError(
            f"name {_truncate(name, 40)}... is too long: its file name would be "
            f"{len(encoded)} bytes, at most {_NAME_MAX} are allowed"
        )
    base = Path(directory)
    resolved_base = Path(os.path.realpath(base))
    candidate = resolved_base / filename
    if candidate.parent != resolved_base or os.path.normpath(candidate) != str(candidate):
        raise XMLError(f"name {shown} does not name a file inside '{base}'")
    return base / filename


def _valid_name(name: str, suffix: str) -> bool:
    try:
        safe_object_path(".", name, suffix)
    except VirtError:
        return False
    return True


# -- state directory ownership ----------------------------------------------


class LockOwner(NamedTuple):
    """Who holds a state directory: what :class:`DirectoryLock` writes into its file."""

    pid: int
    program: str


class DirectoryLock:
    """Exclusive ownership of a driver's state directory by one process.

    The lock is ``flock(2)`` on ``<state_dir>/driver.pid``, a file holding
    ``"<pid> <owner>\\n"``. ``flock`` belongs to an open file description, so
    it conflicts both with other processes and with a second
    :class:`DirectoryLock` on the same directory within this process (a
    process-wide registry makes the in-process case certain even on systems
    that emulate ``flock`` with ``fcntl`` locks). The kernel drops the lock when
    the owner dies, so a file left behind by a crashed process is taken over
    silently. :meth:`release` unlinks the file, then drops the lock, like
    libvirt's pid files; :meth:`acquire` re-checks that the file it locked is
    still the one on disk, so racing owners never both succeed.
    """

    FILENAME: ClassVar[str] = "driver.pid"

    _registry: ClassVar[dict[tuple[int, int], DirectoryLock]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, state_dir: str | os.PathLike[str], owner: str) -> None:
        self.state_dir = Path(state_dir)
        self.owner = owner
        self._fd: int | None = None
        self._key: tuple[int, int] | None = None

    @property
    def path(self) -> Path:
        """The lock file, ``<state_dir>/driver.pid``."""
        return self.state_dir / self.FILENAME

    @property
    def held(self) -> bool:
        """Whether this object currently owns the directory."""
        return self._fd is not None

    @classmethod
    def read_owner(cls, state_dir: str | os.PathLike[str]) -> LockOwner | None:
        """What the lock file of *state_dir* says about its owner, if anything.

        The file may be stale; only a failed :meth:`acquire` proves ownership.
        """
        try:
            text = (Path(state_dir) / cls.FILENAME).read_text("utf-8", "replace")
        except OSError:
            return None
        pid_text, _, program = text.strip().partition(" ")
        if not pid_text.isdigit():
            return None
        return LockOwner(int(pid_text), program.strip())

    def acquire(self) -> None:
        """Take ownership without waiting; the state directory is created if missing.

        Raises :class:`ResourceBusyError` ("resource busy: state directory
        '/run/virtcore/qemu' is in use by process 1234 (virtcore-daemon)")
        when another owner holds it, :class:`InternalError` when this object
        already holds it and :class:`SystemCallError` when the file cannot be
        used.
        """
        if self._fd is not None:
            raise InternalError(f"state directory '{self.state_dir}' is already locked")
        _make_dir(self.state_dir)
        with self._registry_lock:
            fd, key = self._lock_file()
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {self.owner}\n".encode(), 0)
                os.fsync(fd)
            except OSError as exc:
                os.close(fd)
                raise SystemCallError.from_os_error(
                    f"cannot write data to file '{self.path}'", exc
                ) from exc
            self._fd, self._key = fd, key
            self._registry[key] = self
        logger.debug("acquired state directory '%s' for %s", self.state_dir, self.owner)

    def _lock_file(self) -> tuple[int, tuple[int, int]]:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise SystemCallError.from_os_error(
                    f"Failed to open pid file '{self.path}'", exc
                ) from exc
            try:
                st = os.fstat(fd)
                key = (st.st_dev, st.st_ino)
                holder = self._registry.get(key)
                if holder is not None:
                    raise self._busy(LockOwner(os.getpid(), holder.owner))
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise self._busy(self.read_owner(self.state_dir)) from None
                # The previous owner may have unlinked the file between our
                # open and flock; then we locked an orphan and must retry.
                try:
                    current = os.stat(self.path)
                except FileNotFoundError:
                    current = None
            except OSError as exc:
                os.close(fd)
                raise SystemCallError.from_os_error(
                    f"Failed to acquire pid file '{self.path}'", exc
                ) from exc
            except BaseException:
                os.close(fd)
                raise
            if current is not None and (current.st_dev, current.st_ino) == key:
                return fd, key
            os.close(fd)

    def _busy(self, owner: LockOwner | None) -> ResourceBusyError:
        if owner is None:
            who = "another process"
        elif owner.program:
            who = f"process {owner.pid} ({owner.program})"
        else:
            who = f"process {owner.pid}"
        return ResourceBusyError(f"state directory '{self.state_dir}' is in use by {who}")

    def release(self) -> None:
        """Give up ownership; does nothing when not held."""
        with self._registry_lock:
            if self._fd is None:
                return
            # Unlink while still holding the lock so a newcomer cannot lock
            # the file we are about to abandon and believe it current.
            _unlink_quietly(self.path)
            if self._key is not None:
                self._registry.pop(self._key, None)
            os.close(self._fd)
            self._fd = self._key = None
        logger.debug("released state directory '%s'", self.state_dir)

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "held" if self.held else "free"
        return f"<DirectoryLock {str(self.state_dir)!r} owner={self.owner!r} {state}>"


# -- configuration directories ----------------------------------------------


class ConfigStore:
    """A directory of ``<name><suffix>`` documents plus ``autostart/`` links.

    Every write is atomic (:func:`atomic_write`, mode ``0o600``) and every name
    goes through :func:`safe_object_path`. Autostart follows libvirt's layout:
    ``<dir>/autostart/<name><suffix>`` is a symlink to the config file. virtcore
    writes the link target relative (``../<name><suffix>``) so an embedded root
    can be moved; libvirt writes an absolute target, and :meth:`is_autostart`
    accepts either, as it compares the files the link and the config resolve to.
    *kind* names the objects in messages (``"domain"``, ``"network"``).
    """

    def __init__(
        self, directory: str | os.PathLike[str], suffix: str = ".xml", *, kind: str = "object"
    ) -> None:
        if "/" in suffix or "\0" in suffix:
            raise InvalidArgError(f"invalid config file suffix '{suffix}'")
        self.directory = Path(directory)
        self.suffix = suffix
        self.kind = kind

    @property
    def autostart_dir(self) -> Path:
        """``<directory>/autostart``."""
        return self.directory / "autostart"

    def path(self, name: str) -> Path:
        """The config file of *name* (validated, see :func:`safe_object_path`)."""
        return safe_object_path(self.directory, name, self.suffix)

    def autostart_path(self, name: str) -> Path:
        """The autostart link of *name*."""
        return safe_object_path(self.autostart_dir, name, self.suffix)

    def save(self, name: str, text: str) -> None:
        """Write *name*'s config atomically, creating the directory if needed."""
        target = self.path(name)
        _make_dir(self.directory)
        atomic_write(target, text, mode=0o600)

    def load(self, name: str) -> str | None:
        """*name*'s config, or ``None`` if it has none (see :func:`read_text`)."""
        return read_text(self.path(name))

    def exists(self, name: str) -> bool:
        """Whether *name* has a saved config."""
        return self.path(name).is_file()

    def delete(self, name: str) -> bool:
        """Remove *name*'s config and autostart link; ``False`` if there was no config."""
        target = self.path(name)
        self._unlink_link(self.autostart_path(name))
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise SystemCallError.from_os_error(f"cannot remove config {target}", exc) from exc
        _fsync_dir(self.directory)
        return True

    def names(self) -> list[str]:
        """Sorted names of every stored config (stray and temporary files skipped)."""
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise SystemCallError.from_os_error(
                f"Failed to open dir '{self.directory}'", exc
            ) from exc
        found = []
        for entry in entries:
            if not entry.name.endswith(self.suffix) or _is_temp_name(entry.name):
                continue
            name = entry.name[: len(entry.name) - len(self.suffix)] if self.suffix else entry.name
            if not _valid_name(name, self.suffix):
                logger.debug("ignoring '%s': not a valid %s name", entry.path, self.kind)
                continue
            try:
                regular = entry.is_file()
            except OSError:
                regular = False
            if not regular:
                logger.debug("ignoring '%s': not a regular file", entry.path)
                continue
            found.append(name)
        return sorted(found)

    def load_all(self, validate: Callable[[str, str], object] | None = None) -> dict[str, str]:
        """Every readable config by name; never raises.

        Files that cannot be read, are not UTF-8, are not regular files, or that
        *validate(name, text)* rejects (by raising) are skipped with a logged
        warning and left on disk for the administrator, as libvirt does when a
        config fails to load at daemon start.
        """
        try:
            names = self.names()
        except VirtError as exc:
            logger.warning("cannot list %s configs: %s", self.kind, exc)
            return {}
        loaded: dict[str, str] = {}
        for name in names:
            path = self.directory / (name + self.suffix)
            try:
                text = read_text(path)
            except VirtError as exc:
                logger.warning("Failed to load config for %s '%s': %s", self.kind, name, exc)
                continue
            if text is None:  # removed while we were listing
                continue
            if validate is not None:
                try:
                    validate(name, text)
                except Exception as exc:
                    logger.warning("Failed to load config for %s '%s': %s", self.kind, name, exc)
                    continue
            loaded[name] = text
        return loaded

    def set_autostart(self, name: str, on: bool) -> None:
        """Create or remove *name*'s autostart link (idempotent).

        Turning autostart on needs a saved config
        (:class:`OperationInvalidError` otherwise); a wrong or dangling link in
        the way is replaced atomically.
        """
        link = self.autostart_path(name)
        if not on:
            self._unlink_link(link)
            return
        config = self.path(name)
        if not config.is_file():
            raise OperationInvalidError(
                f"cannot set autostart for {self.kind} '{name}' without a saved configuration"
            )
        if self.is_autostart(name) and link.is_symlink():
            return
        target = os.path.join("..", config.name)
        _make_dir(self.autostart_dir)
        tmp = link.with_name(_temp_name(link.name))
        try:
            _unlink_quietly(tmp)
            os.symlink(target, tmp)
            os.replace(tmp, link)
        except OSError as exc:
            _unlink_quietly(tmp)
            raise SystemCallError.from_os_error(
                f"Failed to create symlink '{link}' to '{target}'", exc
            ) from exc
        _fsync_dir(self.autostart_dir)

    def is_autostart(self, name: str) -> bool:
        """Whether *name*'s autostart link exists and leads to its config file."""
        try:
            link_st = os.stat(self.autostart_path(name))
            config_st = os.stat(self.path(name))
        except OSError:
            return False
        return (link_st.st_dev, link_st.st_ino) == (config_st.st_dev, config_st.st_ino)

    def autostart_names(self) -> list[str]:
        """Sorted names of stored configs marked autostart."""
        return [name for name in self.names() if self.is_autostart(name)]

    def rename(self, old: str, new: str, text: str | None = None) -> None:
        """Move *old*'s config (and autostart mark) to *new*.

        *text* replaces the content (the document usually carries its name);
        ``None`` keeps it. The new file is complete before the old one is
        removed, and it is created without replacing anything: if *new* exists
        already, :class:`OperationInvalidError` "<kind> with name 'new' already
        exists" is raised and nothing changes. A crash midway can leave both
        files, never neither.
        """
        old_path, new_path = self.path(old), self.path(new)
        if old == new:
            if text is not None:
                self.save(new, text)
            return
        content = read_text(old_path)
        if content is None:
            raise OperationInvalidError(f"{self.kind} '{old}' has no saved configuration")
        autostart = self.is_autostart(old)
        self._create_new(new_path, new, content if text is None else text)
        if autostart:
            self.set_autostart(new, True)
        self._unlink_link(self.autostart_path(old))
        try:
            old_path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise SystemCallError.from_os_error(f"cannot remove config {old_path}", exc) from exc
        _fsync_dir(self.directory)

    def _create_new(self, path: Path, name: str, text: str) -> None:
        # Write a complete temporary file, then hard-link it into place: link(2)
        # fails instead of replacing an existing file, so the create is both
        # atomic and exclusive.
        tmp = path.with_name(_temp_name(path.name))
        atomic_write(tmp, text, mode=0o600)
        exists = OperationInvalidError(f"{self.kind} with name '{name}' already exists")
        try:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise exists from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                # No hard links on this filesystem: check, then rename.
                if os.path.lexists(path):
                    raise exists from None
                os.replace(tmp, path)
        except OSError as exc:
            raise SystemCallError.from_os_error(f"cannot create file '{path}'", exc) from exc
        finally:
            _unlink_quietly(tmp)
        _fsync_dir(self.directory)

    def _unlink_link(self, link: Path) -> None:
        try:
            link.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise SystemCallError.from_os_error(f"Failed to delete symlink '{link}'", exc) from exc
        _fsync_dir(link.parent)

    def __repr__(self) -> str:
        return f"<ConfigStore {str(self.directory)!r} suffix={self.suffix!r}>"
