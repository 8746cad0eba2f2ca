"""The ``<video>`` device: the guest's display adapter.

::

    <video>
      <driver vgaconf='io'/>
      <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'>
        <acceleration accel3d='yes' accel2d='no'/>
        <resolution x='1920' y='1080'/>
      </model>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </video>

What libvirt adds on define, and this module reproduces:

* a model without ``type`` gets the hypervisor's default - for the test
  driver ``xen`` for Xen/Linux guests, ``vga`` on ppc64, ``cirrus``
  otherwise (:func:`default_type`);
* ``vram`` (and ``ram`` for qxl) default to the model's size
  (:func:`default_ram`) and both are rounded up to a power of two;
  ``heads`` defaults to 1;
* the first video is the primary one (a ``primary='yes'`` video moves to
  the front while parsing); a domain with graphics but no video gets one
  (:func:`resolve_videos`);
* a leading ``type='none'`` video keeps nothing but its alias.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from lxml import etree

from virtcore.enums.errors import ErrorNumber
from virtcore.xml import units
from virtcore.xml.builder import XMLProperty
from virtcore.xml.domain.devices.support import (
    UNASSIGNED,
    DeviceContext,
    DeviceDef,
    DeviceInfo,
    DeviceModel,
    VirtioOptions,
    child,
    element,
    fail,
    field_defaults,
    first_children,
    is_ppc64,
    prop,
    prop_enum,
    prop_tristate,
    prop_uint,
    sanitize_path,
    virtio_attrs,
    yesno,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = [
    "BACKENDS",
    "TYPES",
    "VGACONF",
    "Video",
    "VideoDef",
    "default_ram",
    "default_type",
    "resolve_videos",
]

logger = logging.getLogger(__name__)

TYPES = (
    "default", "vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "parallels",
    "virtio", "gop", "none", "bochs", "ramfb",
)  # fmt: skip
"""``virDomainVideoType`` (``default`` stands for the hypervisor's choice)."""
VGACONF = ("io", "on", "off")
"""``virDomainVideoVGAConf``."""
BACKENDS = ("default", "qemu", "vhostuser")
"""``virDomainVideoBackendType``."""


def default_type(ctx: DeviceContext) -> str:
    """The model the test driver gives a video without ``type``."""
    if ctx.os_type in ("xen", "linux"):
        return "xen"
    if is_ppc64(ctx.arch):
        return "vga"
    return "cirrus"


def default_ram(video_type: str, ctx: DeviceContext) -> int:
    """``virDomainVideoDefaultRAM``: the video memory (KiB) libvirt assumes for *video_type*."""
    if video_type in ("vga", "cirrus", "vmvga"):
        if ctx.virt_type == "vbox":
            return 8 * 1024
        if ctx.virt_type == "vmware":
            return 4 * 1024
        return 16 * 1024
    return {"bochs": 16 * 1024, "xen": 4 * 1024, "qxl": 64 * 1024}.get(video_type, 0)


def _round_up_pow2(value: int) -> int:
    """``VIR_ROUND_UP_POWER_OF_TWO`` of an unsigned int (0 stays 0, above 2**31 gives 0)."""
    if value <= 0 or value > 1 << 31:
        return 0
    return 1 << (value - 1).bit_length()


_SIZES = ("ram", "vram", "vram64", "vgamem")
"""The model's size attributes read as unsigned numbers (``heads`` is read apart)."""


@dataclass
class VideoDef(DeviceDef):
    """A parsed ``<video>`` (``virDomainVideoDef``)."""

    type: str = "default"
    primary: bool = False
    ram: int = 0
    vram: int = 0
    vram64: int = 0
    vgamem: int = 0
    heads: int = 1
    accel3d: bool | None = None
    accel2d: bool | None = None
    rendernode: str | None = None
    has_accel: bool = False
    resolution: tuple[int, int] | None = None
    backend: str = "default"
    vgaconf: str | None = None
    virtio: VirtioOptions | None = None
    info: DeviceInfo = field(default_factory=DeviceInfo)

    def post_parse(self, ctx: DeviceContext) -> None:
        """The test driver's default model, then ``virDomainVideoDefPostParse``."""
        if self.type == "default":
            self.type = default_type(ctx)
        if self.ram == 0 and self.type == "qxl":
            self.ram = default_ram(self.type, ctx)
        if self.vram == 0:
            self.vram = default_ram(self.type, ctx)
        # Zero rounds to zero: most videos have no ram, so skip the call for it.
        if self.ram:
            self.ram = _round_up_pow2(self.ram)
        self.vram = _round_up_pow2(self.vram)

    def clear_for_none(self) -> None:
        """What libvirt keeps of a leading ``type='none'`` video: its type and alias."""
        alias = self.info.alias
        cleared = VideoDef(type="none", heads=0)
        cleared.info.alias = alias
        self.__dict__.update(cleared.__dict__)

    def validate(self, ctx: DeviceContext) -> None:
        """``virDomainVideoDefValidate`` (the check against other videos is in resolve_videos)."""
        if self.info.address_type == UNASSIGNED:  # the one address the device info refuses
            self.info.validate()
        if self.type == "default":
            fail(ErrorNumber.INTERNAL_ERROR, "missing video model and cannot determine default")
        if self.backend == "vhostuser" and self.type != "virtio":
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "'vhostuser' driver is only supported with 'virtio' device",
            )
        if self.backend != "vhostuser" and self.rendernode is not None:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "unsupported rendernode accel attribute without 'vhostuser'",
            )
        if self.resolution is not None and 0 in self.resolution:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "video resolution values must be greater than 0")
        if self.type != "qxl" and (self.ram or self.vram64 or self.vgamem):
            for name in ("ram", "vram64", "vgamem"):
                if getattr(self, name):
                    fail(
                        ErrorNumber.CONFIG_UNSUPPORTED,
                        f"{name} attribute only supported for video type qxl",
                    )
        if self.type == "ramfb" and self.info.address_type != "none":
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "address not supported for video type ramfb")
        if self.type != "virtio" and self.virtio is not None:
            self.virtio.check_absent()

    def to_element(self, flags: int = 0) -> OutNode:
        """``virDomainVideoDefFormat``."""
        driver = None
        if self.virtio is not None or self.vgaconf is not None or self.backend != "default":
            driver_attrs = [
                *virtio_attrs(self.virtio),
                ("vgaconf", self.vgaconf),
                ("name", None if self.backend == "default" else self.backend),
            ]
            if any(value is not None for _, value in driver_attrs):
                driver = element("driver", driver_attrs)
        model_kids: list[OutNode | None] = []
        if self.has_accel:
            model_kids.append(
                element(
                    "acceleration",
                    [
                        ("accel3d", yesno(self.accel3d)),
                        ("accel2d", yesno(self.accel2d)),
                        ("rendernode", self.rendernode),
                    ],
                )
            )
        if self.resolution is not None:
            x, y = self.resolution
            model_kids.append(element("resolution", [("x", x), ("y", y)] if x and y else []))
        model = element(
            "model",
            [
                ("type", self.type),
                ("ram", self.ram or None),
                ("vram", self.vram or None),
                ("vram64", self.vram64 or None),
                ("vgamem", self.vgamem or None),
                ("heads", self.heads or None),
                ("primary", "yes" if self.primary else None),
            ],
            model_kids,
        )
        return element("video", (), [driver, model, *self.info.elements()])


