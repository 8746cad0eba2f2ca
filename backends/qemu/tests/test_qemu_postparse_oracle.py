"""The define cases against the live oracle: a private libvirtd with the qemu driver.

The recorded outcomes of ``data/define`` must still be what libvirt says
(so the recordings cannot go stale), virtcore must print what the daemon
prints, and defining libvirt's own output again must give what libvirt
gives for it (libvirt then orders controllers as it reads them). A missing
libvirt fails these tests unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import pytest
from qemu_define_cases import DefineCase, define_cases, emulator_caps_lookup
from qemu_libvirt_oracle import QemuOracle, shared_qemu_oracle

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import VirtError
from virtcore_qemu.caps import probe
from virtcore_qemu.caps_model import QemuCaps
from virtcore_qemu.postparse import define_domain

QEMU = "/usr/bin/qemu-system-x86_64"
CASES = define_cases()
SUCCESSES = [c for c in CASES if c.expected_xml_path.exists()]


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    return shared_qemu_oracle(tmp_path_factory)


@pytest.fixture(scope="module")
def caps() -> QemuCaps:
    if not Path(QEMU).exists():
        pytest.fail(f"{QEMU} is required")
    return probe(QEMU)


@pytest.fixture(scope="module")
def caps_for(caps: QemuCaps) -> Callable[[str], QemuCaps]:
    """The capabilities of the emulator libvirt picks for a document's architecture."""
    return emulator_caps_lookup(caps)


def outcome(text: str, caps: QemuCaps) -> tuple[str | None, tuple[int, int, str] | None]:
    try:
        return define_domain(text, caps).format(DomainXMLFlags.INACTIVE), None
    except VirtError as error:
        return None, (int(error.code), int(error.domain), error.message)


def diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "libvirt", "virtcore", lineterm=""
    )
    return "\n".join(lines)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_recording_is_what_libvirt_says_now(case: DefineCase, oracle: QemuOracle) -> None:
    live = oracle.define_outcome(case.text)
    if live.error is not None:
        error = live.error
        assert (error.code, error.domain, error.message) == case.expected_error
    else:
        assert live.xml == case.expected_xml


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_virtcore_defines_like_the_live_daemon(
    case: DefineCase, oracle: QemuOracle, caps_for: Callable[[str], QemuCaps]
) -> None:
    live = oracle.define_outcome(case.text)
    mine, error = outcome(case.text, caps_for(case.text))
    if live.error is not None:
        assert error == (live.error.code, live.error.domain, live.error.message)
    else:
        assert live.xml is not None and mine is not None, error
        assert mine == live.xml, diff(live.xml, mine)


@pytest.mark.parametrize("case", SUCCESSES, ids=lambda c: c.name)
def test_redefining_libvirts_output_matches(
    case: DefineCase, oracle: QemuOracle, caps_for: Callable[[str], QemuCaps]
) -> None:
    expected = case.expected_xml
    assert expected is not None
    theirs = oracle.define_and_dump(expected)
    mine, error = outcome(expected, caps_for(expected))
    assert mine is not None, error
    assert mine == theirs, diff(theirs, mine)
