"""Hot-plug: vCPU counts, disks and NICs of QEMU guests.

libvirt 9.0's ``qemuDomainGetVcpusFlags``/``qemuDomainSetVcpusFlags``:

* ``LIVE`` (1) addresses the running guest, ``CONFIG`` (2) the persistent
  definition, neither the one in effect; ``MAXIMUM`` (4) the maximum instead
  of the current count. The maximum of a running guest cannot change
  ("maximum vcpu count of a live domain can't be modified").
* A running guest gains vCPUs by ``device_add`` of the CPUs
  ``query-hotpluggable-cpus`` lists as not present (ids ``vcpu<N>``, as
  libvirt names them); the guest must have been started with fewer vCPUs than
  its maximum (``<vcpu current='1'>4</vcpu>``). Removing vCPUs from a running
  guest needs the guest OS to release them and is refused here.
* ``GUEST`` (8, the guest agent's view) is refused: no agent is used.

Disks, NICs, character devices (serial ports, virtio channels and consoles)
and RNGs (``virDomainAttachDeviceFlags``/``virDomainDetachDeviceFlags``,
``AFFECT_LIVE`` and/or ``AFFECT_CONFIG``), as ``qemu_hotplug.c`` does them:
the device is added to a copy of the live definition, which goes through the
qemu post-parse (addresses); it is named the way ``qemuAssignDeviceAlias``
names a new device (:func:`~virtcore_qemu.command.new_device_alias`: the
next free ``netN``, a disk's name from its target or drive address), and
the QMP commands that create it come from the command-line builder
(:func:`~virtcore_qemu.command.device.device_objects`: ``blockdev-add`` of
the image nodes numbered after every node QEMU has, ``netdev_add``,
``chardev-add``, ``object-add``, then ``device_add``). If a command fails,
what was already created is removed again (``blockdev-del``,
``netdev_del``, ``chardev-remove``, ``object-del``, newest first) and the
error is reported. Devices are found for detach the way libvirt finds them:
a disk by target, a NIC by MAC address, a character device by kind, source
and target (``virDomainChrEquals``), an RNG by model and back-end; the
serial console cannot be detached on its own, as in libvirt. The live
definition records the device with its ``<alias>`` and ``DEVICE_ADDED`` is
emitted. A detach sends ``device_del`` and waits up to
5 s for ``DEVICE_DELETED``; then (or whenever the guest finally releases the
device) the back-ends are deleted, the device leaves the live definition and
``DEVICE_REMOVED`` is emitted, as libvirt does.
Other device kinds get libvirt's "live attach of device 'x' is not supported".
"""

from __future__ import annotations

import logging
import random
import re
from typing import TYPE_CHECKING

from lxml import etree

from virtcore.driver import HypervisorDriver
from virtcore.enums.domain_events import DomainEventID
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    ArgumentUnsupportedError,
    DeviceMissingError,
    InternalError,
    InvalidArgError,
    OperationFailedError,
    OperationInvalidError,
    OperationUnsupportedError,
    VirtError,
    XMLError,
)
from virtcore.objects import Domain
from virtcore.xml.domain import Domain as DomainDef
from virtcore_qemu.command import CommandContext, device_aliases, new_device_alias
from virtcore_qemu.command.aliases import alias_of, set_alias
from virtcore_qemu.command.common import attr_int
from virtcore_qemu.command.device import QMPCall, device_objects, undo_command
from virtcore_qemu.domobj import DomainObj
from virtcore_qemu.lifecycle import check_flags

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore_qemu.qmp import QMPClient
    from virtcore_qemu.state import QemuDriver

