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

Disks and NICs (``virDomainAttachDeviceFlags``/``virDomainDetachDeviceFlags``,
``AFFECT_LIVE`` and/or ``AFFECT_CONFIG``): the device is added to a copy of
the definition, which goes through the qemu post-parse (addresses), and the
command-line builder's ``-blockdev``/``-netdev``/``-device`` objects for it
are sent with ``blockdev-add``/``netdev_add``/``device_add`` under fresh QEMU
names (``libvirt-<N>-format``, ``net<N>``); the live definition records the
device with its ``<alias>`` and ``DEVICE_ADDED`` is emitted. A detach sends
``device_del`` and waits up to 5 s for ``DEVICE_DELETED``; then (or whenever
the guest finally releases the device) the backends are deleted, the device
leaves the live definition and ``DEVICE_REMOVED`` is emitted, as libvirt does.
Other device kinds get libvirt's "live attach of device 'x' is not supported".
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import re
from typing import TYPE_CHECKING, Any

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
_HOTPLUG_TAGS = ("disk", "interface")
#: Seconds a detach waits for QEMU's DEVICE_DELETED (libvirt: 5 s), after which
#: the removal completes whenever the guest releases the device.
REMOVAL_WAIT = 5.0


def _parse_device(xml: str, *, live: bool, attach: bool) -> etree._Element:
    """The ``<disk>`` or ``<interface>`` of *xml*; libvirt's error for other devices."""
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
    """The device of *domain* that *device* names: a disk by target, an interface by MAC."""
    devices = domain.element.find("devices")
    if devices is None:
        return None
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


def _missing(device: etree._Element) -> DeviceMissingError:
    if device.tag == "disk":
        target = device.find("target")
        dev = target.get("dev") if target is not None else ""
        return DeviceMissingError(f"disk {dev} not found", domain=_QEMU)
    mac = device.find("mac")
    address = mac.get("address") if mac is not None else ""
    return DeviceMissingError(f"no device matching MAC address {address} found", domain=_QEMU)


def _command_args(
    driver: QemuDriver, obj: DomainObj, domain: DomainDef
) -> list[tuple[str, dict[str, Any]]]:
    """The ``-blockdev``/``-netdev``/``-device`` options (JSON) of *domain*'s command line."""
    from virtcore_qemu.command import CommandContext, build_command

    files = driver.files(obj.name)
    lib_dir = files.lib_dir(obj.id)
    ctx = CommandContext(
        monitor_path=lib_dir / "monitor.sock",
        pidfile=files.pidfile,
        lib_dir=lib_dir,
        chardev_dir=files.chardev_dir(obj.id),
        volumes=obj.volumes,
    )
    argv = build_command(domain, driver.caps(driver.emulator_of(domain)), ctx)
    args: list[tuple[str, dict[str, Any]]] = []
    for option, value in itertools.pairwise(argv):
        if option in ("-blockdev", "-netdev", "-device") and value.startswith("{"):
            args.append((option, json.loads(value)))
    return args


def _new_device_args(
    driver: QemuDriver, obj: DomainObj, copy: DomainDef, device_tag: str
) -> list[tuple[str, dict[str, Any]]]:
    """The QMP objects of the device added last to *copy*, renamed to free QEMU ids."""
    args = _command_args(driver, obj, copy)
    devices = copy.element.find("devices")
    assert devices is not None and obj.monitor is not None
    siblings = devices.findall(device_tag)
    if device_tag == "disk":
        number = 1  # the builder numbers disks from the last one: the new disk is 1
        nodes = {f"libvirt-{number}-storage", f"libvirt-{number}-format"}
        chosen = [
            (opt, props)
            for opt, props in args
            if (opt == "-blockdev" and props.get("node-name") in nodes)
            or (opt == "-device" and props.get("drive") == f"libvirt-{number}-format")
        ]
        used = [
            int(m.group(1))
            for entry in obj.monitor.execute("query-named-block-nodes") or []
            if (m := re.match(r"libvirt-(\d+)-", str(entry.get("node-name", ""))))
        ]
        fresh = max(used, default=0) + 1
        old, new = f"libvirt-{number}-", f"libvirt-{fresh}-"
        return [(opt, _rename(props, old, new)) for opt, props in chosen]
    position = len(siblings) - 1
    chosen = [
        (opt, props)
        for opt, props in args
        if (opt == "-netdev" and props.get("id") == f"hostnet{position}")
        or (opt == "-device" and props.get("netdev") == f"hostnet{position}")
    ]
    used = [
        int(m.group(1))
        for entry in obj.monitor.execute("qom-list", {"path": "/machine/peripheral"}) or []
        if (m := re.fullmatch(r"net(\d+)", str(entry.get("name", ""))))
    ]
    fresh = max([*used, position - 1], default=-1) + 1
    renamed = []
    for opt, props in chosen:
        fresh_props = _rename(props, f"hostnet{position}", f"hostnet{fresh}")
        if opt == "-device":
            fresh_props["id"] = f"net{fresh}"
        renamed.append((opt, fresh_props))
    return renamed


