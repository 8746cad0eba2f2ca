"""Backing chains detected at start (virtcore_qemu.chain) against real images and libvirt.

Images are tiny qcow2/raw files made by the real ``qemu-img``; the oracle
test starts the same guest paused in a private libvirtd and compares the
``<source index>`` and ``<backingStore>`` chains of its live XML.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from qemu_libvirt_oracle import shared_qemu_oracle

from virtcore.errors import (
    InternalError,
    OperationUnsupportedError,
    SystemCallError,
)
from virtcore.xml.domain import Domain
from virtcore.xml.domain.devices.source import StorageSource
from virtcore_qemu.chain import chain_layers, detect_chain, fill_live_chains, next_index

INACTIVE = 0x2
IDS = f"(as uid:{os.getuid()}, gid:{os.getgid()})"


def qemu_img(*args: str | Path) -> None:
    subprocess.run(["qemu-img", *map(str, args)], check=True, capture_output=True)


def qcow2(path: Path, backing: Path | None = None, backing_fmt: str = "qcow2") -> Path:
    if backing is None:
        qemu_img("create", "-q", "-f", "qcow2", path, "1M")
    else:
        qemu_img("create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", backing_fmt, path, "1M")
    return path


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    base = qcow2(tmp_path / "base.qcow2")
    mid = qcow2(tmp_path / "mid.qcow2", base)
    raw = tmp_path / "rawbase.img"
    qemu_img("create", "-q", "-f", "raw", raw, "1M")
    return {
        "base": base,
        "mid": mid,
        "top": qcow2(tmp_path / "top.qcow2", mid),
        "top2": qcow2(tmp_path / "top2.qcow2", base),
        "top3": qcow2(tmp_path / "top3.qcow2", raw, "raw"),
        "raw": raw,
    }


def source(path: Path, fmt: str = "qcow2") -> StorageSource:
    return StorageSource(type="file", path=str(path), format=fmt)


# -- one disk ----------------------------------------------------------------------------


def test_an_overlay_chain_is_read_down_to_its_base(images: dict[str, Path]) -> None:
    top = source(images["top"])
    added = detect_chain(top, disk="vda")
    assert [(layer.path, layer.format) for layer in added] == [
        (str(images["mid"]), "qcow2"),
        (str(images["base"]), "qcow2"),
    ]
    assert all(layer.detected and layer.readonly for layer in added)
    terminator = added[-1].backing
    assert terminator is not None and terminator.type == "none" and not terminator.detected


def test_a_raw_backing_image_keeps_its_format(images: dict[str, Path]) -> None:
    added = detect_chain(source(images["top3"]))
    assert [(layer.path, layer.format) for layer in added] == [(str(images["raw"]), "raw")]


def test_an_image_without_backing_gets_only_the_terminator(images: dict[str, Path]) -> None:
    top = source(images["raw"], "raw")
    assert detect_chain(top) == []
    assert top.backing is not None and top.backing.type == "none"


def test_a_disk_without_format_is_read_as_raw(images: dict[str, Path]) -> None:
    top = StorageSource(type="file", path=str(images["top"]))
    assert detect_chain(top) == []
    assert top.format == "raw"


def test_detected_layers_are_numbered_in_order(images: dict[str, Path]) -> None:
    numbers = iter(range(10, 20))
    added = detect_chain(source(images["top"]), number=lambda: next(numbers))
    assert [layer.index for layer in added] == [10, 11]


def test_a_chain_known_to_be_complete_is_left_alone(images: dict[str, Path]) -> None:
    top = source(images["top"])
    top.backing = StorageSource(type="none")
    assert detect_chain(top) == []
    assert top.backing.type == "none"


def test_detection_continues_below_the_layers_given(images: dict[str, Path]) -> None:
    top = source(images["top"])
    top.backing = source(images["mid"])
    added = detect_chain(top)
    assert [layer.path for layer in added] == [str(images["base"])]
    assert [layer.path for layer in chain_layers(top)] == [
        str(images["top"]),
        str(images["mid"]),
        str(images["base"]),
    ]


def test_an_empty_drive_is_skipped() -> None:
    empty = StorageSource(type="file")
    assert detect_chain(empty) == []
    assert empty.backing is None


# -- errors ------------------------------------------------------------------------------


def test_a_missing_image_is_reported_as_libvirt_does(tmp_path: Path) -> None:
    path = tmp_path / "gone.qcow2"
    with pytest.raises(SystemCallError) as caught:
        detect_chain(source(path))
    assert caught.value.message == (
        f"Cannot access storage file '{path}' {IDS}: No such file or directory"
    )


def test_a_missing_backing_file_names_the_disk_image(tmp_path: Path) -> None:
    broken = qcow2(tmp_path / "broken.qcow2", tmp_path / "gone.qcow2")
    with pytest.raises(SystemCallError) as caught:
        detect_chain(source(broken))
    assert caught.value.message == (
        f"Cannot access backing file '{tmp_path / 'gone.qcow2'}' of storage file "
        f"'{broken}' {IDS}: No such file or directory"
    )


def test_a_loop_is_refused(tmp_path: Path) -> None:
    first = qcow2(tmp_path / "a.qcow2", tmp_path / "b.qcow2")
    qcow2(tmp_path / "b.qcow2", first)
    with pytest.raises(InternalError) as caught:
        detect_chain(source(first))
    assert caught.value.message == (
        f"internal error: backing store for {first} is self-referential or too deeply nested"
    )


def test_detection_stops_at_its_depth_limit(images: dict[str, Path]) -> None:
    with pytest.raises(InternalError) as caught:
        detect_chain(source(images["top"]), max_depth=2)
    assert str(images["base"]) in caught.value.message


def test_a_chain_of_more_than_200_layers_is_refused(images: dict[str, Path]) -> None:
    top = source(images["base"])
    layer = top
    for _ in range(200):
        layer.backing = source(images["base"])
        layer = layer.backing
    layer.backing = StorageSource(type="none")
    with pytest.raises(OperationUnsupportedError) as caught:
        detect_chain(top, disk="vda")
    assert caught.value.message == (
        "Operation not supported: backing chains more than 200 layers deep are not "
        "supported for disk 'vda'"
    )


# -- a whole domain ----------------------------------------------------------------------


def guest_xml(images: dict[str, Path], name: str = "chain") -> str:
    disks = "".join(
        f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{images[key]}'/><target dev='{dev}' bus='virtio'/></disk>"
        for key, dev in (("top", "vda"), ("top2", "vdb"), ("top3", "vdc"))
    )
    return (
        f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        f"<emulator>/usr/bin/qemu-system-x86_64</emulator>{disks}"
        "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
        "<controller type='usb' model='none'/><memballoon model='none'/>"
        "</devices></domain>"
    )


def chains(xml: str) -> list[str]:
    """Each disk's <source> and <backingStore> chain, as text."""
    root = etree.fromstring(xml.encode())
    out = []
    for disk in root.iterfind("devices/disk"):
        parts = [
            etree.tostring(node).decode()
            for node in disk
            if isinstance(node.tag, str) and node.tag in ("source", "backingStore")
        ]
        out.append("".join(parts))
    return out


