"""Where a storage pool's storage comes from: ``<source>`` and its parts.

A pool's ``<source>`` names hosts (NFS, iSCSI, Ceph monitors, ...), devices,
a directory, a SCSI/FC adapter, a source name (volume group, Ceph pool), a
format, credentials (``<auth>`` with a ``<secret>``), an iSCSI initiator
and vendor/product strings. :class:`PoolSource` is a view of the element;
:meth:`PoolSource.parse` applies the checks of libvirt 9.0's
``virStoragePoolDefParseSource`` (and of the adapter, auth and secret
parsers it calls) and returns a :class:`PoolSourceDef`, which the pool
writes back as ``virStoragePoolSourceFormat`` does - including only the
parts the pool type uses.

:func:`parse_secret_lookup` and :class:`SecretLookupDef` (a secret named by
UUID or usage) are shared with volume encryption.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.builder import YESNO, XMLChild, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.network_addr import error, format_uuid, parse_uuid
from virtcore.xml.network_netdev import (
    PCIAddress,
    PCIAddressDef,
    add_element,
    child_elements,
    prop_enum,
    prop_int,
    prop_tristate,
    raw_attr,
    xpath_string,
)

__all__ = [
    "ADAPTER_TYPES",
    "AdapterDef",
    "PoolSource",
    "PoolSourceAdapter",
    "PoolSourceDef",
    "PoolSourceDevice",
    "PoolSourceHost",
    "SecretLookupDef",
    "emit_secret",
    "parse_secret_lookup",
    "sanitize_path",
]

logger = logging.getLogger(__name__)

ADAPTER_TYPES = ("default", "scsi_host", "fc_host")
"""``virStorageAdapterType`` values."""

_STORAGE = ErrorDomain.STORAGE
_AUTH_TYPES = ("none", "chap", "ceph")
_NETFS_FORMATS = ("auto", "nfs", "glusterfs", "cifs")
_WWN = re.compile(r"(0x)?[0-9a-fA-F]{16}")


def _xml_error(detail: str, domain: int = _STORAGE) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, domain)


def sanitize_path(path: str) -> str:
    """``virFileSanitizePath``: collapse repeated slashes and drop a trailing one.

    URIs are left alone, and a leading ``//`` (meaningful to POSIX) is kept.
    """
    scheme = path.find("://")
    if scheme >= 0 and path.index("/") > scheme:
        return path
    prefix = ""
    if path.startswith("//") and path[2:3] != "/":
        prefix, path = "//", path[2:]
    out: list[str] = []
    pos = 0
    while pos < len(path):
        if path[pos] != "/":
            out.append(path[pos])
            pos += 1
            continue
        while pos < len(path) and path[pos] == "/":
            pos += 1
        if (out or prefix) and pos == len(path):
            break
        out.append("/")
    return prefix + "".join(out)


# -- secrets and credentials -----------------------------------------------------------


@dataclass(frozen=True)
class SecretLookupDef:
    """A secret named by UUID or by usage, with the ``type`` attribute written on it."""

    uuid: str | None = None
    usage: str | None = None
    type: str | None = None


def parse_secret_lookup(element: etree._Element) -> SecretLookupDef:
    """``virSecretLookupParseSecret`` on a ``<secret>`` element."""
    uuid_text = raw_attr(element, "uuid")
    usage = raw_attr(element, "usage")
    if uuid_text is None and usage is None:
        raise _xml_error("missing secret uuid or usage attribute", ErrorDomain.NONE)
    if uuid_text is not None and usage is not None:
        raise _xml_error("either secret uuid or usage expected", ErrorDomain.NONE)
    if uuid_text is not None:
        parsed = parse_uuid(uuid_text)
        if parsed is None:
            raise _xml_error(f"invalid secret uuid '{uuid_text}'", ErrorDomain.NONE)
        return SecretLookupDef(uuid=format_uuid(parsed))
    return SecretLookupDef(usage=usage)


def emit_secret(parent: etree._Element, secret: SecretLookupDef, kind: str | None) -> None:
    """``virSecretLookupFormatSecret``: ``<secret type='...' uuid='...'/>``."""
    add_element(parent, "secret", [("type", kind), ("uuid", secret.uuid), ("usage", secret.usage)])


@dataclass(frozen=True)
class AuthDef:
    """Credentials for a pool's source: user name, CHAP or Ceph, and the secret."""

    type: str
    username: str
    secret: SecretLookupDef

    def emit(self, parent: etree._Element) -> None:
        element = add_element(parent, "auth", [("type", self.type), ("username", self.username)])
        emit_secret(element, self.secret, self.secret.type)


