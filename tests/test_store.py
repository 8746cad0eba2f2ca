"""Specification of the persistence helpers (virtcore.store)."""

from __future__ import annotations

import errno
import logging
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
from virtcore.store import (
    ConfigStore,
    DirectoryLock,
    LockOwner,
    StatePaths,
    atomic_write,
    read_text,
    safe_object_path,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAFETY = 30.0


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def is_held(lock: DirectoryLock) -> bool:
    return lock.held


# -- StatePaths -------------------------------------------------------------


def test_privileged_layout_mirrors_libvirts_system_directories() -> None:
    paths = StatePaths.for_driver("qemu", privileged=True)
    assert paths == StatePaths(
        config_dir=Path("/etc/virtcore/qemu"),
        state_dir=Path("/run/virtcore/qemu"),
        data_dir=Path("/var/lib/virtcore/qemu"),
        cache_dir=Path("/var/cache/virtcore/qemu"),
        log_dir=Path("/var/log/virtcore/qemu"),
    )
    assert paths.autostart_dir == Path("/etc/virtcore/qemu/autostart")


def test_unprivileged_layout_follows_xdg_variables() -> None:
    env = {
        "HOME": "/home/u",
        "XDG_CONFIG_HOME": "/x/config",
        "XDG_DATA_HOME": "/x/data",
        "XDG_CACHE_HOME": "/x/cache",
        "XDG_RUNTIME_DIR": "/x/run",
    }
    paths = StatePaths.for_driver("qemu", privileged=False, environ=env)
    assert paths == StatePaths(
        config_dir=Path("/x/config/virtcore/qemu"),
        state_dir=Path("/x/run/virtcore/qemu/run"),
        data_dir=Path("/x/data/virtcore/qemu"),
        cache_dir=Path("/x/cache/virtcore/qemu/cache"),
        log_dir=Path("/x/cache/virtcore/qemu/log"),
    )


def test_unprivileged_layout_defaults_to_home_directories() -> None:
    paths = StatePaths.for_driver("lxc", privileged=False, environ={"HOME": "/home/u"})
    assert paths.config_dir == Path("/home/u/.config/virtcore/lxc")
    assert paths.data_dir == Path("/home/u/.local/share/virtcore/lxc")
    assert paths.cache_dir == Path("/home/u/.cache/virtcore/lxc/cache")
    assert paths.log_dir == Path("/home/u/.cache/virtcore/lxc/log")


def test_runtime_dir_falls_back_to_the_cache_base_like_libvirt() -> None:
    env = {"HOME": "/home/u", "XDG_CACHE_HOME": "/x/cache"}
    paths = StatePaths.for_driver("qemu", privileged=False, environ=env)
    assert paths.state_dir == Path("/x/cache/virtcore/qemu/run")
    default = StatePaths.for_driver("qemu", privileged=False, environ={"HOME": "/home/u"})
    assert default.state_dir == Path("/home/u/.cache/virtcore/qemu/run")


def test_relative_xdg_values_are_ignored() -> None:
    env = {"HOME": "/home/u", "XDG_CONFIG_HOME": "relative/cfg", "XDG_RUNTIME_DIR": ""}
    paths = StatePaths.for_driver("qemu", privileged=False, environ=env)
    assert paths.config_dir == Path("/home/u/.config/virtcore/qemu")
    assert paths.state_dir == Path("/home/u/.cache/virtcore/qemu/run")


def test_embedded_layout_lives_under_the_root(tmp_path: Path) -> None:
    paths = StatePaths.for_driver("qemu", privileged=False, root=tmp_path)
    assert paths == StatePaths(
        config_dir=tmp_path / "etc/qemu",
        state_dir=tmp_path / "run/qemu",
        data_dir=tmp_path / "lib/qemu",
        cache_dir=tmp_path / "cache/qemu",
        log_dir=tmp_path / "log/qemu",
    )


def test_embedded_root_wins_over_privileged(tmp_path: Path) -> None:
    paths = StatePaths.for_driver("qemu", privileged=True, root=str(tmp_path))
    assert paths.config_dir == tmp_path / "etc/qemu"


def test_relative_embedded_root_is_refused_like_libvirt() -> None:
    with pytest.raises(ConfigUnsupportedError) as info:
        StatePaths.for_driver("qemu", privileged=False, root="relative/dir")
    assert info.value.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert str(info.value) == "unsupported configuration: root path must be absolute"


@pytest.mark.parametrize("name", ["", "a/b", "..", "."])
def test_driver_name_must_be_one_path_component(name: str) -> None:
    with pytest.raises(InvalidArgError):
        StatePaths.for_driver(name, privileged=True)


def test_ensure_creates_every_directory_private(tmp_path: Path) -> None:
    paths = StatePaths.for_driver("qemu", privileged=False, root=tmp_path)
    paths.ensure()
    for directory in (paths.config_dir, paths.state_dir, paths.data_dir):
        assert directory.is_dir()
        assert mode_of(directory) == 0o700
    assert paths.cache_dir.is_dir() and paths.log_dir.is_dir()
    paths.ensure()  # idempotent


# -- atomic_write / read_text -----------------------------------------------


def test_atomic_write_creates_file_with_private_mode(tmp_path: Path) -> None:
    target = tmp_path / "vm.xml"
    atomic_write(target, "<domain/>")
    assert target.read_text() == "<domain/>"
    assert mode_of(target) == 0o600


def test_atomic_write_honours_requested_mode_and_bytes(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    atomic_write(target, b"\x00\x01", mode=0o644)
    assert target.read_bytes() == b"\x00\x01"
    assert mode_of(target) == 0o644


def test_atomic_write_replaces_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "vm.xml"
    atomic_write(target, "old")
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["vm.xml"]


@pytest.mark.parametrize(
    ("function", "message"),
    [("fsync", "cannot sync file"), ("replace", "cannot rename file")],
)
def test_failed_write_keeps_old_content_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, function: str, message: str
) -> None:
    target = tmp_path / "vm.xml"
    atomic_write(target, "old")

    def broken(*args: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, function, broken)
    with pytest.raises(SystemCallError) as info:
        atomic_write(target, "new")
    monkeypatch.undo()
    assert info.value.code == ErrorNumber.SYSTEM_ERROR
    assert str(info.value).startswith(message)
    assert str(info.value).endswith(": Input/output error")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["vm.xml"]


def test_write_interrupted_by_any_exception_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "vm.xml"
    atomic_write(target, "old")

    class Interrupted(BaseException):
        pass

    def interrupted(*args: object) -> int:
        raise Interrupted

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(Interrupted):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["vm.xml"]


def test_atomic_write_into_missing_directory_is_a_system_error(tmp_path: Path) -> None:
    with pytest.raises(SystemCallError, match="cannot create file"):
        atomic_write(tmp_path / "missing" / "vm.xml", "x")


def test_read_text_returns_none_for_a_missing_file(tmp_path: Path) -> None:
    assert read_text(tmp_path / "nothing.xml") is None


def test_read_text_returns_the_content(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text("<a>é</a>", encoding="utf-8")
    assert read_text(tmp_path / "a.xml") == "<a>é</a>"


def test_read_text_rejects_non_utf8_content(tmp_path: Path) -> None:
    (tmp_path / "bad.xml").write_bytes(b"<a>\xff</a>")
    with pytest.raises(InternalError, match="not valid UTF-8"):
        read_text(tmp_path / "bad.xml")


def test_read_text_refuses_oversized_files(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 101)
    with pytest.raises(SystemCallError) as info:
        read_text(tmp_path / "big", max_size=100)
    assert info.value.int1 == errno.EFBIG
    assert str(info.value).startswith("Failed to read file")


def test_read_text_of_a_directory_is_a_system_error(tmp_path: Path) -> None:
    with pytest.raises(SystemCallError) as info:
        read_text(tmp_path)
    assert info.value.int1 == errno.EISDIR


def test_read_text_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "trap.xml")
    with pytest.raises(InternalError, match="not a regular file"):
        read_text(tmp_path / "trap.xml")


# -- safe_object_path ---------------------------------------------------------


def test_safe_object_path_joins_name_and_suffix(tmp_path: Path) -> None:
    assert safe_object_path(tmp_path, "vm-1") == tmp_path / "vm-1.xml"
    assert safe_object_path(tmp_path, "名前 two", ".json") == tmp_path / "名前 two.json"


def test_name_with_slash_fails_exactly_like_libvirt(tmp_path: Path) -> None:
    with pytest.raises(XMLError) as info:
        safe_object_path(tmp_path, "a/b")
    assert info.value.code == ErrorNumber.XML_ERROR
    assert info.value.domain == ErrorDomain.DOMAIN
    assert str(info.value) == "XML error: name a/b cannot contain '/'"


def test_empty_name_is_missing_name_information(tmp_path: Path) -> None:
    with pytest.raises(VirtError) as info:
        safe_object_path(tmp_path, "")
    assert info.value.code == ErrorNumber.NO_NAME
    assert str(info.value) == "missing name information"


@pytest.mark.parametrize(
    "name",
    ["../x", "a/b", "/abs", "x\x00", "..", ".", "tab\there", "new\nline", "\x7f", "\udc80"],
)
def test_hostile_names_are_rejected_as_xml_errors(tmp_path: Path, name: str) -> None:
    with pytest.raises(XMLError) as info:
        safe_object_path(tmp_path, name)
    assert info.value.code == ErrorNumber.XML_ERROR
    assert info.value.domain == ErrorDomain.DOMAIN


def test_names_whose_file_name_exceeds_255_bytes_are_rejected(tmp_path: Path) -> None:
    assert safe_object_path(tmp_path, "a" * 251).name == "a" * 251 + ".xml"
    with pytest.raises(XMLError, match="too long"):
        safe_object_path(tmp_path, "a" * 252)
    with pytest.raises(XMLError, match="too long"):
        safe_object_path(tmp_path, "x" * 300)
    with pytest.raises(XMLError, match="too long"):
        safe_object_path(tmp_path, "é" * 126)  # 252 bytes in UTF-8


def test_returned_path_keeps_the_directory_as_given(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert safe_object_path(tmp_path / "link", "vm") == tmp_path / "link" / "vm.xml"


# -- DirectoryLock -------------------------------------------------------------

HOLDER = """
import sys
from virtcore.store import DirectoryLock
lock = DirectoryLock(sys.argv[1], "virtcore-daemon")
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
lock.release()
"""


@pytest.fixture
def other_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding the lock on tmp_path/'state' until stdin closes."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), *sys.path]))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "state")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(SAFETY)


def test_lock_file_records_pid_and_program(tmp_path: Path) -> None:
    with DirectoryLock(tmp_path / "state", "virtcore-daemon") as lock:
        assert is_held(lock)
        assert lock.path == tmp_path / "state" / "driver.pid"
        assert lock.path.read_text() == f"{os.getpid()} virtcore-daemon\n"
        assert DirectoryLock.read_owner(tmp_path / "state") == LockOwner(
            os.getpid(), "virtcore-daemon"
        )
    assert not is_held(lock)
    assert not lock.path.exists()


def test_second_lock_in_the_same_process_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with DirectoryLock(state, "first"), pytest.raises(ResourceBusyError) as info:
        DirectoryLock(state, "second").acquire()
    assert info.value.code == ErrorNumber.RESOURCE_BUSY
    assert str(info.value) == (
        f"resource busy: state directory '{state}' is in use by process {os.getpid()} (first)"
    )


def test_lock_held_by_another_process_names_that_process(
    tmp_path: Path, other_process: subprocess.Popen[str]
) -> None:
    state = tmp_path / "state"
    with pytest.raises(ResourceBusyError) as info:
        DirectoryLock(state, "virtcore-test").acquire()
    assert str(info.value) == (
        f"resource busy: state directory '{state}' is in use by process "
        f"{other_process.pid} (virtcore-daemon)"
    )


def test_lock_is_free_once_the_other_process_releases_it(
    tmp_path: Path, other_process: subprocess.Popen[str]
) -> None:
    assert other_process.stdin is not None
    other_process.stdin.close()
    assert other_process.wait(SAFETY) == 0
    with DirectoryLock(tmp_path / "state", "virtcore-test") as lock:
        assert lock.held


def test_lock_of_a_killed_process_is_taken_over(
    tmp_path: Path, other_process: subprocess.Popen[str]
) -> None:
    other_process.send_signal(signal.SIGKILL)
    other_process.wait(SAFETY)
    state = tmp_path / "state"
    assert DirectoryLock.read_owner(state) == LockOwner(other_process.pid, "virtcore-daemon")
    with DirectoryLock(state, "virtcore-test"):
        assert DirectoryLock.read_owner(state) == LockOwner(os.getpid(), "virtcore-test")


def test_stale_lock_file_without_a_holder_is_taken_over(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "driver.pid").write_text("4194305 ghost\n")
    with DirectoryLock(state, "virtcore-test"):
        assert DirectoryLock.read_owner(state) == LockOwner(os.getpid(), "virtcore-test")


def test_acquiring_a_held_lock_again_is_an_internal_error(tmp_path: Path) -> None:
    with DirectoryLock(tmp_path, "daemon") as lock, pytest.raises(InternalError):
        lock.acquire()


def test_release_lets_a_new_owner_in(tmp_path: Path) -> None:
    first = DirectoryLock(tmp_path, "first")
    first.acquire()
    first.release()
    first.release()  # idempotent
    with DirectoryLock(tmp_path, "second"):
        assert DirectoryLock.read_owner(tmp_path) == LockOwner(os.getpid(), "second")


# -- ConfigStore -----------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    return ConfigStore(tmp_path / "qemu", kind="domain")


def test_saved_config_loads_back(store: ConfigStore) -> None:
    store.save("vm1", "<domain><name>vm1</name></domain>")
    assert store.load("vm1") == "<domain><name>vm1</name></domain>"
    assert store.exists("vm1")
    assert mode_of(store.path("vm1")) == 0o600


def test_missing_config_loads_as_none(store: ConfigStore) -> None:
    assert store.load("nosuch") is None
    assert not store.exists("nosuch")


def test_names_are_sorted_and_ignore_stray_files(store: ConfigStore) -> None:
    for name in ("b", "a", "c"):
        store.save(name, name)
    (store.directory / "README").write_text("x")
    (store.directory / "a.xml~").write_text("x")
    (store.directory / ".a.xml.1234abcd.tmp").write_text("x")
    (store.directory / "dir.xml").mkdir()
    assert store.names() == ["a", "b", "c"]


def test_names_of_a_missing_directory_is_empty(store: ConfigStore) -> None:
    assert store.names() == []


def test_hostile_name_writes_nothing(store: ConfigStore, tmp_path: Path) -> None:
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(XMLError):
        store.save("../escape", "x")
    assert sorted(os.listdir(tmp_path)) == before


def test_delete_removes_config_and_autostart_link(store: ConfigStore) -> None:
    store.save("vm1", "x")
    store.set_autostart("vm1", True)
    assert store.delete("vm1") is True
    assert not store.path("vm1").exists()
    assert not store.autostart_path("vm1").is_symlink()
    assert store.delete("vm1") is False


def test_autostart_is_a_relative_symlink_to_the_config(store: ConfigStore) -> None:
    store.save("vm1", "x")
    store.set_autostart("vm1", True)
    link = store.directory / "autostart" / "vm1.xml"
    assert link.is_symlink()
    assert os.readlink(link) == "../vm1.xml"
    assert store.is_autostart("vm1")
    assert store.autostart_names() == ["vm1"]


def test_autostart_can_be_turned_off_and_toggling_is_idempotent(store: ConfigStore) -> None:
    store.save("vm1", "x")
    store.set_autostart("vm1", True)
    store.set_autostart("vm1", True)
    store.set_autostart("vm1", False)
    store.set_autostart("vm1", False)
    assert not store.is_autostart("vm1")
    assert not store.autostart_path("vm1").exists()


def test_autostart_needs_a_saved_config(store: ConfigStore) -> None:
    with pytest.raises(OperationInvalidError):
        store.set_autostart("nosuch", True)


def test_libvirt_style_absolute_autostart_link_is_recognised(store: ConfigStore) -> None:
    store.save("vm1", "x")
    store.autostart_dir.mkdir()
    store.autostart_path("vm1").symlink_to(store.path("vm1").resolve())
    assert store.is_autostart("vm1")


def test_link_to_another_file_is_not_autostart_and_gets_replaced(store: ConfigStore) -> None:
    store.save("vm1", "x")
    store.save("vm2", "y")
    store.autostart_dir.mkdir()
    store.autostart_path("vm1").symlink_to("../vm2.xml")
    assert not store.is_autostart("vm1")
    store.set_autostart("vm1", True)
    assert os.readlink(store.autostart_path("vm1")) == "../vm1.xml"
    assert os.listdir(store.autostart_dir) == ["vm1.xml"]


def test_dangling_autostart_link_is_not_autostart(store: ConfigStore) -> None:
    store.autostart_dir.mkdir(parents=True)
    store.autostart_path("gone").symlink_to("../gone.xml")
    assert not store.is_autostart("gone")


def test_rename_moves_content_and_autostart_mark(store: ConfigStore) -> None:
    store.save("old", "<name>old</name>")
    store.set_autostart("old", True)
    store.rename("old", "new", "<name>new</name>")
    assert store.names() == ["new"]
    assert store.load("new") == "<name>new</name>"
    assert store.is_autostart("new")
    assert not store.autostart_path("old").is_symlink()


def test_rename_without_text_keeps_the_content(store: ConfigStore) -> None:
    store.save("old", "same")
    store.rename("old", "new")
    assert store.load("new") == "same"
    assert not store.is_autostart("new")


def test_rename_onto_an_existing_name_changes_nothing(store: ConfigStore) -> None:
    store.save("a", "A")
    store.save("b", "B")
    with pytest.raises(OperationInvalidError) as info:
        store.rename("a", "b", "A2")
    assert str(info.value) == (
        "Requested operation is not valid: domain with name 'b' already exists"
    )
    assert (store.load("a"), store.load("b")) == ("A", "B")
    assert sorted(os.listdir(store.directory)) == ["a.xml", "b.xml"]


def test_rename_of_a_missing_config_fails(store: ConfigStore) -> None:
    with pytest.raises(OperationInvalidError):
        store.rename("nosuch", "new")


def test_load_all_returns_every_config(store: ConfigStore) -> None:
    store.save("a", "A")
    store.save("b", "B")
    assert store.load_all() == {"a": "A", "b": "B"}


def test_load_all_skips_undecodable_files_with_a_warning(
    store: ConfigStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.save("good", "G")
    (store.directory / "garbage.xml").write_bytes(b"\xff\xfe\x00junk")
    with caplog.at_level(logging.WARNING, logger="virtcore.store"):
        assert store.load_all() == {"good": "G"}
    assert "garbage" in caplog.text
    assert (store.directory / "garbage.xml").exists()


def test_load_all_skips_configs_the_validator_rejects(
    store: ConfigStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.save("good", "<domain/>")
    store.save("broken", "<domain")

    def validate(name: str, text: str) -> None:
        if not text.endswith(">"):
            raise XMLError(f"cannot parse '{name}'")

    with caplog.at_level(logging.WARNING, logger="virtcore.store"):
        assert store.load_all(validate) == {"good": "<domain/>"}
    assert "broken" in caplog.text
    assert store.exists("broken")


def test_load_all_survives_a_validator_crashing(store: ConfigStore) -> None:
    store.save("a", "A")

    def crash(name: str, text: str) -> None:
        raise RuntimeError("bug in validator")

    assert store.load_all(crash) == {}


def test_load_all_of_an_unlistable_directory_is_empty(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    assert ConfigStore(tmp_path / "file").load_all() == {}
