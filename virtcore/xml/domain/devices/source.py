"""Disk storage sources: ``<source>``, network hosts, backing chains.

A disk's storage is described by its ``type`` and its ``<source>``::

    <source file='/var/lib/libvirt/images/vm.qcow2' startupPolicy='optional'/>
    <source dev='/dev/sdb'/>
    <source dir='/srv/floppy'/>
    <source pool='default' volume='vm.img' mode='host'/>
    <source type='pci' managed='yes' namespace='1'>           (type='nvme')
      <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </source>
    <source protocol='rbd' name='pool/image'>                (type='network')
      <host name='mon1.example.org' port='6789'/>
      <snapshot name='snap'/>
      <config file='/etc/ceph/ceph.conf'/>
      <auth username='admin'><secret type='ceph' usage='ceph-secret'/></auth>
    </source>

followed, for copy-on-write images, by a ``<backingStore>`` chain ending in
an empty ``<backingStore/>`` when the chain is known to be complete.

:func:`parse_source` reads all of it as ``virDomainStorageSourceParse`` and
its helpers do (libvirt's checks, codes and wording: ``missing name for disk
source``, ``can't split path 'v' into pool name and image name``, ``port
'70000' out of range``, ...), filling in the default port of each protocol
as libvirt does; :meth:`StorageSource.source_element` and
:func:`backing_store_element` write it back as ``virDomainDiskSourceFormat``
does (HTTP cookies only with ``VIR_DOMAIN_XML_SECURE``). Credentials (``<auth>``,
``<encryption>``) are read and written by :mod:`.source_auth`, whose names this
module exports too.
:func:`new_source` makes a blank source for the readers (equal to
``StorageSource(type=kind)``, made faster).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.xml.domain.devices.source_auth import (
    Auth,
    Encryption,
    auth_element,
    parse_auth,
    parse_encryption,
    valid_uuid,
)
from virtcore.xml.domain.devices.support import (
    INACTIVE,
    SECURE,
    DeviceContext,
    Seclabel,
    child,
    children,
    element,
    fail,
    field_defaults,
    optional_element,
    prop,
    prop_enum,
    prop_tristate,
    prop_uint,
    text_of,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode
from virtcore.xml.units import ULLONG_MAX, parse_c_integer, parse_ullong

__all__ = [
    "DEFAULT_PORTS",
    "DETECTED_MARK",
    "NET_PROTOCOLS",
    "STORAGE_FORMATS",
    "STORAGE_TYPES",
    "Auth",
    "Encryption",
    "NetHost",
    "StorageSource",
    "auth_element",
    "backing_store_element",
    "backing_store_node",
    "new_source",
    "parse_auth",
    "parse_encryption",
    "parse_source",
    "valid_uuid",
]

logger = logging.getLogger(__name__)

STORAGE_TYPES = ("none", "file", "block", "dir", "network", "volume", "nvme", "vhostuser")
"""``virStorageType``; ``none`` is only the terminator of a backing chain."""
STORAGE_FORMATS = (
    "none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd",
    "ploop", "cow", "qcow", "qcow2", "qed", "vmdk", "luks",
)  # fmt: skip
"""``virStorageFileFormat``."""
NET_PROTOCOLS = (
    "none", "nbd", "rbd", "sheepdog", "gluster", "iscsi", "http", "https", "ftp", "ftps",
    "tftp", "ssh", "vxhs", "nfs",
)  # fmt: skip
"""``virStorageNetProtocol``."""
DEFAULT_PORTS = {
    "http": 80, "https": 443, "ftp": 21, "ftps": 990, "tftp": 69, "sheepdog": 7000,
    "nbd": 10809, "ssh": 22, "iscsi": 3260, "gluster": 24007, "vxhs": 9999,
}  # fmt: skip
"""``virStorageSourceNetworkDefaultPort`` (RBD and NFS have none)."""
_TRANSPORTS = ("tcp", "unix", "rdma")
_POOL_MODES = ("default", "host", "direct")
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.0-9A-Z^_`a-z|~]+\Z")
_COOKIE_VALUE = re.compile(r"\"?[!#$%&'()*+\-./0-9:<=>?@A-Z\[\]^_`a-z|~]+\"?\Z")
DETECTED_MARK = "{urn:virtcore:runtime}detected"
"""Marks, in a running domain's tree, a ``<backingStore>`` read from the images (never printed)."""
_INDEX = re.compile(r"[ \t\n\v\f\r]*\+?[0-9]+\Z")
_UINT_MAX = 0xFFFFFFFF


