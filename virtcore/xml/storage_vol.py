"""The storage volume document (``<volume>``), read, checked and written as libvirt 9.0 does.

:class:`StorageVolume` is a typed view of a live ``<volume>`` tree: name,
key, type, sizes (with libvirt's units: ``<capacity unit='G'>10</capacity>``
is 10 GiB), ``<target>`` (path, format, permissions, timestamps, compat
level, ``nocow``, cluster size, qcow2 features, encryption) and
``<backingStore>``; unknown content stays in the tree.

A volume's formats depend on the pool it lives in (file formats for
``dir``/``fs``/``netfs``/..., partition types for ``disk``, none for
``logical``), so checking and formatting take the pool's type:

* :meth:`StorageVolume.definition` applies ``virStorageVolDefParseXML``'s
  checks with libvirt's exact errors and returns a :class:`StorageVolumeDef`;
* :meth:`StorageVolume.format` writes it as ``virsh vol-dumpxml`` prints it
  (sizes in bytes, allocation defaulting to the capacity, the default
  format filled in, ``nocow`` not written back, as libvirt does).

libvirt never reads a volume's ``<physical>`` size, ``<timestamps>`` or
source extents: the storage backend fills them in. :meth:`StorageVolume.parse`
(the create path) drops them; a driver sets them through the model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Self

from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError
from virtcore.xml import units
from virtcore.xml.builder import XMLChild, XMLChildList, XMLFlag, XMLNode, XMLProperty, XMLScaled
from virtcore.xml.format import FormatRules, format_xml
from virtcore.xml.network_addr import error
from virtcore.xml.network_netdev import (
    add_element,
    child_elements,
    prop_enum,
    prop_uint,
    raw_attr,
    strtoul_ui,
    xpath_string,
)
from virtcore.xml.storage_pool import (
    POOL_TYPES,
    VOLUME_FILE_FORMATS,
    PermissionsDef,
    PoolTypeInfo,
    parse_permissions,
)
from virtcore.xml.storage_pool_source import SecretLookupDef, emit_secret, parse_secret_lookup

__all__ = [
    "VOLUME_FEATURES",
    "VOLUME_RULES",
    "VOLUME_TYPES",
    "Encryption",
    "EncryptionDef",
    "EncryptionSecret",
    "StorageVolume",
    "StorageVolumeDef",
    "VolumeTarget",
    "VolumeTargetDef",
]

logger = logging.getLogger(__name__)

VOLUME_TYPES = ("file", "block", "dir", "network", "netdir", "ploop")
"""``virStorageVolType`` values."""
VOLUME_FEATURES = ("lazy_refcounts", "extended_l2")
"""qcow2 features a volume target may list (``virStorageFileFeature``)."""
VOLUME_RULES = FormatRules(open_empty=frozenset({"encryption"}))
"""libvirt writes ``<encryption>`` open even when it holds nothing."""

_STORAGE = ErrorDomain.STORAGE
_ENCRYPTION_FORMATS = ("default", "qcow", "luks", "luks2")
_ENCRYPTION_ENGINES = ("default", "qemu", "librbd")
_SECRET_TYPES = ("passphrase",)
_TIMESTAMPS = ("atime", "mtime", "ctime", "btime")
_LLONG_MAX = units.LLONG_MAX


def _xml_error(detail: str, domain: int = _STORAGE) -> VirtError:
    return error(ErrorNumber.XML_ERROR, detail, domain)


def _unsupported(detail: str) -> VirtError:
    return error(ErrorNumber.CONFIG_UNSUPPORTED, detail, _STORAGE)


# -- encryption ------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptionDef:
    """A parsed ``<encryption>``."""

    format: str
    engine: str | None = None
    secrets: tuple[SecretLookupDef, ...] = ()
    cipher_name: str | None = None
    cipher_size: int = 0
    cipher_mode: str | None = None
    cipher_hash: str | None = None
    ivgen_name: str | None = None
    ivgen_hash: str | None = None

    def emit(self, parent: etree._Element) -> None:
        element = add_element(
            parent, "encryption", [("format", self.format), ("engine", self.engine)]
        )
        for secret in self.secrets:
            emit_secret(element, secret, "passphrase")
        if self.format == "luks" and self.cipher_name is not None:
            add_element(
                element,
                "cipher",
                [
                    ("name", self.cipher_name),
                    ("size", str(self.cipher_size)),
                    ("mode", self.cipher_mode),
                    ("hash", self.cipher_hash),
                ],
            )
            if self.ivgen_name is not None:
                add_element(
                    element, "ivgen", [("name", self.ivgen_name), ("hash", self.ivgen_hash)]
                )


class EncryptionSecret(XMLNode):
    """``<secret type='passphrase' uuid='...'/>`` (or ``usage='...'``)."""

    TAG = "secret"
    type = XMLProperty("./@type")
    uuid = XMLProperty("./@uuid")
    usage = XMLProperty("./@usage")


class Encryption(XMLNode):
    """``<encryption format='luks' engine='...'>`` with secrets, cipher and ivgen."""

    TAG = "encryption"
    XML_ORDER = {"": ("@format", "@engine", "secret", "cipher", "ivgen")}

    format = XMLProperty("./@format")
    engine = XMLProperty("./@engine")
    secrets = XMLChildList(EncryptionSecret, "./secret")
    cipher_name = XMLProperty("./cipher/@name")
    cipher_size = XMLProperty("./cipher/@size", int)
    cipher_mode = XMLProperty("./cipher/@mode")
    cipher_hash = XMLProperty("./cipher/@hash")
    ivgen_name = XMLProperty("./ivgen/@name")
    ivgen_hash = XMLProperty("./ivgen/@hash")

    def parse(self) -> EncryptionDef:
        """``virStorageEncryptionParseNode``'s checks and values."""
        element = self.element
        kind = xpath_string(self, "./@format")
        if kind is None:
            raise _xml_error("unknown volume encryption format")
        if kind not in _ENCRYPTION_FORMATS:
            raise _unsupported(f"unknown volume encryption format type {kind}")
        engine = prop_enum(element, "engine", _ENCRYPTION_ENGINES)
        secrets: list[SecretLookupDef] = []
        for secret in child_elements(element, "secret"):
            secret_type = secret.get("type") or None
            if secret_type is None:
                raise _xml_error("unknown volume encryption secret type")
            if secret_type not in _SECRET_TYPES:
                raise _unsupported(f"unknown volume encryption secret type {secret_type}")
            secrets.append(parse_secret_lookup(secret))
        result = EncryptionDef(kind, engine, tuple(secrets))
        if kind != "luks":
            return result
        cipher = next(iter(child_elements(element, "cipher")), None)
        name = size = mode = hash_ = None
        if cipher is not None:
            name = raw_attr(cipher, "name")
            if name is None:
                raise _xml_error("cipher info missing 'name' attribute")
            size = prop_uint(cipher, "size", required=True)
            mode, hash_ = raw_attr(cipher, "mode"), raw_attr(cipher, "hash")
        ivgen = next(iter(child_elements(element, "ivgen")), None)
        ivgen_name = ivgen_hash = None
        if ivgen is not None:
            if name is None:
                raise _xml_error("ivgen element found, but cipher is missing")
            ivgen_name = raw_attr(ivgen, "name")
            if ivgen_name is None:
                raise _xml_error("missing ivgen info name string")
            ivgen_hash = raw_attr(ivgen, "hash")
        return EncryptionDef(
            kind, engine, tuple(secrets), name, size or 0, mode, hash_, ivgen_name, ivgen_hash
        )