def live_domain(images: dict[str, Path]) -> Domain:
    xml = guest_xml(images).replace("<domain type='qemu'>", "<domain type='qemu' id='1'>")
    live = Domain.parse(xml, inactive=False)
    fill_live_chains(live)
    return live


def test_a_domain_is_numbered_as_libvirt_numbers_it(images: dict[str, Path]) -> None:
    root = etree.fromstring(live_domain(images).format(live=True).encode())
    numbers = [
        [node.get("index") for node in disk.iter("source", "backingStore") if node.get("index")]
        for disk in root.iterfind("devices/disk")
    ]
    # Given layers first (last disk first; the empty CD-ROM takes 1), then detected ones.
    assert numbers == [["4", "7", "8"], ["3", "6"], ["2", "5"], []]


def test_the_next_number_follows_the_highest(images: dict[str, Path]) -> None:
    assert next_index(live_domain(images)) == 9


def test_live_chains_match_libvirt(
    images: dict[str, Path], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    oracle = shared_qemu_oracle(tmp_path_factory)
    path = tmp_path / "guest.xml"
    path.write_text(guest_xml(images, "chain-oracle"))
    created = oracle.virsh("create", "--paused", str(path))
    assert created.returncode == 0, created.stderr
    try:
        expected = oracle.virsh("dumpxml", "chain-oracle", check=True).stdout
        inactive = oracle.virsh("dumpxml", "--inactive", "chain-oracle", check=True).stdout
    finally:
        oracle.virsh("destroy", "chain-oracle")
    live = live_domain(images)
    assert chains(live.format(live=True)) == chains(expected)
    # The inactive XML of the running (transient) guest: detected layers left out.
    assert chains(live.format(INACTIVE, live=True)) == chains(inactive)


def test_an_image_without_backing_ends_in_a_terminator_kept_inactive(
    images: dict[str, Path],
) -> None:
    xml = guest_xml(images).replace(str(images["top2"]), str(images["base"]))
    live = Domain.parse(xml.replace("type='qemu'>", "type='qemu' id='1'>", 1), inactive=False)
    fill_live_chains(live)
    vdb = re.sub(r">\s+", ">", chains(live.format(INACTIVE, live=True))[1])
    assert vdb == f'<source file="{images["base"]}" index="3"/><backingStore/>'


def test_a_loop_is_refused_by_libvirt_with_the_same_message(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    oracle = shared_qemu_oracle(tmp_path_factory)
    first = qcow2(tmp_path / "a.qcow2", tmp_path / "b.qcow2")
    qcow2(tmp_path / "b.qcow2", first)
    images = {"top": first, "top2": first, "top3": first}
    path = tmp_path / "guest.xml"
    path.write_text(guest_xml(images, "chain-loop"))
    created = oracle.virsh("create", "--paused", str(path))
    if created.returncode == 0:
        oracle.virsh("destroy", "chain-loop")
    with pytest.raises(InternalError) as caught:
        fill_live_chains(Domain.parse(guest_xml(images), inactive=False))
    assert f"error: {caught.value.message}" in created.stderr
