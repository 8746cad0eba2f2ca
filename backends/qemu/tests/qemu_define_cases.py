"""The define cases of the QEMU backend: domain documents and what libvirt made of them.

``data/define/NAME.xml`` is a domain document; ``NAME.out.xml`` is what
libvirt 9.0's qemu driver prints for it after ``virsh define`` (``dumpxml
--inactive``), or ``NAME.error.json`` the error it refused it with
(``{"code", "domain", "message"}``). The outcomes are recorded from the
private libvirtd of :mod:`qemu_libvirt_oracle`; to record them again::

    .venv/bin/python backends/qemu/tests/qemu_define_cases.py record

The QEMU capabilities the cases assume are those of this machine's
``/usr/bin/qemu-system-x86_64`` (QEMU 7.2), probed by both libvirt and
virtcore.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qemu_libvirt_oracle import QemuOracle, start_qemu_oracle

from virtcore.errors import VirtError
from virtcore_qemu.caps import find_emulator, probe
from virtcore_qemu.caps_model import QemuCaps

DATA = Path(__file__).parent / "data" / "define"


@dataclass(frozen=True)
class DefineCase:
    """One document and the outcome libvirt recorded for it."""

    name: str
    source: Path

    @property
    def text(self) -> str:
        return self.source.read_text()

    @property
    def expected_xml_path(self) -> Path:
        return self.source.with_name(f"{self.name}.out.xml")

    @property
    def expected_error_path(self) -> Path:
        return self.source.with_name(f"{self.name}.error.json")

    @property
    def expected_xml(self) -> str | None:
        path = self.expected_xml_path
        return path.read_text() if path.exists() else None

    @property
    def expected_error(self) -> tuple[int, int, str] | None:
        path = self.expected_error_path
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return int(data["code"]), int(data["domain"]), str(data["message"])


def define_cases() -> list[DefineCase]:
    """Every case under ``data/define``, by name."""
    return [
        DefineCase(path.name.removesuffix(".xml"), path)
        for path in sorted(DATA.glob("*.xml"))
        if not path.name.endswith(".out.xml")
    ]


def record(oracle: QemuOracle) -> int:
    """Write every case's outcome as libvirt reports it now; returns the count."""
    for case in define_cases():
        outcome = oracle.define_outcome(case.text)
        case.expected_xml_path.unlink(missing_ok=True)
        case.expected_error_path.unlink(missing_ok=True)
        if outcome.xml is not None:
            case.expected_xml_path.write_text(outcome.xml)
        else:
            assert outcome.error is not None
            error = outcome.error
            payload = {"code": error.code, "domain": error.domain, "message": error.message}
            case.expected_error_path.write_text(json.dumps(payload) + "\n")
    return len(define_cases())


def main(argv: list[str]) -> int:
    if argv[1:] != ["record"]:
        sys.stderr.write(f"usage: {argv[0]} record\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="virtcore-define-") as workdir:
        with start_qemu_oracle(workdir) as oracle:
            count = record(oracle)
    sys.stdout.write(f"recorded {count} cases in {DATA}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))


def emulator_caps_lookup(caps: QemuCaps) -> Callable[[str], QemuCaps]:
    """Capabilities of the emulator libvirt picks for a document's architecture.

    *caps* are the x86_64 emulator's; other emulators are probed once each. A
    document whose architecture has no emulator gets the x86_64 capabilities,
    whose emulator then refuses it as libvirt's does.
    """
    probed = {caps.binary: caps}

    def lookup(text: str) -> QemuCaps:
        found = re.search(r"<type[^>]*\sarch=['\"]([\w-]+)", text)
        try:
            binary = find_emulator(found.group(1)) if found else caps.binary
        except VirtError:
            binary = caps.binary
        if binary not in probed:
            probed[binary] = probe(binary)
        return probed[binary]

    return lookup
