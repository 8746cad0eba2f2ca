"""The storage pool document (``<pool>``), read, checked and written as libvirt 9.0 does.

:class:`StoragePool` is a typed view of a live ``<pool>`` tree (type, name,
UUID, sizes, ``<source>``, ``<target>`` with its permissions, the ``cow``
feature, the refresh policy); unknown content stays in the tree.

* :meth:`StoragePool.definition` applies ``virStoragePoolDefParseXML``'s
  checks in libvirt's order with its exact errors and returns the values
  libvirt keeps (:class:`StoragePoolDef`): source parts the type requires,
  the target path (``/dev/<vg>`` for ``logical``, ``/dev/zvol/<name>`` for
  ``zfs``, sanitised otherwise), the source name defaulting to the pool's;
* :meth:`StoragePool.format` writes it as ``virsh pool-dumpxml`` prints it
  after ``pool-define`` on libvirt 9.0's test driver: only the source parts
  the pool type uses, format defaults filled in, sizes in bytes.

libvirt never reads ``<capacity>``, ``<allocation>`` and ``<available>``
from a document - the driver measures them. :meth:`StoragePool.parse`, the
define path, therefore drops them (and generates a missing UUID); a driver
sets them through the :attr:`~StoragePool.capacity` properties before
formatting.

:data:`POOL_TYPES` holds what each pool type accepts (``poolTypeInfo`` in
libvirt): source parts, source formats and volume formats; the volume and
pool-capabilities models use it too.

One deliberate difference from libvirt 9.0: the SCSI host adapter name,
the Fibre Channel WWNs and an auth secret's type, which libvirt writes
without escaping, are escaped so the output stays well-formed XML.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid as _uuid
from dataclasses import dataclass, field
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.builder import YESNO, XMLChild, XMLNode, XMLProperty, XMLScaled
from virtcore.xml.format import FormatRules, format_xml
from virtcore.xml.network_addr import error, format_uuid, parse_uuid
from virtcore.xml.network_netdev import add_element, child_elements, prop_enum, xpath_string
from virtcore.xml.storage_pool_source import PoolSource, PoolSourceDef, sanitize_path

__all__ = [
    "POOL_RULES",
    "POOL_TYPES",
    "VOLUME_FILE_FORMATS",
    "PermissionsDef",
    "PoolTarget",
    "PoolTypeInfo",
    "StoragePool",
    "StoragePoolDef",
    "parse_permissions",
]

logger = logging.getLogger(__name__)

POOL_RULES = FormatRules(open_empty=frozenset({"pool/source"}))
"""An empty ``<source>`` is written open, as libvirt writes it."""

_STORAGE = ErrorDomain.STORAGE

VOLUME_FILE_FORMATS = (
    "none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop",
    "cow", "qcow", "qcow2", "qed", "vmdk",
)  # fmt: skip
"""``virStorageFileFormat`` values (``none`` is not accepted in documents)."""

_FS_FORMATS = (
    "auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat", "hfs+",
    "xfs", "ocfs2", "vmfs",
)  # fmt: skip
_NETFS_FORMATS = ("auto", "nfs", "glusterfs", "cifs")
_DISK_FORMATS = ("unknown", "dos", "dvh", "gpt", "mac", "bsd", "pc98", "sun", "lvm2")
_LOGICAL_FORMATS = ("unknown", "lvm2")
_PARTITION_FORMATS = (
    "none", "linux", "fat16", "fat32", "linux-swap", "linux-lvm", "linux-raid", "extended",
)  # fmt: skip


@dataclass(frozen=True)
class PoolTypeInfo:
    """What one pool type accepts (libvirt's ``virStoragePoolTypeInfo``).

    *parts* are the source parts the type requires and writes (``host``,
    ``device``, ``dir``, ``adapter``, ``name``, ``initiator``, ``network``);
    *pool_formats*/*volume_formats* are the accepted format names (empty
    when the type has no format) and the defaults used when none is given.
    """

    parts: frozenset[str] = frozenset()
    pool_formats: tuple[str, ...] = ()
    default_pool_format: str | None = None
    volume_formats: tuple[str, ...] = ()
    default_volume_format: str | None = None
    listed_volume_formats: tuple[str, ...] | None = None

    @property
    def has_target(self) -> bool:
        """Whether pools of the type have a local ``<target>``."""
        return "network" not in self.parts


def _parts(*names: str) -> frozenset[str]:
    return frozenset(names)


POOL_TYPES: dict[str, PoolTypeInfo] = {
    "dir": PoolTypeInfo(volume_formats=VOLUME_FILE_FORMATS, default_volume_format="raw"),
    "fs": PoolTypeInfo(_parts("device"), _FS_FORMATS, "auto", VOLUME_FILE_FORMATS, "raw"),
    "netfs": PoolTypeInfo(_parts("host", "dir"), _NETFS_FORMATS, "auto", VOLUME_FILE_FORMATS,
                          "raw"),
    "logical": PoolTypeInfo(_parts("name", "device"), _LOGICAL_FORMATS, "lvm2"),
    "disk": PoolTypeInfo(_parts("device"), _DISK_FORMATS, "unknown", _PARTITION_FORMATS, "none"),
    "iscsi": PoolTypeInfo(_parts("host", "device", "initiator")),
    "iscsi-direct": PoolTypeInfo(_parts("host", "device", "network", "initiator")),
    "scsi": PoolTypeInfo(_parts("adapter")),
    "mpath": PoolTypeInfo(),
    "rbd": PoolTypeInfo(_parts("host", "network", "name"), volume_formats=VOLUME_FILE_FORMATS,
                        default_volume_format="raw", listed_volume_formats=()),
    "sheepdog": PoolTypeInfo(_parts("host", "network", "name")),
    "gluster": PoolTypeInfo(_parts("host", "network", "name", "dir"),
                            volume_formats=VOLUME_FILE_FORMATS, default_volume_format="raw"),
    "zfs": PoolTypeInfo(_parts("name", "device")),
    "vstorage": PoolTypeInfo(_parts("name"), volume_formats=VOLUME_FILE_FORMATS,
                             default_volume_format="raw"),
}  # fmt: skip
"""Pool types in libvirt's order (``virStoragePoolType``) with what each accepts."""

_REFRESH_ALLOCATIONS = ("default", "capacity")
_NO_TARGET = frozenset({"rbd", "sheepdog", "gluster", "iscsi-direct"})
_ID_MAX = 2**32 - 1


# -- permissions -----------------------------------------------------------------------


@dataclass(frozen=True)
class PermissionsDef:
    """``<permissions>`` of a pool target, volume or backing store; unset values are None."""

    mode: int | None = None
    owner: int | None = None
    group: int | None = None
    label: str | None = None

    @property
    def is_set(self) -> bool:
        """Whether anything would be written."""
        return not (
            self.mode is None and self.owner is None and self.group is None and self.label is None
        )

    def emit(self, parent: etree._Element) -> None:
        if not self.is_set:
            return
        element = add_element(parent, "permissions")
        if self.mode is not None:
            add_element(element, "mode", text=f"0{self.mode:o}")
        for tag, value in (("owner", self.owner), ("group", self.group)):
            if value is not None:
                # libvirt prints the id through a C int.
                add_element(element, tag, text=str(value - 2**32 if value > 2**31 - 1 else value))
        if self.label is not None:
            add_element(element, "label", text=self.label)


def _id_value(node: etree._Element, tag: str, what: str) -> int | None:
    """An ``<owner>``/``<group>`` id: a C ``long long`` from -1 to ``2**32 - 1`` (both unset)."""
    found = child_elements(node, tag)
    if not found:
        return None
    text = str(found[0].xpath("string()"))
    try:
        value = units.parse_llong(text)
    except ValueError:
        value = None
    if value is None or not -1 <= value <= _ID_MAX:
        raise error(ErrorNumber.XML_ERROR, f"malformed {what} element", _STORAGE)
    return None if value in (-1, _ID_MAX) else value


def parse_permissions(node: etree._Element | None) -> PermissionsDef:
    """``virStorageDefParsePerms`` on a ``<permissions>`` element (None: no permissions)."""
    if node is None:
        return PermissionsDef()
    modes = child_elements(node, "mode")
    mode = None
    text = str(modes[0].xpath("string()")) if modes else ""
    if text:
        try:
            mode = units.parse_int(text, 8)
        except ValueError:
            mode = -1
        if mode & ~0o777:
            raise error(ErrorNumber.XML_ERROR, "malformed octal mode", _STORAGE)
    owner = _id_value(node, "owner", "owner")
    group = _id_value(node, "group", "group")
    labels = child_elements(node, "label")
    label = str(labels[0].xpath("string()")) if labels else ""
    return PermissionsDef(mode, owner, group, label or None)


class PoolTarget(XMLNode):
    """A pool's ``<target>``: its path and permissions."""

    TAG = "target"
    path = XMLProperty("./path")
    mode = XMLProperty("./permissions/mode")
    owner = XMLProperty("./permissions/owner", int)
    group = XMLProperty("./permissions/group", int)
    label = XMLProperty("./permissions/label")


# -- the pool --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoragePoolDef:
    """The values libvirt keeps for a pool (``virStoragePoolDef``)."""

    type: str
    name: str
    uuid: str | None = None
    capacity: int = 0
    allocation: int = 0
    available: int = 0
    cow: bool | None = None
    source: PoolSourceDef = field(default_factory=PoolSourceDef)
    target_path: str | None = None
    permissions: PermissionsDef = field(default_factory=PermissionsDef)
    refresh_allocation: str | None = None

    def to_element(self) -> etree._Element:
        """The canonical ``<pool>`` tree (``virStoragePoolDefFormatBuf``)."""
        root = add_element(None, "pool", [("type", self.type)])
        add_element(root, "name", text=self.name)
        add_element(root, "uuid", text=self.uuid or format_uuid(_uuid.uuid4()))
        for tag, value in (
            ("capacity", self.capacity),
            ("allocation", self.allocation),
            ("available", self.available),
        ):
            add_element(root, tag, [("unit", "bytes")], str(value))
        if self.cow is not None:
            features = add_element(root, "features")
            add_element(features, "cow", [("state", "yes" if self.cow else "no")])
        self.source.emit(root, POOL_TYPES[self.type].parts)
        if self.type not in _NO_TARGET:
            target = add_element(root, "target")
            if self.target_path is not None:
                add_element(target, "path", text=self.target_path)
            self.permissions.emit(target)
        if self.refresh_allocation is not None:
            refresh = add_element(root, "refresh")
            add_element(refresh, "volume", [("allocation", self.refresh_allocation)])
        return root

    def format(self) -> str:
        """The document as libvirt 9.0 prints it."""
        return format_xml(self.to_element(), rules=POOL_RULES)


class StoragePool(XMLNode):
    """A ``<pool>`` document: a typed view over its live tree.

    ``StoragePool.parse(text)`` defines a pool as libvirt does (checks
    included); ``StoragePool.from_xml(text)`` only parses.
    """

    TAG = "pool"
    PARSE_URL = "(storage_pool_definition)"
    ERROR_DOMAIN = ErrorDomain.STORAGE
    SCHEMA = "storagepool.rng"
    FORMAT_RULES = POOL_RULES
    XML_ORDER = {
        "": ("@type", "name", "uuid", "capacity", "allocation", "available", "features",
             "source", "target", "refresh"),
    }  # fmt: skip

    type = XMLProperty("./@type")
    name = XMLProperty("./name")
    uuid = XMLProperty("./uuid")
    capacity = XMLScaled("./capacity", doc="Size in bytes (set by the driver).")
    allocation = XMLScaled("./allocation", doc="Bytes allocated to volumes (set by the driver).")
    available = XMLScaled("./available", doc="Bytes still free (set by the driver).")
    cow = XMLProperty("./features/cow/@state", YESNO, doc="Copy-on-write (btrfs).")
    source = XMLChild(PoolSource)
    target = XMLChild(PoolTarget)
    refresh_allocation = XMLProperty("./refresh/volume/@allocation")

    @classmethod
    def parse(cls, text: str | bytes, *, validate_schema: bool = False) -> Self:
        """Define a pool from *text* as ``virStoragePoolDefineXML`` would.

        The checks raise libvirt's errors; a missing UUID is generated; the
        sizes, which libvirt never reads, are dropped.
        """
        pool = cls.from_xml(text, validate_schema=validate_schema)
        pool.check()
        if xpath_string(pool, "./uuid") is None:
            pool.uuid = format_uuid(_uuid.uuid4())
        pool.drop_live_state()
        return pool

    def drop_live_state(self) -> None:
        """Remove capacity, allocation and available: they are the driver's to set."""
        del self.capacity
        del self.allocation
        del self.available

    def check(self) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document."""
        self.definition()

    @property
    def type_info(self) -> PoolTypeInfo | None:
        """What the pool's type accepts, or None for an unknown type."""
        return POOL_TYPES.get(self.type or "")

    def definition(self) -> StoragePoolDef:
        """``virStoragePoolDefParseXML``: libvirt's checks, in its order, and its values."""
        root = self.element
        kind = prop_enum(root, "type", tuple(POOL_TYPES), required=True, nonzero=False)
        assert kind is not None
        info = POOL_TYPES[kind]
        source = PoolSourceDef(format=info.default_pool_format)
        if child_elements(root, "source"):
            source = self.source.parse(kind, info.pool_formats, info.default_pool_format)
        name = xpath_string(self, "./name")
        if name is None and "name" in info.parts:
            name = source.name
        if name is None:
            raise _xml_error("missing pool source name element")
        if "/" in name:
            raise _xml_error(f"name {name} cannot contain '/'")
        uuid = None
        uuid_text = xpath_string(self, "./uuid")
        if uuid_text is not None:
            parsed = parse_uuid(uuid_text)
            if parsed is None:
                raise _xml_error("malformed uuid element")
            uuid = format_uuid(parsed)
        cow = self._cow(kind)
        if "host" in info.parts and not source.hosts:
            raise _xml_error("missing storage pool source host name")
        if "dir" in info.parts and source.dir is None:
            raise _xml_error("missing storage pool source path")
        if "name" in info.parts and source.name is None:
            source = dataclasses.replace(source, name=name)
        if "adapter" in info.parts:
            source.adapter.validate()
        if info.parts == {"device"} and not source.devices:
            raise _xml_error("missing storage pool source device name")
        target_path = None
        permissions = PermissionsDef()
        if info.has_target:
            if kind == "logical":
                target_path = sanitize_path(f"/dev/{source.name}")
            elif kind == "zfs":
                target_path = sanitize_path(f"/dev/zvol/{source.name}")
            else:
                path = xpath_string(self, "./target/path")
                if path is None:
                    raise _xml_error("missing storage pool target path")
                target_path = sanitize_path(path)
            permissions = parse_permissions(_first(root, "target", "permissions"))
        if kind == "iscsi-direct" and source.initiator_iqn is None:
            raise error(ErrorNumber.CONFIG_UNSUPPORTED, "missing initiator IQN", _STORAGE)
        refresh = xpath_string(self, "./refresh/volume/@allocation")
        if refresh is not None and refresh not in _REFRESH_ALLOCATIONS:
            raise error(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"unknown storage pool volume refresh allocation type {refresh}",
                _STORAGE,
            )
        return StoragePoolDef(
            kind,
            name,
            uuid,
            self._size("capacity"),
            self._size("allocation"),
            self._size("available"),
            cow,
            source,
            target_path,
            permissions,
            refresh,
        )

    def format(self, flags: int = 0) -> str:
        """The document exactly as libvirt 9.0 prints it (``virStoragePoolGetXMLDesc``)."""
        return self.definition().format()

    def to_libvirt_xml(self, flags: int = 0) -> str:
        """Alias of :meth:`format`."""
        return self.format(flags)

    def _size(self, which: str) -> int:
        # libvirt never reads the sizes; a value the driver did not set
        # properly counts as 0 rather than failing the whole document.
        try:
            value = getattr(self, which)
        except VirtError:
            logger.debug("ignoring unreadable <%s> in pool %s", which, self.name)
            return 0
        return int(value or 0)

    def _cow(self, kind: str) -> bool | None:
        features = _first(self.element, "features", "cow")
        state = prop_enum(features, "state", ("absent", "yes", "no"))
        if state is None:
            return None
        if kind not in ("fs", "dir"):
            raise error(
                ErrorNumber.NO_SUPPORT,
                "cow feature may only be used for 'fs' and 'dir' pools",
                _STORAGE,
            )
        return state == "yes"


def _xml_error(detail: str) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, _STORAGE)


def _first(root: etree._Element, *path: str) -> etree._Element | None:
    node: etree._Element | None = root
    for tag in path:
        found = child_elements(node, tag)
        node = found[0] if found else None
    return node