def _rename(props: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {
        key: (
            value.replace(old, new) if isinstance(value, str) and value.startswith(old) else value
        )
        for key, value in props.items()
    }


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
                if _find_device(obj.config, device) is not None:
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
        if _find_device(obj.live, device) is not None:
            raise _duplicate(device)
        if device.tag == "disk" and device.get("type") == "volume":
            source = device.find("source")
            assert source is not None
            key = (source.get("pool") or "", source.get("volume") or "")
            obj.volumes[key] = self.driver.translate_volume(*key)
        copy = _with_device(self.driver, obj.live, device)
        args = _new_device_args(self.driver, obj, copy, device.tag)
        done: list[tuple[str, dict[str, Any]]] = []
        try:
            for option, props in args:
                if option == "-blockdev":
                    monitor.execute("blockdev-add", props)
                elif option == "-netdev":
                    monitor.execute("netdev_add", props)
                else:
                    monitor.execute("device_add", props)
                done.append((option, props))
        except VirtError:
            for option, props in reversed(done):
                self._undo(monitor, option, props)
            raise
        alias = next(str(p["id"]) for o, p in args if o == "-device")
        copy_devices = copy.element.find("devices")
        assert copy_devices is not None
        added = copy_element(copy_devices.findall(device.tag)[-1])
        etree.SubElement(added, "alias", name=alias)
        devices = obj.live.element.find("devices")
        assert devices is not None
        siblings = devices.findall(device.tag)
        if siblings:
            siblings[-1].addnext(added)
        else:
            devices.append(added)
        self.driver.save_status(obj)
        self.driver.emit(obj, DomainEventID.DEVICE_ADDED, (alias,))

    @staticmethod
    def _undo(monitor: QMPClient, option: str, props: dict[str, Any]) -> None:
        try:
            if option == "-blockdev":
                monitor.execute("blockdev-del", {"node-name": props["node-name"]})
            elif option == "-netdev":
                monitor.execute("netdev_del", {"id": props["id"]})
            else:
                monitor.execute("device_del", {"id": props["id"]})
        except VirtError as exc:
            log.warning("cannot undo %s %s: %s", option, props.get("id"), exc)

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
                self._detach_live(obj, found)
            if config:
                assert obj.config is not None
                found = _find_device(obj.config, device)
                if found is not None:
                    found.getparent().remove(found)  # type: ignore[union-attr]
                    self.driver.save_config(obj)

    def _alias_of(self, obj: DomainObj, element: etree._Element) -> str:
        """QEMU's id of a live device: its ``<alias>``, else the one the command line gave."""
        alias = element.find("alias")
        if alias is not None and alias.get("name"):
            return str(alias.get("name"))
        assert obj.live is not None
        args = _command_args(self.driver, obj, obj.live)
        devices = obj.live.element.find("devices")
        assert devices is not None
        siblings = devices.findall(element.tag)
        position = siblings.index(element)
        if element.tag == "disk":
            drive = f"libvirt-{len(siblings) - position}-format"
            key, value = "drive", drive
        else:
            key, value = "netdev", f"hostnet{position}"
        for option, props in args:
            if option == "-device" and props.get(key) == value:
                return str(props["id"])
        raise InternalError(f"cannot find the QEMU id of {element.tag} device", domain=_QEMU)

    def _detach_live(self, obj: DomainObj, element: etree._Element) -> None:
        monitor = obj.monitor
        if monitor is None or monitor.closed:
            raise OperationFailedError("domain is no longer running", domain=_QEMU)
        alias = self._alias_of(obj, element)
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
    """What to delete from QEMU once device *alias* is gone."""
    if tag == "interface":
        return [("netdev_del", f"host{alias}")]
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
    """Remove the device the command line called *alias* (devices present since start)."""
    assert obj.live is not None
    for option, props in _command_args(driver, obj, obj.live):
        if option != "-device" or props.get("id") != alias:
            continue
        drive, netdev = props.get("drive"), props.get("netdev")
        if isinstance(drive, str) and (m := re.fullmatch(r"libvirt-(\d+)-format", drive)):
            disks = devices.findall("disk")
            index = len(disks) - int(m.group(1))
            if 0 <= index < len(disks):
                devices.remove(disks[index])
        elif isinstance(netdev, str) and (m := re.fullmatch(r"hostnet(\d+)", netdev)):
            nets = devices.findall("interface")
            if int(m.group(1)) < len(nets):
                devices.remove(nets[int(m.group(1))])
        return


def _duplicate(device: etree._Element) -> OperationFailedError:
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
