"""The ``<watchdog>`` device: a hardware watchdog and what the host does when it fires.

::

    <watchdog model='i6300esb' action='poweroff'>
      <alias name='ua-wd'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </watchdog>

``model`` is required; a missing ``action`` means ``reset``, which libvirt
then always writes out. A domain has at most one watchdog (checked by the
``<devices>`` container with :data:`ONLY_ONE_MESSAGE`).

==============  ==========================================================
model           device
==============  ==========================================================
``i6300esb``    Intel 6300ESB, a PCI device (x86)
``ib700``       iBase IB700, an ISA device (x86)
``diag288``     the s390 DIAG 288 watchdog
==============  ==========================================================

==============  ==========================================================
action          when the watchdog fires, the host ...
==============  ==========================================================
``reset``       resets the guest (the default)
``shutdown``    shuts the guest down gracefully
``poweroff``    powers it off
``pause``       pauses it
``dump``        dumps its core and continues
``none``        does nothing
``inject-nmi``  injects a non-maskable interrupt
==============  ==========================================================
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import XMLProperty
from virtcore.xml.domain.devices.support import (
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    element,
    fail,
    prop,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["ACTIONS", "MODELS", "ONLY_ONE_MESSAGE", "Watchdog", "WatchdogDef"]

logger = logging.getLogger(__name__)

MODELS = ("i6300esb", "ib700", "diag288")
"""``virDomainWatchdogModel``."""
ACTIONS = ("reset", "shutdown", "poweroff", "pause", "dump", "none", "inject-nmi")
"""``virDomainWatchdogAction``."""
ONLY_ONE_MESSAGE = "only a single watchdog device is supported"
"""libvirt's error (``VIR_ERR_INTERNAL_ERROR``) for a second ``<watchdog>``."""


@dataclass
class WatchdogDef(DeviceDef):
    """A parsed ``<watchdog>`` (``virDomainWatchdogDef``)."""

    model: str
    action: str = "reset"
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainWatchdogDefFormat``."""
        return element(
            "watchdog", [("model", self.model), ("action", self.action)], self.info.elements()
        )


class Watchdog(DeviceModel):
    """A ``<watchdog>`` element."""

    TAG = "watchdog"

    model = XMLProperty("./@model", doc="The emulated watchdog (``i6300esb``, ``ib700``, ...).")
    action = XMLProperty("./@action", doc="What happens when it fires (default ``reset``).")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> WatchdogDef:
        """``virDomainWatchdogDefParseXML``."""
        ctx = ctx or DeviceContext()
        node = self.element
        model = prop(node, "model")
        if model is None:
            fail(ErrorNumber.INTERNAL_ERROR, "watchdog must contain model name")
        if model not in MODELS:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown watchdog model '{model}'")
        action = prop(node, "action")
        if action is None:
            action = "reset"
        elif action not in ACTIONS:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown watchdog action '{action}'")
        return WatchdogDef(model=model, action=action, info=DeviceInfo.parse(node, ctx))
