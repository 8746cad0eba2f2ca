"""State across processes: configs, status of running pools, autostart once per boot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.storage.conftest import StorageHost, dir_pool_xml, vol_xml
from virtcore.errors import ResourceBusyError
from virtcore.objects import StoragePool


def _define(host: StorageHost, name: str, path: Path, *, autostart: bool) -> None:
    conn = host.open()
    pool = conn.storage_pool_define_xml(dir_pool_xml(name, path))
    pool.build()
    pool.set_autostart(autostart)


def _autostarted_then_stopped(new_host: Any, tmp_path: Path) -> StorageHost:
    """Pool "auto" autostarted at a boot, then destroyed by a second process (returned, exited)."""
    first: StorageHost = new_host()
    _define(first, "auto", tmp_path / "a", autostart=True)
    first.exit()
    first.reboot()
    second: StorageHost = new_host()
    second.open().storage_pool_lookup_by_name("auto").destroy()
    second.exit()
    return second


def _running_pool(host: StorageHost, name: str, path: Path) -> StoragePool:
    pool = host.open().storage_pool_define_xml(dir_pool_xml(name, path))
    pool.build()
    pool.create()
    return pool


def test_layout_is_libvirts(new_host: Any, tmp_path: Path) -> None:
    host: StorageHost = new_host()
    conn = host.open()
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", tmp_path / "p"))
    pool.build()
    pool.set_autostart(True)
    pool.create()
    root = tmp_path / "root"
    assert (root / "etc/storage/p.xml").is_file()
    link = root / "etc/storage/autostart/p.xml"
    assert link.is_symlink() and link.resolve() == (root / "etc/storage/p.xml").resolve()
    status = (root / "run/storage/p.xml").read_text()
    assert status.startswith("<poolstate>\n  <pool type='dir'>")


def test_config_files_are_private(new_host: Any, tmp_path: Path) -> None:
    host: StorageHost = new_host()
    _define(host, "p", tmp_path / "p", autostart=False)
    assert (tmp_path / "root/etc/storage/p.xml").stat().st_mode & 0o777 == 0o600


def test_autostart_pool_starts_at_first_boot(new_host: Any, tmp_path: Path) -> None:
    first: StorageHost = new_host()
    _define(first, "auto", tmp_path / "a", autostart=True)
    _define(first, "manual", tmp_path / "m", autostart=False)
    first.exit()
    first.reboot()
    conn = new_host().open()
    assert conn.list_storage_pools() == ["auto"]


def test_running_pool_is_still_running_after_a_process_restart(
    new_host: Any, tmp_path: Path
) -> None:
    first: StorageHost = new_host()
    _running_pool(first, "p", tmp_path / "p").vol_create_xml(vol_xml("disk.img"))
    first.exit()
    again = new_host().open().storage_pool_lookup_by_name("p")
    assert again.is_active()
    assert again.list_volumes() == ["disk.img"]


def test_transient_running_pool_survives_a_process_restart(new_host: Any, tmp_path: Path) -> None:
    first: StorageHost = new_host()
    (tmp_path / "t").mkdir()
    first.open().storage_pool_create_xml(dir_pool_xml("t", tmp_path / "t"))
    first.exit()
    pool = new_host().open().storage_pool_lookup_by_name("t")
    assert pool.is_active() and not pool.is_persistent()


def test_pool_stopped_on_purpose_is_not_restarted_by_a_new_process(
    new_host: Any, tmp_path: Path
) -> None:
    _autostarted_then_stopped(new_host, tmp_path)
    third = new_host().open()
    assert not third.storage_pool_lookup_by_name("auto").is_active()


def test_autostart_runs_again_after_a_reboot(new_host: Any, tmp_path: Path) -> None:
    _autostarted_then_stopped(new_host, tmp_path).reboot()
    assert new_host().open().storage_pool_lookup_by_name("auto").is_active()


def test_pool_failing_to_autostart_stays_inactive_and_others_start(
    new_host: Any, tmp_path: Path
) -> None:
    first: StorageHost = new_host()
    _define(first, "broken", tmp_path / "b", autostart=True)
    _define(first, "fine", tmp_path / "f", autostart=True)
    first.exit()
    first.reboot()
    (tmp_path / "b").rmdir()
    conn = new_host().open()
    assert conn.list_storage_pools() == ["fine"]
    assert conn.list_defined_storage_pools() == ["broken"]


def test_running_pool_whose_directory_vanished_is_inactive_after_restart(
    new_host: Any, tmp_path: Path
) -> None:
    first: StorageHost = new_host()
    _running_pool(first, "p", tmp_path / "p")
    first.exit()
    (tmp_path / "p").rmdir()
    again = new_host().open().storage_pool_lookup_by_name("p")
    assert not again.is_active()
    assert not (tmp_path / "root/run/storage/p.xml").exists()


def test_unreadable_config_is_skipped_and_left_on_disk(new_host: Any, tmp_path: Path) -> None:
    etc = tmp_path / "root/etc/storage"
    etc.mkdir(parents=True)
    (etc / "bad.xml").write_text("<pool type='dir'><name>bad")
    (etc / "other.xml").write_text(dir_pool_xml("mismatch", tmp_path / "x"))
    conn = new_host().open()
    assert conn.list_all_storage_pools() == []
    assert (etc / "bad.xml").exists()


def test_second_process_on_the_same_root_is_refused(new_host: Any) -> None:
    first: StorageHost = new_host()
    first.open()
    second: StorageHost = new_host()
    with pytest.raises(ResourceBusyError) as err:
        second.open()
    assert str(os.getpid()) in err.value.message


def test_after_a_restart_the_inactive_xml_of_a_running_pool_is_its_config(
    new_host: Any, tmp_path: Path
) -> None:
    first: StorageHost = new_host()
    _running_pool(first, "p", tmp_path / "p")
    first.exit()
    again = new_host().open().storage_pool_lookup_by_name("p")
    assert again.xml_desc(1) == again.xml_desc()
    again.destroy()
    assert "<mode>0711</mode>" in again.xml_desc()
