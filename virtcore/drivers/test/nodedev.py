"""The test driver's node device table, with libvirt 9.0's vHBA mock.

Listing and lookups follow ``testNodeDevice*``: node device listing accepts
the capability filters but not ``ACTIVE``/``INACTIVE``, a capability filter
also matches the ``fc_host`` and ``vports`` capabilities nested in a
``scsi_host``, and no XML flag is accepted.

Creating a device works as the test driver mocks vHBA creation:

* the document must describe a Fibre Channel SCSI host with a WWNN and a
  WWPN; its parent (named, or else any vport-capable host) must be capable
  of vport operations;
* whatever the document says, the new device is a copy of ``scsi_host11``
  named ``scsi_host12`` with the requested WWNN/WWPN (an existing
  ``scsi_host12`` is replaced); ``CREATED`` is emitted;
* destroying a Fibre Channel host whose parent exists removes it
  (``DELETED``); destroying anything else succeeds and changes nothing.

A storage pool on an ``fc_host`` adapter uses :func:`mock_create_vport` and
:func:`destroy_vport` in the same way.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from lxml import etree

from virtcore.driver import NodeDeviceDriver
from virtcore.drivers.test.objxml import NodeDeviceDef
from virtcore.drivers.test.secondary import SecondaryTable, emit
from virtcore.drivers.test.state import TestState, check_flags
from virtcore.drivers.test.xmlutil import child, child_text, children, parse_xml, words
from virtcore.enums.errors import ErrorDomain
from virtcore.enums.nodedev import NodeDeviceEventLifecycleType as DevEvent
from virtcore.errors import InternalError, NoNodeDeviceError, XMLError
from virtcore.events import EventKind
from virtcore.objects import NodeDevice

if TYPE_CHECKING:
    from virtcore.connection import Connection

__all__ = ["NODEDEV_CAP_NAMES", "TestNodeDeviceDriver", "destroy_vport", "mock_create_vport"]

_TEST = ErrorDomain.TEST
_NODEDEV = ErrorDomain.NODEDEV
_TEMPLATE = "scsi_host11"
_VHBA = "scsi_host12"
_NEW = "new device"

NODEDEV_CAP_NAMES = words(
    "system pci usb_device usb net scsi_host scsi_target scsi storage fc_host vports "
    "scsi_generic drm mdev_types mdev ccw css vdpa ap_card ap_queue ap_matrix vpd"
)
"""Capability names in ``ConnectListAllNodeDeviceFlags`` bit order."""


def _sub_capability(cap: etree._Element, kind: str) -> etree._Element | None:
    for sub in children(cap, "capability"):
        if sub.get("type") == kind:
            return sub
    return None


def _fc_host(dev: NodeDeviceDef) -> etree._Element | None:
    """The ``fc_host`` capability of a device's ``scsi_host``, if it has one."""
    for cap in dev.caps:
        if cap.get("type") == "scsi_host":
            found = _sub_capability(cap, "fc_host")
            if found is not None:
                return found
    return None


def _vport_capable(dev: NodeDeviceDef) -> bool:
    return any(
        cap.get("type") == "scsi_host" and _sub_capability(cap, "vport_ops") is not None
        for cap in dev.caps
    )


def _wwns(dev: NodeDeviceDef) -> tuple[str, str]:
    """The WWNN and WWPN of a Fibre Channel host (``virNodeDeviceGetWWNs``)."""
    fc = _fc_host(dev)
    if fc is None:
        raise InternalError("Device is not a fibre channel HBA", domain=_NODEDEV)
    return child_text(fc, "wwnn") or "", child_text(fc, "wwpn") or ""


def mock_create_vport(state: TestState, wwnn: str, wwpn: str) -> NodeDeviceDef:
    """Add ``scsi_host12`` as a copy of ``scsi_host11`` with *wwnn*/*wwpn* (``CREATED``)."""
    template = state.nodedevs.get(_TEMPLATE)
    if template is None:
        # libvirt fails here without reporting why.
        raise InternalError(
            message="An error occurred, but the cause is unknown", domain=ErrorDomain.NONE
        )
    vhba = NodeDeviceDef(_VHBA, template.parent, copy.deepcopy(template.caps))
    fc = _fc_host(vhba)
    if fc is not None:
        for tag, value in (("wwnn", wwnn), ("wwpn", wwpn)):
            elem = child(fc, tag)
            if elem is None:
                elem = etree.SubElement(fc, tag)
            elem.text = value
    state.add_nodedev(vhba)
    emit(state, EventKind.NODE_DEVICE, 0, _VHBA, None, DevEvent.CREATED, 0)
    return vhba


def destroy_vport(state: TestState) -> None:
    """Remove the mocked vHBA ``scsi_host12`` (``DELETED``)."""
    if state.nodedevs.pop(_VHBA, None) is None:
        raise NoNodeDeviceError(f"no node device with matching name '{_VHBA}'", domain=_TEST)
    emit(state, EventKind.NODE_DEVICE, 0, _VHBA, None, DevEvent.DELETED, 0)


