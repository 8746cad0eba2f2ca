"""Guest OS booting: ``<os>``, ``<bootloader>`` and ``<idmap>``.

:class:`OS` (with :class:`Loader`, :class:`BootDevice`, :class:`InitEnv`)
and :class:`IDMap` are views of the live tree. :func:`read_os` reads the
section as libvirt 9.0 does, with its checks and errors, into an
:class:`OSInfo` that :func:`emit_os` writes in libvirt's form:

* the OS type must be one libvirt knows; the architecture defaults to
  ``i686`` (the first guest architecture of the test driver's host);
* HVM guests boot from ``hd`` unless ``<boot>`` elements (at most four are
  kept) or per-device boot orders say otherwise;
* container guests (``exe``) need an ``<init>`` and keep their init
  arguments, environment, directory, user and group;
* a ``<loader>`` with a path is of type ``rom`` unless it says ``pflash``;
* with a ``<bootloader>``, boot devices, boot menu and BIOS settings are
  not written;
* ``<firmware><feature/></firmware>`` is read only with ``firmware=`` on
  ``<os>``, as libvirt parses it; a running guest whose firmware has been
  chosen has lost that attribute but keeps its features (libvirt formats
  them whenever it holds them), which its tree records with
  :data:`FIRMWARE_SELECTED_MARK` on ``<firmware>``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.errors import XMLDetailError
from virtcore.xml import units
from virtcore.xml.builder import INT, UINT, YESNO, XMLChildList, XMLFlag, XMLNode, XMLProperty
from virtcore.xml.childindex import children_by_name, first_child
from virtcore.xml.domain.common import (
    DOM,
    Grouped,
    attr_bool,
    attr_enum,
    attr_int,
    attr_uint,
    child,
    children,
    default_record,
    group_children,
    string_value,
    sub,
    text_of,
    unsupported,
    xml_error,
    yes_no,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "ARCHES",
    "DEFAULT_ARCH",
    "FIRMWARE_SELECTED_MARK",
    "OS",
    "OS_TYPES",
    "BootDevice",
    "IDMap",
    "IDMapEntry",
    "InitEnv",
    "Loader",
    "OSInfo",
    "emit_idmap",
    "emit_os",
    "read_idmap",
    "read_os",
]

logger = logging.getLogger(__name__)

FIRMWARE_SELECTED_MARK = "{urn:virtcore:runtime}selected"
"""Marks, in a running domain's tree, the ``<firmware>`` of a chosen firmware (never printed)."""

OS_TYPES = ("hvm", "xen", "linux", "exe", "uml", "xenpvh")
ARCHES = (
    "none", "alpha", "armv6l", "armv7l", "armv7b", "aarch64", "cris", "i686", "ia64",
    "lm32", "loongarch64", "m68k", "microblaze", "microblazeel", "mips", "mipsel",
    "mips64", "mips64el", "openrisc", "parisc", "parisc64", "ppc", "ppcle", "ppc64",
    "ppc64le", "ppcemb", "riscv32", "riscv64", "s390", "s390x", "sh4", "sh4eb", "sparc",
    "sparc64", "unicore32", "x86_64", "xtensa", "xtensaeb",
)  # fmt: skip
DEFAULT_ARCH = "i686"
BOOT_DEVS = ("fd", "cdrom", "hd", "network")
MAX_BOOT_DEVS = 4
SMBIOS_MODES = ("emulate", "host", "sysinfo")
FIRMWARES = ("bios", "efi")
FIRMWARE_FEATURES = ("enrolled-keys", "secure-boot")
LOADER_TYPES = ("rom", "pflash")
_ARCH_SET = frozenset(ARCHES)  # looked up once per document


# -- views -----------------------------------------------------------------------------


class Loader(XMLNode):
    """``<os><loader readonly= secure= type= stateless=>path</loader>``."""

    TAG = "loader"

    readonly = XMLProperty("./@readonly", YESNO)
    secure = XMLProperty("./@secure", YESNO)
    type = XMLProperty("./@type", doc="rom or pflash.")
    stateless = XMLProperty("./@stateless", YESNO)
    path = XMLProperty(".", doc="The firmware image.")


