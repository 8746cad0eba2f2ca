"""The storage URIs, the storage-only hypervisor table, and what hypervisor drivers use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import virtcore
from tests.storage.conftest import StorageHost, dir_pool_xml, storage_registry, vol_xml
from virtcore.connection import Connection
from virtcore.drivers.storage import (
    StorageStateDriver,
    TranslatedVolume,
    storage_table_for,
)
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoStoragePoolError,
    NoStorageVolError,
    NoSupportError,
)
from virtcore.objects import StoragePool
from virtcore.registry import BUILTIN_PLUGINS, Registry
from virtcore.state import Host


def test_storage_is_a_builtin_plugin_after_test() -> None:
    names = [name for name, _ in BUILTIN_PLUGINS]
    assert names[names.index("test") + 1] == "storage"
    registry = Registry(autoload=False)
    assert "storage" in registry.connect_drivers()[1].schemes  # type: ignore[operator]


def test_hypervisor_table_answers_like_libvirts_storage_driver(conn: Connection) -> None:
    assert conn.get_type() == "storage"
    assert conn.is_alive() and conn.is_secure() and not conn.is_encrypted()
    assert "<value>dir</value>" in conn.get_capabilities()
    with pytest.raises(NoSupportError) as err:
        conn.get_hostname()
    assert err.value.message == (
        "this function is not supported by the connection driver: virConnectGetHostname"
    )


def test_pool_capabilities_say_dir_is_supported(conn: Connection) -> None:
    table = conn.tables.storage
    assert table is not None
    caps = table.connect_get_storage_pool_capabilities(conn, 0)  # type: ignore[attr-defined]
    assert "<pool type='dir' supported='yes'>" in caps
    assert "<pool type='logical' supported='no'>" in caps


def test_uri_path_must_match_the_privilege_like_libvirt() -> None:
    wanted, other = ("system", "session") if os.geteuid() == 0 else ("session", "system")
    for path in ("other", other):
        with pytest.raises(InternalError) as err:
            virtcore.open(f"storage:///{path}", registry=storage_registry())
        assert err.value.message == (
            f"internal error: unexpected storage URI path '/{path}', try storage:///{wanted}"
        )


def test_embedded_uri_needs_a_root() -> None:
    with pytest.raises(InvalidArgError, match="Missing URI parameter 'root'"):
        virtcore.open("storage:///embed", registry=storage_registry())


def test_remote_uri_is_not_served(tmp_path: Path) -> None:
    with pytest.raises(virtcore.errors.NoConnectError):
        virtcore.open("storage://host.example/system", registry=storage_registry())


def _host(new_host: Any) -> tuple[StorageHost, Connection]:
    host: StorageHost = new_host()
    return host, host.open()


def test_table_for_a_host_is_shared_and_sees_its_pools(new_host: Any, tmp_path: Path) -> None:
    host, conn = _host(new_host)
    conn.storage_pool_define_xml(dir_pool_xml("p", tmp_path / "p"))
    table = storage_table_for(host.host)
    assert table is not None and table is storage_table_for(host.host)
    assert table.connect_list_defined_storage_pools(conn) == ["p"]  # type: ignore[attr-defined]


def test_table_for_a_host_without_storage_is_none() -> None:
    assert storage_table_for(Host([], privileged=False)) is None


def _running_pool(conn: Connection, path: Path) -> StoragePool:
    pool = conn.storage_pool_define_xml(dir_pool_xml("p", path))
    pool.build()
    pool.create()
    return pool


def test_translate_volume_resolves_file_volumes(new_host: Any, tmp_path: Path) -> None:
    host, conn = _host(new_host)
    pool = _running_pool(conn, tmp_path / "p")
    pool.vol_create_xml(vol_xml("disk.qcow2", 1048576, fmt="qcow2"))
    pool.vol_create_xml(vol_xml("sub", 0, fmt="dir"))
    assert host.driver.translate_volume("p", "disk.qcow2") == TranslatedVolume(
        "file", str(tmp_path / "p" / "disk.qcow2"), "qcow2", "dir"
    )
    assert host.driver.translate_volume("p", "sub").disk_type == "dir"


def test_translate_volume_errors_are_libvirts(new_host: Any, tmp_path: Path) -> None:
    host, conn = _host(new_host)
    pool = _running_pool(conn, tmp_path / "p")
    driver: StorageStateDriver = host.driver
    with pytest.raises(NoStorageVolError, match="no storage vol with matching name 'x'"):
        driver.translate_volume("p", "x")
    with pytest.raises(NoStoragePoolError) as err:
        driver.translate_volume("nop", "x")
    assert err.value.message == "Storage pool not found: no storage pool with matching name 'nop'"
    pool.destroy()
    with pytest.raises(ConfigUnsupportedError) as inactive:
        driver.translate_volume("p", "x")
    assert inactive.value.message == (
        "unsupported configuration: storage pool 'p' containing volume 'x' is not active"
    )


def test_lazy_lookup_from_another_state_driver_sees_autostarted_pools(tmp_path: Path) -> None:
    """A hypervisor driver initialized first still finds the pool (DESIGN.md section 4)."""
    from virtcore.state import InitResult, StateContext, StateDriver
    from virtcore.store import ConfigStore

    root = tmp_path / "root"
    configs = ConfigStore(root / "etc" / "storage")
    configs.save("p", dir_pool_xml("p", tmp_path / "p"))
    configs.set_autostart("p", True)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "disk.img").write_bytes(bytes(512))
    found: list[TranslatedVolume] = []

    class Hypervisor(StateDriver):
        name = "hv"

        def initialize(self, ctx: StateContext) -> InitResult:
            def translate(driver: StateDriver) -> TranslatedVolume:
                assert isinstance(driver, StorageStateDriver)
                return driver.translate_volume("p", "disk.img")

            ctx.lookup("storage", translate).then(found.append)
            return InitResult.COMPLETE

    host = Host([Hypervisor(), StorageStateDriver()], privileged=False, root=root)
    host.initialize()
    host.wait_ready(30)
    try:
        assert [v.path for v in found] == [str(tmp_path / "p" / "disk.img")]
    finally:
        host.shutdown()