def _parse_auth(node: XMLNode, element: etree._Element) -> AuthDef:
    username = xpath_string(node, "./auth/@username")
    if username is None:
        raise _xml_error("missing username for auth")
    kind = xpath_string(node, "./auth/@type")
    if kind is not None and kind not in _AUTH_TYPES:
        raise error(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown auth type '{kind}'", _STORAGE)
    secrets = child_elements(element, "secret")
    if not secrets:
        raise _xml_error("Missing <secret> element in auth")
    lookup = parse_secret_lookup(secrets[0])
    lookup = SecretLookupDef(lookup.uuid, lookup.usage, raw_attr(secrets[0], "type"))
    if kind is None or kind == "none":
        raise error(ErrorNumber.CONFIG_UNSUPPORTED, "storage pool missing auth type", _STORAGE)
    return AuthDef(kind, username, lookup)


# -- adapters --------------------------------------------------------------------------


@dataclass(frozen=True)
class AdapterDef:
    """A SCSI host or Fibre Channel (vHBA) adapter; type ``default`` when none is given."""

    type: str = "default"
    name: str | None = None
    parent_address: PCIAddressDef | None = None
    unique_id: int = 0
    parent: str | None = None
    parent_wwnn: str | None = None
    parent_wwpn: str | None = None
    parent_fabric_wwn: str | None = None
    managed: bool | None = None
    wwnn: str | None = None
    wwpn: str | None = None

    def validate(self) -> None:
        """``virStorageAdapterValidate`` (run for pool types that need an adapter)."""
        if self.type == "default":
            raise _xml_error("missing storage pool source adapter")
        if self.type == "fc_host":
            if self.wwnn is None or self.wwpn is None:
                raise _xml_error("'wwnn' and 'wwpn' must be specified for adapter type 'fchost'")
            _check_wwn(self.wwnn)
            _check_wwn(self.wwpn)
            if self.parent_wwnn is not None and self.parent_wwpn is None:
                raise _xml_error(
                    f"when providing parent_wwnn='{self.parent_wwnn}', the parent_wwpn must "
                    "also be provided"
                )
            if self.parent_wwnn is None and self.parent_wwpn is not None:
                raise _xml_error(
                    f"when providing parent_wwpn='{self.parent_wwpn}', the parent_wwnn must "
                    "also be provided"
                )
            for wwn in (self.parent_wwnn, self.parent_wwpn, self.parent_fabric_wwn):
                if wwn is not None:
                    _check_wwn(wwn)
        elif self.type == "scsi_host":
            if self.name is None and self.parent_address is None:
                raise _xml_error(
                    "Either 'name' or 'parent' must be specified for the 'scsi_host' adapter"
                )
            if self.name is not None and self.parent_address is not None:
                raise _xml_error(
                    "Both 'name' and 'parent' cannot be specified for the 'scsi_host' adapter"
                )

    def emit(self, parent: etree._Element) -> None:
        if self.type == "fc_host":
            managed = None if self.managed is None else "yes" if self.managed else "no"
            add_element(
                parent,
                "adapter",
                [
                    ("type", self.type),
                    ("parent", self.parent),
                    ("parent_wwnn", self.parent_wwnn),
                    ("parent_wwpn", self.parent_wwpn),
                    ("parent_fabric_wwn", self.parent_fabric_wwn),
                    ("managed", managed),
                    ("wwnn", self.wwnn),
                    ("wwpn", self.wwpn),
                ],
            )
        elif self.type == "scsi_host":
            element = add_element(parent, "adapter", [("type", self.type), ("name", self.name)])
            if self.name is None:
                holder = add_element(element, "parentaddr", [("unique_id", str(self.unique_id))])
                (self.parent_address or PCIAddressDef()).emit(holder, with_type=False)


def _check_wwn(wwn: str) -> None:
    if not _WWN.fullmatch(wwn):
        raise error(ErrorNumber.INTERNAL_ERROR, f"Malformed wwn: {wwn}", ErrorDomain.NONE)


class PoolSourceAdapter(XMLNode):
    """``<adapter type='scsi_host|fc_host' name='...' wwnn='...' wwpn='...'>``."""

    TAG = "adapter"
    type = XMLProperty("./@type")
    name = XMLProperty("./@name")
    parent = XMLProperty("./@parent")
    parent_wwnn = XMLProperty("./@parent_wwnn")
    parent_wwpn = XMLProperty("./@parent_wwpn")
    parent_fabric_wwn = XMLProperty("./@parent_fabric_wwn")
    managed = XMLProperty("./@managed", YESNO)
    wwnn = XMLProperty("./@wwnn")
    wwpn = XMLProperty("./@wwpn")
    unique_id = XMLProperty("./parentaddr/@unique_id", int)
    parent_address = XMLChild(PCIAddress, "./parentaddr/address")

    def parse(self) -> AdapterDef:
        """``virStorageAdapterParseXML``'s checks and values."""
        element = self.element
        kind = prop_enum(element, "type", ADAPTER_TYPES)
        get = element.get
        if kind is None:
            if get("wwnn") is not None or get("wwpn") is not None or get("parent") is not None:
                raise _xml_error(
                    "Use of 'wwnn', 'wwpn', and 'parent' attributes requires use of the "
                    "adapter 'type'"
                )
            if child_elements(element, "parentaddr"):
                raise _xml_error("Use of 'parentaddr' element requires use of the adapter 'type'")
            name = raw_attr(element, "name")
            return AdapterDef("scsi_host", name=name) if name is not None else AdapterDef()
        if kind == "fc_host":
            managed = prop_tristate(element, "managed")
            return AdapterDef(
                kind,
                parent=raw_attr(element, "parent"),
                parent_wwnn=raw_attr(element, "parent_wwnn"),
                parent_wwpn=raw_attr(element, "parent_wwpn"),
                parent_fabric_wwn=raw_attr(element, "parent_fabric_wwn"),
                managed=managed,
                wwpn=raw_attr(element, "wwpn"),
                wwnn=raw_attr(element, "wwnn"),
            )
        name = raw_attr(element, "name")
        holders = child_elements(element, "parentaddr")
        if not holders:
            return AdapterDef(kind, name=name)
        addresses = child_elements(holders[0], "address")
        if not addresses:
            raise _xml_error("Missing scsi_host PCI address element")
        address = PCIAddress(addresses[0]).parse()
        text = xpath_string(self, "./parentaddr/@unique_id")
        try:
            unique_id = units.parse_int(text) if text is not None else -1
        except ValueError:
            unique_id = -1
        if unique_id < 0:
            raise _xml_error("Missing or invalid scsi adapter 'unique_id' value")
        return AdapterDef(kind, name=name, parent_address=address, unique_id=unique_id)


# -- the source ------------------------------------------------------------------------


@dataclass(frozen=True)
class HostDef:
    """A source host and its port (0 when not given)."""

    name: str
    port: int = 0


@dataclass(frozen=True)
class DeviceDef:
    """A source device and its partition separator setting."""

    path: str
    part_separator: bool | None = None


@dataclass(frozen=True)
class PoolSourceDef:
    """A parsed ``<source>``; *format* is None for pool types without formats."""

    name: str | None = None
    format: str | None = None
    hosts: tuple[HostDef, ...] = ()
    initiator_iqn: str | None = None
    devices: tuple[DeviceDef, ...] = ()
    dir: str | None = None
    adapter: AdapterDef = AdapterDef()
    auth: AuthDef | None = None
    protocol_ver: str | None = None
    vendor: str | None = None
    product: str | None = None

    def emit(self, parent: etree._Element, parts: frozenset[str]) -> None:
        """Write ``<source>`` with the *parts* the pool type uses (``host``, ``device``, ...)."""
        element = add_element(parent, "source")
        if "host" in parts:
            for host in self.hosts:
                port = str(host.port) if host.port else None
                add_element(element, "host", [("name", host.name), ("port", port)])
        if "device" in parts:
            for device in self.devices:
                separator = device.part_separator
                add_element(
                    element,
                    "device",
                    [
                        ("path", device.path),
                        (
                            "part_separator",
                            None if separator is None else "yes" if separator else "no",
                        ),
                    ],
                )
        if "dir" in parts and self.dir is not None:
            add_element(element, "dir", [("path", self.dir)])
        if "adapter" in parts and self.adapter.type != "default":
            self.adapter.emit(element)
        if "name" in parts and self.name is not None:
            add_element(element, "name", text=self.name)
        if "initiator" in parts and self.initiator_iqn is not None:
            initiator = add_element(element, "initiator")
            add_element(initiator, "iqn", [("name", self.initiator_iqn)])
        if self.format is not None:
            add_element(element, "format", [("type", self.format)])
        if self.auth is not None:
            self.auth.emit(element)
        if self.protocol_ver is not None:
            add_element(element, "protocol", [("ver", self.protocol_ver)])
        if self.vendor is not None:
            add_element(element, "vendor", [("name", self.vendor)])
        if self.product is not None:
            add_element(element, "product", [("name", self.product)])


class PoolSourceHost(XMLNode):
    """``<host name='...' port='...'/>``."""

    TAG = "host"
    name = XMLProperty("./@name")
    port = XMLProperty("./@port", int)


class PoolSourceDevice(XMLNode):
    """``<device path='...' part_separator='yes|no'/>``."""

    TAG = "device"
    path = XMLProperty("./@path")
    part_separator = XMLProperty("./@part_separator", YESNO)


class PoolSource(XMLNode):
    """A pool's ``<source>``."""

    TAG = "source"
    XML_ORDER = {
        "": ("host", "device", "dir", "adapter", "name", "initiator", "format", "auth",
             "protocol", "vendor", "product"),
    }  # fmt: skip

    hosts = XMLChildList(PoolSourceHost, "./host")
    devices = XMLChildList(PoolSourceDevice, "./device")
    dir = XMLProperty("./dir/@path")
    adapter = XMLChild(PoolSourceAdapter)
    name = XMLProperty("./name")
    initiator_iqn = XMLProperty("./initiator/iqn/@name")
    format = XMLProperty("./format/@type")
    auth_type = XMLProperty("./auth/@type")
    auth_username = XMLProperty("./auth/@username")
    auth_secret_uuid = XMLProperty("./auth/secret/@uuid")
    auth_secret_usage = XMLProperty("./auth/secret/@usage")
    protocol_ver = XMLProperty("./protocol/@ver")
    vendor = XMLProperty("./vendor/@name")
    product = XMLProperty("./product/@name")

    def parse(
        self, pool_type: str, formats: tuple[str, ...], default_format: str | None
    ) -> PoolSourceDef:
        """``virStoragePoolDefParseSource`` for a pool of *pool_type*.

        *formats* are the source formats of the type (empty when it has
        none) and *default_format* the one used when the document names none.
        """
        element = self.element
        name = xpath_string(self, "./name")
        if pool_type == "rbd" and name is None:
            raise _xml_error("element 'name' is mandatory for RBD pool")
        source_format = None
        if formats:
            text = xpath_string(self, "./format/@type")
            source_format = default_format if text is None else text
            if source_format not in formats:
                raise error(
                    ErrorNumber.CONFIG_UNSUPPORTED, f"unknown pool format type {text}", _STORAGE
                )
        hosts: list[HostDef] = []
        for host in child_elements(element, "host"):
            host_name = raw_attr(host, "name")
            if host_name is None:
                raise _xml_error("missing storage pool host name")
            hosts.append(HostDef(host_name, prop_int(host, "port") or 0))
        iqn = xpath_string(self, "./initiator/iqn/@name")
        devices: list[DeviceDef] = []
        for device in child_elements(element, "device"):
            path = raw_attr(device, "path")
            if path is None:
                raise _xml_error("missing storage pool source device path")
            devices.append(DeviceDef(path, prop_tristate(device, "part_separator")))
        directory = xpath_string(self, "./dir/@path")
        source_dir = sanitize_path(directory) if directory is not None else None
        if source_dir is None and pool_type == "gluster":
            source_dir = "/"
        adapter = AdapterDef()
        if child_elements(element, "adapter"):
            adapter = self.adapter.parse()
        auth = None
        auth_elements = child_elements(element, "auth")
        if auth_elements:
            auth = _parse_auth(self, auth_elements[0])
        protocol_ver = xpath_string(self, "./protocol/@ver")
        if protocol_ver is not None:
            # libvirt 9.0 keeps the version as text; it only checks the format.
            index = formats.index(source_format) if source_format in formats else 0
            if index > 1:
                label = _NETFS_FORMATS[index] if index < len(_NETFS_FORMATS) else "(null)"
                raise error(
                    ErrorNumber.CONFIG_UNSUPPORTED,
                    f"storage pool protocol ver unsupported for pool type '{label}'",
                    _STORAGE,
                )
        return PoolSourceDef(
            name,
            source_format,
            tuple(hosts),
            iqn,
            tuple(devices),
            source_dir,
            adapter,
            auth,
            protocol_ver,
            xpath_string(self, "./vendor/@name"),
            xpath_string(self, "./product/@name"),
        )
