"""The recorded domain documents under tests/data/xml/domain, and the live oracle.

``<name>.input.xml`` is a document written the way people write them (any
element order, other units, odd spacing); libvirt 9.0's test driver defined
it and printed ``<name>.xml`` (``virDomainGetXMLDesc(0)``) and
``<name>.inactive.xml`` (``VIR_DOMAIN_XML_INACTIVE``). Re-record them with
``/usr/bin/python3 tests/data/xml/domain/domain_oracle.py record
tests/data/xml/domain``.

Inputs without ``<uuid>`` (or with an empty ``<genid/>``) made libvirt
generate one; :func:`identity_from` hands the same values to virtcore's
UUID factory so both outputs can be compared.

:func:`run_oracle` runs ``domain_oracle.py define`` under the system Python
(python3-libvirt); :func:`require_libvirt` fails the calling test when
python3-libvirt is missing, unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1`` turns
that into a skip.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.xml import oracle_support

GOLDEN = Path(__file__).parent.parent / "data" / "xml" / "domain"
ORACLE = GOLDEN / "domain_oracle.py"
NAMES = sorted(p.name[: -len(".input.xml")] for p in GOLDEN.glob("*.input.xml"))


def source(name: str) -> str:
    """The input document of golden *name*."""
    return (GOLDEN / f"{name}.input.xml").read_text()


def golden(name: str, *, inactive: bool = False) -> str:
    """What libvirt printed for golden *name*."""
    suffix = ".inactive.xml" if inactive else ".xml"
    return (GOLDEN / f"{name}{suffix}").read_text()


def identity_from(text: str, printed: str) -> Callable[[], bytes]:
    """A UUID factory replaying the UUIDs libvirt generated for *text* (seen in *printed*).

    Once those are used up it makes random ones (when libvirt refused the document).
    """
    generated: list[bytes] = []
    for tag in ("uuid", "genid"):
        given = re.search(f"<{tag}(?:>([^<]*)</{tag}>|/>)", text)
        if given is not None and given.group(1):
            continue
        found = re.search(f"<{tag}>([0-9a-f-]+)</{tag}>", printed)
        if found is not None:
            generated.append(uuid.UUID(found.group(1)).bytes)
    pending = iter(generated)

    def factory() -> bytes:
        return next(pending, None) or uuid.uuid4().bytes

    return factory


def require_libvirt() -> None:
    """Fail (or, with ``VIRTCORE_ALLOW_NO_LIBVIRT=1``, skip) without python3-libvirt."""
    oracle_support.require_libvirt()


def run_oracle(documents: Sequence[str], flags: Sequence[int]) -> list[dict[str, Any]] | None:
    """libvirt's outcome for each document (see domain_oracle.py), None if libvirt crashed.

    Each outcome is ``{"ok": True, "xml": {str(flag): text}}`` or ``{"ok":
    False, "code": ..., "domain": ..., "message": ...}``.
    """
    cases = [{"xml": text, "flags": list(flags)} for text in documents]
    result = oracle_support.run_script(ORACLE, "define", stdin=json.dumps(cases))
    if result.returncode != 0:
        return None
    outcomes: list[dict[str, Any]] = json.loads(result.stdout)
    return outcomes
