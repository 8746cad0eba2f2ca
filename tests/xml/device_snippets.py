"""Helpers of the device tests: a ``<devices>`` snippet parsed, written and checked."""

from __future__ import annotations

import pytest

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import VirtError
from virtcore.xml.domain.devices import Devices, DomainDeviceContext
from virtcore.xml.parse import parse_document

__all__ = ["INACTIVE", "devices", "error", "written"]

INACTIVE = int(DomainXMLFlags.INACTIVE)


def devices(body: str) -> Devices:
    return Devices(parse_document(f"<devices>{body}</devices>"))


def written(body: str) -> str:
    return devices(body).format(INACTIVE, DomainDeviceContext())


def error(body: str) -> VirtError:
    with pytest.raises(VirtError) as caught:
        devices(body).check(DomainDeviceContext())
    return caught.value