class BootDevice(XMLNode):
    """``<os><boot dev=/>``: one entry of the BIOS boot order."""

    TAG = "boot"

    dev = XMLProperty("./@dev", doc="fd, cdrom, hd or network.")


class InitEnv(XMLNode):
    """``<os><initenv name=>value</initenv>``: an environment variable of a container's init."""

    TAG = "initenv"

    name = XMLProperty("./@name")
    value = XMLProperty(".")


class InitArg(XMLNode):
    """``<os><initarg>``: one argument of a container's init."""

    TAG = "initarg"

    value = XMLProperty(".")


class OS(XMLNode):
    """``<os>``: what the guest boots and how."""

    TAG = "os"
    XML_ORDER = {
        "": (
            "@firmware", "type", "firmware", "init", "initarg", "initenv", "initdir",
            "inituser", "initgroup", "loader", "nvram", "kernel", "initrd", "cmdline",
            "dtb", "root", "acpi", "boot", "bootmenu", "bios", "smbios",
        ),
        "type": ("@arch", "@machine"),
    }  # fmt: skip

    firmware = XMLProperty("./@firmware", doc="bios or efi: firmware chosen automatically.")
    type = XMLProperty("./type", doc="hvm, xen, linux, exe, uml or xenpvh.")
    arch = XMLProperty("./type/@arch")
    machine = XMLProperty("./type/@machine")
    init = XMLProperty("./init")
    init_args = XMLChildList(InitArg, "./initarg")
    init_env = XMLChildList(InitEnv, "./initenv")
    init_dir = XMLProperty("./initdir")
    init_user = XMLProperty("./inituser")
    init_group = XMLProperty("./initgroup")
    loader = XMLProperty("./loader", doc="Path of the firmware image.")
    loader_readonly = XMLProperty("./loader/@readonly", YESNO)
    loader_secure = XMLProperty("./loader/@secure", YESNO)
    loader_type = XMLProperty("./loader/@type")
    nvram = XMLProperty("./nvram")
    nvram_template = XMLProperty("./nvram/@template")
    kernel = XMLProperty("./kernel")
    initrd = XMLProperty("./initrd")
    cmdline = XMLProperty("./cmdline")
    dtb = XMLProperty("./dtb")
    root = XMLProperty("./root")
    acpi_table = XMLProperty("./acpi/table")
    boot_devices = XMLChildList(BootDevice, "./boot")
    bootmenu = XMLProperty("./bootmenu/@enable", YESNO)
    bootmenu_timeout = XMLProperty("./bootmenu/@timeout", UINT)
    bios_useserial = XMLProperty("./bios/@useserial", YESNO)
    bios_reboot_timeout = XMLProperty("./bios/@rebootTimeout", INT)
    smbios_mode = XMLProperty("./smbios/@mode")

    @property
    def boot_order(self) -> list[str]:
        """The ``dev`` of each ``<boot>`` element, in order."""
        return [b.dev for b in self.boot_devices if b.dev]


class IDMapEntry(XMLNode):
    """``<idmap><uid|gid start= target= count=/>``."""

    TAG = "uid"

    start = XMLProperty("./@start", UINT)
    target = XMLProperty("./@target", UINT)
    count = XMLProperty("./@count", UINT)


class IDMap(XMLNode):
    """``<idmap>``: user and group id mappings of a container."""

    TAG = "idmap"

    uids = XMLChildList(IDMapEntry, "./uid")
    gids = XMLChildList(IDMapEntry, "./gid")
    present = XMLFlag(".")


# -- reading ---------------------------------------------------------------------------