def _uint_value(text: str | None, code: int, what: str) -> int:
    """A ``<model>`` size as ``virXPathUInt`` reads it: absent or empty is 0."""
    if not text:
        return 0
    if text.isascii() and text.isdigit():
        # Plain decimal digits (the usual): what the C reader makes of them, at once.
        value = int(text)
        if value <= units.UINT_MAX:
            return value
    try:
        return units.parse_uint(text)
    except ValueError:
        fail(code, f"cannot parse video {what} '{text}'")


_Attributes = dict[str, str]
_NO_ATTRIBUTES: _Attributes = {}
_INFO_CHILDREN = frozenset({"alias", "master", "acpi", "address"})
"""The children :meth:`DeviceInfo.parse` reads."""
_VIDEO_TEMPLATE = field_defaults(VideoDef)
_new_object = object.__new__


def _new_video() -> VideoDef:
    """``VideoDef()`` without the generated ``__init__``: the fields copied at once from
    their defaults, but the device info, which the reader sets (None until then)."""
    made = _new_object(VideoDef)
    made.__dict__ = _VIDEO_TEMPLATE.copy()
    return made


def _parse_model_children(model: etree._Element, result: VideoDef) -> None:
    """``<acceleration>`` and ``<resolution>`` of *model*, into *result*."""
    accel = child(model, "acceleration")
    if accel is not None:
        rendernode = prop(accel, "rendernode")
        result.accel3d = prop_tristate(accel, "accel3d")
        result.accel2d = prop_tristate(accel, "accel2d")
        if rendernode is None and result.accel3d is None and result.accel2d is None:
            fail(ErrorNumber.CONFIG_UNSUPPORTED, "missing values for acceleration")
        result.has_accel = True
        result.rendernode = sanitize_path(rendernode) if rendernode is not None else None
    res = child(model, "resolution")
    if res is not None:
        x = prop_uint(res, "x", required=True) or 0
        y = prop_uint(res, "y", required=True) or 0
        result.resolution = (x, y)


