"""The ``<input>`` device: mice, tablets, keyboards and host input passed through.

::

    <input type='tablet' bus='usb'>
      <address type='usb' bus='0' port='1'/>
    </input>
    <input type='passthrough' bus='virtio'>
      <source evdev='/dev/input/event1'/>
    </input>
    <input type='evdev'>
      <source dev='/dev/input/event2' grab='all' grabToggle='ctrl-ctrl' repeat='on'/>
    </input>

A missing ``bus`` is chosen from the domain (:func:`default_bus`): PS/2 for
a mouse or keyboard of an x86 HVM guest, virtio for passthrough devices and
s390 guests, USB otherwise, the Xen bus for Xen guests, none for ``evdev``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml.builder import XMLProperty
from virtcore.xml.domain.devices.support import (
    MIGRATABLE,
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    VirtioOptions,
    child,
    element,
    fail,
    is_x86,
    onoff,
    optional_element,
    prop,
    prop_enum,
    prop_switch,
    sanitize_path,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["BUSES", "MODELS", "TYPES", "Input", "InputDef", "default_bus"]

logger = logging.getLogger(__name__)

TYPES = ("mouse", "tablet", "keyboard", "passthrough", "evdev")
"""``virDomainInputType``."""
BUSES = ("ps2", "usb", "xen", "parallels", "virtio", "none")
"""``virDomainInputBus``."""
MODELS = ("default", "virtio", "virtio-transitional", "virtio-non-transitional")
"""``virDomainInputModel``."""
GRABS = ("default", "all")
GRAB_TOGGLES = (
    "default", "ctrl-ctrl", "alt-alt", "shift-shift", "meta-meta", "scrolllock", "ctrl-scrolllock",
)  # fmt: skip


def default_bus(kind: str, ctx: DeviceContext) -> str:
    """The bus libvirt gives an input device of *kind* that names none."""
    if ctx.os_type == "hvm":
        if kind in ("mouse", "keyboard") and (is_x86(ctx.arch) or not ctx.arch):
            return "ps2"
        if ctx.arch in ("s390", "s390x") or kind == "passthrough":
            return "virtio"
        if kind == "evdev":
            return "none"
        return "usb"
    if ctx.os_type in ("xen", "xenpvh"):
        return "xen"
    if ctx.virt_type in ("vz", "parallels"):
        return "parallels"
    return "ps2"


@dataclass
class InputDef(DeviceDef):
    """A parsed ``<input>`` (``virDomainInputDef``)."""

    type: str
    bus: str = "ps2"
    model: str | None = None
    evdev: str | None = None
    grab: str | None = None
    grab_toggle: str | None = None
    repeat: bool | None = None
    virtio: VirtioOptions | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainInputDefValidate``."""
        super().validate(ctx)
        if ctx.os_type == "hvm":
            if self.bus == "ps2" and self.type not in ("mouse", "keyboard"):
                fail(
                    ErrorNumber.INTERNAL_ERROR, f"ps2 bus does not support {self.type} input device"
                )
            if self.bus == "xen":
                fail(ErrorNumber.INTERNAL_ERROR, f"unsupported input bus {self.bus}")
        elif ctx.os_type in ("xen", "xenpvh"):
            if self.bus != "xen":
                fail(ErrorNumber.INTERNAL_ERROR, f"unsupported input bus {self.bus}")
            if self.type not in ("mouse", "keyboard"):
                fail(
                    ErrorNumber.INTERNAL_ERROR, f"xen bus does not support {self.type} input device"
                )
        elif ctx.virt_type in ("vz", "parallels"):
            if self.bus != "parallels":
                fail(
                    ErrorNumber.INTERNAL_ERROR,
                    f"parallels containers don't support input bus {self.bus}",
                )
            if self.type not in ("mouse", "keyboard"):
                fail(
                    ErrorNumber.INTERNAL_ERROR,
                    f"parallels bus does not support {self.type} input device",
                )
        else:
            fail(
                ErrorNumber.INTERNAL_ERROR,
                "Input devices are not supported by this virtualization driver.",
            )
        if self.type in ("mouse", "tablet", "keyboard") and self.evdev is not None:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "setting source evdev path only supported for passthrough input devices",
            )
        if self.type == "passthrough" and self.bus != "virtio":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "only bus 'virtio' is supported for 'passthrough' input devices",
            )
        if self.type == "evdev" and self.bus != "none":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "input evdev doesn't support bus element")
        if self.model is not None and self.bus != "virtio":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                f"only bus 'virtio' is supported for input model '{self.model}'",
            )

    def hidden(self, flags: int = 0) -> bool:
        """Whether libvirt leaves the device out (PS/2 and Xen keyboards in migratable XML)."""
        return bool(flags & MIGRATABLE) and self.type == "keyboard" and self.bus in ("ps2", "xen")

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainInputDefFormat`` (see :meth:`hidden` for what it skips)."""
        kids: list[OutNode | None] = []
        if self.virtio is not None:
            kids.append(optional_element("driver", self.virtio.attrs()))
        if (
            self.evdev is not None
            or self.grab is not None
            or self.grab_toggle is not None
            or self.repeat is not None
        ):
            source_attrs: list[tuple[str, str | int | None]] = [
                ("dev" if self.type == "evdev" else "evdev", self.evdev),
                ("grab", self.grab),
                ("grabToggle", self.grab_toggle),
                ("repeat", onoff(self.repeat)),
            ]
            kids.append(element("source", source_attrs))
        kids += self.info.elements()
        return element(
            "input",
            [
                ("type", self.type),
                ("bus", None if self.bus == "none" else self.bus),
                ("model", self.model),
            ],
            kids,
        )


class Input(DeviceModel):
    """An ``<input>`` element."""

    TAG = "input"
    XML_ORDER = {"": ("@type", "@bus", "@model", "driver", "source", "alias", "address")}

    type = XMLProperty("./@type", doc="``mouse``, ``tablet``, ``keyboard``, ``passthrough``, ...")
    bus = XMLProperty("./@bus", doc="``ps2``, ``usb``, ``virtio``, ``xen``, ...")
    model = XMLProperty("./@model", doc="virtio model variant.")
    source_evdev = XMLProperty("./source/@evdev", doc="Host event device (passthrough).")
    source_dev = XMLProperty("./source/@dev", doc="Host event device (evdev).")
    source_grab = XMLProperty("./source/@grab", doc="evdev grab mode (``all``).")
    source_grab_toggle = XMLProperty("./source/@grabToggle", doc="evdev grab toggle keys.")
    source_repeat = XMLProperty("./source/@repeat", doc="evdev key repeat (``on``/``off``).")
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> InputDef:
        """``virDomainInputDefParseXML``."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> InputDef:
        """:meth:`parse` of *node*, without a model around it."""
        kind, bus, model = prop(node, "type"), prop(node, "bus"), prop(node, "model")
        if kind is None:
            fail(ErrorNumber.INTERNAL_ERROR, "missing input device type")
        if kind not in TYPES:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown input device type '{kind}'")
        if model is not None and (model not in MODELS or model == "default"):
            fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown input model '{model}'")
        if bus is not None:
            if bus not in BUSES:
                fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown input bus type '{bus}'")
        else:
            bus = default_bus(kind, ctx)
        result = InputDef(type=kind, bus=bus, model=model, info=DeviceInfo.parse(node, ctx))
        if bus == "usb" and result.info.address_type not in ("none", "usb"):
            fail(ErrorNumber.XML_ERROR, "Invalid address for a USB device")
        source = child(node, "source")
        if source is not None:
            evdev = None
            if kind == "passthrough":
                evdev = prop(source, "evdev")
            elif kind == "evdev":
                evdev = prop(source, "dev")
            if evdev is not None:
                result.evdev = sanitize_path(evdev)
            if kind in ("passthrough", "evdev") and result.evdev is None:
                fail(ErrorNumber.XML_ERROR, "Missing evdev path for input device")
            if kind == "evdev":
                result.grab = prop_enum(source, "grab", GRABS, nonzero=True)
                result.grab_toggle = prop_enum(source, "grabToggle", GRAB_TOGGLES, nonzero=True)
                result.repeat = prop_switch(source, "repeat")
        result.virtio = VirtioOptions.parse(child(node, "driver"))
        if bus == "usb" and ctx.usb_disabled:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "Can't add USB input device. USB bus is disabled",
            )
        return result
