"""Firmware for a starting guest: automatic selection and the UEFI variable store.

Before a guest starts from scratch, :func:`fill_firmware` does what libvirt
9.0's ``qemuFirmwareFillDomain`` does to the live definition:

* ``<os firmware='efi'>`` (or ``'bios'``): the QEMU firmware descriptors
  (:func:`virtcore_qemu.caps_firmware.load_descriptors`, in libvirt's order)
  are matched against the guest - interface, architecture and machine type,
  ACPI S3/S4 when ``<pm>`` enables them, the ``<firmware><feature>`` wishes
  (``secure-boot``, ``enrolled-keys``), a ``<loader secure='yes'>`` needing
  an SMM image, split flash only - and the first that fits becomes a
  read-only pflash ``<loader>`` with its ``<nvram template=...>``, the
  variable store at ``<data_dir>/nvram/<name>_VARS.fd`` unless the
  definition names one. An image that requires SMM turns ``<smm>`` on (an
  explicit ``<smm state='off'/>`` is libvirt's error) and makes the loader
  ``secure='yes'``. The ``firmware``
  attribute is then dropped, as libvirt's live XML shows it, while the
  ``<firmware><feature>`` wishes stay (marked
  :data:`~virtcore.xml.domain.os.FIRMWARE_SELECTED_MARK`). Nothing fits:
  ``Unable to find any firmware to satisfy 'efi'`` (VIR_ERR_OPERATION_FAILED).
* an old-style read-only pflash ``<loader>`` path without a template whose
  variable store does not exist yet gets the template of the descriptor with
  that executable, when one exists (no error otherwise).

:func:`prepare_nvram` is ``qemuPrepareNVRAMFile``: the variable store is
copied from its template (or the one libvirt's built-in loader list pairs
with the loader, :data:`~virtcore_qemu.caps_firmware.DEFAULT_LOADERS`)
before the first start (or on every start with
``RESET_NVRAM``), created exclusively with mode 0600; libvirt's errors for a
missing template (``unable to find any master var store for loader: X``) and
for files that cannot be read or written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from pathlib import Path
from typing import Any

from lxml import etree

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import (
    OperationFailedError,
    OperationInvalidError,
    OperationUnsupportedError,
    SystemCallError,
)
from virtcore.xml.domain import Domain as DomainDef
from virtcore.xml.domain.os import FIRMWARE_SELECTED_MARK
from virtcore_qemu.caps_firmware import DEFAULT_LOADERS, FirmwareDescriptor, load_descriptors

__all__ = ["fill_firmware", "nvram_path", "prepare_nvram"]

log = logging.getLogger(__name__)

_QEMU = ErrorDomain.QEMU
_COPY_CHUNK = 1 << 20
_INTERFACES = {"efi": "uefi", "bios": "bios"}


def nvram_path(nvram_dir: Path, name: str) -> Path:
    """libvirt's default variable store of domain *name* (``qemuDomainNVRAMPathFormat``)."""
    return nvram_dir / f"{name}_VARS.fd"


def fill_firmware(
    domain: DomainDef,
    nvram_dir: Path,
    *,
    reset_nvram: bool = False,
    descriptors: list[FirmwareDescriptor] | None = None,
) -> None:
    """Choose the firmware of a guest about to start from scratch (see the module docs)."""
    root = domain.element
    os_node = root.find("os")
    if os_node is None:
        return
    wanted = os_node.get("firmware")
    loader = os_node.find("loader")
    need_result = True
    if wanted is None:
        if not _old_style_uefi(loader) or loader is None or _nvram_template(os_node):
            return
        nvram = (os_node.findtext("nvram") or "").strip()
        if nvram and not reset_nvram and os.path.exists(nvram):
            return
        need_result = False
    found = descriptors if descriptors is not None else load_descriptors()
    chosen = next((d for d in found if _matches(domain, d, wanted)), None)
    if chosen is None:
        if need_result:
            raise OperationFailedError(
                f"Unable to find any firmware to satisfy '{wanted}'", domain=_QEMU
            )
        log.debug("no descriptor fits the loader of '%s': old style firmware", domain.name)
        return
    log.debug("guest '%s' gets firmware %s (%s)", domain.name, chosen.executable, chosen.path)
    _apply(domain, os_node, chosen, nvram_dir)
    if "firmware" in os_node.attrib:
        del os_node.attrib["firmware"]
        # libvirt drops the autoselection but still holds (and prints) the wishes.
        wishes = os_node.find("firmware")
        if wishes is not None:
            wishes.set(FIRMWARE_SELECTED_MARK, "yes")