__all__ = ["DeviceCalls", "VcpuCalls", "complete_removal"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
_LIVE = 0x1
_CONFIG = 0x2
_MAXIMUM = 0x4
_GUEST = 0x8
_HOTPLUGGABLE = 0x10


def _counts(domain: DomainDef) -> tuple[int, int]:
    """(current, maximum) vCPUs of a definition."""
    vcpus = domain.definition().vcpus.vcpus
    return sum(1 for v in vcpus if v.online), len(vcpus)


class VcpuCalls(HypervisorDriver):
    """vCPU methods of the QEMU hypervisor table."""

    driver: QemuDriver

    def _obj(self, dom: Domain) -> DomainObj:
        raise NotImplementedError  # provided by the table class

    def _targets(self, obj: DomainObj, flags: int) -> tuple[bool, bool]:
        """Which definitions *flags* address: (live, config), libvirt's rules and errors."""
        live = bool(flags & _LIVE)
        config = bool(flags & _CONFIG)
        if not live and not config:
            live, config = obj.is_active(), not obj.is_active()
        if live:
            obj.check_active()
        if config and not obj.persistent:
            raise OperationInvalidError(
                "transient domains do not have any persistent config", domain=ErrorDomain.DOMAIN
            )
        return live, config

    def domain_get_vcpus_flags(self, conn: Connection, dom: Domain, flags: int) -> int:
        """Current (or, with ``MAXIMUM``, maximum) vCPUs of the live or persistent definition."""
        check_flags(flags, _LIVE | _CONFIG | _MAXIMUM | _GUEST, "qemuDomainGetVcpusFlags")
        if flags & _LIVE and flags & _CONFIG:
            text = (
                "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' "
                "are mutually exclusive"
            )
            raise InvalidArgError(text, message=text, domain=ErrorDomain.DOMAIN)
        obj = self._obj(dom)
        with obj.lock:
            live, _config = self._targets(obj, flags)
            if flags & _GUEST:
                raise ArgumentUnsupportedError("QEMU guest agent is not configured", domain=_QEMU)
            domain = obj.live if live else obj.config
            assert domain is not None
            current, maximum = _counts(domain)
            return maximum if flags & _MAXIMUM else current

    def domain_get_max_vcpus(self, conn: Connection, dom: Domain) -> int:
        """The running guest's maximum vCPU count."""
        return self.domain_get_vcpus_flags(conn, dom, _LIVE | _MAXIMUM)

    def domain_set_vcpus_flags(
        self, conn: Connection, dom: Domain, nvcpus: int, flags: int
    ) -> None:
        """Change the vCPU count (see the module documentation)."""
        check_flags(
            flags, _LIVE | _CONFIG | _MAXIMUM | _GUEST | _HOTPLUGGABLE, "qemuDomainSetVcpusFlags"
        )
        if nvcpus < 1:
            text = "nvcpus in virDomainSetVcpusFlags must be greater than zero"
            raise InvalidArgError(text, message=text, domain=ErrorDomain.DOMAIN)
        obj = self._obj(dom)
        with obj.job():
            live, config = self._targets(obj, flags)
            if flags & _GUEST:
                raise ArgumentUnsupportedError("QEMU guest agent is not configured", domain=_QEMU)
            if live and flags & _MAXIMUM:
                raise InvalidArgError(
                    "maximum vcpu count of a live domain can't be modified", domain=_QEMU
                )
            if live:
                assert obj.live is not None
                _current, maximum = _counts(obj.live)
                if nvcpus > maximum:
                    raise InvalidArgError(
                        "requested vcpus is greater than max allowable vcpus for the live "
                        f"domain: {nvcpus} > {maximum}",
                        domain=_QEMU,
                    )
            if config:
                assert obj.config is not None
                _current, maximum = _counts(obj.config)
                if not flags & _MAXIMUM and nvcpus > maximum:
                    raise InvalidArgError(
                        "requested vcpus is greater than max allowable vcpus for the persistent "
                        f"domain: {nvcpus} > {maximum}",
                        domain=_QEMU,
                    )
            if live:
                self._hotplug(obj, nvcpus)
            if config:
                self._set_config(obj, nvcpus, maximum=bool(flags & _MAXIMUM))

    def _set_config(self, obj: DomainObj, nvcpus: int, *, maximum: bool) -> None:
        config = obj.config
        assert config is not None
        current, top = _counts(config)
        if maximum:
            top, current = nvcpus, min(current, nvcpus)
        else:
            current = nvcpus
        config.vcpus = top
        if current == top:
            del config.vcpus_current
        else:
            config.vcpus_current = current
        self.driver.save_config(obj)

    def _hotplug(self, obj: DomainObj, nvcpus: int) -> None:
        live = obj.live
        monitor = obj.monitor
        assert live is not None
        if monitor is None or monitor.closed:
            raise OperationFailedError("domain is no longer running", domain=_QEMU)
        current, top = _counts(live)
        if nvcpus < current:
            raise OperationUnsupportedError(
                "removing vCPUs from a running guest is not supported", domain=_QEMU
            )
        if nvcpus == current:
            return
        slots = [c for c in monitor.execute("query-hotpluggable-cpus") or [] if "qom-path" not in c]
        slots.sort(key=lambda c: tuple(sorted((c.get("props") or {}).items())))
        if len(slots) < nvcpus - current:
            raise OperationFailedError(
                f"qemu has only {len(slots)} vCPU slots free for {nvcpus - current} vCPUs",
                domain=_QEMU,
            )
        for index, slot in zip(range(current, nvcpus), slots, strict=False):
            props = dict(slot.get("props") or {})
            monitor.execute("device_add", {"driver": slot["type"], "id": f"vcpu{index}", **props})
            with obj.lock:
                if index + 1 < top:
                    live.vcpus_current = index + 1
                else:
                    del live.vcpus_current
                self.driver.save_status(obj)
        log.info("guest '%s' now has %d vCPUs", obj.name, nvcpus)


# -- devices -----------------------------------------------------------------------------

_AFFECT_LIVE = 0x1
_AFFECT_CONFIG = 0x2
_CHR_TAGS = ("serial", "channel", "console")
_HOTPLUG_TAGS = ("disk", "interface", *_CHR_TAGS, "rng")
#: ``virDomainRNGBackendTypeToString`` by RNG model index: libvirt's "not
#: present" message names the back-end type of the model's index.
_RNG_MESSAGE_MODEL = {"virtio": "random", "virtio-transitional": "egd"}
#: Seconds a detach waits for QEMU's DEVICE_DELETED (libvirt: 5 s), after which
#: the removal completes whenever the guest releases the device.
REMOVAL_WAIT = 5.0


def _parse_device(xml: str, *, live: bool, attach: bool) -> etree._Element:
    """The device element of *xml*; libvirt's error for devices that cannot be plugged."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    try:
        element = etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"(device_definition):1: {exc}", domain=ErrorDomain.XML) from exc
    if element.tag == "interface" and element.find("mac") is None:
        # libvirt gives a NIC without one a random address in QEMU's range.
        octets = [random.randrange(256) for _ in range(3)]
        address = "52:54:00:" + ":".join(f"{o:02x}" for o in octets)
        etree.SubElement(element, "mac", address=address)
    if element.tag not in _HOTPLUG_TAGS:
        what = "attach" if attach else "detach"
        where = "live" if live else "persistent"
        raise OperationUnsupportedError(
            f"{where} {what} of device '{element.tag}' is not supported", domain=_QEMU
        )
    return element


def _with_device(driver: QemuDriver, domain: DomainDef, device: etree._Element) -> DomainDef:
    """A prepared copy of *domain* with *device* added after its siblings of the same kind."""
    copy = DomainDef.from_xml(etree.tostring(domain.element))
    devices = copy.element.find("devices")
    if devices is None:
        devices = etree.SubElement(copy.element, "devices")
    siblings = devices.findall(device.tag)
    if siblings:
        siblings[-1].addnext(copy_element(device))
    else:
        devices.append(copy_element(device))
    driver.prepare(copy)
    return copy


def copy_element(element: etree._Element) -> etree._Element:
    """A detached deep copy of *element*."""
    return etree.fromstring(etree.tostring(element))


def _find_device(domain: DomainDef, device: etree._Element) -> etree._Element | None:
    """The device of *domain* that *device* names (see :func:`_same_chr`, :func:`_same_rng`).

    A disk by target, an interface by MAC address.
    """
    devices = domain.element.find("devices")
    if devices is None:
        return None
    if device.tag in _CHR_TAGS:
        return next((n for n in devices.findall(device.tag) if _same_chr(n, device)), None)
    if device.tag == "rng":
        return next((n for n in devices.findall("rng") if _same_rng(n, device)), None)
    if device.tag == "disk":
        node = device.find("target")
        dev = node.get("dev") if node is not None else None
        for disk in devices.findall("disk"):
            target = disk.find("target")
            if target is not None and dev is not None and target.get("dev") == dev:
                return disk
        return None
    mac_node = device.find("mac")
    mac = mac_node.get("address") if mac_node is not None else None
    for net in devices.findall("interface"):
        node = net.find("mac")
        if node is not None and mac is not None and node.get("address", "").lower() == mac.lower():
            return net
    return None


def _given(wanted: str | None, actual: str | None) -> bool:
    """A value of the device to find matches: absent in the request matches anything."""
    return wanted is None or wanted == actual


def _chr_source(node: etree._Element) -> tuple[str | None, ...]:
    source = node.find("source")
    if source is None:
        return (None, None, None)
    return (source.get("path"), source.get("host"), source.get("service"))


def _same_chr(node: etree._Element, wanted: etree._Element) -> bool:
    """``virDomainChrEquals``: same kind and source; a channel's name, a port's number.

    Target values the request leaves out match any (libvirt fills them in
    with the same post-parse before comparing).
    """
    if (node.get("type") or "pty") != (wanted.get("type") or "pty"):
        return False
    pairs = zip(_chr_source(wanted), _chr_source(node), strict=True)
    if any(want is not None and want != have for want, have in pairs):
        return False
    mine, theirs = node.find("target"), wanted.find("target")
    if theirs is None:
        return True
    if node.tag == "channel":
        return mine is not None and mine.get("name") == theirs.get("name")
    return mine is not None and all(
        _given(theirs.get(key), mine.get(key)) for key in ("type", "port")
    )


def _same_rng(node: etree._Element, wanted: etree._Element) -> bool:
    """``virDomainRNGFind``: same model and back-end (and address, when given)."""
    if node.get("model") != wanted.get("model"):
        return False
    mine, theirs = node.find("backend"), wanted.find("backend")
    if theirs is not None:
        if mine is None or mine.get("model") != theirs.get("model"):
            return False
        if (theirs.text or "").strip() and (mine.text or "").strip() != (theirs.text or "").strip():
            return False
    address = wanted.find("address")
    if address is not None:
        present = node.find("address")
        if present is None or any(
            attr_int(present, key) != attr_int(address, key) for key in ("bus", "slot", "function")
        ):
            return False
    return True


def _missing(device: etree._Element) -> DeviceMissingError:
    if device.tag in _CHR_TAGS:
        return DeviceMissingError(
            f"chr type '{device.tag}' device not present in domain configuration", domain=_QEMU
        )
    if device.tag == "rng":
        model = _RNG_MESSAGE_MODEL.get(device.get("model") or "", "builtin")
        return DeviceMissingError(
            f"model '{model}' RNG device not present in domain configuration", domain=_QEMU
        )
    if device.tag == "disk":
        target = device.find("target")
        dev = target.get("dev") if target is not None else ""
        return DeviceMissingError(f"disk {dev} not found", domain=_QEMU)
    mac = device.find("mac")
    address = mac.get("address") if mac is not None else ""
    return DeviceMissingError(f"no device matching MAC address {address} found", domain=_QEMU)


def _context(driver: QemuDriver, obj: DomainObj) -> CommandContext:
    """The command-line context of the running guest (its directories and volumes)."""
    files = driver.files(obj.name)
    lib_dir = files.lib_dir(obj.id)
    return CommandContext(
        monitor_path=lib_dir / "monitor.sock",
        pidfile=files.pidfile,
        lib_dir=lib_dir,
        chardev_dir=files.chardev_dir(obj.id),
        volumes=obj.volumes,
    )


def _next_node_number(monitor: QMPClient) -> int:
    """The number after every ``libvirt-N-...`` node of the running guest (never reused)."""
    used = [
        int(m.group(1))
        for entry in monitor.execute("query-named-block-nodes") or []
        if (m := re.match(r"libvirt-(\d+)-", str(entry.get("node-name", ""))))
    ]
    return max(used, default=0) + 1


def _live_alias(domain: DomainDef, element: etree._Element) -> str:
    """QEMU's id of a device of the running guest: its ``<alias>``, else libvirt's name for it."""
    alias = alias_of(element) or device_aliases(domain.element).get(element)
    if alias is None:
        raise InternalError(f"cannot find the QEMU id of {element.tag} device", domain=_QEMU)
    return alias


class DeviceCalls(HypervisorDriver):
    """Disk and NIC hot-plug methods of the QEMU hypervisor table."""

    driver: QemuDriver

    def _obj(self, dom: Domain) -> DomainObj:
        raise NotImplementedError  # provided by the table class

    def _affect(self, obj: DomainObj, flags: int) -> tuple[bool, bool]:
        live = bool(flags & _AFFECT_LIVE)
        config = bool(flags & _AFFECT_CONFIG)
        if not live and not config:
            live, config = obj.is_active(), not obj.is_active()
        if live:
            obj.check_active()
        if config and not obj.persistent:
            raise OperationInvalidError("cannot modify device on transient domain", domain=_QEMU)
        return live, config

    def domain_attach_device(self, conn: Connection, dom: Domain, xml: str) -> None:
        """``virDomainAttachDevice``: attach to the running guest."""
        self.domain_attach_device_flags(conn, dom, xml, _AFFECT_LIVE)

    def domain_attach_device_flags(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> None:
        """Attach a disk or NIC to the running guest and/or the persistent definition."""
        check_flags(flags, _AFFECT_LIVE | _AFFECT_CONFIG, "qemuDomainAttachDeviceFlags")
        obj = self._obj(dom)
        with obj.job():
            live, config = self._affect(obj, flags)
            device = _parse_device(xml, live=live, attach=True)
            new_config = None
            if config:
                assert obj.config is not None
                if _unique(device) and _find_device(obj.config, device) is not None:
                    raise _duplicate(device)
                new_config = _with_device(self.driver, obj.config, device)
            if live:
                self._attach_live(obj, device)
            if new_config is not None:
                obj.config = new_config
                self.driver.save_config(obj)

    def _attach_live(self, obj: DomainObj, device: etree._Element) -> None:
        assert obj.live is not None
        monitor = obj.monitor
        if monitor is None or monitor.closed:
            raise OperationFailedError("domain is no longer running", domain=_QEMU)
        if _unique(device) and _find_device(obj.live, device) is not None:
            raise _duplicate(device)
        if device.tag == "disk" and device.get("type") == "volume":
            source = device.find("source")
            assert source is not None
            key = (source.get("pool") or "", source.get("volume") or "")
            obj.volumes[key] = self.driver.translate_volume(*key)
        copy = _with_device(self.driver, obj.live, device)
        copy_devices = copy.element.find("devices")
        assert copy_devices is not None
        added = copy_devices.findall(device.tag)[-1]
        alias = new_device_alias(copy, added)
        set_alias(added, alias)
        node_number = _next_node_number(monitor) if device.tag == "disk" else None
        calls = device_objects(
            copy,
            added,
            self.driver.caps(self.driver.emulator_of(copy)),
            _context(self.driver, obj),
            node_number=node_number,
        )
        done: list[QMPCall] = []
        try:
            for call in calls:
                monitor.execute(call.command, call.arguments)
                done.append(call)
        except VirtError:
            # qemuDomainAttachDeviceLive's rollback: remove the back-ends
            # already created, newest first, then report the failure.
            for call in reversed(done):
                self._undo(monitor, undo_command(call))
            raise
        devices = obj.live.element.find("devices")
        assert devices is not None
        siblings = devices.findall(device.tag)
        recorded = copy_element(added)
        if siblings:
            siblings[-1].addnext(recorded)
        else:
            devices.append(recorded)
        self.driver.save_status(obj)
        self.driver.emit(obj, DomainEventID.DEVICE_ADDED, (alias,))

    @staticmethod
    def _undo(monitor: QMPClient, call: QMPCall) -> None:
        try:
            monitor.execute(call.command, call.arguments)
        except VirtError as exc:
            log.warning("cannot undo with %s %s: %s", call.command, call.arguments, exc)

    def domain_detach_device(self, conn: Connection, dom: Domain, xml: str) -> None:
        """``virDomainDetachDevice``: detach from the running guest."""
        self.domain_detach_device_flags(conn, dom, xml, _AFFECT_LIVE)

    def domain_detach_device_flags(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> None:
        """Detach a disk or NIC; a live detach waits up to 5 s for the guest to let go."""
        check_flags(flags, _AFFECT_LIVE | _AFFECT_CONFIG, "qemuDomainDetachDeviceFlags")
        obj = self._obj(dom)
        with obj.job():
            live, config = self._affect(obj, flags)
            device = _parse_device(xml, live=live, attach=False)
            if config:
                assert obj.config is not None
                if _find_device(obj.config, device) is None:
                    raise _missing(device)
            if live:
                assert obj.live is not None
                found = _find_device(obj.live, device)
                if found is None:
                    raise _missing(device)
                if found.tag == "console" and _console_is_serial(found):
                    raise OperationUnsupportedError(
                        "detaching of <console/> is unsupported. Try corresponding <serial/> "
                        "instead",
                        domain=_QEMU,
                    )
                self._detach_live(obj, found)
            if config:
                assert obj.config is not None
                found = _find_device(obj.config, device)
                if found is not None:
                    found.getparent().remove(found)  # type: ignore[union-attr]
                    self.driver.save_config(obj)

    def _detach_live(self, obj: DomainObj, element: etree._Element) -> None:
        monitor = obj.monitor
        if monitor is None or monitor.closed:
            raise OperationFailedError("domain is no longer running", domain=_QEMU)
        assert obj.live is not None
        alias = _live_alias(obj.live, element)
        backends = _backends_of(monitor, element.tag, alias)
        with obj.lock:
            obj.pending_removals[alias] = backends
            key = f"DEVICE_DELETED:{alias}"
            before = obj.seen.get(key, 0)
        monitor.execute("device_del", {"id": alias})
        if obj.wait_event(key, before, REMOVAL_WAIT):
            complete_removal(self.driver, obj, alias)
        else:
            log.info("guest '%s' has not released device %s yet", obj.name, alias)


def _backends_of(monitor: QMPClient, tag: str, alias: str) -> list[tuple[str, str]]:
    """What to delete from QEMU once device *alias* is gone (named as the builder names it)."""
    if tag == "interface":
        return [("netdev_del", f"host{alias}")]
    if tag in _CHR_TAGS:
        return [("chardev-remove", f"char{alias}")]
    if tag == "rng":
        return [("object-del", f"obj{alias}")]
    for entry in monitor.execute("query-block") or []:
        qdev = str(entry.get("qdev", ""))
        if qdev == alias or qdev.startswith(f"/machine/peripheral/{alias}/"):
            node = str((entry.get("inserted") or {}).get("node-name", ""))
            if node.endswith("-format"):
                return [
                    ("blockdev-del", node),
                    ("blockdev-del", node.removesuffix("-format") + "-storage"),
                ]
            return [("blockdev-del", node)] if node else []
    return []


def complete_removal(driver: QemuDriver, obj: DomainObj, alias: str) -> None:
    """Finish removing device *alias* after QEMU's DEVICE_DELETED (the caller holds the job)."""
    with obj.lock:
        backends = obj.pending_removals.pop(alias, None)
        live = obj.live
    if backends is None or live is None:
        return
    monitor = obj.monitor
    for command, ident in backends:
        if monitor is None or monitor.closed:
            break
        try:
            key = "node-name" if command == "blockdev-del" else "id"
            monitor.execute(command, {key: ident})
        except VirtError as exc:
            log.warning("cannot remove backend %s of %s: %s", ident, alias, exc)
    with obj.lock:
        devices = live.element.find("devices")
        if devices is not None:
            for element in list(devices):
                named = element.find("alias")
                if named is not None and named.get("name") == alias:
                    devices.remove(element)
                    break
            else:
                _remove_unaliased(driver, obj, devices, alias)
        driver.save_status(obj)
    driver.emit(obj, DomainEventID.DEVICE_REMOVED, (alias,))


def _remove_unaliased(
    driver: QemuDriver, obj: DomainObj, devices: etree._Element, alias: str
) -> None:
    """Remove the device libvirt's naming calls *alias* (no ``<alias>`` recorded)."""
    assert obj.live is not None
    for element, name in device_aliases(obj.live.element).items():
        if name == alias and element.getparent() is devices:
            devices.remove(element)
            return


def _unique(device: etree._Element) -> bool:
    """Whether a second device equal to *device* is refused (libvirt allows RNGs twice)."""
    return device.tag != "rng"


def _console_is_serial(console: etree._Element) -> bool:
    target = console.find("target")
    return (target.get("type") if target is not None else None) in (None, "serial", "none")


def _duplicate(device: etree._Element) -> VirtError:
    if device.tag in _CHR_TAGS:
        return OperationInvalidError("chardev already exists", domain=_QEMU)
    if device.tag == "disk":
        target = device.find("target")
        return OperationFailedError(
            f"target {target.get('dev') if target is not None else ''} already exists",
            domain=_QEMU,
        )
    mac = device.find("mac")
    return OperationFailedError(
        f"mac address {mac.get('address') if mac is not None else ''} already exists",
        domain=_QEMU,
    )
