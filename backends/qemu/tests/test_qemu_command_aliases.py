"""Device aliases: virtcore's assign_aliases against the live XML of guests libvirt starts.

libvirt names every device of a running guest (``<alias name='...'/>`` in the
live XML, the device's QEMU id). ``data/argv/aliases/<case>.json`` holds the
aliases of each argv case as the private libvirt daemon started it (paused;
``python qemu_hardware.py aliases`` records them, for every case libvirt can
start on this host); :func:`assign_aliases` must give every device the alias
libvirt gave it. A few cases are started again on each run so the recorded
aliases cannot drift from libvirt's. The hot-plug naming
(:func:`new_device_alias`) is checked against libvirt's rules directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from qemu_hardware import (
    ALIASES_DIR,
    case_names,
    create_images,
    device_alias_list,
    libvirt_live_aliases,
    load_case,
    materialise,
)
from qemu_libvirt_oracle import QemuOracle, shared_qemu_oracle

from virtcore.errors import InternalError
from virtcore.xml.domain import Domain
from virtcore_qemu.command import assign_aliases, new_device_alias
from virtcore_qemu.command.aliases import ALIASED

RECORDED = sorted(path.stem for path in ALIASES_DIR.glob("*.json"))
LIVE = ["full-featured", "q35-devices", "disk-many-buses"]
"""Cases started in libvirt on every run (many device kinds between them)."""


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    return shared_qemu_oracle(tmp_path_factory)


def _recorded(name: str) -> list[list[object]]:
    aliases: list[list[object]] = json.loads((ALIASES_DIR / f"{name}.json").read_text())
    return aliases


def _assigned(xml: str) -> list[list[object]]:
    domain = Domain.parse(xml)
    assign_aliases(domain)
    return device_alias_list(domain.element)


def test_most_cases_have_recorded_aliases() -> None:
    assert len(RECORDED) >= len(case_names()) * 3 // 4


def test_the_alias_order_is_the_builders() -> None:
    from qemu_hardware import ALIASED_TAGS

    assert tuple(ALIASED) == ALIASED_TAGS


def _comparable(aliases: list[list[object]]) -> list[list[object]]:
    """*aliases* with the controllers' order left out.

    libvirt re-sorts controllers when it parses a definition to start it (a
    controller added at define time moves next to those of its type), so
    their positions in the live XML differ from the defined document's;
    each controller's alias is still fixed by its type and index.
    """
    others = [entry for entry in aliases if entry[0] != "controller"]
    controllers = sorted(str(entry[2]) for entry in aliases if entry[0] == "controller")
    return [*others, ["controller", controllers]]


@pytest.mark.parametrize("name", RECORDED)
def test_aliases_equal_libvirts(name: str, tmp_path: Path) -> None:
    mine = _assigned(materialise(load_case(name), tmp_path))
    assert _comparable(mine) == _comparable(_recorded(name))


@pytest.mark.parametrize("name", LIVE)
def test_recorded_aliases_are_libvirts_today(name: str, oracle: QemuOracle, tmp_path: Path) -> None:
    create_images(load_case(name), tmp_path)
    live = libvirt_live_aliases(oracle, name, materialise(load_case(name), tmp_path))
    assert live == _recorded(name)


def _domain(devices: str, machine: str = "pc") -> Domain:
    return Domain.parse(
        "<domain type='qemu'><name>g</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        f"<os><type arch='x86_64' machine='{machine}'>hvm</type></os>"
        f"<devices>{devices}</devices></domain>"
    )


def _device(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def test_assign_aliases_is_idempotent() -> None:
    domain = _domain("<serial type='pty'/><interface type='user'/>")
    assign_aliases(domain)
    once = etree.tostring(domain.element)
    assign_aliases(domain)
    assert etree.tostring(domain.element) == once


def test_alias_is_written_before_the_address() -> None:
    domain = _domain(
        "<interface type='user'><address type='pci' domain='0x0000' bus='0x00' "
        "slot='0x03' function='0x0'/></interface>"
    )
    assign_aliases(domain)
    net = domain.element.find("devices/interface")
    assert net is not None
    assert [child.tag for child in net][-2:] == ["alias", "address"]


def test_user_alias_is_kept() -> None:
    domain = _domain("<interface type='user'><alias name='ua-uplink'/></interface>")
    assign_aliases(domain)
    assert domain.element.find("devices/interface/alias").get("name") == "ua-uplink"  # type: ignore[union-attr]


def test_hotplugged_nic_takes_the_next_free_number() -> None:
    domain = _domain(
        "<interface type='user'><alias name='net0'/></interface>"
        "<interface type='user'><alias name='net3'/></interface>"
    )
    assert new_device_alias(domain, _device("<interface type='user'/>")) == "net4"


def test_hotplugged_nic_skips_user_aliases() -> None:
    domain = _domain("<interface type='user'><alias name='ua-a'/></interface>")
    assert new_device_alias(domain, _device("<interface type='user'/>")) == "net0"


def test_hotplugged_virtio_disk_is_named_after_its_target() -> None:
    disk = (
        "<disk type='file' device='disk'><source file='/x'/><target dev='vdc' bus='virtio'/></disk>"
    )
    assert new_device_alias(_domain(""), _device(disk)) == "virtio-disk2"


def test_hotplugged_scsi_disk_uses_its_drive_address() -> None:
    domain = _domain("<controller type='scsi' index='0' model='virtio-scsi'/>")
    disk = _device(
        "<disk type='file' device='disk'><source file='/x'/><target dev='sdb' bus='scsi'/>"
        "<address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>"
    )
    assert new_device_alias(domain, disk) == "scsi0-0-0-1"


def test_scsi_disk_without_its_controller_is_libvirts_internal_error() -> None:
    disk = _device(
        "<disk type='file' device='disk'><source file='/x'/><target dev='sdb' bus='scsi'/>"
        "<address type='drive' controller='2' bus='0' target='0' unit='1'/></disk>"
    )
    with pytest.raises(InternalError) as err:
        new_device_alias(_domain(""), disk)
    assert "Unable to find a SCSI controller for idx=2" in str(err.value)


def test_hotplugged_serial_takes_the_next_free_number() -> None:
    domain = _domain("<serial type='pty'><alias name='serial0'/></serial>")
    assert new_device_alias(domain, _device("<serial type='pty'/>")) == "serial1"


def test_q35_builtin_sata_is_ide_and_pcie_root_is_pcie0() -> None:
    domain = _domain(
        "<controller type='sata' index='0'/><controller type='pci' index='0' model='pcie-root'/>",
        machine="q35",
    )
    assign_aliases(domain)
    names = [a.get("name") for a in domain.element.iterfind("devices/controller/alias")]
    assert names == ["ide", "pcie.0"]