# -- targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeTargetDef:
    """A volume's ``<target>`` or ``<backingStore>``."""

    path: str | None = None
    format: str | None = None
    permissions: PermissionsDef = field(default_factory=PermissionsDef)
    timestamps: tuple[tuple[str, str], ...] = ()
    encryption: EncryptionDef | None = None
    compat: str | None = None
    nocow: bool = False
    cluster_size: int = 0
    features: tuple[str, ...] | None = None

    def emit(self, parent: etree._Element, tag: str) -> None:
        element = add_element(parent, tag)
        if self.path is not None:
            add_element(element, "path", text=self.path)
        if self.format is not None:
            add_element(element, "format", [("type", self.format)])
        self.permissions.emit(element)
        if self.timestamps:
            stamps = add_element(element, "timestamps")
            for name, value in self.timestamps:
                add_element(stamps, name, text=value)
        if self.encryption is not None:
            self.encryption.emit(element)
        if self.compat is not None:
            add_element(element, "compat", text=self.compat)
        if self.cluster_size > 0:
            add_element(element, "clusterSize", [("unit", "B")], str(self.cluster_size))
        if self.features is not None:
            features = add_element(element, "features")
            for name in VOLUME_FEATURES:
                if name in self.features:
                    add_element(features, name)


class VolumeTarget(XMLNode):
    """A volume's ``<target>`` (also the shape of ``<backingStore>``)."""

    TAG = "target"
    XML_ORDER = {
        "": ("path", "format", "permissions", "timestamps", "encryption", "compat", "nocow",
             "clusterSize", "features"),
        "permissions": ("mode", "owner", "group", "label"),
        "timestamps": _TIMESTAMPS,
    }  # fmt: skip

    path = XMLProperty("./path")
    format = XMLProperty("./format/@type")
    mode = XMLProperty("./permissions/mode")
    owner = XMLProperty("./permissions/owner", int)
    group = XMLProperty("./permissions/group", int)
    label = XMLProperty("./permissions/label")
    atime = XMLProperty("./timestamps/atime", doc="Seconds since the epoch (``sec.nsec``).")
    mtime = XMLProperty("./timestamps/mtime")
    ctime = XMLProperty("./timestamps/ctime")
    btime = XMLProperty("./timestamps/btime")
    encryption = XMLChild(Encryption)
    compat = XMLProperty("./compat")
    nocow = XMLFlag("./nocow")
    cluster_size = XMLScaled("./clusterSize", where="./target/clusterSize")
    lazy_refcounts = XMLFlag("./features/lazy_refcounts")
    extended_l2 = XMLFlag("./features/extended_l2")