# -- network hosts -------------------------------------------------------------------------


@dataclass
class NetHost:
    """A ``<host>`` of a network source."""

    name: str | None = None
    port: int = 0
    transport: str = "tcp"
    socket: str | None = None

    def to_element(self) -> OutNode:
        """The ``<host>`` element as libvirt writes it."""
        return element(
            "host",
            [
                ("name", self.name),
                ("port", self.port or None),
                ("transport", None if self.transport == "tcp" else self.transport),
                ("socket", self.socket),
            ],
        )


def parse_port(text: str) -> int:
    """``virStringParsePort``: a TCP/UDP port number."""
    try:
        port = int(text, 10) if re.fullmatch(r"[ \t\n\v\f\r]*\+?[0-9]+", text) else -1
    except ValueError:
        port = -1
    if port < 0:
        fail(ErrorNumber.INVALID_ARG, f"failed to parse port number '{text}'", ErrorDomain.NONE)
    if port > 65535:
        fail(ErrorNumber.INVALID_ARG, f"port '{text}' out of range", ErrorDomain.NONE)
    return port


def parse_host(node: etree._Element) -> NetHost:
    """``virDomainStorageNetworkParseHost``."""
    host = NetHost()
    transport = prop(node, "transport")
    if transport is not None:
        if transport not in _TRANSPORTS:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown protocol transport type '{transport}'")
        host.transport = transport
    host.socket = prop(node, "socket")
    if host.transport == "unix" and host.socket is None:
        fail(ErrorNumber.XML_ERROR, "missing socket for unix transport")
    if host.transport != "unix" and host.socket is not None:
        fail(
            ErrorNumber.XML_ERROR,
            f"transport '{transport or '(null)'}' does not support socket attribute",
        )
    if host.transport != "unix":
        host.name = prop(node, "name")
        if host.name is None:
            fail(ErrorNumber.XML_ERROR, "missing name for host")
        port = prop(node, "port")
        if port is not None:
            host.port = parse_port(port)
    return host


# -- the storage source ------------------------------------------------------------------