def _parse_request(xml: str) -> NodeDeviceDef:
    """A device document as ``virNodeDeviceDefParse`` reads it for creation."""
    root = parse_xml(xml, "(node_device_definition)", domain=_NODEDEV, root="device")
    caps = children(root, "capability")
    for cap in caps:
        kind = cap.get("type", "")
        if kind not in NODEDEV_CAP_NAMES:
            raise XMLError(
                f"Invalid value for attribute 'type' in element 'capability': '{kind}'.",
                domain=ErrorDomain.XML,
            )
    if not caps:
        raise InternalError(f"no device capabilities for '{_NEW}'", domain=_NODEDEV)
    for cap in caps:
        fc = _sub_capability(cap, "fc_host") if cap.get("type") == "scsi_host" else None
        if fc is None:
            continue
        for tag in ("wwnn", "wwpn"):
            if not child_text(fc, tag):
                raise InternalError(
                    f"no {tag.upper()} supplied for '{_NEW}', and auto-generation failed",
                    domain=_NODEDEV,
                )
    request = etree.Element("device")
    etree.SubElement(request, "name").text = _NEW
    for cap in caps:
        kept = copy.deepcopy(cap)
        if kept.get("type") == "scsi_host" and child(kept, "host") is None:
            # Only existing devices must name their SCSI host number.
            kept.insert(0, etree.Element("host"))
            kept[0].text = "0"
        request.append(kept)
    parsed = NodeDeviceDef.from_element(request)
    parsed.parent = child_text(root, "parent")
    return parsed


class TestNodeDeviceDriver(SecondaryTable, NodeDeviceDriver):
    """Host devices of a test host."""

    def _dev(self, name: str) -> NodeDeviceDef:
        dev = self.state.nodedevs.get(name)
        if dev is None:
            raise NoNodeDeviceError(f"no node device with matching name '{name}'", domain=_TEST)
        return dev

    def _matching(self, cap: str | None) -> list[str]:
        return sorted(
            n for n, d in self.state.nodedevs.items() if cap is None or cap in d.all_cap_types()
        )

    def connect_list_all_node_devices(self, conn: Connection, flags: int) -> list[NodeDevice]:
        """Devices having any of the requested capabilities (all without filter)."""
        check_flags(flags, (1 << len(NODEDEV_CAP_NAMES)) - 1, "testConnectListAllNodeDevices")
        wanted = {name for bit, name in enumerate(NODEDEV_CAP_NAMES) if flags & (1 << bit)}
        with self.state.lock:
            return [
                NodeDevice(conn, name)
                for name in self._matching(None)
                if not wanted or wanted & self.state.nodedevs[name].all_cap_types()
            ]

    def node_num_of_devices(self, conn: Connection, cap: str | None, flags: int) -> int:
        """Number of devices with capability *cap* (all when None)."""
        check_flags(flags, 0, "testNodeNumOfDevices")
        with self.state.lock:
            return len(self._matching(cap))

    def node_list_devices(self, conn: Connection, cap: str | None, flags: int) -> list[str]:
        """Names of devices with capability *cap* (all when None)."""
        check_flags(flags, 0, "testNodeListDevices")
        with self.state.lock:
            return self._matching(cap)

    def node_device_lookup_by_name(self, conn: Connection, name: str) -> NodeDevice:
        """The device called *name*."""
        with self.state.lock:
            self._dev(name)
            return NodeDevice(conn, name)

    def node_device_get_xml_desc(self, conn: Connection, dev: NodeDevice, flags: int) -> str:
        """The device XML."""
        check_flags(flags, 0, "testNodeDeviceGetXMLDesc")
        with self.state.lock:
            return self._dev(dev.name).format()

    def node_device_get_parent(self, conn: Connection, dev: NodeDevice) -> str | None:
        """The parent device's name, None for the root device."""
        with self.state.lock:
            return self._dev(dev.name).parent

    def node_device_num_of_caps(self, conn: Connection, dev: NodeDevice) -> int:
        """Number of top-level capabilities."""
        return len(self.node_device_list_caps(conn, dev))

    def node_device_list_caps(self, conn: Connection, dev: NodeDevice) -> list[str]:
        """Top-level capability names."""
        with self.state.lock:
            return self._dev(dev.name).cap_types()

    def node_device_create_xml(self, conn: Connection, xml: str, flags: int) -> NodeDevice:
        """Create a vHBA as the test driver mocks it (see the module documentation).

        ``VALIDATE`` is accepted; the document is not checked against
        libvirt's schema.
        """
        check_flags(flags, 1, "testNodeDeviceCreateXML")
        request = _parse_request(xml)
        wwnn, wwpn = _wwns(request)
        with self.state.lock:
            if request.parent is not None:
                parent = self.state.nodedevs.get(request.parent)
                if parent is None:
                    raise InternalError(
                        f"Could not find parent device for '{_NEW}'", domain=_NODEDEV
                    )
                if not _vport_capable(parent):
                    raise InternalError(
                        f"Parent device {request.parent} is not capable of vport operations",
                        domain=_NODEDEV,
                    )
            elif not any(_vport_capable(d) for d in self.state.nodedevs.values()):
                raise InternalError("Could not find any vport capable device", domain=_NODEDEV)
            created = mock_create_vport(self.state, wwnn, wwpn)
            return NodeDevice(conn, created.name)

    def node_device_destroy(self, conn: Connection, dev: NodeDevice) -> None:
        """Remove a Fibre Channel host whose parent exists (``DELETED``); else do nothing."""
        with self.state.lock:
            found = self._dev(dev.name)
            if _fc_host(found) is None or found.parent not in self.state.nodedevs:
                # libvirt's test driver reports success without removing anything.
                return
            del self.state.nodedevs[dev.name]
            emit(self.state, EventKind.NODE_DEVICE, 0, dev.name, None, DevEvent.DELETED, 0)