# -- the volume ------------------------------------------------------------------------


@dataclass(frozen=True)
class StorageVolumeDef:
    """The values libvirt keeps for a volume (``virStorageVolDef``)."""

    name: str
    pool_type: str = "dir"
    type: str = "file"
    key: str | None = None
    capacity: int = 0
    allocation: int = 0
    physical: int = 0
    extents: tuple[tuple[str, int, int], ...] = ()
    target: VolumeTargetDef = field(default_factory=VolumeTargetDef)
    backing_store: VolumeTargetDef | None = None

    def to_element(self) -> etree._Element:
        """The canonical ``<volume>`` tree (``virStorageVolDefFormat``)."""
        root = add_element(None, "volume", [("type", self.type)])
        add_element(root, "name", text=self.name)
        if self.key is not None:
            add_element(root, "key", text=self.key)
        if self.extents:
            source = add_element(root, "source")
            device: etree._Element | None = None
            for path, start, end in self.extents:
                if device is None or device.get("path") != path:
                    device = add_element(source, "device", [("path", path)])
                add_element(device, "extent", [("start", str(start)), ("end", str(end))])
        add_element(root, "capacity", [("unit", "bytes")], str(self.capacity))
        add_element(root, "allocation", [("unit", "bytes")], str(self.allocation))
        if self.physical:
            add_element(root, "physical", [("unit", "bytes")], str(self.physical))
        self.target.emit(root, "target")
        if self.backing_store is not None:
            self.backing_store.emit(root, "backingStore")
        return root

    def format(self) -> str:
        """The document as libvirt 9.0 prints it."""
        return format_xml(self.to_element(), rules=VOLUME_RULES)


