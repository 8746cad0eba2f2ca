"""File system pools on a real loop device: mkfs at build, mount at start, umount at destroy.

Each test attaches a small image file to a free loop device (``losetup``)
and detaches it afterwards, unmounting whatever the test left mounted. The
tests need root and loop devices; without them they are skipped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.storage.conftest import StorageHost, vol_xml
from virtcore.enums.errors import ErrorNumber
from virtcore.enums.storage import StoragePoolBuildFlags as Build
from virtcore.errors import InternalError, VirtError
from virtcore.objects import StoragePool


def _mounted(target: Path) -> bool:
    with open("/proc/self/mounts", encoding="utf-8") as fh:
        return any(line.split()[1] == str(target) for line in fh)


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    """A 32 MiB zeroed image attached to a loop device."""
    if os.geteuid() != 0:
        pytest.skip("file system pools need root to mount")
    image = tmp_path / "fs.img"
    with open(image, "wb") as fh:
        fh.truncate(32 * 1024 * 1024)
    proc = subprocess.run(
        ["losetup", "--find", "--show", str(image)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        # Root on the Debian machines these tests target always has loop devices.
        pytest.fail(f"no loop device available: {proc.stderr.strip()}")
    device = proc.stdout.strip()
    try:
        yield device
    finally:
        target = tmp_path / "mnt"
        while _mounted(target):
            subprocess.run(["umount", str(target)], check=False)
        subprocess.run(["losetup", "--detach", device], check=False)


def _fs_pool_xml(device: str, target: Path) -> str:
    return (
        "<pool type='fs'><name>fs</name>"
        f"<source><device path='{device}'/><format type='ext4'/></source>"
        f"<target><path>{target}</path></target></pool>"
    )


def _host(new_host: Any) -> StorageHost:
    host: StorageHost = new_host()
    return host


def _formatted_pool(host: StorageHost, device: str, target: Path) -> StoragePool:
    """The pool "fs" on *device*, defined and built (formatted) on *host*, not started."""
    pool = host.open().storage_pool_define_xml(_fs_pool_xml(device, target))
    pool.build(Build.OVERWRITE)
    return pool


def test_build_with_overwrite_formats_and_start_mounts(
    new_host: Any, loop_device: str, tmp_path: Path
) -> None:
    conn = _host(new_host).open()
    pool = conn.storage_pool_define_xml(_fs_pool_xml(loop_device, tmp_path / "mnt"))
    pool.build(Build.OVERWRITE)
    pool.create()
    assert _mounted(tmp_path / "mnt")
    assert pool.info().capacity < 40 * 1024 * 1024
    pool.vol_create_xml(vol_xml("disk.qcow2", 1048576, fmt="qcow2"))
    assert (tmp_path / "mnt" / "disk.qcow2").exists()
    assert "lost+found" in pool.list_volumes()


def test_destroy_unmounts(new_host: Any, loop_device: str, tmp_path: Path) -> None:
    pool = _formatted_pool(_host(new_host), loop_device, tmp_path / "mnt")
    pool.create()
    pool.destroy()
    assert not _mounted(tmp_path / "mnt")


def test_build_without_overwrite_refuses_a_formatted_device(
    new_host: Any, loop_device: str, tmp_path: Path
) -> None:
    conn = _host(new_host).open()
    pool = conn.storage_pool_define_xml(_fs_pool_xml(loop_device, tmp_path / "mnt"))
    pool.build(Build.NO_OVERWRITE)  # empty device: formatted
    with pytest.raises(VirtError) as err:
        pool.build(Build.NO_OVERWRITE)
    assert err.value.code == ErrorNumber.STORAGE_POOL_BUILT
    assert err.value.detail == f"Device '{loop_device}' already formatted using 'ext4'"


def test_start_of_an_unformatted_device_fails_and_leaves_nothing_mounted(
    new_host: Any, loop_device: str, tmp_path: Path
) -> None:
    conn = _host(new_host).open()
    pool = conn.storage_pool_define_xml(_fs_pool_xml(loop_device, tmp_path / "mnt"))
    pool.build()
    with pytest.raises(InternalError, match="Child process \\(mount -t ext4"):
        pool.create()
    assert not pool.is_active() and not _mounted(tmp_path / "mnt")


def test_mounted_pool_is_running_after_a_process_restart(
    new_host: Any, loop_device: str, tmp_path: Path
) -> None:
    first = _host(new_host)
    _formatted_pool(first, loop_device, tmp_path / "mnt").create()
    first.exit()
    again = _host(new_host).open().storage_pool_lookup_by_name("fs")
    assert again.is_active()
    again.destroy()


def test_pool_unmounted_behind_its_back_is_inactive_after_restart(
    new_host: Any, loop_device: str, tmp_path: Path
) -> None:
    first = _host(new_host)
    _formatted_pool(first, loop_device, tmp_path / "mnt").create()
    first.exit()
    subprocess.run(["umount", str(tmp_path / "mnt")], check=True)
    assert not _host(new_host).open().storage_pool_lookup_by_name("fs").is_active()


def test_autostart_mounts_at_boot(new_host: Any, loop_device: str, tmp_path: Path) -> None:
    first = _host(new_host)
    _formatted_pool(first, loop_device, tmp_path / "mnt").set_autostart(True)
    first.exit()
    first.reboot()
    conn = _host(new_host).open()
    assert conn.storage_pool_lookup_by_name("fs").is_active()
    assert _mounted(tmp_path / "mnt")
    conn.storage_pool_lookup_by_name("fs").destroy()
