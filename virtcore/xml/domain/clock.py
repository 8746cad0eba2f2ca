"""The guest clock: ``<clock>`` and its ``<timer>`` elements.

:class:`Clock` and :class:`Timer` are views of the live tree.
:func:`read_clock` reads the section as libvirt 9.0 does (offsets,
adjustments, timers and their catch-up settings), raising libvirt's errors,
and :func:`emit_clock` writes libvirt's form: ``offset`` always, then the
offset's own attributes (``adjustment='reset'`` for utc/localtime,
``adjustment`` and ``basis`` for variable, ``timezone``, ``start``), then
each timer as ``name present tickpolicy track frequency mode`` with an
optional ``<catchup>``. A numeric adjustment of a ``utc`` or ``localtime``
clock makes it a ``variable`` one with that basis, as libvirt does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

from virtcore.xml import units
from virtcore.xml.builder import UINT, ULLONG, YESNO, XMLChildList, XMLNode, XMLProperty
from virtcore.xml.childindex import children_by_name
from virtcore.xml.domain.common import (
    Grouped,
    attr_bool,
    attr_enum,
    attr_uint,
    attr_ullong,
    child,
    group_children,
    internal,
    sub,
    unsupported,
    xml_error,
    yes_no,
)
from virtcore.xml.domain.outnode import OutNode

__all__ = ["Clock", "ClockInfo", "Timer", "emit_clock", "read_clock"]

logger = logging.getLogger(__name__)

OFFSETS = ("utc", "localtime", "variable", "timezone", "absolute")
BASES = ("utc", "localtime")
TIMER_NAMES = (
    "platform", "pit", "rtc", "hpet", "tsc", "kvmclock", "hypervclock", "armvtimer",
)  # fmt: skip
TICK_POLICIES = ("delay", "catchup", "merge", "discard")
TRACKS = ("boot", "guest", "wall", "realtime")
TSC_MODES = ("auto", "native", "emulate", "paravirt", "smpsafe")


class Timer(XMLNode):
    """``<clock><timer name= present= tickpolicy= track= frequency= mode=/>``."""

    TAG = "timer"

    name = XMLProperty("./@name")
    present = XMLProperty("./@present", YESNO)
    tickpolicy = XMLProperty("./@tickpolicy")
    track = XMLProperty("./@track")
    frequency = XMLProperty("./@frequency", ULLONG)
    mode = XMLProperty("./@mode")
    catchup_threshold = XMLProperty("./catchup/@threshold", UINT)
    catchup_slew = XMLProperty("./catchup/@slew", UINT)
    catchup_limit = XMLProperty("./catchup/@limit", UINT)


class Clock(XMLNode):
    """``<clock>``: how the guest clock is initialised and kept."""

    TAG = "clock"

    offset = XMLProperty("./@offset", doc="utc, localtime, variable, timezone or absolute.")
    adjustment = XMLProperty("./@adjustment", doc="Seconds, or 'reset'.")
    basis = XMLProperty("./@basis")
    timezone = XMLProperty("./@timezone")
    start = XMLProperty("./@start", ULLONG)
    timers = XMLChildList(Timer, "./timer")


@dataclass
class TimerInfo:
    """One timer as libvirt holds it."""

    name: str
    present: bool | None = None
    tickpolicy: str | None = None
    track: str | None = None
    frequency: int = 0
    mode: str | None = None
    catchup: tuple[int, int, int] = (0, 0, 0)


@dataclass
class ClockInfo:
    """``<clock>`` as libvirt holds it."""

    offset: str = "utc"
    reset: bool = False
    adjustment: int = 0
    basis: str = "utc"
    timezone: str | None = None
    start: int = 0
    timers: list[TimerInfo] = field(default_factory=list)


def read_clock(root: etree._Element, index: Grouped | None = None) -> ClockInfo:
    """``virDomainClockDefParse`` and ``virDomainTimerDefParseXML``.

    *index* is :func:`~virtcore.xml.childindex.children_by_name` of *root*, when known.
    """
    info = ClockInfo()
    clocks = (index if index is not None else children_by_name(root)).get("clock")
    if clocks is None:
        return info
    clock = clocks[0]
    offset = clock.get("offset")
    if offset:
        if offset not in OFFSETS:
            raise unsupported(f"unknown clock offset '{offset}'")
        info.offset = offset
    adjustment = clock.get("adjustment")
    if info.offset in ("utc", "localtime"):
        if not adjustment:
            pass
        elif adjustment == "reset":
            info.reset = True
        else:
            try:
                info.adjustment = units.parse_llong(adjustment)
            except ValueError:
                raise xml_error(f"unknown clock adjustment '{adjustment}'") from None
            info.basis = info.offset
            info.offset = "variable"
    elif info.offset == "variable":
        try:
            info.adjustment = units.parse_llong(adjustment or "")
        except ValueError:
            # libvirt keeps no adjustment it cannot read.
            info.adjustment = 0
        basis = clock.get("basis")
        if basis:
            if basis not in BASES:
                raise unsupported(f"unknown clock basis '{basis}'")
            info.basis = basis
    elif info.offset == "timezone":
        info.timezone = clock.get("timezone") or None
        if info.timezone is None:
            raise internal("missing 'timezone' attribute for clock with offset='timezone'")
    elif info.offset == "absolute":
        try:
            info.start = units.parse_ullong(clock.get("start") or "")
        except ValueError:
            raise internal("missing 'start' attribute for clock with offset='absolute'") from None
    # Like libvirt's "./clock/timer": the timers of every <clock> (the usual lone
    # <clock offset=.../> has no children to look through).
    timers = group_children(clocks).get("timer") if len(clocks) > 1 or len(clock) else None
    if timers is not None:
        info.timers = [_read_timer(timer) for timer in timers]
    return info


def _read_timer(timer: etree._Element) -> TimerInfo:
    name = attr_enum(timer, "name", TIMER_NAMES, required=True)
    assert name is not None
    info = TimerInfo(name)
    info.present = attr_bool(timer, "present")
    info.tickpolicy = attr_enum(timer, "tickpolicy", TICK_POLICIES)
    info.track = attr_enum(timer, "track", TRACKS)
    info.frequency = attr_ullong(timer, "frequency") or 0
    info.mode = attr_enum(timer, "mode", TSC_MODES)
    catchup = child(timer, "catchup")
    if catchup is not None:
        values = [attr_uint(catchup, n) or 0 for n in ("threshold", "slew", "limit")]
        info.catchup = (values[0], values[1], values[2])
        if any(values) and info.tickpolicy != "catchup":
            raise xml_error(
                "setting of timer catchup policies is only supported with tickpolicy='catchup'"
            )
    return info


def check_timers(info: ClockInfo) -> None:
    """``virDomainTimerDefValidate``: attributes only some timers take."""
    for timer in info.timers:
        unsupported_attrs = []
        if timer.tickpolicy is not None and timer.name in ("kvmclock", "hypervclock"):
            unsupported_attrs.append("tickpolicy")
        if timer.track is not None and timer.name not in ("platform", "rtc"):
            unsupported_attrs.append("track")
        if timer.frequency and timer.name != "tsc":
            unsupported_attrs.append("frequency")
        if timer.mode is not None and timer.name != "tsc":
            unsupported_attrs.append("mode")
        if unsupported_attrs:
            raise unsupported(
                f"timer {timer.name} doesn't support setting of timer {unsupported_attrs[0]}"
            )


def emit_clock(info: ClockInfo, out: OutNode) -> None:
    """``<clock>`` in libvirt's form."""
    attrs: list[tuple[str, str | int | None]] = [("offset", info.offset)]
    if info.offset in ("utc", "localtime"):
        if info.reset:
            attrs.append(("adjustment", "reset"))
    elif info.offset == "variable":
        attrs += [("adjustment", info.adjustment), ("basis", info.basis)]
    elif info.offset == "timezone":
        attrs.append(("timezone", info.timezone))
    elif info.offset == "absolute":
        attrs.append(("start", info.start))
    clock = sub(out, "clock", attrs)
    for timer in info.timers:
        element = sub(
            clock,
            "timer",
            [
                ("name", timer.name),
                ("present", yes_no(timer.present)),
                ("tickpolicy", timer.tickpolicy),
                ("track", timer.track if timer.name in ("platform", "rtc") else None),
                ("frequency", timer.frequency or None if timer.name == "tsc" else None),
                ("mode", timer.mode if timer.name == "tsc" else None),
            ],
        )
        if any(timer.catchup):
            threshold, slew, limit = timer.catchup
            sub(
                element,
                "catchup",
                [
                    ("threshold", threshold or None),
                    ("slew", slew or None),
                    ("limit", limit or None),
                ],
            )