@dataclass
class StorageSource:
    """A parsed storage source (``virStorageSource``): one disk image or a backing layer."""

    type: str = "file"
    path: str | None = None
    format: str | None = None
    startup_policy: str | None = None
    # network
    protocol: str | None = None
    query: str | None = None
    tls: bool | None = None
    tls_hostname: str | None = None
    hosts: list[NetHost] = field(default_factory=list)
    snapshot: str | None = None
    config_file: str | None = None
    initiator_iqn: str | None = None
    ssl_verify: bool | None = None
    cookies: list[tuple[str, str]] = field(default_factory=list)
    readahead: int = 0
    timeout: int = 0
    nfs_user: str | None = None
    nfs_group: str | None = None
    # volume
    pool: str | None = None
    volume: str | None = None
    mode: str | None = None
    fdgroup: str | None = None
    # vhostuser
    reconnect_enabled: bool | None = None
    reconnect_timeout: int = 0
    # nvme
    nvme_managed: bool | None = None
    nvme_namespace: int = 0
    nvme_address: dict[str, str] = field(default_factory=dict)
    # common
    auth: Auth | None = None
    encryption: Encryption | None = None
    seclabels: list[Seclabel] = field(default_factory=list)
    reservations: tuple[bool, str | None] | None = None
    """``<reservations>``: (managed, socket path of the helper)."""
    slices: list[tuple[int, int]] = field(default_factory=list)
    backing: StorageSource | None = None
    readonly: bool = False
    shared: bool = False
    index: int = 0
    """The running domain's storage source id (``index`` attribute); 0 when none."""
    detected: bool = False
    """Whether the backing layer was detected from the images rather than given in the XML."""

    @property
    def display_path(self) -> str | None:
        """``virDomainDiskGetSource``: the path libvirt names the source by."""
        return self.path

    # -- output ---------------------------------------------------------------------------

    def source_element(
        self,
        flags: int,
        *,
        skip_auth: bool = False,
        skip_encryption: bool = False,
        with_index: bool = False,
    ) -> OutNode | None:
        """``virDomainDiskSourceFormat``: the ``<source>`` element, None when it is empty.

        *with_index* (a disk's own source) writes a non-zero :attr:`index`
        whatever the flags, as libvirt does.
        """
        kind = self.type
        path_attr = _PATH_ATTRS.get(kind)
        if (
            path_attr is not None
            and not self.slices
            and not self.seclabels
            and self.auth is None
            and self.encryption is None
            and self.reservations is None
        ):
            # A local image and nothing else (nearly every disk): its attributes only.
            pairs: list[tuple[str, str | int | None]] = []
            if self.path is not None:
                pairs.append((path_attr, self.path))
            if self.startup_policy:
                pairs.append(("startupPolicy", self.startup_policy))
            if with_index and self.index:
                pairs.append(("index", self.index))
            return OutNode("source", pairs) if pairs else None
        attrs: list[tuple[str, str | int | None]] = []
        kids: list[OutNode | None] = []
        if self.type == "file":
            attrs.append(("file", self.path))
        elif self.type == "block":
            attrs.append(("dev", self.path))
        elif self.type == "dir":
            attrs.append(("dir", self.path))
        elif self.type == "network":
            self._network(attrs, kids, flags)
        elif self.type == "volume" and self.pool is not None:
            attrs += [("pool", self.pool), ("volume", self.volume), ("mode", self.mode)]
        elif self.type == "vhostuser":
            attrs += [("type", "unix"), ("path", self.path)]
            if self.reconnect_enabled is not None:
                timeout = self.reconnect_timeout if self.reconnect_enabled else None
                reconnect = [("enabled", yesno(self.reconnect_enabled)), ("timeout", timeout)]
                kids.append(element("reconnect", reconnect))
        elif self.type == "nvme":
            attrs += [
                ("type", "pci"),
                ("managed", yesno(self.nvme_managed)),
                ("namespace", self.nvme_namespace),
            ]
            kids.append(element("address", list(self.nvme_address.items())))
        if self.slices:
            slices = [
                element("slice", [("type", "storage"), ("offset", off), ("size", size)])
                for off, size in self.slices
            ]
            kids.append(element("slices", kids=slices))
        if self.type != "network":
            kids.extend(label.to_element(flags) for label in self.seclabels)
        if self.auth is not None and not skip_auth and self.type != "volume":
            kids.append(auth_element(self.auth))
        if self.encryption is not None and not skip_encryption:
            kids.append(self.encryption.to_element())
        if self.reservations is not None:
            managed, path = self.reservations
            helper = []
            if path is not None:
                unix = [("type", "unix"), ("path", path), ("mode", "client")]
                helper.append(element("source", unix))
            kids.append(element("reservations", [("managed", yesno(managed))], helper))
        if self.startup_policy and self.type != "network":
            attrs.append(("startupPolicy", self.startup_policy))
        if with_index and self.index:
            attrs.append(("index", self.index))
        return optional_element("source", attrs, kids)

    def _network(
        self,
        attrs: list[tuple[str, str | int | None]],
        kids: list[OutNode | None],
        flags: int,
    ) -> None:
        attrs += [
            ("protocol", self.protocol),
            ("name", self.path),
            ("query", self.query),
            ("tls", yesno(self.tls)),
            ("tlsHostname", self.tls_hostname),
        ]
        kids.extend(host.to_element() for host in self.hosts)
        if self.snapshot is not None:
            kids.append(element("snapshot", [("name", self.snapshot)]))
        if self.config_file is not None:
            kids.append(element("config", [("file", self.config_file)]))
        if self.initiator_iqn is not None:
            iqn = element("iqn", [("name", self.initiator_iqn)])
            kids.append(element("initiator", kids=[iqn]))
        if self.ssl_verify is not None:
            kids.append(element("ssl", [("verify", yesno(self.ssl_verify))]))
        if flags & SECURE and self.cookies:
            cookies = [element("cookie", [("name", n)], text=v) for n, v in self.cookies]
            kids.append(element("cookies", kids=cookies))
        if self.readahead:
            kids.append(element("readahead", [("size", self.readahead)]))
        if self.timeout:
            kids.append(element("timeout", [("seconds", self.timeout)]))
        if self.nfs_user is not None or self.nfs_group is not None:
            kids.append(element("identity", [("user", self.nfs_user), ("group", self.nfs_group)]))


