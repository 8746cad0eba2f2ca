"""Device hot-plug calls: attach, detach and update devices of a test domain.

libvirt 9.0's test driver has none of these calls (it reports
``VIR_ERR_NO_SUPPORT``); virtcore's test driver provides them with the
semantics of libvirt's QEMU driver, so that management code exercising
hot-plug can be tested without a hypervisor:

* ``VIR_DOMAIN_AFFECT_CURRENT``/``LIVE``/``CONFIG`` select the live and/or
  persistent definition as everywhere else (``LIVE`` on an inactive domain
  and ``CONFIG`` on a transient one are refused); all checks are made on
  every selected definition before any of them changes.
* Disks are identified by target, interfaces by MAC address, other devices
  by their content (ignoring ``<alias>`` and ``<address>``) or by alias.
  Disks on IDE, floppy, Xen, UML and SD buses cannot be hot-plugged.
* A device attached live gets an alias (QEMU's naming: ``virtio-disk1``,
  ``ide0-0-1``, ``net1``, ``<type>N``) unless it brings one, and
  ``DEVICE_ADDED`` is emitted with it; a device detached live emits
  ``DEVICE_REMOVED`` with its alias. Configuration changes emit nothing.
* Updating replaces a disk's media (live only for CD-ROMs and floppies) or
  an interface's settings (matched by MAC address).

Error codes and wording follow the QEMU driver; the error domain is the test
driver's.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from lxml import etree

from virtcore.drivers.test.domaincommon import (
    AFFECT_CONFIG,
    AFFECT_LIVE,
    DomainTableBase,
    check_flags,
)
from virtcore.drivers.test.domainxml import DEVICE_ORDER, DomainDef
from virtcore.drivers.test.xmlutil import child, parse_xml
from virtcore.enums.domain_events import DomainEventID
from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    DeviceMissingError,
    InternalError,
    OperationFailedError,
    OperationInvalidError,
    OperationUnsupportedError,
    XMLError,
)

if TYPE_CHECKING:
    from virtcore.connection import Connection
    from virtcore.drivers.test.state import DomainObj
    from virtcore.objects import Domain

__all__ = ["DeviceCalls", "device_alias"]

logger = logging.getLogger(__name__)

_TEST = ErrorDomain.TEST
_DOM = ErrorDomain.DOMAIN
_AFFECT = AFFECT_LIVE | AFFECT_CONFIG
_FORCE = 4
_COLD_PLUG_ONLY_BUSES = frozenset({"ide", "fdc", "xen", "uml", "sd"})
_DISK_INDEX = re.compile(r"^(?:fd|hd|vd|sd|xvd|ubd)([a-z]+)")


def _disk_index(dst: str) -> int:
    match = _DISK_INDEX.match(dst)
    if match is None:
        return 0
    index = 0
    for letter in match.group(1):
        index = index * 26 + ord(letter) - ord("a") + 1
    return index - 1


def _target(dev: etree._Element) -> str:
    target = child(dev, "target")
    return target.get("dev", "") if target is not None else ""


def _mac(dev: etree._Element) -> str | None:
    mac = child(dev, "mac")
    return mac.get("address") if mac is not None else None


def _explicit_alias(dev: etree._Element) -> str | None:
    alias = child(dev, "alias")
    return alias.get("name") if alias is not None else None


def device_alias(dev: etree._Element, devices: list[etree._Element]) -> str:
    """The alias *dev* has, or the one QEMU would give it among *devices*."""
    explicit = _explicit_alias(dev)
    if explicit is not None:
        return explicit
    if dev.tag == "disk":
        target = child(dev, "target")
        bus = target.get("bus", "") if target is not None else ""
        address = child(dev, "address")
        if address is not None and address.get("type") == "drive" and bus in ("ide", "sata"):
            unit = (address.get("controller"), address.get("bus"), address.get("unit"))
            return f"{bus}{unit[0]}-{unit[1]}-{unit[2]}"
        if address is not None and address.get("type") == "drive" and bus == "scsi":
            parts = (address.get(k, "0") for k in ("controller", "bus", "target", "unit"))
            return "scsi" + "-".join(parts)
        return f"{bus}-disk{_disk_index(_target(dev))}"
    prefix = "net" if dev.tag == "interface" else dev.tag
    taken = {_explicit_alias(d) for d in devices if d is not dev}
    peers = [d for d in devices if d.tag == dev.tag]
    number = peers.index(dev) if dev in peers else len(peers)
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _comparable(dev: etree._Element) -> bytes:
    clone = copy.deepcopy(dev)
    for sub in list(clone):
        if sub.tag in ("alias", "address"):
            clone.remove(sub)
    return etree.tostring(clone, method="c14n")


def _parse_device(xml: str) -> etree._Element:
    """One device element, normalised the way it would be inside a domain definition."""
    root = parse_xml(xml, "(device_definition)", domain=_DOM)
    if root.tag not in DEVICE_ORDER:
        raise XMLError(f"unknown device type '{root.tag}'", domain=_DOM)
    holder = DomainDef.parse(
        "<domain type='test'><name>device</name><memory>1</memory>"
        "<os><type>hvm</type></os><devices/></domain>"
    )
    holder.replace_devices([root])
    for dev in holder.devices:
        if dev.tag == root.tag:
            return dev
    raise InternalError(f"cannot normalise device '{root.tag}'", domain=_TEST)


def _find(definition: DomainDef, dev: etree._Element, *, live: bool) -> etree._Element:
    """The device of *definition* that *dev* designates; DEVICE_MISSING if there is none."""
    if dev.tag == "disk":
        for existing in definition.devices:
            if existing.tag == "disk" and _target(existing) == _target(dev):
                return existing
        what = "disk {} not found" if live else "no target device {}"
        raise DeviceMissingError(what.format(_target(dev)), domain=_TEST)
    if dev.tag == "interface" and child(dev, "mac") is not None:
        mac = _mac(dev)
        found = [d for d in definition.devices if d.tag == "interface" and _mac(d) == mac]
        if len(found) > 1:
            raise OperationFailedError(
                f"multiple devices matching MAC address {mac} found", domain=_TEST
            )
        if not found:
            raise DeviceMissingError(f"no device matching MAC address {mac} found", domain=_TEST)
        return found[0]
    wanted_alias = _explicit_alias(dev)
    wanted = _comparable(dev)
    for existing in definition.devices:
        if existing.tag != dev.tag:
            continue
        if wanted_alias is not None and _explicit_alias(existing) == wanted_alias:
            return existing
        if _comparable(existing) == wanted:
            return existing
    raise DeviceMissingError(f"matching {dev.tag} device not found", domain=_TEST)


class DeviceCalls(DomainTableBase):
    """``virDomainAttachDevice*``, ``virDomainDetachDevice*``, ``virDomainUpdateDeviceFlags``."""

    def _targets(self, obj: DomainObj, flags: int) -> tuple[DomainDef | None, DomainDef | None]:
        return self._defs(obj, flags & _AFFECT)

    # -- attach ---------------------------------------------------------------------------

    def domain_attach_device(self, conn: Connection, dom: Domain, xml: str) -> None:
        """``virDomainAttachDevice``: attach to the live domain."""
        self.domain_attach_device_flags(conn, dom, xml, AFFECT_LIVE)

    def domain_attach_device_flags(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> None:
        """Attach a device to the live and/or persistent definition."""
        check_flags(flags, _AFFECT, "testDomainAttachDeviceFlags")
        with self.state.lock:
            obj = self._obj(dom)
            live, persistent = self._targets(obj, flags)
            dev = _parse_device(xml)
            if persistent is not None:
                self._check_attach(persistent, dev, live=False)
            if live is not None:
                self._check_attach(live, dev, live=True)
            if persistent is not None:
                persistent.replace_devices([*persistent.devices, copy.deepcopy(dev)])
            if live is not None:
                added = copy.deepcopy(dev)
                alias = device_alias(added, [*live.devices, added])
                if _explicit_alias(added) is None:
                    etree.SubElement(added, "alias", name=alias)
                live.replace_devices([*live.devices, added])
                self._emit(obj, DomainEventID.DEVICE_ADDED, alias)
                logger.debug("attached %s %s to %s", dev.tag, alias, obj.name)

    @staticmethod
    def _check_attach(definition: DomainDef, dev: etree._Element, *, live: bool) -> None:
        if dev.tag != "disk":
            return
        if any(d.tag == "disk" and _target(d) == _target(dev) for d in definition.devices):
            error = OperationFailedError if live else OperationInvalidError
            raise error(f"target {_target(dev)} already exists", domain=_TEST)
        target = child(dev, "target")
        bus = target.get("bus", "") if target is not None else ""
        if live and bus in _COLD_PLUG_ONLY_BUSES:
            raise OperationUnsupportedError(f"disk bus '{bus}' cannot be hotplugged.", domain=_TEST)

    # -- detach ---------------------------------------------------------------------------

    def domain_detach_device(self, conn: Connection, dom: Domain, xml: str) -> None:
        """``virDomainDetachDevice``: detach from the live domain."""
        self.domain_detach_device_flags(conn, dom, xml, AFFECT_LIVE)

    def domain_detach_device_flags(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> None:
        """Detach the device *xml* designates from the live and/or persistent definition."""
        check_flags(flags, _AFFECT, "testDomainDetachDeviceFlags")
        with self.state.lock:
            obj = self._obj(dom)
            live, persistent = self._targets(obj, flags)
            dev = _parse_device(xml)
            self._detach(obj, live, persistent, lambda d, is_live: _find(d, dev, live=is_live))

    def domain_detach_device_alias(
        self, conn: Connection, dom: Domain, alias: str, flags: int
    ) -> None:
        """Detach the device with alias *alias*."""
        check_flags(flags, _AFFECT, "testDomainDetachDeviceAlias")

        def by_alias(definition: DomainDef, is_live: bool) -> etree._Element:
            for dev in definition.devices:
                if device_alias(dev, definition.devices) == alias:
                    return dev
            raise DeviceMissingError(f"no device found with alias {alias}", domain=_TEST)

        with self.state.lock:
            obj = self._obj(dom)
            live, persistent = self._targets(obj, flags)
            self._detach(obj, live, persistent, by_alias)

    def _detach(
        self,
        obj: DomainObj,
        live: DomainDef | None,
        persistent: DomainDef | None,
        find: Callable[[DomainDef, bool], etree._Element],
    ) -> None:
        found_config = find(persistent, False) if persistent is not None else None
        found_live = find(live, True) if live is not None else None
        if persistent is not None and found_config is not None:
            persistent.devices = [d for d in persistent.devices if d is not found_config]
        if live is not None and found_live is not None:
            alias = device_alias(found_live, live.devices)
            live.devices = [d for d in live.devices if d is not found_live]
            self._emit(obj, DomainEventID.DEVICE_REMOVED, alias)
            logger.debug("detached %s %s from %s", found_live.tag, alias, obj.name)

    # -- update ---------------------------------------------------------------------------

    def domain_update_device_flags(
        self, conn: Connection, dom: Domain, xml: str, flags: int
    ) -> None:
        """Change a disk's media or an interface's settings."""
        check_flags(flags, _AFFECT | _FORCE, "testDomainUpdateDeviceFlags")
        with self.state.lock:
            obj = self._obj(dom)
            live, persistent = self._targets(obj, flags)
            dev = _parse_device(xml)
            if dev.tag not in ("disk", "interface"):
                raise OperationUnsupportedError(
                    f"update of device '{dev.tag}' is not supported", domain=_TEST
                )
            replacements = []
            for definition, is_live in ((persistent, False), (live, True)):
                if definition is None:
                    continue
                if dev.tag == "disk":
                    matches = [d for d in definition.devices if d.tag == "disk"]
                    existing = next((d for d in matches if _target(d) == _target(dev)), None)
                    if existing is None:
                        raise DeviceMissingError(
                            f"target {_target(dev)} doesn't exist.", domain=_TEST
                        )
                    if is_live and existing.get("device") not in ("cdrom", "floppy"):
                        raise OperationUnsupportedError(
                            f"disk device type '{existing.get('device')}' cannot be updated",
                            domain=_TEST,
                        )
                else:
                    existing = _find(definition, dev, live=is_live)
                replacements.append((definition, existing, is_live))
            for definition, existing, is_live in replacements:
                new = copy.deepcopy(dev)
                alias = _explicit_alias(existing)
                if is_live and alias is not None and _explicit_alias(new) is None:
                    etree.SubElement(new, "alias", name=alias)
                definition.replace_devices(
                    [new if d is existing else d for d in definition.devices]
                )
