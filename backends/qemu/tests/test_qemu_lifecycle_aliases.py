"""The live XML of a started guest names its devices as libvirt's does.

libvirt gives every device of a guest it starts an ``<alias>`` (the device's
QEMU id) and shows it in the live XML. Each guest here is started by virtcore
and, paused, by the private libvirt daemon; the aliases of their live XML
must be the same, device by device. The aliases are runtime data: they
survive the status file and a reconnect, and the inactive XML has none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from qemu_guests import make_raw_disk
from qemu_hardware import device_alias_list
from qemu_libvirt_oracle import QemuOracle, shared_qemu_oracle

import virtcore
from virtcore.connection import Connection
from virtcore.enums.domain import DomainXMLFlags
from virtcore.hosts import shutdown_hosts

UUID = "6f1c2a55-0b1e-4c7e-9a57-3f0d2c1b9e01"

GUESTS = {
    "i440fx": (
        "pc",
        "<serial type='pty'/><interface type='user'><mac address='52:54:00:6a:01:01'/>"
        "</interface><input type='tablet' bus='usb'/><memballoon model='virtio'/>"
        "<controller type='virtio-serial'/><channel type='pty'><target type='virtio' "
        "name='org.example.0'/></channel>",
    ),
    "q35-disk": (
        "q35",
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='@DISK@'/><target dev='vda' bus='virtio'/></disk>"
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
        "<target dev='sda' bus='sata'/><readonly/></disk>"
        "<controller type='virtio-serial'/><channel type='pty'><target type='virtio' "
        "name='org.example.0'/></channel><serial type='pty'/><rng model='virtio'>"
        "<backend model='random'>/dev/urandom</backend></rng><video><model type='vga'/></video>",
    ),
    "empty-cdrom": (
        "pc",
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
        "<target dev='hdc' bus='ide'/><readonly/></disk>",
    ),
    "user-alias": (
        "pc",
        "<interface type='user'><mac address='52:54:00:6a:02:01'/><alias name='ua-uplink'/>"
        "</interface><interface type='user'><mac address='52:54:00:6a:02:02'/></interface>"
        "<serial type='pty'/><serial type='pty'/>",
    ),
}


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    return shared_qemu_oracle(tmp_path_factory)


def _xml(name: str, images: Path) -> str:
    machine, devices = GUESTS[name]
    if "@DISK@" in devices:
        images.mkdir(exist_ok=True)
        devices = devices.replace("@DISK@", make_raw_disk(images / "disk.raw"))
    return (
        f"<domain type='qemu'><name>alias-{name}</name><uuid>{UUID}</uuid>"
        "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        f"<os><type arch='x86_64' machine='{machine}'>hvm</type></os>"
        f"<devices>{devices}</devices></domain>"
    )


def _libvirt_live(oracle: QemuOracle, xml: str, tmp_path: Path) -> str:
    path = tmp_path / "libvirt.xml"
    path.write_text(xml)
    created = oracle.virsh("create", "--paused", str(path))
    assert created.returncode == 0, created.stderr
    try:
        return oracle.virsh("dumpxml", UUID, check=True).stdout
    finally:
        oracle.virsh("destroy", UUID, check=True)


def _aliases(xml: str) -> list[list[object]]:
    return device_alias_list(etree.fromstring(xml.encode()))


def _started(conn: Connection, xml: str) -> str:
    return conn.domain_create_xml(xml).xml_desc()


@pytest.mark.parametrize("name", sorted(GUESTS))
def test_started_guest_shows_libvirts_aliases(
    name: str, conn: Connection, oracle: QemuOracle, tmp_path: Path
) -> None:
    mine = _aliases(_started(conn, _xml(name, tmp_path / "mine")))
    assert all(alias is not None for _tag, _pos, alias in mine)
    # libvirt's guest gets images of its own: QEMU locks those of the running one.
    libvirt = _libvirt_live(oracle, _xml(name, tmp_path / "libvirt"), tmp_path)
    assert mine == _aliases(libvirt)


def _devices(xml: str) -> str:
    """The ``<devices>`` of a live XML, pty paths (the host's choice) left out."""
    devices = etree.fromstring(xml.encode()).find("devices")
    assert devices is not None
    for node in devices.iter():
        if str(node.get("path", "")).startswith("/dev/pts/"):
            node.set("path", "PTY")
        if str(node.get("tty", "")).startswith("/dev/pts/"):
            node.set("tty", "PTY")
    devices.tail = None
    etree.indent(devices)
    return etree.tostring(devices).decode()


@pytest.mark.parametrize("name", ["empty-cdrom", "i440fx", "user-alias"])
def test_started_guest_devices_equal_libvirts(
    name: str, conn: Connection, oracle: QemuOracle, tmp_path: Path
) -> None:
    # Runtime data included: aliases, pty sources, the state of virtio channels, the
    # format an empty drive no longer has.
    mine = _started(conn, _xml(name, tmp_path / "mine"))
    assert _devices(mine) == _devices(_libvirt_live(oracle, _xml(name, tmp_path), tmp_path))


def test_inactive_xml_of_a_running_guest_has_no_runtime_aliases(
    conn: Connection, tmp_path: Path
) -> None:
    dom = conn.domain_create_xml(_xml("user-alias", tmp_path))
    inactive = _aliases(dom.xml_desc(DomainXMLFlags.INACTIVE))
    assert [alias for _tag, _pos, alias in inactive if alias is not None] == ["ua-uplink"]


def test_aliases_survive_the_status_file_and_a_reconnect(embed_root: Path, tmp_path: Path) -> None:
    uri = f"qemu:///embed?root={embed_root}"
    with virtcore.open(uri) as first:
        before = first.domain_create_xml(_xml("q35-disk", tmp_path)).xml_desc()
    shutdown_hosts()
    with virtcore.open(uri) as second:
        after = second.domain_lookup_by_uuid(UUID).xml_desc()
    assert "<alias name='virtio-disk0'/>" in after
    assert after == before
