"""The qemu driver's define-time validation for x86_64 (``qemu_validate.c``).

:func:`check_emulator` refuses a guest architecture the emulator cannot run
and a virtualization type it does not offer (``kvm`` needs a usable KVM).
:func:`validate_domain` checks the domain as a whole before the devices are
post-parsed (UEFI without ACPI, more vCPUs than the machine allows);
:func:`validate_definition` checks the devices once the defaults are in
(IDE on q35 or twice on i440fx, video models, graphics types, s390 and
pSeries-only devices, TPM models, virtio-serial ports). All raise libvirt's
errors: code, domain and wording. A machine type QEMU does not know is not
refused here: like libvirt, it then has no PCI root and fails when a device
needs a PCI address ("No PCI buses available").
"""

from __future__ import annotations

import logging
from typing import NoReturn

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError, XMLError
from virtcore.xml.domain import Domain
from virtcore_qemu.caps_model import QemuCaps
from virtcore_qemu.postparse_devices import machine_of
from virtcore_qemu.postparse_tree import devices_element, is_q35

__all__ = ["check_emulator", "validate_definition", "validate_domain"]

_VIDEO_MODELS = frozenset({"vga", "cirrus", "vmvga", "qxl", "virtio", "bochs", "ramfb", "none"})
_UNSUPPORTED_GRAPHICS = frozenset({"rdp", "desktop"})
_PANIC_MACHINES = {"pseries": "pSeries", "s390": "S390"}
_VIRTIO_SERIAL_PORTS = 31

# Guest architectures a binary runs besides its own (qemu-system-x86_64 runs i686 guests).
_COMPATIBLE_ARCHES = {"x86_64": frozenset({"x86_64", "i686"}), "i686": frozenset({"i686"})}

logger = logging.getLogger(__name__)


def check_emulator(arch: str, virt_type: str, caps: QemuCaps, os_type: str = "hvm") -> None:
    """The emulator *caps* describes must run *os_type* *arch* guests with *virt_type*.

    The caller passes the capabilities of the emulator for the guest's
    architecture (:func:`virtcore_qemu.caps.find_emulator`); a guest of
    another architecture means no emulator was found for it.
    """
    if arch not in _COMPATIBLE_ARCHES.get(caps.arch, frozenset({caps.arch})):
        raise ConfigUnsupportedError(
            f"No emulator found for arch '{arch}'", domain=ErrorDomain.QEMU
        )
    if os_type != "hvm":
        _unsupported(f"Emulator '{caps.binary}' does not support os type '{os_type}'")
    supported = {"qemu", "kvm"} if caps.kvm_usable else {"qemu"}
    if virt_type not in supported:
        raise ConfigUnsupportedError(
            f"Emulator '{caps.binary}' does not support virt type '{virt_type}'",
            domain=ErrorDomain.QEMU,
        )


def validate_domain(domain: Domain, caps: QemuCaps) -> None:
    """Domain-wide checks of ``qemuValidateDomainDef`` that do not need the devices."""
    os_node = domain.element.find("./os")
    efi = os_node is not None and os_node.get("firmware") == "efi"
    if efi and domain.element.find("./features/acpi") is None:
        raise ConfigUnsupportedError(
            "UEFI requires ACPI on this architecture", domain=ErrorDomain.QEMU
        )
    _check_secure_loader(domain)
    _check_domain_features(domain, caps)
    vcpus = domain.vcpus
    info = caps.machine(machine_of(domain))
    if vcpus is not None and info is not None and info.max_cpus and vcpus > info.max_cpus:
        raise ConfigUnsupportedError(
            f"Maximum CPUs greater than specified machine type limit {info.max_cpus}",
            domain=ErrorDomain.QEMU,
        )


def _check_secure_loader(domain: Domain) -> None:
    """``qemuValidateDomainDefBoot``: Secure Boot needs a Q35 machine and SMM turned on."""
    loader = domain.element.find("./os/loader")
    if loader is None or loader.get("secure") != "yes":
        return
    if not is_q35(machine_of(domain)):
        _unsupported("Secure boot is supported with q35 machine types only")
    smm = domain.element.find("./features/smm")
    # An absent <smm> is QEMU's default (on for Q35), but libvirt wants it said.
    if smm is None or smm.get("state", "on") != "on":
        _unsupported("Secure boot requires SMM feature enabled")


def _check_domain_features(domain: Domain, caps: QemuCaps) -> None:
    """Lifecycle actions, tuning, firmware and timers QEMU cannot provide."""
    root = domain.element
    for event in ("on_reboot", "on_poweroff"):
        if (root.findtext(event) or "").strip() == "preserve":
            _unsupported(
                "qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'"
            )
    if root.find("./devices/memory") is not None and root.find("./maxMemory") is None:
        _unsupported("cannot use/hotplug a memory device when domain 'maxMemory' is not defined")
    if root.find("./memtune/min_guarantee") is not None:
        _unsupported("Parameter 'min_guarantee' not supported by QEMU.")
    if root.find("./cputune/cachetune") is not None and domain.virt_type != "kvm":
        _unsupported("cachetune is only supported for KVM domains")
    if root.find("./features/smm/tseg") is not None and not is_q35(machine_of(domain)):
        _unsupported("SMM TSEG is only supported with q35 machine type")
    bios = root.find("./os/bios")
    if (
        bios is not None
        and bios.get("useserial") == "yes"
        and root.find("./devices/serial") is None
    ):
        raise XMLError(
            "need at least one serial port to use BIOS serial output", domain=ErrorDomain.QEMU
        )
    for timer in root.findall("./clock/timer"):
        name = timer.get("name")
        if name == "platform":
            _unsupported("unsupported timer type (name) 'platform'")
        if name == "armvtimer":
            os_type = root.find("./os/type")
            arch = os_type.get("arch") if os_type is not None else caps.arch
            _unsupported(
                f"Configuring the 'armvtimer' timer is not supported for "
                f"virtType={domain.virt_type} arch={arch} machine={machine_of(domain)} guests"
            )
    security = root.find("./launchSecurity")
    if security is not None and security.get("type") == "sev" and caps.sev is None:
        _unsupported("SEV launch security is not supported with this QEMU binary")