def _old_style_uefi(loader: etree._Element | None) -> bool:
    """``virDomainDefHasOldStyleROUEFI``: a read-only pflash loader named by path."""
    return (
        loader is not None
        and loader.get("type") == "pflash"
        and loader.get("readonly") == "yes"
        and bool((loader.text or "").strip())
    )


def _nvram_template(os_node: etree._Element) -> str | None:
    nvram = os_node.find("nvram")
    return nvram.get("template") if nvram is not None else None


def _descriptor_json(descriptor: FirmwareDescriptor) -> dict[str, Any]:
    try:
        data: Any = json.loads(Path(descriptor.path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _matches(domain: DomainDef, fw: FirmwareDescriptor, wanted: str | None) -> bool:
    """``qemuFirmwareMatchDomain``."""
    root = domain.element
    os_node = root.find("os")
    assert os_node is not None
    loader = os_node.find("loader")
    if wanted is None:
        # An old-style loader is matched by its executable.
        if fw.device != "flash" or loader is None:
            return False
        if (loader.text or "").strip() != fw.executable:
            return False
        interface = "uefi"
    else:
        interface = _INTERFACES.get(wanted, "")
    if interface not in fw.interfaces:
        return False
    os_type = os_node.find("type")
    arch = os_type.get("arch") if os_type is not None else None
    machine = os_type.get("machine") if os_type is not None else None
    if not fw.matches(arch or "x86_64", machine or ""):
        return False
    features = set(fw.features)
    for element, feature in (("suspend-to-mem", "acpi-s3"), ("suspend-to-disk", "acpi-s4")):
        node = root.find(f"pm/{element}")
        if node is not None and node.get("enabled") == "yes" and feature not in features:
            return False
    for wish in os_node.iterfind("firmware/feature"):
        name, enabled = wish.get("name"), wish.get("enabled")
        if name not in ("secure-boot", "enrolled-keys") or enabled not in ("yes", "no"):
            continue
        if (enabled == "yes") != (name in features):
            return False
    if loader is not None and loader.get("secure") == "yes" and "requires-smm" not in features:
        return False
    if fw.device == "flash":
        mapping = _descriptor_json(fw).get("mapping") or {}
        if str(mapping.get("mode", "split")) != "split":
            return False
    launch = root.find("launchSecurity")
    return not (launch is not None and launch.get("type") == "sev" and "amd-sev" not in features)


def _apply(
    domain: DomainDef, os_node: etree._Element, fw: FirmwareDescriptor, nvram_dir: Path
) -> None:
    """``qemuFirmwareEnableFeatures``: write the chosen images into the definition."""
    mapping = _descriptor_json(fw).get("mapping") or {}
    if fw.device == "flash":
        for key, what in (("executable", "flash"), ("nvram-template", "nvram template")):
            fmt = str((mapping.get(key) or {}).get("format", "raw"))
            if fmt != "raw":
                raise OperationUnsupportedError(f"unsupported {what} format '{fmt}'", domain=_QEMU)
        loader = _child(os_node, "loader")
        secure = loader.get("secure")
        if "requires-smm" in fw.features:
            # Only SMM code may write the varstore of such an image.
            secure = "yes"
        loader.attrib.clear()
        loader.set("readonly", "yes")
        if secure is not None:
            loader.set("secure", secure)
        loader.set("type", "pflash")
        loader.text = fw.executable
        nvram = os_node.find("nvram")
        if nvram is None:
            nvram = etree.Element("nvram")
            loader.addnext(nvram)
            nvram.text = str(nvram_path(nvram_dir, str(domain.name)))
        if fw.nvram_template:
            nvram.set("template", fw.nvram_template)
    elif fw.device == "memory" and fw.executable:
        loader = _child(os_node, "loader")
        loader.set("type", "rom")
        loader.text = fw.executable
    if "requires-smm" in fw.features:
        features = domain.element.find("features")
        smm = features.find("smm") if features is not None else None
        if smm is not None and smm.get("state") == "off":
            raise OperationInvalidError(
                "domain has SMM turned off but chosen firmware requires it", domain=_QEMU
            )
        if smm is None:
            if features is None:
                features = _features_element(domain)
            etree.SubElement(features, "smm", state="on")


def _child(os_node: etree._Element, tag: str) -> etree._Element:
    node = os_node.find(tag)
    if node is None:
        node = etree.Element(tag)
        anchor = os_node.find("firmware")
        if anchor is None:
            anchor = os_node.find("type")
        if anchor is not None:
            anchor.addnext(node)
        else:
            os_node.insert(0, node)
    return node


def _features_element(domain: DomainDef) -> etree._Element:
    root = domain.element
    features = etree.Element("features")
    anchor = None
    for tag in ("os", "sysinfo", "bootloader_args", "bootloader"):
        anchor = root.find(tag)
        if anchor is not None:
            break
    if anchor is not None:
        anchor.addnext(features)
    else:
        root.append(features)
    return features


def prepare_nvram(domain: DomainDef, *, reset_nvram: bool = False) -> None:
    """Copy the variable store template into place (``qemuPrepareNVRAMFile``)."""
    os_node = domain.element.find("os")
    if os_node is None:
        return
    loader = os_node.find("loader")
    nvram = os_node.find("nvram")
    path = (nvram.text or "").strip() if nvram is not None else ""
    if loader is None or not path:
        return
    if os.path.exists(path) and not reset_nvram:
        return
    template = nvram.get("template") if nvram is not None else None
    if not template:
        # qemu.conf's "nvram" list: libvirt's built-in code/variables pairs.
        code = (loader.text or "").strip()
        template = next((vars_ for name, vars_ in DEFAULT_LOADERS if name == code), None)
    if not template:
        raise OperationFailedError(
            f"unable to find any master var store for loader: {(loader.text or '').strip()}",
            domain=_QEMU,
        )
    _copy_template(template, Path(path), replace=reset_nvram)


def _copy_template(template: str, target: Path, *, replace: bool) -> None:
    try:
        src = os.open(template, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"Failed to open file '{template}'", exc) from exc
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if replace:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        try:
            dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise SystemCallError.from_os_error(f"Failed to create file '{target}'", exc) from exc
        done = False
        try:
            while chunk := _read(src, template):
                _write(dst, chunk, target)
            os.fsync(dst)
            done = True
        finally:
            os.close(dst)
            if not done:
                with contextlib.suppress(OSError):
                    target.unlink()
    finally:
        os.close(src)
    log.info("created variable store %s from %s", target, template)


def _read(fd: int, path: str) -> bytes:
    try:
        return os.read(fd, _COPY_CHUNK)
    except OSError as exc:
        raise SystemCallError.from_os_error(f"Unable to read from file '{path}'", exc) from exc


def _write(fd: int, data: bytes, path: Path) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except OSError as exc:
            if exc.errno == errno.EINTR:
                continue
            raise SystemCallError.from_os_error(f"Unable to write to file '{path}'", exc) from exc
        view = view[written:]