@dataclass
class OSInfo:
    """The ``<os>`` section as libvirt holds it."""

    type: str = "hvm"
    arch: str = DEFAULT_ARCH
    machine: str | None = None
    firmware: str | None = None
    firmware_features: dict[str, bool] = field(default_factory=dict)
    has_firmware_element: bool = False
    init: str | None = None
    initargs: list[str] = field(default_factory=list)
    initenv: list[tuple[str, str]] = field(default_factory=list)
    initdir: str | None = None
    inituser: str | None = None
    initgroup: str | None = None
    loader: dict[str, str | None] | None = None
    nvram: str | None = None
    nvram_template: str | None = None
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    dtb: str | None = None
    root: str | None = None
    slic_table: str | None = None
    boot: list[str] = field(default_factory=list)
    bootmenu: bool | None = None
    bootmenu_timeout: int | None = None
    bios_useserial: bool | None = None
    bios_reboot_timeout: int | None = None
    smbios: str | None = None
    bootloader: str | None = None
    bootloader_args: str | None = None


def read_os_type(root: etree._Element, index: Grouped | None = None) -> OSInfo:
    """``virDomainDefParseCaps``: the OS type, architecture and machine.

    *index* is :func:`~virtcore.xml.childindex.children_by_name` of *root*, when known.
    """
    # Every field in the instance dictionary, where the output code looks first.
    info = default_record(OSInfo)
    if index is None:
        index = children_by_name(root)
    oses = index.get("os")
    type_element = None
    if oses is not None:
        # The index of the first <os> serves read_os too (its elements stay made); a
        # <type> in a later <os> counts when the first has none.
        found = children_by_name(oses[0]).get("type")
        type_element = found[0] if found is not None else child(root, "os/type")
    kind = (string_value(type_element) or None) if type_element is not None else None
    if kind is None:
        # A guest that boots with a host-side boot loader is a Xen guest.
        loaders = index.get("bootloader")
        if loaders is None or text_of(loaders[0]) is None:
            raise xml_error("an os <type> must be specified")
        kind = "xen"
    if kind not in OS_TYPES:
        raise unsupported(f"unknown OS type '{kind}'")
    info.type = kind
    if type_element is None:
        return info
    arch = type_element.get("arch")
    if arch:
        if arch not in _ARCH_SET:
            raise unsupported(f"Unknown architecture {arch}")
        info.arch = arch
    info.machine = type_element.get("machine") or None
    return info


def _first(grouped: Grouped, tag: str) -> etree._Element | None:
    found = grouped.get(tag)
    return found[0] if found is not None else None


def _text(grouped: Grouped, tag: str) -> str | None:
    """``text_of(root, "os/<tag>")`` from the children of the ``<os>`` elements."""
    found = grouped.get(tag)
    if found is None:
        return None
    return string_value(found[0]) or None


def read_os(root: etree._Element, info: OSInfo, index: Grouped | None = None) -> None:
    """``virDomainDefParseBootOptions``: the rest of ``<os>`` and ``<bootloader>``.

    *index* is :func:`~virtcore.xml.childindex.children_by_name` of *root*, when known.
    """
    if index is None:
        index = children_by_name(root)
    oses = index.get("os")
    # The children of every <os>, as libvirt's "./os/..." XPaths see them (a lone
    # <os> has them in its index, made by read_os_type).
    if oses is None:
        grouped = _NOTHING
    elif len(oses) == 1:
        grouped = children_by_name(oses[0])
    else:
        grouped = group_children(oses)
    if "bootloader" in index:
        info.bootloader = text_of(root, "bootloader")
    if "bootloader_args" in index:
        info.bootloader_args = text_of(root, "bootloader_args")
    kind = info.type
    if kind == "hvm" and oses is not None:
        any_firmware = "firmware" in grouped
        if any_firmware or oses[0].get("firmware"):  # else nothing to read
            _read_firmware(oses[0], any_firmware, info)
    if grouped.keys() <= _TYPE_AND_BOOT:
        # The usual <os>: the type (read already) and the boot order; nothing else to read.
        if kind == "hvm" and "boot" in grouped:
            _read_boot(grouped["boot"], info)
        return
    if kind == "exe":
        _read_init(grouped, info)
    if kind in ("hvm", "xen", "xenpvh", "uml") and grouped:
        info.kernel = _text(grouped, "kernel")
        info.initrd = _text(grouped, "initrd")
        info.cmdline = _text(grouped, "cmdline")
        info.dtb = _text(grouped, "dtb")
        info.root = _text(grouped, "root")
        _read_loader(grouped, info)
    if kind == "hvm" and grouped:
        _read_hvm(grouped, info)
    if "smbios" in grouped:
        info.smbios = _read_smbios(grouped["smbios"][0])


