"""Argument and result conversions libvirt-python's C binding performs around driver calls.

libvirt-python does more than pass arguments through for some calls, and
applications depend on the details, errors included:

* CPU maps travel as tuples of booleans, one per host CPU as
  ``virNodeGetCPUMap`` counts them (falling back to ``virNodeGetInfo``);
  drivers take and return libvirt's packed bit maps (:func:`pack_cpumap`,
  :func:`unpack_cpumap`).
* Setting typed parameters (``setMemoryParameters`` and the like) first reads
  the current parameters with the same flags, then checks and converts the
  new values by the types read back (:func:`typed_update`); the
  ``LookupError``/``TypeError`` raised here are libvirt-python's.
* libvirt's public API adds ``VIR_TYPED_PARAM_STRING_OKAY`` to the flags of
  the calls that return typed parameters (:data:`STRING_OKAY`), so a driver
  that refuses unknown flags sees what libvirt's drivers see.
* ``setTime`` takes ``{"seconds": s, "nseconds": ns}`` (:func:`time_args`),
  ``sendKey`` checks its key list before anything is sent
  (:func:`check_keycodes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from virtcore.libvirt._errors import libvirtError

if TYPE_CHECKING:
    from virtcore.libvirt._connect_calls import ConnectCalls

__all__ = [
    "MEMORY_STAT_NR",
    "SEND_KEY_MAX_KEYS",
    "STRING_OKAY",
    "check_keycodes",
    "check_params_given",
    "host_cpu_count",
    "pack_cpumap",
    "time_args",
    "typed_update",
    "unpack_cpumap",
]

STRING_OKAY = 4
"""``VIR_TYPED_PARAM_STRING_OKAY``, added by libvirt to typed-parameter getters' flags."""
MEMORY_STAT_NR = 13
"""``VIR_DOMAIN_MEMORY_STAT_NR`` in libvirt 9.0: how many statistics ``memoryStats`` asks for."""
SEND_KEY_MAX_KEYS = 16
"""``VIR_DOMAIN_SEND_KEY_MAX_KEYS``."""
_TIME_SYNC = 1
"""``VIR_DOMAIN_TIME_SYNC``: the only way ``setTime`` may go without a time."""


def host_cpu_count(conn: ConnectCalls) -> int:
    """The number of host CPUs CPU maps cover, found the way libvirt-python finds it.

    ``virNodeGetCPUMap``'s count when the driver has it, else every CPU
    ``virNodeGetInfo`` describes (nodes x sockets x cores x threads).
    """
    try:
        return int(conn._call("node_get_cpu_map", "virNodeGetCPUMap", 0)[0])
    except libvirtError:
        info = conn._call("node_get_info", "virNodeGetInfo")
        return int(info[4]) * int(info[5]) * int(info[6]) * int(info[7])


def pack_cpumap(cpumap: object, cpus: int) -> bytes:
    """libvirt's bit map for a tuple of booleans; entries past *cpus* are ignored.

    Anything but a tuple is refused with libvirt-python's ``TypeError``.
    """
    if not isinstance(cpumap, tuple):
        raise TypeError("Unexpected type, tuple is required")
    packed = bytearray((cpus + 7) // 8)
    for cpu, used in enumerate(cpumap[:cpus]):
        if used:
            packed[cpu // 8] |= 1 << (cpu % 8)
    return bytes(packed)


def unpack_cpumap(data: bytes, cpus: int) -> tuple[bool, ...]:
    """The first *cpus* bits of a libvirt bit map as a tuple of booleans."""
    return tuple(
        cpu // 8 < len(data) and bool(data[cpu // 8] & (1 << (cpu % 8))) for cpu in range(cpus)
    )


def typed_update(params: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Check *params* against the parameters read back (*current*) and convert them.

    Raises ``LookupError`` for an empty *params*, a driver reporting no
    parameters, or a name the driver did not report; ``TypeError`` for a
    value of the wrong kind (a string where a number is expected, ...).
    """
    if not params:
        raise LookupError("Need non-empty dictionary to set attributes")
    if not current:
        raise LookupError("Domain has no settable attributes")
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in current:
            raise LookupError(f'Attribute name "{name}" could not be recognized')
        out[name] = _typed_value(value, current[name])
    return out


def check_params_given(params: Mapping[str, Any]) -> None:
    """libvirt-python refuses an empty dictionary before asking the driver anything."""
    if not params:
        raise LookupError("Need non-empty dictionary to set attributes")


def _typed_value(value: Any, like: Any) -> Any:
    """*value* converted to the typed-parameter type of *like*, as libvirt-python does."""
    if isinstance(like, bool):
        return bool(value)
    if isinstance(like, int):
        if not isinstance(value, int):
            raise TypeError("an integer is required")
        return int(value)
    if isinstance(like, float):
        return float(value)
    if isinstance(like, str):
        if not isinstance(value, str):
            raise TypeError("bad argument type for built-in operation")
        return value
    return value


def time_args(time: object, flags: int) -> tuple[int, int]:
    """``(seconds, nseconds)`` of ``setTime``'s *time*, checked like libvirt-python."""
    if time is None:
        if not flags & _TIME_SYNC:
            raise TypeError("time must be a dictionary or None with flags set")
        return 0, 0
    if not isinstance(time, dict):
        raise TypeError("time must be a dictionary or None with flags set")
    if "seconds" not in time:
        raise LookupError("Dictionary must contains 'seconds'")
    seconds = time["seconds"]
    if not isinstance(seconds, int):
        raise TypeError("an integer is required")
    nseconds = time.get("nseconds", 0)
    if not isinstance(nseconds, int):
        raise TypeError(f"'{type(nseconds).__name__}' object cannot be interpreted as an integer")
    return int(seconds), int(nseconds)


def check_keycodes(keycodes: object, nkeycodes: int) -> list[int] | None:
    """The key codes ``sendKey`` sends, or ``None`` where libvirt-python gives up.

    libvirt-python wants a list of exactly *nkeycodes* (at most 16) integers;
    otherwise its call fails without consulting libvirt (``None`` here).
    """
    if not isinstance(keycodes, list):
        return None
    if nkeycodes != len(keycodes) or nkeycodes > SEND_KEY_MAX_KEYS:
        return None
    codes = []
    for code in keycodes:
        if not isinstance(code, int):
            raise TypeError(f"'{type(code).__name__}' object cannot be interpreted as an integer")
        codes.append(int(code))
    return codes
