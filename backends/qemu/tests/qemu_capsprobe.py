"""The real QEMU's capabilities, probed once per test session (TCG only).

Probing starts QEMU, so the capabilities tests share one result:
:func:`tcg_caps` probes ``/usr/bin/qemu-system-x86_64`` with KVM treated as
unavailable, which keeps the result independent of whether this machine has
``/dev/kvm``.
"""

from __future__ import annotations

import functools

from lxml import etree

from virtcore_qemu.caps import QemuCaps, probe

QEMU = "/usr/bin/qemu-system-x86_64"
QEMU_I386 = "/usr/bin/qemu-system-i386"


def no_kvm() -> bool:
    """A host without a usable /dev/kvm."""
    return False


@functools.cache
def tcg_caps(binary: str = QEMU) -> QemuCaps:
    """*binary* probed with TCG only, once per session."""
    return probe(binary, kvm_check=no_kvm)


def child(node: etree._Element, path: str) -> etree._Element:
    """The element at *path* under *node*, which must exist."""
    found = node.find(path)
    assert found is not None, f"no {path}"
    return found


def texts(node: etree._Element, xpath: str) -> list[str]:
    """The string results of *xpath* (text nodes or attribute values)."""
    result = node.xpath(xpath)
    assert isinstance(result, list)
    return [str(item) for item in result]


def elements(node: etree._Element, xpath: str) -> list[etree._Element]:
    """The element results of *xpath*."""
    result = node.xpath(xpath)
    assert isinstance(result, list)
    return [item for item in result if isinstance(item, etree._Element)]