_NOTHING: Grouped = {}  # never written to
_TYPE_AND_BOOT = frozenset(("type", "boot"))


def _read_firmware(os: etree._Element, any_firmware: bool, info: OSInfo) -> None:
    """``virDomainDefParseBootFirmwareOptions``: only with a ``firmware`` attribute.

    The features of a firmware already chosen (see the module docs) are read without it.
    *any_firmware* says whether some ``<os>`` has a ``<firmware>`` child.
    """
    firmware = os.get("firmware")
    element = first_child(os, "firmware") if any_firmware else None
    selected = element is not None and element.get(FIRMWARE_SELECTED_MARK) == "yes"
    if not firmware and not selected:
        return
    features = children(os, "firmware/feature") if element is not None else []
    for feature in features:
        name = attr_enum(feature, "name", FIRMWARE_FEATURES, required=True)
        enabled = attr_bool(feature, "enabled", required=True)
        assert enabled is not None and name is not None
        info.firmware_features[name] = enabled
    info.has_firmware_element = bool(features)
    if not firmware:
        return
    if firmware not in FIRMWARES:
        raise xml_error(f"unknown firmware value {firmware}")
    info.firmware = firmware


def _read_init(grouped: Grouped, info: OSInfo) -> None:
    info.init = _text(grouped, "init")
    for arg in grouped.get("initarg", ()):
        value = text_of(arg)
        if value is None:
            raise xml_error("No data supplied for <initarg> element")
        info.initargs.append(value)
    for env in grouped.get("initenv", ()):
        name = env.get("name")
        if name is None:
            raise xml_error("No name supplied for <initenv> element")
        value = text_of(env)
        if value is None:
            raise xml_error(f"No value supplied for <initenv name='{name}'> element")
        info.initenv.append((name, value))
    info.initdir = _text(grouped, "initdir")
    info.inituser = _text(grouped, "inituser")
    info.initgroup = _text(grouped, "initgroup")


def _read_hvm(grouped: Grouped, info: OSInfo) -> None:
    if "acpi" in grouped:
        tables = group_children(grouped["acpi"]).get("table", [])
        if len(tables) > 1:
            raise xml_error("Only one acpi table is supported")
        if tables:
            table = tables[0]
            kind = table.get("type")
            if kind is None:
                raise xml_error("Missing acpi table type")
            if kind != "slic":
                raise xml_error(f"Unknown acpi table type: {kind}")
            info.slic_table = text_of(table)
    boots = grouped.get("boot")
    if boots is not None:
        _read_boot(boots, info)
    menu = _first(grouped, "bootmenu")
    if menu is not None:
        info.bootmenu = attr_bool(menu, "enable")
        if info.bootmenu:
            info.bootmenu_timeout = attr_uint(menu, "timeout")
    bios = _first(grouped, "bios")
    if bios is not None:
        useserial = bios.get("useserial")
        if useserial:
            # libvirt reads anything but "yes" as "no" here.
            info.bios_useserial = useserial == "yes"
        info.bios_reboot_timeout = attr_int(bios, "rebootTimeout")


def _read_boot(boots: list[etree._Element], info: OSInfo) -> None:
    """The BIOS boot order: the first four ``<boot>`` elements."""
    for boot in boots[:MAX_BOOT_DEVS]:
        dev = boot.get("dev")
        if dev not in BOOT_DEVS:  # absent or unknown: the helper words the error
            dev = attr_enum(boot, "dev", BOOT_DEVS, required=True)
        assert dev is not None
        info.boot.append(dev)


