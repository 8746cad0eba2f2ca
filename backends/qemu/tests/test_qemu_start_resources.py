"""What a start prepares around QEMU: TPM emulator, UEFI firmware, vsock, virtio-fs, and the
settings applied over QMP before the CPUs run (I/O limits, hot-pluggable vCPUs, balloon).

Every guest is a tiny TCG guest on an embed root; helper daemons (swtpm,
virtiofsd) a test leaves behind are killed at teardown, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from qemu_guests import make_raw_disk, pid_running, wait_until
from qemu_libvirt_oracle import QemuOracle, shared_qemu_oracle

import virtcore
from virtcore.connection import Connection
from virtcore.enums.domain import DomainState
from virtcore.errors import (
    ConfigUnsupportedError,
    InternalError,
    OperationFailedError,
    OperationInvalidError,
    SystemCallError,
)
from virtcore.hosts import shutdown_hosts
from virtcore.objects import Domain
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu import caps_firmware, helpers, startup
from virtcore_qemu.driver import QemuHypervisorDriver
from virtcore_qemu.firmware import fill_firmware, prepare_nvram
from virtcore_qemu.state import QemuDriver

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def _helper_pids(root: Path) -> list[int]:
    """swtpm and virtiofsd processes working for embed root *root*."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes()
            argv0 = os.path.basename(cmdline.split(b"\0", 1)[0])
            if argv0 in (b"swtpm", b"virtiofsd") and str(root).encode() in cmdline:
                found.append(int(proc.name))
    return found


@pytest.fixture(autouse=True)
def _no_helper_survives(embed_root: Path) -> Iterator[None]:
    try:
        yield
    finally:
        for pid in _helper_pids(embed_root):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _xml(name: str, devices: str = "", *, os_xml: str = "", extra: str = "") -> str:
    os_xml = os_xml or "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
    return (
        f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>32</memory>"
        f"<vcpu>1</vcpu>{extra}{os_xml}<devices>{devices}</devices></domain>"
    )


def _started(conn: Connection, xml: str) -> Domain:
    dom = conn.domain_define_xml(xml)
    dom.create()
    return dom


def _qmp(qemu: QemuDriver, name: str, command: str, arguments: dict[str, Any] | None = None) -> Any:
    obj = qemu.domains.find_by_name(name)
    assert obj is not None and obj.monitor is not None
    return obj.monitor.execute(command, arguments)


def _live(dom: Domain) -> DomainDef:
    return DomainDef.parse(dom.xml_desc(0))


# -- TPM emulator ----------------------------------------------------------------------

_TPM = "<tpm model='tpm-crb'><backend type='emulator'/></tpm>"


def _swtpm_pid(qemu: QemuDriver, name: str) -> int:
    pidfile = next((qemu.paths.state_dir / "swtpm").glob(f"*-{name}-swtpm.pid"))
    return int(pidfile.read_text().strip())


def test_emulated_tpm_is_visible_to_qemu(conn: Connection, qemu: QemuDriver) -> None:
    _started(conn, _xml("tpm", _TPM))
    tpms = _qmp(qemu, "tpm", "query-tpm")
    assert [(t["model"], t["options"]["type"]) for t in tpms] == [("tpm-crb", "emulator")]


def test_tpm_state_lives_under_the_driver_lib_dir(conn: Connection, qemu: QemuDriver) -> None:
    dom = _started(conn, _xml("tpm", _TPM))
    state = qemu.paths.data_dir / "swtpm" / dom.uuid / "tpm2"
    assert (state / "tpm2-00.permall").is_file()
    assert (qemu.paths.log_dir / "tpm-swtpm.log").is_file()


def test_swtpm_ends_with_the_guest(conn: Connection, qemu: QemuDriver) -> None:
    dom = _started(conn, _xml("tpm", _TPM))
    pid = _swtpm_pid(qemu, "tpm")
    assert pid_running(pid)
    dom.destroy()
    assert wait_until(lambda: not pid_running(pid))
    assert list((qemu.paths.state_dir / "swtpm").iterdir()) == []


