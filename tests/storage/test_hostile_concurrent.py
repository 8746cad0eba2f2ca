"""Hostile names and documents, and concurrent volume operations."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.storage.conftest import dir_pool_xml, vol_xml
from virtcore.connection import Connection
from virtcore.errors import (
    AlreadyExistsError,
    OperationInvalidError,
    VirtError,
    XMLError,
)
from virtcore.objects import StoragePool, StorageVol


@pytest.mark.parametrize("name", ["../escape", "sub/vol", "/etc/passwd"])
def test_volume_names_with_a_slash_are_refused(
    pool: StoragePool, tmp_path: Path, name: str
) -> None:
    with pytest.raises(OperationInvalidError) as err:
        pool.vol_create_xml(vol_xml(name))
    assert err.value.message == (
        f"Requested operation is not valid: volume name '{name}' cannot contain '/'"
    )
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize("name", ["..", "."])
def test_dot_names_name_an_existing_path(pool: StoragePool, pool_dir: Path, name: str) -> None:
    with pytest.raises(OperationInvalidError) as err:
        pool.vol_create_xml(vol_xml(name))
    assert err.value.detail == f"volume target path '{pool_dir}/{name}' already exists"


def test_volume_over_an_existing_file_is_refused(pool: StoragePool, pool_dir: Path) -> None:
    (pool_dir / "taken").symlink_to("/etc/hostname")
    with pytest.raises(OperationInvalidError, match="already exists"):
        pool.vol_create_xml(vol_xml("taken"))


def test_volume_names_with_control_characters_are_refused(pool: StoragePool) -> None:
    with pytest.raises(OperationInvalidError, match="control characters"):
        pool.vol_create_xml(vol_xml("a&#10;b"))


def test_entities_are_not_expanded(conn: Connection, tmp_path: Path) -> None:
    evil = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<pool type='dir'><name>&x;</name><target><path>{tmp_path}</path></target></pool>"
    )
    with pytest.raises(VirtError):
        conn.storage_pool_define_xml(evil)
    assert conn.list_all_storage_pools() == []


def test_malformed_documents_are_xml_errors(conn: Connection, pool: StoragePool) -> None:
    with pytest.raises(XMLError):
        conn.storage_pool_define_xml("<pool type='dir'><name>x</name>")
    with pytest.raises(XMLError):
        pool.vol_create_xml("<volume><name>x</name></volume>")  # no capacity


def test_option_text_cannot_inject_qemu_img_options(pool: StoragePool, pool_dir: Path) -> None:
    backing = pool_dir / "b,backing_file=x.img"
    backing.write_bytes(bytes(512))
    vol = pool.vol_create_xml(
        vol_xml("top.qcow2", 1048576, fmt="qcow2").replace(
            "</volume>",
            f"<backingStore><path>{backing}</path><format type='raw'/></backingStore></volume>",
        )
    )
    assert str(backing) in vol.xml_desc()


def test_concurrent_creates_of_different_volumes_all_succeed(pool: StoragePool) -> None:
    errors: list[BaseException] = []

    def create(index: int) -> None:
        try:
            pool.vol_create_xml(vol_xml(f"v{index}.qcow2", 1048576, fmt="qcow2"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert pool.list_volumes() == sorted(f"v{i}.qcow2" for i in range(8))


def test_concurrent_creates_of_one_name_leave_exactly_one_volume(pool: StoragePool) -> None:
    made: list[StorageVol] = []
    refused: list[BaseException] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        barrier.wait(30)
        try:
            made.append(pool.vol_create_xml(vol_xml("same.qcow2", 1048576, fmt="qcow2")))
        except AlreadyExistsError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(made) == 1 and len(refused) == 5
    assert pool.list_volumes() == ["same.qcow2"]


def test_destroy_is_refused_while_a_volume_is_being_built(
    conn: Connection, pool: StoragePool
) -> None:
    from virtcore.drivers.storage.table import StorageTable

    table = conn.tables.storage
    assert isinstance(table, StorageTable)
    driver = table.driver
    with driver.lock:
        driver.pools["images"].jobs += 1
    try:
        with pytest.raises(OperationInvalidError) as err:
            pool.destroy()
        assert err.value.detail == "pool 'images' has asynchronous jobs running."
    finally:
        with driver.lock:
            driver.pools["images"].jobs -= 1
    pool.destroy()


def test_read_only_connection_refuses_changes(new_host: object, tmp_path: Path) -> None:
    import virtcore
    from tests.storage.conftest import StorageHost

    assert callable(new_host)
    host: StorageHost = new_host()
    host.open().storage_pool_define_xml(dir_pool_xml("p", tmp_path / "p"))
    ro = virtcore.open_read_only(host.uri, registry=host.registry)
    try:
        with pytest.raises(VirtError, match="read only access prevents virStoragePoolBuild"):
            ro.storage_pool_lookup_by_name("p").build()
    finally:
        ro.close()


def test_define_with_validate_checks_the_schema(conn: Connection, pool_dir: Path) -> None:
    odd = dir_pool_xml("p", pool_dir).replace("<target>", "<bogus/><target>")
    conn.storage_pool_define_xml(odd)  # unknown elements are ignored without VALIDATE
    with pytest.raises(VirtError) as err:
        conn.storage_pool_define_xml(odd.replace("<name>p<", "<name>q<"), 1)
    assert err.value.code == 92  # VIR_ERR_XML_INVALID_SCHEMA
