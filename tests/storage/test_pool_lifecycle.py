"""Directory pool lifecycle on the host storage driver: libvirt's semantics, errors and events."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.storage.conftest import dir_pool_xml
from virtcore.connection import Connection
from virtcore.enums.storage import StoragePoolBuildFlags, StoragePoolCreateFlags, StorageXMLFlags
from virtcore.errors import (
    InternalError,
    InvalidArgError,
    NoStoragePoolError,
    OperationFailedError,
    OperationInvalidError,
    SystemCallError,
    XMLError,
)
from virtcore.events import Event
from virtcore.objects import StoragePool
from virtcore.objects.base import Handle


def test_define_stores_the_config_with_zero_sizes(conn: Connection, pool_dir: Path) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    assert conn.parsed_uri is not None
    config = Path(conn.parsed_uri.embed_root or "") / "etc" / "storage" / "p.xml"
    assert config.read_text() == pool.xml_desc()
    assert "<capacity unit='bytes'>0</capacity>" in pool.xml_desc()
    assert not pool.is_active() and pool.is_persistent()


def test_start_of_a_pool_whose_directory_is_missing_fails_like_libvirt(
    conn: Connection, pool_dir: Path
) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    with pytest.raises(SystemCallError) as err:
        pool.create()
    assert err.value.message == f"cannot open directory '{pool_dir}': No such file or directory"
    assert not pool.is_active()


def test_build_makes_the_directory_with_mode_0711(conn: Connection, pool_dir: Path) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    pool.build()
    assert stat.S_IMODE(pool_dir.stat().st_mode) == 0o711


def test_build_applies_the_permissions_of_the_xml(conn: Connection, pool_dir: Path) -> None:
    perms = "<permissions><mode>0750</mode></permissions>"
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir, perms))
    pool.build()
    assert stat.S_IMODE(pool_dir.stat().st_mode) == 0o750


def test_build_flags_overwrite_and_no_overwrite_exclude_each_other(
    conn: Connection, pool_dir: Path
) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    flags = StoragePoolBuildFlags.OVERWRITE | StoragePoolBuildFlags.NO_OVERWRITE
    with pytest.raises(InvalidArgError) as err:
        pool.build(flags)
    assert err.value.detail == (
        "Flags 'VIR_STORAGE_POOL_BUILD_OVERWRITE' and 'VIR_STORAGE_POOL_BUILD_NO_OVERWRITE' "
        "are mutually exclusive"
    )


def test_build_with_overwrite_has_no_device_to_format(conn: Connection, pool_dir: Path) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    with pytest.raises(OperationInvalidError) as err:
        pool.build(StoragePoolBuildFlags.OVERWRITE)
    assert err.value.message == (
        "Requested operation is not valid: No source device specified when formatting pool 'p'"
    )


def test_running_pool_reports_filesystem_sizes(pool: StoragePool, pool_dir: Path) -> None:
    info = pool.info()
    fs = os.statvfs(pool_dir)
    assert info.state == 2
    assert info.capacity == fs.f_frsize * fs.f_blocks
    assert info.capacity == info.allocation + info.available


def test_running_pool_xml_shows_the_directory_permissions(pool: StoragePool) -> None:
    xml = pool.xml_desc()
    assert f"<owner>{os.getuid()}</owner>" in xml
    assert "<mode>0711</mode>" in xml


def test_start_of_a_running_pool_is_refused(pool: StoragePool) -> None:
    with pytest.raises(OperationInvalidError) as err:
        pool.create()
    assert err.value.detail == "storage pool 'images' is already active"


def test_build_undefine_and_delete_of_a_running_pool_are_refused(pool: StoragePool) -> None:
    with pytest.raises(OperationInvalidError, match="is already active"):
        pool.build()
    with pytest.raises(OperationInvalidError, match="storage pool 'images' is still active"):
        pool.undefine()
    with pytest.raises(OperationInvalidError, match="storage pool 'images' is still active"):
        pool.delete()


def test_destroy_stops_and_volume_calls_then_fail(pool: StoragePool) -> None:
    pool.destroy()
    assert not pool.is_active()
    with pytest.raises(OperationInvalidError) as err:
        pool.list_volumes()
    assert err.value.detail == "storage pool 'images' is not active"


def test_delete_removes_the_empty_directory(pool: StoragePool, pool_dir: Path) -> None:
    pool.destroy()
    pool.delete()
    assert not pool_dir.exists()


def test_delete_of_a_directory_with_files_fails(pool: StoragePool, pool_dir: Path) -> None:
    (pool_dir / "keep").write_bytes(b"x")
    pool.destroy()
    with pytest.raises(SystemCallError) as err:
        pool.delete()
    assert err.value.detail == f"failed to remove pool '{pool_dir}': Directory not empty"


def test_undefine_removes_config_and_autostart_link(
    conn: Connection, pool_dir: Path, tmp_path: Path
) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    pool.set_autostart(True)
    pool.undefine()
    etc = tmp_path / "root" / "etc" / "storage"
    assert not (etc / "p.xml").exists()
    assert not os.path.lexists(etc / "autostart" / "p.xml")
    with pytest.raises(NoStoragePoolError):
        conn.storage_pool_lookup_by_name("p")


def test_transient_pool_disappears_when_destroyed(conn: Connection, pool_dir: Path) -> None:
    pool_dir.mkdir()
    pool = conn.storage_pool_create_xml(dir_pool_xml("t", pool_dir))
    assert pool.is_active() and not pool.is_persistent()
    pool.destroy()
    with pytest.raises(NoStoragePoolError):
        conn.storage_pool_lookup_by_name("t")


def test_create_xml_with_build_makes_the_directory(conn: Connection, pool_dir: Path) -> None:
    pool = conn.storage_pool_create_xml(
        dir_pool_xml("t", pool_dir), StoragePoolCreateFlags.WITH_BUILD
    )
    assert pool.is_active() and pool_dir.is_dir()


def test_transient_pool_has_no_autostart(conn: Connection, pool_dir: Path) -> None:
    pool_dir.mkdir()
    pool = conn.storage_pool_create_xml(dir_pool_xml("t", pool_dir))
    with pytest.raises(InternalError) as err:
        pool.set_autostart(True)
    assert err.value.message == "internal error: pool has no config file"
    assert pool.get_autostart() is False


def test_failed_create_xml_leaves_no_pool(conn: Connection, pool_dir: Path) -> None:
    with pytest.raises(SystemCallError):
        conn.storage_pool_create_xml(dir_pool_xml("t", pool_dir))
    assert conn.list_all_storage_pools() == []


def test_second_pool_on_the_same_directory_is_a_source_conflict(
    conn: Connection, pool_dir: Path
) -> None:
    conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    with pytest.raises(OperationFailedError) as err:
        conn.storage_pool_define_xml(dir_pool_xml("q", pool_dir))
    assert err.value.message == "operation failed: Storage source conflict with pool: 'p'"


def test_same_name_with_another_uuid_is_refused(
    conn: Connection, pool_dir: Path, tmp_path: Path
) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    with pytest.raises(OperationFailedError) as err:
        conn.storage_pool_create_xml(dir_pool_xml("p", tmp_path / "other"))
    assert err.value.detail == f"pool 'p' already exists with uuid {pool.uuid}"


def test_same_uuid_with_another_name_is_refused(
    conn: Connection, pool_dir: Path, tmp_path: Path
) -> None:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    other = dir_pool_xml("q", tmp_path / "other").replace(
        "<name>", f"<uuid>{pool.uuid}</uuid><name>"
    )
    with pytest.raises(OperationFailedError) as err:
        conn.storage_pool_define_xml(other)
    assert err.value.detail == f"pool 'p' is already defined with uuid {pool.uuid}"


def test_redefining_a_running_pool_waits_until_it_stops(
    conn: Connection, pool: StoragePool, pool_dir: Path
) -> None:
    changed = dir_pool_xml("images", pool_dir, "<permissions><mode>0700</mode></permissions>")
    conn.storage_pool_define_xml(changed.replace("<name>", f"<uuid>{pool.uuid}</uuid><name>"))
    assert "<mode>0711</mode>" in pool.xml_desc()
    assert "<mode>0700</mode>" in pool.xml_desc(StorageXMLFlags.INACTIVE)
    pool.destroy()
    assert "<mode>0700</mode>" in pool.xml_desc()


def test_unsupported_pool_type_has_no_backend(conn: Connection) -> None:
    xml = "<pool type='logical'><name>vg</name><source><name>vg</name></source></pool>"
    with pytest.raises(InternalError) as err:
        conn.storage_pool_define_xml(xml)
    assert err.value.detail == "missing backend for pool type 3 (logical)"


def test_pool_name_with_a_slash_is_refused(conn: Connection, pool_dir: Path) -> None:
    with pytest.raises(XMLError) as err:
        conn.storage_pool_define_xml(dir_pool_xml("a/b", pool_dir))
    assert err.value.message == "XML error: name a/b cannot contain '/'"


def test_lookups_by_name_uuid_and_target_path(conn: Connection, pool: StoragePool) -> None:
    assert conn.storage_pool_lookup_by_name("images") == pool
    assert conn.storage_pool_lookup_by_uuid(pool.uuid.upper()) == pool
    path = pool.xml_desc().split("<path>")[1].split("</path>")[0]
    assert conn.storage_pool_lookup_by_target_path(path + "/") == pool


def test_failed_lookups_use_libvirt_texts(conn: Connection) -> None:
    uuid = "11111111-1111-1111-1111-111111111111"
    name_detail = "no storage pool with matching name 'nop'"
    uuid_detail = f"no storage pool with matching uuid '{uuid}'"
    cases: list[tuple[Any, str]] = [
        (lambda: conn.storage_pool_lookup_by_name("nop"), name_detail),
        (lambda: conn.storage_pool_lookup_by_uuid(uuid), uuid_detail),
        (
            lambda: conn.storage_pool_lookup_by_target_path("/nop"),
            "no storage pool with matching target path '/nop'",
        ),
    ]
    for call, detail in cases:
        with pytest.raises(NoStoragePoolError) as err:
            call()
        assert err.value.message == f"Storage pool not found: {detail}"
        assert err.value.domain == 18


def test_listing_counts_active_and_defined_pools(
    conn: Connection, pool: StoragePool, tmp_path: Path
) -> None:
    conn.storage_pool_define_xml(dir_pool_xml("idle", tmp_path / "idle"))
    assert conn.list_storage_pools() == ["images"]
    assert conn.list_defined_storage_pools() == ["idle"]
    assert (conn.num_of_storage_pools(), conn.num_of_defined_storage_pools()) == (1, 1)
    assert [p.name for p in conn.list_all_storage_pools(1)] == ["idle"]  # INACTIVE
    assert [p.name for p in conn.list_all_storage_pools(1 << 6)] == ["idle", "images"]  # DIR
    assert conn.list_all_storage_pools(1 << 7) == []  # FS


def test_lifecycle_emits_libvirt_events_in_order(conn: Connection, pool_dir: Path) -> None:
    seen: list[tuple[str, str | int]] = []

    def record(_conn: Connection, pool: Handle, event: Event) -> None:
        assert isinstance(pool, StoragePool)
        seen.append((pool.name, event.args[0] if event.args else "refresh"))

    conn.storage_pool_event_register_any(0, record)
    conn.storage_pool_event_register_any(1, record)
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", pool_dir))
    pool.build()
    pool.create()
    pool.refresh()
    pool.destroy()
    pool.delete()
    pool.undefine()
    assert conn.flush_events()
    assert seen == [("p", 0), ("p", 4), ("p", 2), ("p", "refresh"), ("p", 3), ("p", 5), ("p", 1)]


def test_refresh_of_a_pool_whose_directory_vanished_stops_it(
    pool: StoragePool, pool_dir: Path
) -> None:
    pool_dir.rmdir()
    with pytest.raises(SystemCallError):
        pool.refresh()
    assert not pool.is_active()