def test_tpm_guest_starts_again_right_after_destroy(conn: Connection, qemu: QemuDriver) -> None:
    dom = _started(conn, _xml("tpm", _TPM))
    dom.destroy()
    dom.create()
    assert _qmp(qemu, "tpm", "query-tpm")[0]["model"] == "tpm-crb"


def test_swtpm_of_a_reconnected_guest_ends_with_it(embed_root: Path) -> None:
    uri = f"qemu:///embed?root={embed_root}"
    with virtcore.open(uri) as first:
        _started(first, _xml("tpm", _TPM))
    shutdown_hosts()  # the managing process goes; the guest and its swtpm stay
    with virtcore.open(uri) as second:
        table = second.tables.hypervisor
        assert isinstance(table, QemuHypervisorDriver)
        pid = _swtpm_pid(table.driver, "tpm")
        assert pid_running(pid)
        second.domain_lookup_by_name("tpm").destroy()
    assert wait_until(lambda: not pid_running(pid))


_TPM_GUESTS = {
    "crb": ("q35", "<tpm model='tpm-crb'><backend type='emulator'/></tpm>"),
    "tis": ("pc", "<tpm><backend type='emulator'/></tpm>"),
}


def _tpm_of(xml: str) -> str:
    tpm = etree.fromstring(xml.encode()).find("devices/tpm")
    assert tpm is not None
    return etree.tostring(tpm).decode()


@pytest.mark.parametrize("kind", sorted(_TPM_GUESTS))
def test_tpm_guest_equals_libvirts(
    kind: str, conn: Connection, qemu: QemuDriver, oracle: QemuOracle, tmp_path: Path
) -> None:
    machine, tpm = _TPM_GUESTS[kind]
    uuid = "3b0f6c2e-9a41-4d87-b5e2-7c1d0a9f8e63"
    xml = _xml(
        f"tpm-{kind}",
        tpm,
        os_xml=f"<os><type arch='x86_64' machine='{machine}'>hvm</type></os>",
    ).replace("<memory", f"<uuid>{uuid}</uuid><memory")
    ours = conn.domain_create_xml(xml).xml_desc()
    our_query = _qmp(qemu, f"tpm-{kind}", "query-tpm")
    (tmp_path / "g.xml").write_text(xml)
    oracle.virsh("create", "--paused", str(tmp_path / "g.xml"), check=True)
    try:
        theirs = oracle.virsh("dumpxml", uuid, check=True).stdout
        reply = oracle.virsh("qemu-monitor-command", uuid, '{"execute":"query-tpm"}', check=True)
    finally:
        oracle.virsh("destroy", uuid, check=True)
    assert _tpm_of(ours) == _tpm_of(theirs)
    assert our_query == json.loads(reply.stdout)["return"]


def test_failed_start_stops_the_tpm_emulator(
    conn: Connection, qemu: QemuDriver, embed_root: Path, tmp_path: Path
) -> None:
    # QEMU itself fails (after swtpm started): its serial log's directory does not exist.
    missing = tmp_path / "no-such-dir" / "serial.log"
    serial = f"<serial type='file'><source path='{missing}'/></serial>"
    dom = conn.domain_define_xml(_xml("tpm", serial + _TPM))
    with pytest.raises(InternalError):
        dom.create()
    assert not dom.is_active()
    assert wait_until(lambda: _helper_pids(embed_root) == [])


# -- firmware ----------------------------------------------------------------------------

_EFI_OS = "<os firmware='efi'><type arch='x86_64' machine='pc'>hvm</type></os>"
_ACPI = "<features><acpi/></features>"