_PATH_ATTRS = {"file": "file", "block": "dev", "dir": "dir"}
"""The ``<source>`` attribute holding the path of each local storage type."""

_SOURCE_TEMPLATE = field_defaults(StorageSource)
"""Every :class:`StorageSource` field at its default (the containers made by
:func:`new_source`)."""
_new_source_object = object.__new__


def new_source(kind: str) -> StorageSource:
    """``StorageSource(type=kind)``, made without running the dataclass ``__init__``.

    A disk and each layer of its chain make one; the generated ``__init__``
    sets forty fields one by one, while this copies them all at once. The
    result is equal to ``StorageSource(type=kind)``, with its own containers.
    """
    src = _new_source_object(StorageSource)
    values = _SOURCE_TEMPLATE.copy()
    values["type"] = kind
    values["hosts"] = []
    values["cookies"] = []
    values["seclabels"] = []
    values["slices"] = []
    values["nvme_address"] = {}
    src.__dict__ = values
    return src


def backing_store_element(src: StorageSource, flags: int) -> etree._Element | None:
    """``virDomainDiskBackingStoreFormat``: the ``<backingStore>`` chain below *src*, as an
    lxml element to put into a document (:func:`backing_store_node` for output trees)."""
    node = backing_store_node(src, flags)
    return None if node is None else node.to_lxml()


def backing_store_node(src: StorageSource, flags: int) -> OutNode | None:
    """``virDomainDiskBackingStoreFormat``: the ``<backingStore>`` chain below *src*."""
    backing = src.backing
    if backing is None:
        return None
    # Detected layers belong to the running domain only; the inactive XML omits them.
    if flags & INACTIVE and backing.detected:
        return None
    if backing.type == "none":
        return element("backingStore")
    kids = [
        element("format", [("type", backing.format)]),
        backing.source_element(flags),
        backing_store_node(backing, flags),
    ]
    attrs: list[tuple[str, str | int | None]] = [("type", backing.type)]
    if backing.index:
        attrs.append(("index", backing.index))
    return element("backingStore", attrs, kids)


# -- parsing -----------------------------------------------------------------------------