class Video(DeviceModel):
    """A ``<video>`` element."""

    TAG = "video"
    XML_ORDER = {
        "": ("driver", "model", "alias", "address"),
        "model": (
            "@type", "@ram", "@vram", "@vram64", "@vgamem", "@heads", "@primary",
            "acceleration", "resolution",
        ),
    }  # fmt: skip

    model_type = XMLProperty("./model/@type", doc="``cirrus``, ``vga``, ``qxl``, ``virtio``, ...")
    vram = XMLProperty("./model/@vram", int, doc="Video memory in KiB.")
    ram = XMLProperty("./model/@ram", int, doc="qxl RAM bar size in KiB.")
    vram64 = XMLProperty("./model/@vram64", int, doc="qxl 64-bit VRAM in KiB.")
    vgamem = XMLProperty("./model/@vgamem", int, doc="qxl VGA memory in KiB.")
    heads = XMLProperty("./model/@heads", int, doc="Number of screens.")
    primary = XMLProperty("./model/@primary", doc="``yes`` for the primary adapter.")
    accel3d = XMLProperty("./model/acceleration/@accel3d", doc="3D acceleration (yes/no).")
    accel2d = XMLProperty("./model/acceleration/@accel2d", doc="2D acceleration (yes/no).")
    resolution_x = XMLProperty("./model/resolution/@x", int, doc="Initial width.")
    resolution_y = XMLProperty("./model/resolution/@y", int, doc="Initial height.")
    driver_name = XMLProperty("./driver/@name", doc="``qemu`` or ``vhostuser`` backend.")
    vgaconf = XMLProperty(
        "./driver/@vgaconf", doc="bochs-display VGA config (``io``, ``on``, ``off``)."
    )
    alias = XMLProperty("./alias/@name", doc="The user alias (``ua-...``).")

    def parse(self, ctx: DeviceContext | None = None) -> VideoDef:
        """``virDomainVideoDefParseXML``."""
        return self.read(self.element, ctx or DeviceContext())

    @classmethod
    def read(cls, node: etree._Element, ctx: DeviceContext) -> VideoDef:
        """:meth:`parse` of *node*, without a model around it."""
        kids = first_children(node)
        model = kids.get("model")
        result = _new_video()
        # The model's attributes, read at once (a plain name finds no namespaced attribute).
        sizes = cast(_Attributes, dict(model.items())) if model is not None else _NO_ATTRIBUTES
        result.primary = sizes.get("primary") == "yes"
        # A bare <model> (the usual) has neither child to look for.
        if model is not None and len(model):
            _parse_model_children(model, result)
        driver = kids.get("driver")
        if driver is not None:
            result.backend = prop_enum(driver, "name", BACKENDS, nonzero=True) or "default"
            result.virtio = VirtioOptions.parse(driver)
        kind = sizes.get("type")
        if kind:
            if kind not in TYPES:
                fail(ErrorNumber.CONFIG_UNSUPPORTED, f"unknown video model '{kind}'")
            result.type = kind
        # Absent or empty sizes are 0, the record's default: only those given are read.
        xml_error = ErrorNumber.XML_ERROR
        for name in _SIZES:
            value = sizes.get(name)
            if value:
                setattr(result, name, _uint_value(value, xml_error, name))
        heads = sizes.get("heads")
        if heads:
            result.heads = _uint_value(heads, ErrorNumber.INTERNAL_ERROR, "heads")
        if _INFO_CHILDREN.isdisjoint(kids):
            result.info = DeviceInfo()  # none of the children the device info reads
        else:
            result.info = DeviceInfo.parse(node, ctx, kids=kids)
        if driver is not None:
            vgaconf = prop(driver, "vgaconf")
            # libvirt drops the whole <driver vgaconf> quietly when it is invalid.
            if vgaconf in VGACONF:
                result.vgaconf = vgaconf
        return result

    def definition(self, ctx: DeviceContext | None = None) -> VideoDef:
        """The video as the only one of a domain (so also its primary adapter)."""
        ctx = ctx or DeviceContext()
        return resolve_videos([self.parse(ctx)], ctx=ctx)[0]


def resolve_videos(
    videos: Sequence[VideoDef],
    *,
    graphics: bool = False,
    ctx: DeviceContext | None = None,
    validate: bool = True,
) -> list[VideoDef]:
    """libvirt's define-time processing of the parsed videos (in document order).

    Orders them (``primary='yes'`` first), fills in defaults, adds the
    implicit video of a domain with *graphics* and none, marks the primary
    one and, with *validate*, validates. Returns the videos in the order
    libvirt writes them.
    """
    ctx = ctx or DeviceContext()
    ordered: list[VideoDef] = []
    for video in videos:
        if video.primary:
            ordered.insert(0, video)
        else:
            ordered.append(video)
    for video in ordered:
        video.post_parse(ctx)
    if ordered:
        first = ordered[0]
        if first.type == "none":
            first.clear_for_none()
        else:
            first.primary = True
            # libvirt post-parses the primary video once more. After the first post-parse
            # that changes nothing but a size still 0 where a default applies (the sizes
            # set are powers of two by now, which rounding keeps): only then is it run.
            if not first.vram or (not first.ram and first.type == "qxl"):
                first.post_parse(ctx)
    elif graphics:
        implicit = VideoDef(primary=True)
        implicit.post_parse(ctx)
        ordered.append(implicit)
    if not validate:
        return ordered
    for video in ordered:
        video.validate(ctx)
        if video.type == "none" and len(ordered) > 1:
            fail(
                ErrorNumber.CONFIG_UNSUPPORTED,
                "a 'none' video type must be the only video device defined for the domain",
            )
    if len(ordered) > 1 and ordered[0].primary and any(v.primary for v in ordered[1:]):
        fail(ErrorNumber.CONFIG_UNSUPPORTED, "Only one primary video device is supported")
    return ordered