def test_efi_firmware_is_chosen_from_the_descriptors(conn: Connection, qemu: QemuDriver) -> None:
    dom = _started(conn, _xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    os_node = _live(dom).element.find("os")
    assert os_node is not None
    loader, nvram = os_node.find("loader"), os_node.find("nvram")
    assert loader is not None and nvram is not None
    assert (loader.text, loader.get("type"), loader.get("readonly")) == (OVMF_CODE, "pflash", "yes")
    assert nvram.get("template") == OVMF_VARS
    assert nvram.text == str(qemu.paths.data_dir / "nvram" / "uefi_VARS.fd")
    assert os_node.get("firmware") is None


@pytest.fixture
def oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    """The session's private libvirtd."""
    return shared_qemu_oracle(tmp_path_factory)


def _firmware_of(xml: str, nvram_dir: str) -> str:
    """``<os>`` and ``<features>`` of a live definition, the variable store's directory named."""
    root = DomainDef.parse(xml).element
    nvram = root.find("os/nvram")
    if nvram is not None and nvram.text:
        nvram.text = nvram.text.replace(nvram_dir, "NVRAM")
    parts = [root.find(tag) for tag in ("os", "features")]
    return "".join(etree.tostring(part).decode() for part in parts if part is not None)


_NO_SECURE_BOOT = (
    "<firmware><feature enabled='no' name='secure-boot'/>"
    "<feature enabled='no' name='enrolled-keys'/></firmware>"
)


@pytest.mark.parametrize(("machine", "wishes"), [("pc", ""), ("q35", ""), ("q35", _NO_SECURE_BOOT)])
def test_chosen_firmware_equals_libvirts(
    qemu: QemuDriver, oracle: QemuOracle, tmp_path: Path, machine: str, wishes: str
) -> None:
    # With feature wishes the live <os> keeps them after the firmware attribute is gone.
    name = f"uefi-oracle-{machine}{'-wishes' if wishes else ''}"
    os_xml = _EFI_OS.replace("machine='pc'", f"machine='{machine}'").replace(
        "</os>", f"{wishes}</os>"
    )
    xml = _xml(name, os_xml=os_xml, extra=_ACPI)
    ours = DomainDef.parse(xml)
    qemu.prepare(ours)
    fill_firmware(ours, qemu.nvram_dir)
    (tmp_path / "g.xml").write_text(xml)
    oracle.virsh("define", str(tmp_path / "g.xml"), check=True)
    try:
        oracle.virsh("start", name, check=True)
        theirs = oracle.virsh("dumpxml", name, check=True).stdout
        oracle.virsh("destroy", name, check=True)
    finally:
        oracle.virsh("undefine", "--nvram", name)
    assert _firmware_of(ours.format(), str(qemu.nvram_dir)) == _firmware_of(
        theirs, "/var/lib/libvirt/qemu/nvram"
    )


def test_persistent_definition_keeps_asking_for_efi(conn: Connection) -> None:
    dom = _started(conn, _xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    os_node = DomainDef.parse(dom.xml_desc(2)).element.find("os")
    assert os_node is not None and os_node.get("firmware") == "efi"
    assert os_node.find("loader") is None


def test_nvram_template_is_copied_before_the_first_start(
    conn: Connection, qemu: QemuDriver
) -> None:
    _started(conn, _xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    varstore = qemu.paths.data_dir / "nvram" / "uefi_VARS.fd"
    assert varstore.stat().st_size == Path(OVMF_VARS).stat().st_size
    assert varstore.stat().st_mode & 0o777 == 0o600


def test_existing_nvram_is_kept(tmp_path: Path) -> None:
    varstore = tmp_path / "g_VARS.fd"
    varstore.write_bytes(b"kept")
    domain = DomainDef.parse(
        _xml(
            "g",
            os_xml=(
                "<os><type arch='x86_64' machine='pc'>hvm</type>"
                f"<loader readonly='yes' type='pflash'>{OVMF_CODE}</loader>"
                f"<nvram template='{OVMF_VARS}'>{varstore}</nvram></os>"
            ),
        )
    )
    prepare_nvram(domain)
    assert varstore.read_bytes() == b"kept"


def test_reset_nvram_copies_the_template_again(conn: Connection, qemu: QemuDriver) -> None:
    dom = _started(conn, _xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    dom.destroy()
    varstore = qemu.paths.data_dir / "nvram" / "uefi_VARS.fd"
    template = Path(OVMF_VARS).read_bytes()
    varstore.write_bytes(b"\xaa" * len(template))
    dom.create(0x20)  # VIR_DOMAIN_START_RESET_NVRAM
    # The firmware volume header: the firmware may have stored variables after it.
    assert varstore.read_bytes()[:4096] == template[:4096]


def test_nvram_without_template_is_libvirts_error(tmp_path: Path) -> None:
    domain = DomainDef.parse(
        _xml(
            "g",
            os_xml=(
                "<os><type arch='x86_64' machine='pc'>hvm</type>"
                f"<loader readonly='yes' type='pflash'>{tmp_path}/CODE.fd</loader>"
                f"<nvram>{tmp_path}/g_VARS.fd</nvram></os>"
            ),
        )
    )
    with pytest.raises(OperationFailedError, match="unable to find any master var store"):
        prepare_nvram(domain)


def test_uefi_guest_has_its_pflash_mapped(conn: Connection, qemu: QemuDriver) -> None:
    _started(conn, _xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    blocks = {b["qdev"]: b["inserted"] for b in _qmp(qemu, "uefi", "query-block")}
    assert blocks["/machine/system.flash0"]["file"] == OVMF_CODE
    assert blocks["/machine/system.flash0"]["ro"] is True
    assert blocks["/machine/system.flash1"]["file"].endswith("/nvram/uefi_VARS.fd")
    assert blocks["/machine/system.flash1"]["ro"] is False


def test_firmware_code_covers_the_reset_vector(conn: Connection, qemu: QemuDriver) -> None:
    _started(conn, _xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    mtree = _qmp(qemu, "uefi", "human-monitor-command", {"command-line": "info mtree -f"})
    regions = [line.split() for line in mtree.splitlines() if line.endswith(": system.flash0")]
    assert regions and regions[0][0].endswith("-00000000ffffffff")


def test_uefi_guest_runs_under_tcg(conn: Connection) -> None:
    dom = _started(conn, _xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    assert dom.state().state == DomainState.RUNNING


def test_no_matching_descriptor_is_libvirts_error(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(caps_firmware, "FIRMWARE_DIRS", (str(tmp_path / "none"),))
    dom = conn.domain_define_xml(_xml("uefi", os_xml=_EFI_OS, extra=_ACPI))
    with pytest.raises(OperationFailedError, match="Unable to find any firmware to satisfy 'efi'"):
        dom.create()
    assert not dom.is_active()


def test_smm_turned_off_refuses_firmware_that_requires_it(tmp_path: Path) -> None:
    domain = DomainDef.parse(
        _xml(
            "sb",
            os_xml="<os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>",
            extra="<features><acpi/><smm state='off'/></features>",
        )
    )
    secure = [
        d
        for d in caps_firmware.load_descriptors()
        if "requires-smm" in d.features and d.matches("x86_64", "pc-q35-7.2")
    ]
    assert secure, "the OVMF package installs Secure Boot descriptors"
    with pytest.raises(OperationInvalidError, match="SMM turned off but chosen firmware"):
        fill_firmware(domain, tmp_path, descriptors=secure)


_SECURE_OS = (
    "<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>"
    "<firmware><feature enabled='yes' name='secure-boot'/></firmware></os>"
)


def test_secure_boot_guest_starts_with_its_flash_locked_to_smm(
    conn: Connection, qemu: QemuDriver
) -> None:
    dom = _started(conn, _xml("sb", os_xml=_SECURE_OS, extra=_ACPI))
    assert dom.state().state == DomainState.RUNNING
    os_node = _live(dom).element.find("os")
    assert os_node is not None
    loader = os_node.find("loader")
    assert loader is not None and loader.get("secure") == "yes"
    secure = _qmp(qemu, "sb", "qom-get", {"path": "/machine/system.flash0", "property": "secure"})
    assert secure is True


def test_refusing_secure_boot_picks_an_image_without_it(tmp_path: Path) -> None:
    wish = "<firmware><feature enabled='no' name='secure-boot'/></firmware>"
    domain = DomainDef.parse(
        _xml(
            "plain",
            os_xml=(
                f"<os firmware='efi'><type arch='x86_64' machine='pc-q35-7.2'>hvm</type>{wish}</os>"
            ),
            extra=_ACPI,
        )
    )
    fill_firmware(domain, tmp_path)
    assert domain.element.findtext("os/loader") == OVMF_CODE


# -- vsock -------------------------------------------------------------------------------


def test_vsock_without_vhost_vsock_device_is_libvirts_error(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(startup, "VHOST_VSOCK_DEVICE", str(tmp_path / "vhost-vsock"))
    dom = conn.domain_define_xml(_xml("vs", "<vsock model='virtio'><cid auto='yes'/></vsock>"))
    with pytest.raises(ConfigUnsupportedError, match="unable to open vhost-vsock device"):
        dom.create()
    assert not dom.is_active()


def test_vsock_cid_the_device_refuses_fails_the_start(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_vhost = tmp_path / "not-vhost-vsock"
    not_vhost.write_bytes(b"")
    monkeypatch.setattr(startup, "VHOST_VSOCK_DEVICE", str(not_vhost))
    dom = conn.domain_define_xml(_xml("vs", "<vsock model='virtio'><cid auto='yes'/></vsock>"))
    with pytest.raises(SystemCallError, match="failed to acquire guest cid"):
        dom.create()
    assert not dom.is_active()


# -- virtio-fs -------------------------------------------------------------------------

_SHARED = "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"


def _fs(source: Path) -> str:
    return (
        "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>"
        f"<source dir='{source}'/><target dir='share'/></filesystem>"
    )


def _virtiofsd_pid(qemu: QemuDriver, name: str) -> int:
    pidfile = next(qemu.paths.state_dir.glob(f"*-{name}-fs0-virtiofsd.pid"))
    return int(pidfile.read_text().strip())


def test_virtiofs_share_reaches_the_guest(
    conn: Connection, qemu: QemuDriver, tmp_path: Path
) -> None:
    _started(conn, _xml("fs", _fs(tmp_path), extra=_SHARED))
    peripherals = {
        p["name"]: p["type"] for p in _qmp(qemu, "fs", "qom-list", {"path": "/machine/peripheral"})
    }
    assert peripherals["fs0"] == "child<vhost-user-fs-pci>"
    assert (
        _qmp(qemu, "fs", "qom-get", {"path": "/machine/peripheral/fs0", "property": "tag"})
        == "share"
    )


def _filesystem_of(xml: str) -> str:
    fs = DomainDef.parse(xml).element.find("devices/filesystem")
    assert fs is not None
    for tag in ("alias", "address"):
        for node in fs.findall(tag):
            fs.remove(node)
    return etree.tostring(fs).decode()


def test_live_filesystem_equals_libvirts(
    conn: Connection, oracle: QemuOracle, tmp_path: Path
) -> None:
    xml = _xml("fs-oracle", _fs(tmp_path), extra=_SHARED)
    ours = _started(conn, xml).xml_desc(0)
    (tmp_path / "g.xml").write_text(xml)
    oracle.virsh("define", str(tmp_path / "g.xml"), check=True)
    try:
        oracle.virsh("start", "fs-oracle", check=True)
        theirs = oracle.virsh("dumpxml", "fs-oracle", check=True).stdout
        oracle.virsh("destroy", "fs-oracle", check=True)
    finally:
        oracle.virsh("undefine", "fs-oracle")
    assert _filesystem_of(ours) == _filesystem_of(theirs)


def test_live_definition_names_the_virtiofsd_used(conn: Connection, tmp_path: Path) -> None:
    dom = _started(conn, _xml("fs", _fs(tmp_path), extra=_SHARED))
    binary = _live(dom).element.find("devices/filesystem/binary")
    assert binary is not None and binary.get("path") == "/usr/lib/qemu/virtiofsd"


def test_virtiofsd_settings_of_the_definition_are_applied(
    conn: Connection, qemu: QemuDriver, tmp_path: Path
) -> None:
    settings = (
        "<binary path='/usr/lib/qemu/virtiofsd' xattr='on'><cache mode='always'/>"
        "<sandbox mode='chroot'/><lock posix='on' flock='off'/><thread_pool size='3'/></binary>"
    )
    fs = _fs(tmp_path).replace("<driver type='virtiofs'/>", f"<driver type='virtiofs'/>{settings}")
    dom = _started(conn, _xml("fs", fs, extra=_SHARED))
    argv = Path(f"/proc/{_virtiofsd_pid(qemu, 'fs')}/cmdline").read_bytes().split(b"\0")
    options = argv[argv.index(b"-o") + 1].decode()
    assert options.split(",")[1:] == ["cache=always", "sandbox=chroot", "xattr", "no_flock",
                                      "posix_lock"]  # fmt: skip
    assert b"--thread-pool-size=3" in argv
    binary = _live(dom).element.find("devices/filesystem/binary")
    assert binary is not None and binary.find("thread_pool") is not None


def test_virtiofsd_ends_with_the_guest(conn: Connection, qemu: QemuDriver, tmp_path: Path) -> None:
    dom = _started(conn, _xml("fs", _fs(tmp_path), extra=_SHARED))
    pid = _virtiofsd_pid(qemu, "fs")
    assert pid_running(pid)
    dom.destroy()
    assert wait_until(lambda: not pid_running(pid))


def test_no_virtiofsd_is_libvirts_error(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(helpers, "VHOST_USER_DIRS", (str(tmp_path / "none"),))
    dom = conn.domain_define_xml(_xml("fs", _fs(tmp_path), extra=_SHARED))
    with pytest.raises(OperationFailedError, match="Unable to find a satisfying virtiofsd"):
        dom.create()
    assert not dom.is_active()


# -- settings applied before the CPUs run ------------------------------------------------


def test_disk_iotune_is_applied(conn: Connection, qemu: QemuDriver, tmp_path: Path) -> None:
    image = make_raw_disk(tmp_path / "d.img")
    disk = (
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{image}'/><target dev='vda' bus='virtio'/>"
        "<iotune><total_bytes_sec>1048576</total_bytes_sec>"
        "<read_iops_sec>300</read_iops_sec></iotune></disk>"
    )
    _started(conn, _xml("io", disk))
    inserted = next(
        b["inserted"] for b in _qmp(qemu, "io", "query-block") if "virtio-disk0" in b["qdev"]
    )
    assert (inserted["bps"], inserted["iops_rd"], inserted["iops"]) == (1048576, 300, 0)


def test_online_hotpluggable_vcpus_are_plugged(conn: Connection, qemu: QemuDriver) -> None:
    vcpus = (
        "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
        "<vcpu id='1' enabled='yes' hotpluggable='yes'/>"
        "<vcpu id='2' enabled='no' hotpluggable='yes'/></vcpus>"
    )
    xml = _xml("cpus", "").replace("<vcpu>1</vcpu>", f"<vcpu>3</vcpu>{vcpus}")
    _started(conn, xml)
    assert len(_qmp(qemu, "cpus", "query-cpus-fast")) == 2
    plugged = [c for c in _qmp(qemu, "cpus", "query-hotpluggable-cpus") if "qom-path" in c]
    assert "/machine/peripheral/vcpu1" in [c["qom-path"] for c in plugged]


def test_hotplugged_vcpu_takes_the_slot_of_its_id(conn: Connection, qemu: QemuDriver) -> None:
    vcpus = (
        "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
        "<vcpu id='1' enabled='yes' hotpluggable='no'/>"
        "<vcpu id='2' enabled='no' hotpluggable='yes'/>"
        "<vcpu id='3' enabled='yes' hotpluggable='yes'/></vcpus>"
    )
    topology = "<cpu><topology sockets='1' dies='1' cores='2' threads='2'/></cpu>"
    xml = _xml("cpus", "").replace("<vcpu>1</vcpu>", f"<vcpu>4</vcpu>{vcpus}{topology}")
    _started(conn, xml)
    slots = _qmp(qemu, "cpus", "query-hotpluggable-cpus")
    plugged = next(c for c in slots if c.get("qom-path") == "/machine/peripheral/vcpu3")
    assert (plugged["props"]["core-id"], plugged["props"]["thread-id"]) == (1, 1)


def test_balloon_stats_period_is_set(conn: Connection, qemu: QemuDriver) -> None:
    _started(conn, _xml("bal", "<memballoon model='virtio'><stats period='5'/></memballoon>"))
    period = _qmp(
        qemu,
        "bal",
        "qom-get",
        {"path": "/machine/peripheral/balloon0", "property": "guest-stats-polling-interval"},
    )
    assert period == 5