def parse_source(node: etree._Element, src: StorageSource, ctx: DeviceContext) -> bool:
    """``virDomainStorageSourceParse``: read ``<source>`` *node* into *src* (its type set).

    Returns whether *node* has more than the path of a local image (False: no other
    attribute, no child element, so nothing else for a caller to look for either).
    """
    kind = src.type
    path_attr = _PATH_ATTRS.get(kind)
    if path_attr is not None and not len(node):
        path = node.get(path_attr)
        if len(node.attrib) == (path is not None):
            # A local image named and nothing else, as most are: an empty name is no media.
            src.path = path or None
            return False
    if kind == "file":
        src.path = node.get("file")
        src.fdgroup = node.get("fdgroup")
    elif kind == "block":
        src.path = node.get("dev")
    elif kind == "dir":
        src.path = node.get("dir")
    elif kind == "network":
        _parse_network(node, src)
    elif kind == "volume":
        _parse_pool(node, src)
    elif kind == "nvme":
        _parse_nvme(node, src)
    elif kind == "vhostuser":
        _parse_vhostuser(node, src)
    # Most sources are a bare element: none of their children to look for.
    nested = len(node) != 0
    if nested:
        auth = child(node, "auth")
        if auth is not None:
            src.auth = parse_auth(auth)
        encryption = child(node, "encryption")
        if encryption is not None:
            src.encryption = parse_encryption(encryption)
        reservations = child(node, "reservations")
        if reservations is not None:
            src.reservations = _parse_reservations(reservations)
        src.seclabels = Seclabel.parse_all(node, ctx.inactive)
    else:
        src.seclabels = []
    if not ctx.inactive:
        index = prop(node, "index")
        if index is not None:
            src.index = _parse_index(index, "invalid storage source index '{}'")
    # libvirt treats an empty path as no source at all (CD-ROM without media).
    if src.path == "":
        src.path = None
    slices = child(node, "slices") if nested else None
    if slices is not None:
        for item in children(slices, "slice"):
            if prop(item, "type") != "storage":
                continue
            offset = _slice_number(item, "offset")
            size = _slice_number(item, "size")
            src.slices = [(offset, size)]
    return True


def _parse_index(text: str, message: str) -> int:
    """``virStrToLong_uip``: a non-negative decimal ``unsigned int`` (status XML only)."""
    if not _INDEX.match(text) or int(text) > _UINT_MAX:
        fail(ErrorNumber.XML_ERROR, message.format(text))
    return int(text)


def _slice_number(node: etree._Element, name: str) -> int:
    value = prop(node, name)
    if value is None:
        fail(ErrorNumber.XML_ERROR, f"Missing required attribute '{name}' in element 'slice'")
    try:
        return parse_ullong(value)
    except ValueError:
        fail(
            ErrorNumber.XML_ERROR,
            f"Invalid value for attribute '{name}' in element 'slice': '{value}'. "
            "Expected non-negative integer value",
            ErrorDomain.XML,
        )


def _parse_reservations(node: etree._Element) -> tuple[bool, str | None]:
    """``virStoragePRDefParseXML``: whether libvirt manages the helper, and its socket."""
    managed = bool(prop_tristate(node, "managed", required=True))
    source = child(node, "source")
    if managed and source is None:
        return managed, None
    what = "<reservations/>"
    kind = prop(source, "type") if source is not None else None
    if kind is None:
        fail(ErrorNumber.XML_ERROR, f"missing connection type for {what}", ErrorDomain.STORAGE)
    if kind != "unix":
        fail(
            ErrorNumber.XML_ERROR,
            f"unsupported connection type for {what}: {kind}",
            ErrorDomain.STORAGE,
        )
    assert source is not None
    path = prop(source, "path")
    if path is None:
        fail(ErrorNumber.XML_ERROR, f"missing path for {what}", ErrorDomain.STORAGE)
    mode = prop(source, "mode")
    if mode is None:
        fail(ErrorNumber.XML_ERROR, f"missing connection mode for {what}", ErrorDomain.STORAGE)
    if mode != "client":
        fail(
            ErrorNumber.XML_ERROR,
            f"unsupported connection mode for {what}: {mode}",
            ErrorDomain.STORAGE,
        )
    return managed, path


