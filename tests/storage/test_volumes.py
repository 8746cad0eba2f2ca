"""Volumes of directory pools through the real qemu-img: create, copy, resize, delete, lookups."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.storage.conftest import vol_xml
from virtcore.connection import Connection
from virtcore.enums.errors import ErrorNumber
from virtcore.enums.storage import StorageVolCreateFlags, StorageVolResizeFlags
from virtcore.errors import (
    AlreadyExistsError,
    ConfigUnsupportedError,
    InternalError,
    InvalidArgError,
    NoStorageVolError,
    NoSupportError,
    OperationInvalidError,
    OperationUnsupportedError,
    SystemCallError,
)
from virtcore.objects import StoragePool

MIB = 1024 * 1024


def qemu_info(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    info: dict[str, object] = json.loads(out)
    return info


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


# -- create ------------------------------------------------------------------------------


def test_raw_volume_is_a_sparse_file_of_the_capacity(pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", 4 * MIB, extra="<allocation>0</allocation>"))
    path = pool_dir / "a.img"
    assert vol.key == vol.path() == str(path)
    assert path.stat().st_size == 4 * MIB
    assert allocated(path) == 0
    assert vol.info() == (0, 4 * MIB, 0)


def test_raw_volume_without_allocation_is_fully_allocated(
    pool: StoragePool, pool_dir: Path
) -> None:
    pool.vol_create_xml(vol_xml("a.img", 2 * MIB))
    assert allocated(pool_dir / "a.img") >= 2 * MIB


def test_raw_volume_gets_mode_0600_unless_the_xml_says(pool: StoragePool, pool_dir: Path) -> None:
    pool.vol_create_xml(vol_xml("a.img"))
    perms = "<permissions><mode>0640</mode></permissions>"
    pool.vol_create_xml(
        f"<volume><name>b.img</name><capacity>1024</capacity><target>{perms}</target></volume>"
    )
    assert (pool_dir / "a.img").stat().st_mode & 0o777 == 0o600
    assert (pool_dir / "b.img").stat().st_mode & 0o777 == 0o640


def test_qcow2_volume_is_made_by_qemu_img_with_libvirts_compat(
    pool: StoragePool, pool_dir: Path
) -> None:
    vol = pool.vol_create_xml(vol_xml("a.qcow2", 8 * MIB, fmt="qcow2"))
    info = qemu_info(pool_dir / "a.qcow2")
    assert info["format"] == "qcow2" and info["virtual-size"] == 8 * MIB
    assert info["format-specific"] == {
        "type": "qcow2",
        "data": {
            "compat": "0.10",
            "compression-type": "zlib",
            "refcount-bits": 16,
        },
    }
    assert "<format type='qcow2'/>" in vol.xml_desc()
    assert vol.info().capacity == 8 * MIB


def test_qcow2_with_compat_and_features_shows_them_in_the_xml(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(
        "<volume><name>v3.qcow2</name><capacity>1048576</capacity><target>"
        "<format type='qcow2'/><compat>1.1</compat><features><lazy_refcounts/></features>"
        "</target></volume>"
    )
    xml = vol.xml_desc()
    assert "<compat>1.1</compat>" in xml
    assert "<features>\n      <lazy_refcounts/>\n    </features>" in xml
    assert "clusterSize" not in xml  # libvirt shows what it probed only after a refresh


def test_pool_refresh_reports_probed_qcow2_details(pool: StoragePool) -> None:
    pool.vol_create_xml(
        vol_xml("a.qcow2", 1048576, fmt="qcow2").replace(
            "</target>", "<compat>1.1</compat></target>"
        )
    )
    pool.refresh()
    xml = pool.vol_lookup_by_name("a.qcow2").xml_desc()
    assert (
        "<compat>1.1</compat>\n    <clusterSize unit='B'>65536</clusterSize>\n    <features/>"
        in xml
    )


def test_qcow2_metadata_preallocation(pool: StoragePool, pool_dir: Path) -> None:
    pool.vol_create_xml(
        vol_xml("p.qcow2", 4 * MIB, fmt="qcow2", extra="<allocation>0</allocation>"),
        StorageVolCreateFlags.PREALLOC_METADATA,
    )
    pool.vol_create_xml(vol_xml("q.qcow2", 4 * MIB, fmt="qcow2"))
    assert allocated(pool_dir / "p.qcow2") > allocated(pool_dir / "q.qcow2")


def test_metadata_preallocation_of_raw_volumes_is_refused(pool: StoragePool) -> None:
    with pytest.raises(ConfigUnsupportedError) as err:
        pool.vol_create_xml(vol_xml("a.img"), StorageVolCreateFlags.PREALLOC_METADATA)
    assert err.value.detail == "metadata preallocation is not supported for raw volumes"


def test_qcow2_with_a_backing_store_reports_it(pool: StoragePool, pool_dir: Path) -> None:
    pool.vol_create_xml(vol_xml("base.qcow2", 2 * MIB, fmt="qcow2"))
    top = pool.vol_create_xml(
        "<volume><name>top.qcow2</name><capacity>0</capacity>"
        "<target><format type='qcow2'/></target>"
        f"<backingStore><path>{pool_dir}/base.qcow2</path><format type='qcow2'/></backingStore>"
        "</volume>"
    )
    info = qemu_info(pool_dir / "top.qcow2")
    assert info["backing-filename"] == f"{pool_dir}/base.qcow2"
    assert info["virtual-size"] == 2 * MIB
    xml = top.xml_desc()
    assert f"<backingStore>\n    <path>{pool_dir}/base.qcow2</path>" in xml
    assert "<format type='qcow2'/>\n    <permissions>" in xml


def test_missing_backing_store_is_refused(pool: StoragePool) -> None:
    xml = vol_xml("top.qcow2", fmt="qcow2").replace(
        "</volume>", "<backingStore><path>/nonexistent</path></backingStore></volume>"
    )
    with pytest.raises(SystemCallError) as err:
        pool.vol_create_xml(xml)
    assert err.value.detail == (
        "inaccessible backing store volume /nonexistent: No such file or directory"
    )


def test_raw_volume_with_a_backing_store_is_refused(pool: StoragePool, pool_dir: Path) -> None:
    xml = vol_xml("r.img").replace(
        "</volume>", f"<backingStore><path>{pool_dir}</path></backingStore></volume>"
    )
    with pytest.raises(NoSupportError) as err:
        pool.vol_create_xml(xml)
    assert err.value.message == (
        "this function is not supported by the connection driver: "
        "backing storage not supported for raw volumes"
    )


def test_directory_volume(pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("sub", 0, fmt="dir"))
    assert (pool_dir / "sub").is_dir()
    assert vol.info().type == 2
    vol.delete()
    assert not (pool_dir / "sub").exists()


def test_existing_volume_name_is_refused(pool: StoragePool) -> None:
    pool.vol_create_xml(vol_xml("a.img"))
    with pytest.raises(AlreadyExistsError) as err:
        pool.vol_create_xml(vol_xml("a.img"))
    assert err.value.code == ErrorNumber.STORAGE_VOL_EXIST
    assert err.value.message == "storage volume 'a.img' exists already"


def test_failed_build_leaves_neither_file_nor_volume(pool: StoragePool, pool_dir: Path) -> None:
    bad = vol_xml("bad.qcow2", fmt="qcow2").replace(
        "<target>", "<target><clusterSize unit='B'>3</clusterSize>"
    )
    with pytest.raises(InternalError, match="Child process"):
        pool.vol_create_xml(bad)
    assert not (pool_dir / "bad.qcow2").exists()
    assert pool.list_volumes() == []


def test_create_needs_a_running_pool(pool: StoragePool) -> None:
    pool.destroy()
    with pytest.raises(OperationInvalidError, match="storage pool 'images' is not active"):
        pool.vol_create_xml(vol_xml("a.img"))


# -- copies ------------------------------------------------------------------------------


def test_raw_copy_has_the_same_content(pool: StoragePool, pool_dir: Path) -> None:
    src = pool.vol_create_xml(vol_xml("src.img", MIB, extra="<allocation>0</allocation>"))
    with open(pool_dir / "src.img", "r+b") as fh:
        fh.seek(4096)
        fh.write(b"hello")
    copy = pool.vol_create_xml_from(vol_xml("copy.img", 1), src)
    assert (pool_dir / "copy.img").read_bytes() == (pool_dir / "src.img").read_bytes()
    assert copy.info().capacity == MIB


def test_sparse_raw_copy_keeps_holes(pool: StoragePool, pool_dir: Path) -> None:
    src = pool.vol_create_xml(vol_xml("src.img", 8 * MIB, extra="<allocation>0</allocation>"))
    pool.vol_create_xml_from(vol_xml("copy.img", 1, extra="<allocation>0</allocation>"), src)
    assert allocated(pool_dir / "copy.img") == 0


def test_reflink_copy_needs_a_file_system_that_shares_blocks(
    pool: StoragePool, pool_dir: Path
) -> None:
    src = pool.vol_create_xml(vol_xml("src.img", MIB))
    try:
        pool.vol_create_xml_from(vol_xml("copy.img", 1), src, StorageVolCreateFlags.REFLINK)
    except SystemCallError as exc:  # ext4, tmpfs: no FICLONE
        assert exc.detail is not None
        assert exc.detail.startswith(f"failed to clone files from '{pool_dir}/src.img': ")
        assert not (pool_dir / "copy.img").exists()
    else:  # btrfs, xfs: a clone with the same content
        assert (pool_dir / "copy.img").read_bytes() == (pool_dir / "src.img").read_bytes()


def test_copy_converts_qcow2_to_raw(pool: StoragePool, pool_dir: Path) -> None:
    src = pool.vol_create_xml(vol_xml("src.qcow2", 2 * MIB, fmt="qcow2"))
    copy = pool.vol_create_xml_from(vol_xml("copy.img", 1), src)
    assert qemu_info(pool_dir / "copy.img")["format"] == "raw"
    assert copy.info().capacity == 2 * MIB


def test_copy_converts_raw_to_qcow2(pool: StoragePool, pool_dir: Path) -> None:
    src = pool.vol_create_xml(vol_xml("src.img", MIB))
    pool.vol_create_xml_from(vol_xml("copy.qcow2", 1, fmt="qcow2"), src)
    assert qemu_info(pool_dir / "copy.qcow2")["format"] == "qcow2"


def test_copy_to_an_existing_name_is_refused_like_libvirt(pool: StoragePool) -> None:
    src = pool.vol_create_xml(vol_xml("src.img"))
    with pytest.raises(InternalError) as err:
        pool.vol_create_xml_from(vol_xml("src.img"), src)
    assert err.value.message == "internal error: storage volume name 'src.img' already in use."


def test_copy_between_pools(conn: Connection, pool: StoragePool, tmp_path: Path) -> None:
    from tests.storage.conftest import dir_pool_xml

    other = conn.storage_pool_create_xml(dir_pool_xml("other", tmp_path / "o"), 1)
    src = pool.vol_create_xml(vol_xml("src.img"))
    copy = other.vol_create_xml_from(vol_xml("copy.img"), src)
    assert copy.pool_name == "other"
    assert (tmp_path / "o" / "copy.img").exists()


# -- delete, lookups, refresh -----------------------------------------------------------------


def test_delete_removes_the_file(pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img"))
    vol.delete()
    assert not (pool_dir / "a.img").exists()
    with pytest.raises(NoStorageVolError) as err:
        vol.info()
    assert err.value.detail == "no storage vol with matching name 'a.img'"


def test_delete_flags_are_checked_by_the_backend(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img"))
    with pytest.raises(InvalidArgError) as err:
        vol.delete(1)
    assert err.value.message == (
        "unsupported flags (0x1) in function virStorageBackendVolDeleteLocal"
    )


def test_lookup_by_name_key_and_path(conn: Connection, pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img"))
    assert pool.vol_lookup_by_name("a.img") == vol
    assert conn.storage_vol_lookup_by_key(str(pool_dir / "a.img")) == vol
    assert conn.storage_vol_lookup_by_path(f"{pool_dir}//a.img") == vol
    assert vol.storage_pool_lookup_by_volume() == pool


def test_failed_volume_lookups_use_libvirt_texts(conn: Connection, pool: StoragePool) -> None:
    with pytest.raises(NoStorageVolError) as err:
        conn.storage_vol_lookup_by_key("nokey")
    assert err.value.message == "Storage volume not found: no storage vol with matching key nokey"
    with pytest.raises(NoStorageVolError) as err:
        conn.storage_vol_lookup_by_path("/nopath")
    assert err.value.detail == "no storage vol with matching path '/nopath'"
    with pytest.raises(NoStorageVolError) as err:
        pool.vol_lookup_by_name("nov")
    assert err.value.detail == "no storage vol with matching name 'nov'"


def test_refresh_finds_existing_images(pool: StoragePool, pool_dir: Path) -> None:
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(pool_dir / "found.qcow2"), "3M"],
        check=True,
    )
    (pool_dir / "notes.txt").write_bytes(b"x" * 10)
    (pool_dir / "dir").mkdir()
    os.mkfifo(pool_dir / "fifo")
    os.symlink("/nonexistent", pool_dir / "dangling")
    pool.refresh()
    assert pool.list_volumes() == ["dir", "found.qcow2", "notes.txt"]
    found = pool.vol_lookup_by_name("found.qcow2")
    assert found.info().capacity == 3 * 1024 * 1024
    assert "<format type='qcow2'/>" in found.xml_desc()
    assert pool.vol_lookup_by_name("notes.txt").info().capacity == 10


@pytest.mark.parametrize("fmt", ["qcow2", "qed", "vmdk", "vdi", "vpc", "raw"])
def test_refresh_recognises_the_format_of_images(
    pool: StoragePool, pool_dir: Path, fmt: str
) -> None:
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", fmt, str(pool_dir / "image"), "1M"], check=True
    )
    pool.refresh()
    assert f"<format type='{fmt}'/>" in pool.vol_lookup_by_name("image").xml_desc()


def test_damaged_image_is_listed_as_raw_and_the_pool_keeps_running(
    pool: StoragePool, pool_dir: Path
) -> None:
    (pool_dir / "broken.qcow2").write_bytes(b"QFI\xfb\0\0\0\3" + bytes(504))
    pool.refresh()
    assert pool.is_active()
    vol = pool.vol_lookup_by_name("broken.qcow2")
    assert "<format type='raw'/>" in vol.xml_desc()
    assert vol.info().capacity == 512


def test_volume_info_follows_changes_on_disk(pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", MIB, extra="<allocation>0</allocation>"))
    os.truncate(pool_dir / "a.img", 3 * MIB)
    assert vol.info().capacity == 3 * MIB


def test_get_info_flags_reports_the_physical_size(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.qcow2", 8 * MIB, fmt="qcow2"))
    plain = vol.info_flags(0)
    physical = vol.info_flags(1)
    assert plain.capacity == physical.capacity == 8 * MIB
    assert physical.allocation != plain.allocation


# -- resize -------------------------------------------------------------------------------------


def test_resize_grows_a_raw_file(pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", MIB, extra="<allocation>0</allocation>"))
    vol.resize(2 * MIB)
    assert (pool_dir / "a.img").stat().st_size == 2 * MIB
    assert vol.info().allocation == 0


def test_resize_with_allocate_allocates(pool: StoragePool, pool_dir: Path) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", MIB))
    vol.resize(2 * MIB, StorageVolResizeFlags.ALLOCATE)
    assert vol.info() == (0, 2 * MIB, 2 * MIB)
    assert allocated(pool_dir / "a.img") == 2 * MIB


def test_resize_delta_adds_to_the_capacity(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.qcow2", MIB, fmt="qcow2"))
    vol.resize(MIB, StorageVolResizeFlags.DELTA)
    assert vol.info().capacity == 2 * MIB


def test_shrink_needs_the_shrink_flag(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.img", 2 * MIB, extra="<allocation>0</allocation>"))
    with pytest.raises(InvalidArgError) as err:
        vol.resize(MIB)
    assert err.value.detail == (
        "Can't shrink capacity below current capacity unless shrink flag explicitly specified"
    )
    vol.resize(MIB, StorageVolResizeFlags.SHRINK)
    assert vol.info().capacity == MIB


def test_shrink_below_the_allocation_is_refused(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.qcow2", MIB, fmt="qcow2"))
    with pytest.raises(InvalidArgError, match="can't shrink capacity below existing allocation"):
        vol.resize(100, StorageVolResizeFlags.SHRINK)


def test_allocate_on_qcow2_is_unsupported(pool: StoragePool) -> None:
    vol = pool.vol_create_xml(vol_xml("a.qcow2", MIB, fmt="qcow2"))
    with pytest.raises(OperationUnsupportedError) as err:
        vol.resize(2 * MIB, StorageVolResizeFlags.ALLOCATE)
    assert err.value.detail == "preallocate is only supported for raw type volume"