def _read_loader(grouped: Grouped, info: OSInfo) -> None:
    loader = _first(grouped, "loader")
    nvram = _first(grouped, "nvram")
    if loader is None and nvram is None:
        return
    data: dict[str, str | None] = {
        "readonly": None,
        "secure": None,
        "type": None,
        "stateless": None,
        "path": None,
    }
    if loader is not None:
        data["readonly"] = yes_no(attr_bool(loader, "readonly"))
        data["type"] = attr_enum(loader, "type", LOADER_TYPES)
        data["secure"] = yes_no(attr_bool(loader, "secure"))
        data["stateless"] = yes_no(attr_bool(loader, "stateless"))
        data["path"] = text_of(loader)
    if nvram is not None:
        info.nvram = text_of(nvram)
        info.nvram_template = nvram.get("template")
    if data["path"] is not None and data["type"] is None:
        data["type"] = "rom"
    info.loader = data


def check_loader(info: OSInfo) -> None:
    """``virDomainDefOSValidate``: the loader against firmware autoselection and NVRAM."""
    data = info.loader
    if data is None:
        return
    if info.firmware is not None:
        for name in ("readonly", "type"):
            if data[name] is not None:
                raise XMLDetailError(
                    f"loader attribute '{name}' cannot be specified when firmware "
                    "autoselection is enabled",
                    domain=DOM,
                )
        if info.nvram_template is not None:
            raise XMLDetailError(
                "nvram attribute 'template' cannot be specified when firmware autoselection "
                "is enabled",
                domain=DOM,
            )
    elif data["path"] is None:
        raise XMLDetailError(
            "no loader path specified and firmware auto selection disabled", domain=DOM
        )
    if data["stateless"] == "no":
        if info.firmware is None and data["type"] != "pflash":
            raise XMLDetailError("Only pflash loader type permits NVRAM", domain=DOM)
        if info.firmware is not None and info.firmware != "efi":
            raise XMLDetailError("Only EFI firmware permits NVRAM", domain=DOM)
    if data["stateless"] == "yes" and info.nvram_template is not None:
        raise XMLDetailError("NVRAM template is not permitted when loader is stateless", domain=DOM)


def _read_smbios(smbios: etree._Element) -> str | None:
    mode = smbios.get("mode")
    if not mode or mode == "none":
        return None
    if mode not in SMBIOS_MODES:
        raise unsupported(f"unknown smbios mode '{mode}'")
    return mode


def check_os(info: OSInfo) -> None:
    """Post-parse checks of ``<os>``."""
    if info.type == "exe" and info.init is None:
        raise xml_error("init binary must be specified")


def check_boot(info: OSInfo) -> None:
    """``virDomainDefBootValidate``: the boot menu and BIOS timeouts."""
    if info.bootmenu_timeout is not None and info.bootmenu_timeout > 65535:
        raise unsupported("invalid value for boot menu timeout, must be in range [0,65535]")
    timeout = info.bios_reboot_timeout
    if timeout is not None and not -1 <= timeout <= 65535:
        raise unsupported("invalid value for rebootTimeout, must be in range [-1,65535]")


def default_boot(info: OSInfo, device_boot: bool) -> None:
    """HVM guests without boot order boot from the first disk."""
    if info.type == "hvm" and not info.boot and not device_boot:
        info.boot.append("hd")


# -- writing ---------------------------------------------------------------------------


def emit_bootloader(info: OSInfo, out: OutNode) -> None:
    """``<bootloader>`` and ``<bootloader_args>``."""
    if info.bootloader is None:
        return
    sub(out, "bootloader", text=info.bootloader)
    if info.bootloader_args is not None:
        sub(out, "bootloader_args", text=info.bootloader_args)