def _parse_network(node: etree._Element, src: StorageSource) -> None:
    # 'none' is accepted here; such a source counts as empty (no media).
    src.protocol = prop_enum(node, "protocol", NET_PROTOCOLS, required=True)
    src.path = prop(node, "name")
    if src.path is None and src.protocol != "nbd":
        fail(ErrorNumber.XML_ERROR, "missing name for disk source")
    src.tls = prop_tristate(node, "tls")
    src.tls_hostname = prop(node, "tlsHostname")
    if src.path is not None and src.protocol in ("gluster", "rbd"):
        slash = src.path.find("/")
        if slash <= 0:
            fail(
                ErrorNumber.XML_ERROR,
                f"can't split path '{src.path}' into pool name and image name",
            )
    snapshot = child(node, "snapshot")
    src.snapshot = prop(snapshot, "name") if snapshot is not None else None
    config = child(node, "config")
    src.config_file = prop(config, "file") if config is not None else None
    if src.protocol in ("http", "https"):
        src.query = prop(node, "query")
    src.hosts = [parse_host(host) for host in children(node, "host")]
    default_port = DEFAULT_PORTS.get(src.protocol or "", 0)
    for host in src.hosts:
        if host.transport == "tcp" and host.port == 0:
            host.port = default_port
    initiator = child(node, "initiator")
    iqn = child(initiator, "iqn") if initiator is not None else None
    src.initiator_iqn = (prop(iqn, "name") or None) if iqn is not None else None
    ssl = child(node, "ssl")
    if src.protocol in ("https", "ftps") and ssl is not None:
        src.ssl_verify = prop_tristate(ssl, "verify")
    cookies = child(node, "cookies")
    if src.protocol in ("http", "https") and cookies is not None:
        src.cookies = _parse_cookies(cookies)
    src.readahead, src.timeout = _readahead_timeout(node)
    identity = child(node, "identity")
    if src.protocol == "nfs" and identity is not None:
        src.nfs_user = prop(identity, "user")
        src.nfs_group = prop(identity, "group")


def _readahead_timeout(node: etree._Element) -> tuple[int, int]:
    values = []
    for tag, attr in (("readahead", "size"), ("timeout", "seconds")):
        holder = child(node, tag)
        text = prop(holder, attr) if holder is not None else None
        number = 0
        if text:
            try:
                number = parse_ullong(text)
            except ValueError:
                fail(ErrorNumber.XML_ERROR, "invalid readahead size or timeout")
        values.append(number)
    return values[0], values[1]


def _parse_cookies(node: etree._Element) -> list[tuple[str, str]]:
    cookies: list[tuple[str, str]] = []
    for cookie in children(node, "cookie"):
        name = prop(cookie, "name")
        if name is None:
            fail(ErrorNumber.XML_ERROR, "missing cookie name")
        value = text_of(cookie)
        if value is None:
            fail(ErrorNumber.XML_ERROR, f"missing value for cookie '{name}'")
        if not _COOKIE_NAME.match(name):
            fail(
                ErrorNumber.XML_ERROR,
                f"cookie name '{name}' contains invalid characters",
                ErrorDomain.STORAGE,
            )
        if not _COOKIE_VALUE.match(value):
            fail(
                ErrorNumber.XML_ERROR,
                f"value of cookie '{name}' contains invalid characters",
                ErrorDomain.STORAGE,
            )
        if any(existing == name for existing, _ in cookies):
            fail(
                ErrorNumber.XML_ERROR,
                f"duplicate cookie '{name}'",
                ErrorDomain.STORAGE,
            )
        cookies.append((name, value))
    return cookies


def _parse_pool(node: etree._Element, src: StorageSource) -> None:
    pool = prop(node, "pool")
    volume = prop(node, "volume")
    mode = prop(node, "mode")
    # An empty source element means no source at all.
    if pool is None and volume is None and mode is None:
        return
    if pool is None or volume is None:
        fail(
            ErrorNumber.XML_ERROR,
            "'pool' and 'volume' must be specified together for 'pool' type source",
        )
    if mode is not None and mode not in _POOL_MODES[1:]:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown source mode '{mode}' for volume type disk")
    src.pool, src.volume, src.mode = pool, volume, mode