def validate_definition(domain: Domain, caps: QemuCaps) -> None:
    """Device checks of ``qemuValidateDomainDeviceDef`` for the post-parsed devices."""
    devices = devices_element(domain)
    machine = machine_of(domain)
    _check_device_details(domain, devices, machine)
    ide = devices.findall("./controller[@type='ide']")
    if is_q35(machine) and ide:
        _unsupported("IDE controllers are unsupported for this QEMU binary or machine type")
    if len(ide) > 1:
        _unsupported("Only a single IDE controller is supported for this machine type")
    for video in devices.findall("./video/model"):
        if video.get("type") not in _VIDEO_MODELS:
            _unsupported(f"domain configuration does not support video model '{video.get('type')}'")
    for graphics in devices.findall("./graphics"):
        kind = graphics.get("type")
        if kind in _UNSUPPORTED_GRAPHICS:
            _unsupported(f"{kind} graphics are not supported with this QEMU")
    for watchdog in devices.findall("./watchdog"):
        if watchdog.get("model") == "diag288":
            _unsupported("diag288 model of watchdog is allowed for s390 and s390x only")
    for panic in devices.findall("./panic"):
        model = panic.get("model")
        if model in _PANIC_MACHINES:
            _unsupported(
                f"only {_PANIC_MACHINES[model]} guests support panic device of model '{model}'"
            )
    for tpm in devices.findall("./tpm"):
        model = tpm.get("model", "tpm-tis")
        if model not in caps.tpm_models:
            _unsupported(f"The QEMU executable {caps.binary} does not support TPM model {model}")
    _check_virtio_serial_ports(devices)


def _check_device_details(domain: Domain, devices: etree._Element, machine: str) -> None:
    """Per-device rules, in libvirt's device order (disks, interfaces, host devices...)."""
    for disk in devices.findall("./disk"):
        target = disk.find("./target")
        bus = target.get("bus") if target is not None else None
        if disk.find("./wwn") is not None and bus not in ("ide", "scsi"):
            _unsupported("Only ide and scsi disk support wwn")
        encryption = disk.find("./source/encryption")
        if encryption is not None and encryption.get("format") in ("qcow", "default"):
            _unsupported("old qcow/qcow2 encryption is not supported")
        driver = disk.find("./driver")
        if disk.get("type") == "dir" and (driver is None or driver.get("type") != "fat"):
            _unsupported("storage type 'dir' requires use of storage format 'fat'")
    for hostdev in devices.findall("./hostdev"):
        if hostdev.get("mode") == "capabilities":
            _unsupported("hostdev mode 'capabilities' is not supported in qemu")
    for video in devices.findall("./video/model"):
        vgamem = video.get("vgamem")
        if video.get("type") == "qxl" and vgamem is not None and int(vgamem) < 1024:
            _unsupported("value for 'vgamem' must be at least 1 MiB (1024 KiB)")
    spice = devices.find("./graphics[@type='spice']") is not None
    for tag in ("serial", "parallel", "channel", "console", "redirdev", "smartcard"):
        for chardev in devices.findall(f"./{tag}"):
            kind = chardev.get("type")
            if kind in ("spicevmc", "spiceport") and not spice:
                _unsupported(f"chardev '{kind}' not supported without spice graphics")
    kinds = {g.get("type") for g in devices.findall("./graphics")}
    if "egl-headless" in kinds and not kinds & {"vnc", "spice"}:
        _unsupported(
            "graphics type 'egl-headless' is only supported with one of: "
            "'vnc', 'spice' graphics types"
        )
    for iommu in devices.findall("./iommu"):
        model = iommu.get("model")
        if model == "intel" and not is_q35(machine):
            _unsupported("IOMMU device: 'intel' is only supported with Q35 machines")
        if model == "virtio" and not is_q35(machine):
            _unsupported("IOMMU device: 'virtio' is only supported with Q35 and ARM Virt machines")


def _unsupported(detail: str) -> NoReturn:
    raise ConfigUnsupportedError(detail, domain=ErrorDomain.QEMU)


def _check_virtio_serial_ports(devices: etree._Element) -> None:
    """A virtio-serial address must name a port its controller has."""
    ports = {
        int(c.get("index", "0")): int(c.get("ports") or _VIRTIO_SERIAL_PORTS)
        for c in devices.findall("./controller[@type='virtio-serial']")
    }
    for address in devices.findall("./channel/address[@type='virtio-serial']"):
        controller = int(address.get("controller", "0"))
        port = address.get("port")
        if port is not None and controller in ports and int(port) >= ports[controller]:
            raise XMLError(
                f"virtio serial controller {controller} does not have port {port}",
                domain=ErrorDomain.DOMAIN,
            )
