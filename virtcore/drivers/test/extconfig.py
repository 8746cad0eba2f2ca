"""virtcore's extensions to the test driver configuration file format.

A configuration file (``test:///abs/path/node.xml``) may carry, directly under
its ``<node>`` root, elements in virtcore's namespace
``https://virtcore.dev/schemas/test/1.0`` (:data:`NAMESPACE`). libvirt
knows nothing of them; virtcore applies them to the host it loads::

    <node xmlns:vc="https://virtcore.dev/schemas/test/1.0">
      <vc:deterministic seed="42"/>
      <vc:clock start="2024-01-01T00:00:00Z" cpu-load="0.25"/>
      <vc:faults>
        <vc:fail call="virDomainCreateWithFlags" code="OPERATION_FAILED"
                 error-domain="QEMU" message="unable to start" times="1"/>
        <vc:fail call="virDomainGetInfo" probability="0.1" seed="7"/>
        <vc:delay call="virConnectListAllDomains" seconds="0.2"/>
        <vc:disconnect call="virDomainSuspend" reason="keepalive"/>
        <vc:crash call="virDomainShutdownFlags" cause="panic"/>
        <vc:io-error call="virDomainGetInfo" domain="web" disk="vda" after="2" times="1"/>
      </vc:faults>
      <domain type="test">...</domain>
    </node>

``<vc:deterministic seed=...>`` seeds identifier generation, including for
the file's own objects; ``<vc:clock>`` gives the host a virtual clock
(``start``: seconds since the epoch or an ISO 8601 time, default
2024-01-01T00:00:00Z; ``cpu-load``: vCPU utilisation of running domains,
default 1.0) - see :mod:`virtcore.drivers.test.determinism`.

``<vc:faults>`` holds rules, added in document order (see
:mod:`virtcore.drivers.test.faults`). Every rule has ``call`` (required) and
the optional trigger attributes ``times``, ``after``, ``probability``,
``seed`` and ``target``; then, by element:

* ``<vc:fail>`` - ``code`` (an ``ErrorNumber`` name such as
  ``OPERATION_FAILED``, with or without ``VIR_ERR_``, or a number; default
  ``INTERNAL_ERROR``), ``error-domain`` (an ``ErrorDomain`` name or number,
  default ``TEST``), ``message`` (the detail);
* ``<vc:delay>`` - ``seconds`` (required);
* ``<vc:disconnect>`` - ``reason``: ``eof`` (default), ``error``,
  ``keepalive`` or ``client``; fires once unless ``times`` says otherwise;
* ``<vc:crash>`` - ``cause``: ``panic`` (default) or ``emulator``;
  ``domain``: the domain to crash (default: the domain the call is about);
* ``<vc:io-error>`` - ``domain`` as for crash, ``disk`` (target, source or
  alias; default the first disk), ``action``: ``pause`` (default),
  ``report`` or ``none``, ``reason`` (default ``enospc``).

An unknown element or attribute in the namespace, or a malformed value, fails
the open with ``VIR_ERR_XML_ERROR`` (error domain ``VIR_FROM_TEST``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from virtcore.drivers.test.determinism import determinism, load_config_state
from virtcore.drivers.test.faults import CallInfo, FaultInjector, injector
from virtcore.drivers.test.state import TestState
from virtcore.enums.connect import ConnectCloseReason
from virtcore.enums.domain_events import DomainEventIOErrorAction
from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import InvalidArgError, XMLError

__all__ = ["NAMESPACE", "Extensions", "load_host", "read_extensions"]

logger = logging.getLogger(__name__)

NAMESPACE = "https://virtcore.dev/schemas/test/1.0"
"""The XML namespace of virtcore's configuration file extensions."""

_TRIGGER_ATTRS = frozenset({"call", "times", "after", "probability", "seed", "target"})
_RULE_ATTRS: dict[str, frozenset[str]] = {
    "fail": frozenset({"code", "error-domain", "message"}),
    "delay": frozenset({"seconds"}),
    "disconnect": frozenset({"reason"}),
    "crash": frozenset({"cause", "domain"}),
    "io-error": frozenset({"domain", "disk", "action", "reason"}),
}
_IO_ACTIONS = {
    "pause": DomainEventIOErrorAction.PAUSE,
    "report": DomainEventIOErrorAction.REPORT,
    "none": DomainEventIOErrorAction.NONE,
}

_Rule = Callable[[FaultInjector], object]


@dataclass
class Extensions:
    """The virtcore extension elements of one configuration file."""

    seed: int | str | None = None
    clock: bool = False
    clock_start: float | datetime | None = None
    cpu_load: float = 1.0
    rules: list[_Rule] = field(default_factory=list)

    def apply(self, state: TestState) -> None:
        """Give *state* the clock and fault rules (the seed is applied while loading)."""
        if self.clock:
            determinism(state).enable_clock(self.clock_start, load=self.cpu_load)
        faults = injector(state)
        for rule in self.rules:
            rule(faults)


def _bad(text: str) -> XMLError:
    return XMLError(text, domain=ErrorDomain.TEST)


def _tag(elem: etree._Element) -> str:
    return etree.QName(elem).localname


def _number(elem: etree._Element, attr: str, kind: Callable[[str], Any]) -> Any:
    text = elem.get(attr)
    if text is None:
        return None
    try:
        return kind(text.strip())
    except ValueError:
        raise _bad(f"invalid value '{text}' of {attr} in vc:{_tag(elem)}") from None


def _seed(text: str | None) -> int | str | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def _time(text: str) -> float | datetime:
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text)