def _parse_nvme(node: etree._Element, src: StorageSource) -> None:
    kind = prop(node, "type")
    if kind is None:
        fail(ErrorNumber.XML_ERROR, "missing 'type' attribute to disk source")
    if kind != "pci":
        fail(ErrorNumber.XML_ERROR, f"unsupported source type '{kind}'")
    namespace = prop(node, "namespace")
    if namespace is None:
        fail(ErrorNumber.XML_ERROR, "missing 'namespace' attribute to disk source")
    try:  # virStrToLong_ull: like strtoull, a negative value wraps around
        value, _ = parse_c_integer(namespace)
    except ValueError:
        value = -(ULLONG_MAX + 1)
    if abs(value) > ULLONG_MAX:
        fail(ErrorNumber.XML_ERROR, f"malformed namespace '{namespace}'")
    src.nvme_namespace = value % (ULLONG_MAX + 1)
    if src.nvme_namespace == 0:
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "NVMe namespace can't be zero")
    src.nvme_managed = prop_tristate(node, "managed")
    address = child(node, "address")
    if address is None:
        fail(ErrorNumber.XML_ERROR, "NVMe disk source is missing address")
    numbers = [prop_uint(address, n, base=0) or 0 for n in ("domain", "bus", "slot", "function")]
    src.nvme_address = {
        "domain": f"0x{numbers[0]:04x}",
        "bus": f"0x{numbers[1]:02x}",
        "slot": f"0x{numbers[2]:02x}",
        "function": f"0x{numbers[3]}",
    }


def parse_backing_store(
    holder: etree._Element, src: StorageSource, ctx: DeviceContext, depth: int = 0
) -> None:
    """``virDomainDiskBackingStoreParse``: the ``<backingStore>`` chain below *holder*."""
    node = child(holder, "backingStore")
    if node is None:
        return
    kind = prop(node, "type")
    if kind is None:
        src.backing = StorageSource(type="none")
        return
    fmt_node = child(node, "format")
    fmt = prop(fmt_node, "type") if fmt_node is not None else None
    if not fmt:
        fail(ErrorNumber.XML_ERROR, "missing disk backing store format")
    source = child(node, "source")
    if source is None:
        fail(ErrorNumber.XML_ERROR, "missing disk backing store source")
    if kind not in STORAGE_TYPES[1:]:
        fail(ErrorNumber.XML_ERROR, f"unknown storage source type '{kind}'")
    if fmt not in STORAGE_FORMATS[1:]:
        fail(ErrorNumber.XML_ERROR, f"unknown storage source format '{fmt}'")
    backing = new_source(kind)
    backing.format = fmt
    backing.readonly = True
    parse_source(source, backing, ctx)
    # The layer's number is the <backingStore index>, not one on its <source>.
    backing.index = 0
    backing.detected = not ctx.inactive and node.get(DETECTED_MARK) == "yes"
    index = None if ctx.inactive else prop(node, "index")
    if index is not None:
        backing.index = _parse_index(index, "invalid disk index '{}'")
    parse_backing_store(node, backing, ctx, depth + 1)
    src.backing = backing


def _parse_vhostuser(node: etree._Element, src: StorageSource) -> None:
    kind = prop(node, "type")
    if kind is None:
        fail(ErrorNumber.XML_ERROR, "missing 'type' attribute for vhostuser disk source")
    if kind != "unix":
        fail(ErrorNumber.XML_ERROR, "invalid 'type' attribute for vhostuser disk source")
    src.path = prop(node, "path")
    if src.path is None:
        fail(ErrorNumber.XML_ERROR, "missing 'path' attribute for vhostuser disk source")
    reconnect = child(node, "reconnect")
    if reconnect is None:
        return
    # virDomainChrSourceReconnectDefParseXML: the timeout counts only when enabled.
    src.reconnect_enabled = prop_tristate(reconnect, "enabled")
    if src.reconnect_enabled:
        src.reconnect_timeout = prop_uint(reconnect, "timeout", required=True) or 0
