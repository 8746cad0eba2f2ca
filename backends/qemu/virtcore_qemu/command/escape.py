"""Quoting of XML-derived values on the QEMU command line: the only way values reach argv.

QEMU parses two option syntaxes and both must be fed safely:

* *keyval* options (``-name guest=X,debug-threads=on``, ``-chardev``,
  ``-vnc``, ``-machine``, ``-cpu``): ``,`` separates properties, so a comma in
  a value is written twice (``,,``), exactly as libvirt's
  ``virQEMUBuildBufferEscapeComma`` does. :func:`escape` is the one helper for
  that, and :func:`keyval` builds a whole option from (key, value) pairs,
  escaping every value; keys are fixed strings of this package, never XML.
* JSON options (``-device``, ``-blockdev``, ``-netdev``, ``-object``,
  ``-audiodev``): :func:`json_arg` serialises a property dict the way libvirt
  does (compact, keys in insertion order); JSON string quoting makes every
  value a single property, so nothing further is needed.

Each value becomes exactly one argv element (no shell is involved), so
spaces, ``=`` and newlines cannot start another option; commas are the only
separator left and they are doubled. A NUL byte cannot be passed to
``execve`` at all and is refused with libvirt's error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from virtcore.enums.errors import ErrorDomain
from virtcore.errors import ConfigUnsupportedError

__all__ = ["escape", "json_arg", "keyval"]

logger = logging.getLogger(__name__)


def escape(value: object) -> str:
    """*value* as text safe inside a keyval option: ``,`` -> ``,,``; NUL is refused."""
    text = str(value)
    if "\0" in text:
        raise ConfigUnsupportedError(
            "value contains a NUL character and cannot be passed to QEMU", domain=ErrorDomain.QEMU
        )
    return text.replace(",", ",,")


def keyval(first: object | None, pairs: Iterable[tuple[str, object | None]] = ()) -> str:
    """A keyval option: *first* (an unnamed leading value, escaped) then ``key=value`` pairs.

    Pairs whose value is ``None`` are left out; booleans are written
    ``on``/``off``. Every value goes through :func:`escape`.
    """
    parts: list[str] = [] if first is None else [escape(first)]
    for key, value in pairs:
        if value is None:
            continue
        text = ("on" if value else "off") if isinstance(value, bool) else value
        parts.append(f"{key}={escape(text)}")
    return ",".join(parts)


def json_arg(props: Mapping[str, Any], *, keep_null: Iterable[str] = ()) -> str:
    """*props* as libvirt writes JSON option values: compact, in insertion order.

    ``None`` values are dropped (libvirt's optional ``S:``/``p:`` members)
    except the keys of *keep_null*, written as JSON ``null``.
    """
    kept = frozenset(keep_null)
    clean = {key: value for key, value in props.items() if value is not None or key in kept}
    # JSON escapes control characters (NUL included), so the text is execve-safe.
    return json.dumps(clean, separators=(",", ":"), ensure_ascii=False)
