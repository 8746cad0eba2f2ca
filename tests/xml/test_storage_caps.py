"""The storage pool capabilities document, as ``virsh pool-capabilities`` prints it.

libvirt's test driver has no ``virConnectGetStoragePoolCapabilities``; the
golden file tests/data/xml/storage/storagepool-capabilities.xml was recorded
from libvirt 9.0's storage driver in an unprivileged session daemon
(``virsh -c qemu:///session pool-capabilities`` run as an unprivileged user,
Debian 12), whose loaded backends support the dir, fs, netfs, logical, disk,
iscsi, scsi and mpath pool types.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from virtcore.xml.storage_caps import StoragePoolCapabilities
from virtcore.xml.storage_pool import POOL_TYPES
from virtcore.xml.validate import validate

GOLDEN = Path(__file__).parent.parent / "data" / "xml" / "storage" / "storagepool-capabilities.xml"
SESSION_DAEMON_TYPES = ("dir", "fs", "netfs", "logical", "disk", "iscsi", "scsi", "mpath")


def test_built_document_is_what_libvirts_storage_driver_prints() -> None:
    assert StoragePoolCapabilities.build(SESSION_DAEMON_TYPES).format() == GOLDEN.read_text()


def test_formatted_capabilities_validate_against_libvirts_schema(libvirt_schemas: Path) -> None:
    text = StoragePoolCapabilities.build(POOL_TYPES).format()
    validate(etree.fromstring(text.encode()), "storagepoolcaps.rng")


def test_parsed_document_reads_and_reformats_identically() -> None:
    caps = StoragePoolCapabilities.from_xml(GOLDEN.read_text())
    assert caps.supported_types == list(SESSION_DAEMON_TYPES)
    assert caps.format() == GOLDEN.read_text()
    assert caps.to_string() == GOLDEN.read_text()


def test_every_pool_type_is_listed_in_libvirts_order() -> None:
    caps = StoragePoolCapabilities.build(["rbd"])
    assert [p.type for p in caps.pools] == list(POOL_TYPES)
    assert caps.supported_types == ["rbd"]


def test_pool_entries_expose_their_formats() -> None:
    caps = StoragePoolCapabilities.build(["disk"])
    disk = next(p for p in caps.pools if p.type == "disk")
    assert (disk.supported, disk.default_pool_format, disk.default_volume_format) == (
        True,
        "unknown",
        "none",
    )
    assert disk.pool_formats[:3] == ["unknown", "dos", "dvh"]
    assert "linux-swap" in disk.volume_formats
    rbd = next(p for p in caps.pools if p.type == "rbd")
    assert rbd.volume_formats == [] and rbd.default_volume_format == "raw"


def test_unknown_pool_type_is_refused() -> None:
    with pytest.raises(ValueError, match="bogus"):
        StoragePoolCapabilities.build(["dir", "bogus"])