def emit_os(info: OSInfo, out: OutNode) -> None:
    """``<os>`` in libvirt's order."""
    os = sub(out, "os", () if info.firmware is None else [("firmware", info.firmware)])
    sub(os, "type", [("arch", info.arch), ("machine", info.machine)], info.type)
    if info.has_firmware_element:
        firmware = sub(os, "firmware")
        for name in FIRMWARE_FEATURES:
            if name in info.firmware_features:
                enabled = "yes" if info.firmware_features[name] else "no"
                sub(firmware, "feature", [("enabled", enabled), ("name", name)])
    if info.init is not None:
        sub(os, "init", text=info.init)
    for arg in info.initargs:
        sub(os, "initarg", text=arg)
    for name, value in info.initenv:
        sub(os, "initenv", [("name", name)], value)
    if info.initdir is not None:
        sub(os, "initdir", text=info.initdir)
    if info.inituser is not None:
        sub(os, "inituser", text=info.inituser)
    if info.initgroup is not None:
        sub(os, "initgroup", text=info.initgroup)
    if info.loader is not None:
        loader = info.loader
        if any(loader[k] is not None for k in ("readonly", "secure", "type", "stateless", "path")):
            sub(
                os,
                "loader",
                [(k, loader[k]) for k in ("readonly", "secure", "type", "stateless")],
                loader["path"],
            )
        if info.nvram is not None or info.nvram_template is not None:
            sub(os, "nvram", [("template", info.nvram_template)], info.nvram)
    if info.kernel is not None:
        sub(os, "kernel", text=info.kernel)
    if info.initrd is not None:
        sub(os, "initrd", text=info.initrd)
    if info.cmdline is not None:
        sub(os, "cmdline", text=info.cmdline)
    if info.dtb is not None:
        sub(os, "dtb", text=info.dtb)
    if info.root is not None:
        sub(os, "root", text=info.root)
    if info.slic_table is not None:
        acpi = sub(os, "acpi")
        sub(acpi, "table", [("type", "slic")], info.slic_table)
    if info.bootloader is None:
        for dev in info.boot:
            sub(os, "boot", [("dev", dev)])
        if info.bootmenu is not None:
            sub(
                os,
                "bootmenu",
                [("enable", yes_no(info.bootmenu)), ("timeout", info.bootmenu_timeout)],
            )
        if info.bios_useserial is not None or info.bios_reboot_timeout is not None:
            sub(
                os,
                "bios",
                [
                    ("useserial", yes_no(info.bios_useserial)),
                    ("rebootTimeout", info.bios_reboot_timeout),
                ],
            )
    if info.smbios is not None:
        sub(os, "smbios", [("mode", info.smbios)])


# -- idmap -----------------------------------------------------------------------------


def read_idmap(root: etree._Element) -> tuple[list[tuple[int, int, int]], ...]:
    """``<idmap>``: (uid maps, gid maps), each sorted by start as libvirt keeps them."""
    idmaps = children(root, "idmap")
    if not idmaps:
        return [], []
    grouped = group_children(idmaps)
    maps: list[list[tuple[int, int, int]]] = [[], []]
    for index, tag in enumerate(("uid", "gid")):
        for entry in grouped.get(tag, ()):
            values = []
            for name in ("start", "target", "count"):
                try:
                    values.append(units.parse_uint(entry.get(name) or ""))
                except ValueError:
                    raise xml_error("invalid idmap start/target/count settings") from None
            maps[index].append((values[0], values[1], values[2]))
        maps[index].sort()
    return maps[0], maps[1]


def check_idmap(maps: tuple[list[tuple[int, int, int]], ...]) -> None:
    """``virDomainDefIdMapValidate``: both maps, each mapping the root user."""
    uids, gids = maps
    if bool(uids) != bool(gids):
        raise unsupported("uid and gid should be mapped both")
    if uids and (uids[0][0] != 0 or gids[0][0] != 0):
        raise unsupported("You must map the root user of container")


def emit_idmap(maps: tuple[list[tuple[int, int, int]], ...], out: OutNode) -> None:
    """``<idmap>`` with the uid maps before the gid maps."""
    uids, gids = maps
    if not uids:
        return
    idmap = sub(out, "idmap")
    for tag, entries in (("uid", uids), ("gid", gids)):
        for start, target, count in entries:
            sub(idmap, tag, [("start", start), ("target", target), ("count", count)])