def _enum(elem: etree._Element, attr: str, enum: Any, prefix: str, default: int) -> int:
    text = elem.get(attr)
    if text is None:
        return default
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return int(enum[text.upper().removeprefix(prefix)])
    except KeyError:
        raise _bad(f"unknown {attr} '{text}' in vc:{_tag(elem)}") from None


def _choice(elem: etree._Element, attr: str, choices: dict[str, Any], default: str) -> Any:
    text = elem.get(attr, default).strip().lower()
    if text not in choices:
        raise _bad(f"unknown {attr} '{text}' in vc:{_tag(elem)}")
    return choices[text]


def _check_attrs(elem: etree._Element, allowed: frozenset[str]) -> None:
    for raw in elem.attrib:
        name = raw if isinstance(raw, str) else raw.decode()
        if name not in allowed:
            raise _bad(f"unknown attribute '{name}' in vc:{_tag(elem)}")


def _rule(elem: etree._Element) -> _Rule:
    kind = _tag(elem)
    if kind not in _RULE_ATTRS:
        raise _bad(f"unknown fault rule vc:{kind}")
    _check_attrs(elem, _TRIGGER_ATTRS | _RULE_ATTRS[kind])
    call = elem.get("call")
    if not call:
        raise _bad(f"vc:{kind} needs a call attribute")
    trigger: dict[str, Any] = {"seed": _seed(elem.get("seed")), "target": elem.get("target")}
    # Absent attributes keep the Python API's defaults (a disconnect fires once).
    for attr, kind_of in (("times", int), ("after", int), ("probability", float)):
        value = _number(elem, attr, kind_of)
        if value is not None:
            trigger[attr] = value
    if kind == "fail":
        code = _enum(elem, "code", ErrorNumber, "VIR_ERR_", ErrorNumber.INTERNAL_ERROR)
        where = _enum(elem, "error-domain", ErrorDomain, "VIR_FROM_", ErrorDomain.TEST)
        message = elem.get("message")
        return lambda inj: inj.fail(call, code, message=message, error_domain=where, **trigger)
    if kind == "delay":
        seconds = _number(elem, "seconds", float)
        if seconds is None:
            raise _bad("vc:delay needs a seconds attribute")
        return lambda inj: inj.delay(call, seconds, **trigger)
    if kind == "disconnect":
        reasons = {r.name.lower(): r for r in ConnectCloseReason}
        reason = _choice(elem, "reason", reasons, "eof")
        return lambda inj: inj.disconnect(call, reason, **trigger)
    victim = elem.get("domain")
    if kind == "crash":
        cause = _choice(elem, "cause", {"panic": "panic", "emulator": "emulator"}, "panic")

        def crash(inj: FaultInjector) -> object:
            return inj.on_call(
                call, lambda info: inj.crash(_victim(info, victim), cause), **trigger
            )

        return crash
    disk = elem.get("disk")
    action = _choice(elem, "action", _IO_ACTIONS, "pause")
    reason = elem.get("reason", "enospc")

    def io_fault(inj: FaultInjector) -> object:
        def act(info: CallInfo) -> None:
            inj.io_error(_victim(info, victim), disk=disk, action=action, reason=reason)

        return inj.on_call(call, act, **trigger)

    return io_fault


def _victim(info: CallInfo, name: str | None) -> Any:
    if name is not None:
        return name
    target = info.target
    if target is None or not hasattr(target, "uuid"):
        raise InvalidArgError(
            f"{info.method} is not about a domain; name one with the domain attribute",
            domain=ErrorDomain.TEST,
        )
    return target


def read_extensions(root: etree._Element) -> Extensions:
    """The extension elements of a parsed configuration file (*root* is ``<node>``)."""
    ext = Extensions()
    for elem in root:
        if not isinstance(elem.tag, str) or etree.QName(elem).namespace != NAMESPACE:
            continue
        kind = _tag(elem)
        if kind == "deterministic":
            _check_attrs(elem, frozenset({"seed"}))
            if elem.get("seed") is None:
                raise _bad("vc:deterministic needs a seed attribute")
            ext.seed = _seed(elem.get("seed"))
        elif kind == "clock":
            _check_attrs(elem, frozenset({"start", "cpu-load"}))
            ext.clock = True
            ext.clock_start = _number(elem, "start", _time)
            load = _number(elem, "cpu-load", float)
            ext.cpu_load = 1.0 if load is None else load
        elif kind == "faults":
            _check_attrs(elem, frozenset())
            ext.rules.extend(_rule(sub) for sub in elem if isinstance(sub.tag, str))
        else:
            raise _bad(f"unknown virtcore test extension element vc:{kind}")
    return ext


def _extensions_of(path: str) -> Extensions:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return Extensions()  # the loader reports the unreadable file
    if NAMESPACE.encode() not in data:
        return Extensions()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return Extensions()  # the loader reports the malformed file
    return read_extensions(root)


def load_host(path: str, *, seed: int | str | None = None) -> TestState:
    """Load the host described by the configuration file at *path*, with its extensions.

    *seed*, when given, overrides the file's ``vc:deterministic`` seed.
    """
    ext = _extensions_of(path)
    state = load_config_state(path, seed if seed is not None else ext.seed)
    try:
        ext.apply(state)
    except InvalidArgError as exc:
        raise _bad(f"invalid virtcore test extension: {exc.detail}") from None
    if ext.rules or ext.clock:
        logger.debug("test host %s: %d fault rule(s), clock %s", path, len(ext.rules), ext.clock)
    return state