class StorageVolume(XMLNode):
    """A ``<volume>`` document: a typed view over its live tree.

    ``StorageVolume.parse(text, pool_type=...)`` creates a volume as libvirt
    does (checks included); ``StorageVolume.from_xml(text)`` only parses.
    """

    TAG = "volume"
    PARSE_URL = "(storage_volume_definition)"
    ERROR_DOMAIN = ErrorDomain.STORAGE
    SCHEMA = "storagevol.rng"
    FORMAT_RULES = VOLUME_RULES
    XML_ORDER = {
        "": ("@type", "name", "key", "source", "capacity", "allocation", "physical", "target",
             "backingStore"),
    }  # fmt: skip

    type = XMLProperty("./@type")
    name = XMLProperty("./name")
    key = XMLProperty("./key")
    capacity = XMLScaled("./capacity")
    allocation = XMLScaled("./allocation")
    physical = XMLScaled("./physical", doc="Bytes used on the host (set by the driver).")
    target = XMLChild(VolumeTarget)
    backing_store = XMLChild(VolumeTarget, "./backingStore")

    @property
    def target_path(self) -> str | None:
        """The volume's path (``<target><path>``)."""
        return self.target.path

    @target_path.setter
    def target_path(self, value: str | None) -> None:
        self.target.path = value

    @property
    def extents(self) -> list[tuple[str, int, int]]:
        """``(device path, start, end)`` of each source extent (set by the driver).

        libvirt never reads extents from a document; unreadable ones are skipped.
        """
        found: list[tuple[str, int, int]] = []
        for device in self.xpath("./source/device"):
            for extent in child_elements(device, "extent"):
                try:
                    start = units.parse_ullong(extent.get("start", ""))
                    end = units.parse_ullong(extent.get("end", ""))
                except ValueError:
                    logger.debug("ignoring unreadable extent in volume %s", self.name)
                    continue
                found.append((str(device.get("path", "")), start, end))
        return found

    @extents.setter
    def extents(self, value: list[tuple[str, int, int]]) -> None:
        self._remove_all("./source")
        if not value:
            return
        source = self._ensure("./source")
        device: etree._Element | None = None
        for path, start, end in value:
            if device is None or device.get("path") != path:
                device = add_element(source, "device", [("path", path)])
            add_element(device, "extent", [("start", str(start)), ("end", str(end))])

    @classmethod
    def parse(
        cls,
        text: str | bytes,
        *,
        pool_type: str = "dir",
        flags: int = 0,
        validate_schema: bool = False,
    ) -> Self:
        """Create a volume from *text* as ``virStorageVolCreateXML`` would in a *pool_type* pool.

        The checks raise libvirt's errors; the physical size, timestamps and
        source extents, which libvirt never reads, are dropped.
        """
        volume = cls.from_xml(text, validate_schema=validate_schema)
        volume.definition(pool_type, flags)
        volume.drop_live_state()
        return volume

    def drop_live_state(self) -> None:
        """Remove what the storage backend reports rather than reads."""
        del self.physical
        self._remove_all("./target/timestamps")
        self._remove_all("./source")

    def _remove_all(self, path: str) -> None:
        for node in self.xpath(path):
            parent = node.getparent()
            if parent is not None:
                parent.remove(node)

    def check(self, pool_type: str = "dir", flags: int = 0) -> None:
        """Raise libvirt's error if libvirt 9.0 would refuse the document in such a pool."""
        self.definition(pool_type, flags)

    def definition(self, pool_type: str = "dir", flags: int = 0) -> StorageVolumeDef:
        """``virStorageVolDefParseXML`` for a volume of a *pool_type* pool.

        *flags* are libvirt's parse flags: 1 (``NO_CAPACITY``) and 2
        (``OPT_CAPACITY``, capacity optional with a backing store).
        """
        info = POOL_TYPES[pool_type]
        name = xpath_string(self, "./name")
        if name is None:
            raise _xml_error("missing volume name element")
        key = xpath_string(self, "./key")
        kind = xpath_string(self, "./@type")
        if kind is not None and kind not in VOLUME_TYPES:
            raise _unsupported(f"unknown volume type '{kind}'")
        backing = None
        backing_path = xpath_string(self, "./backingStore/path")
        if backing_path is not None:
            backing_format = self._format(info, "./backingStore/format/@type")
            perms = parse_permissions(_path(self, "backingStore", "permissions"))
            backing = VolumeTargetDef(backing_path, backing_format, perms)
        capacity = self._size("./capacity")
        if capacity is None:
            optional = flags & 2 and backing is not None
            if not (flags & 1 or optional):
                raise _xml_error("missing capacity element")
            capacity = 0
        allocation = self._size("./allocation")
        target = self._target(info)
        return StorageVolumeDef(
            name,
            pool_type,
            kind or "file",
            key,
            capacity,
            capacity if allocation is None else allocation,
            self._physical(),
            tuple(self.extents),
            target,
            backing,
        )

    def format(self, flags: int = 0, *, pool_type: str = "dir") -> str:
        """The document exactly as libvirt 9.0 prints it for a volume of a *pool_type* pool."""
        return self.definition(pool_type).format()

    def to_libvirt_xml(self, flags: int = 0, *, pool_type: str = "dir") -> str:
        """Alias of :meth:`format`."""
        return self.format(flags, pool_type=pool_type)

    def _format(self, info: PoolTypeInfo, path: str) -> str | None:
        if not info.volume_formats:
            return None
        text = xpath_string(self, path)
        found = info.default_volume_format if text is None else text
        # Pools of files refuse the "none" file format; disk pools accept
        # the "none" partition type.
        accepted = (
            info.volume_formats[1:]
            if info.volume_formats is VOLUME_FILE_FORMATS
            else info.volume_formats
        )
        if found not in accepted:
            raise _unsupported(f"unknown volume format type {text}")
        return found

    def _size(self, path: str) -> int | None:
        """``virStorageSize``: a size in bytes, at most ``LLONG_MAX``."""
        text = xpath_string(self, path)
        if text is None:
            return None
        try:
            value = units.parse_ullong(text)
        except ValueError:
            raise _xml_error("malformed capacity element") from None
        unit = xpath_string(self, f"{path}/@unit")
        return units.scale_integer(value, unit, 1, _LLONG_MAX)

    def _physical(self) -> int:
        try:
            return self.physical or 0
        except VirtError:
            logger.debug("ignoring unreadable <physical> in volume %s", self.name)
            return 0

    def _target(self, info: PoolTypeInfo) -> VolumeTargetDef:
        path = xpath_string(self, "./target/path")
        target_format = self._format(info, "./target/format/@type")
        perms = parse_permissions(_path(self, "target", "permissions"))
        encryption = None
        if _path(self, "target", "encryption") is not None:
            encryption = self.target.encryption.parse()
        compat = xpath_string(self, "./target/compat")
        if compat is not None:
            major, dot, minor = compat.partition(".")
            if not dot or not _is_uint(major) or not _is_uint(minor):
                raise _xml_error("forbidden characters in 'compat' attribute")
        nocow = bool(self.xpath("./target/nocow"))
        cluster_size = self.target.cluster_size or 0
        features: tuple[str, ...] | None = None
        if self.xpath("./target/features"):
            names = []
            for node in self.xpath("./target/features/*"):
                name = etree.QName(node).localname
                if name not in VOLUME_FEATURES:
                    raise _unsupported(f"unsupported feature {name}")
                names.append(name)
            features = tuple(names)
            compat = compat or "1.1"
        stamps = tuple(
            (stamp, value)
            for stamp in _TIMESTAMPS
            if (value := xpath_string(self, f"./target/timestamps/{stamp}")) is not None
        )
        return VolumeTargetDef(
            path, target_format, perms, stamps, encryption, compat, nocow, cluster_size, features
        )


def _is_uint(text: str) -> bool:
    return strtoul_ui(text) is not None


def _path(node: XMLNode, *tags: str) -> etree._Element | None:
    current = node._find()
    for tag in tags:
        found = child_elements(current, tag)
        current = found[0] if found else None
    return current
