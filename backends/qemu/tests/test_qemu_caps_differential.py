"""virtcore's capabilities documents against real libvirt 9.0's on this host.

A private libvirtd with the qemu driver (``qemu_libvirt_oracle``) and virtcore
look at the same host and the same QEMU binaries, so they must agree on
everything both derive from QEMU and the host's QEMU setup:

* ``virsh capabilities``: every ``<guest>`` (arch, word size, emulator,
  machine types with canonical names, limits and deprecation, domain types,
  guest features);
* the host CPU (model, vendor, signature, features, TSC counter), the NUMA
  layout, IOMMU and migration features of ``virsh capabilities``;
* ``virsh domcapabilities`` for several requests: the whole document,
  ``host-model`` CPU included;
* the errors of bad domcapabilities requests: code, domain and message.

Both sides use the host's real KVM availability, so the comparison holds
whether or not this machine has ``/dev/kvm``. Without libvirt these tests
fail unless ``VIRTCORE_ALLOW_NO_LIBVIRT=1``.
"""

from __future__ import annotations

import pytest
from lxml import etree
from qemu_capsprobe import QEMU, QEMU_I386, child, texts
from qemu_libvirt_oracle import OracleError, QemuOracle, shared_qemu_oracle

from virtcore.errors import VirtError
from virtcore_qemu.caps import CapsCache
from virtcore_qemu.capsxml import build_capabilities, domain_capabilities_xml

DOMCAPS_REQUESTS = [
    {},
    {"virttype": "qemu"},
    {"virttype": "qemu", "machine": "q35"},
    {"virttype": "qemu", "machine": "isapc"},
    {"virttype": "qemu", "machine": "microvm"},
    {"virttype": "qemu", "arch": "i686"},
    {"virttype": "qemu", "arch": "i686", "emulator": QEMU},
    {"virttype": "none", "machine": "pc-q35-6.2"},
]

ERROR_REQUESTS = [
    {"virttype": "bogus", "arch": "bogus"},
    {"arch": "bogus"},
    {"arch": "aarch64"},
    {"virttype": "qemu", "machine": "nope"},
    {"virttype": "xen", "machine": "nope"},
    {"virttype": "qemu", "machine": "none"},
    {"virttype": "xen"},
    {"virttype": "hvf"},
    {"emulator": QEMU_I386},
    {"emulator": QEMU_I386, "arch": "x86_64", "virttype": "xen"},
    {"emulator": "/nonexistent/qemu-system-x86_64"},
    {"emulator": "{plain-file}"},
]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    return shared_qemu_oracle(tmp_path_factory)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> CapsCache:
    # The real /dev/kvm check: libvirt, on the same host, uses it too.
    return CapsCache(tmp_path_factory.mktemp("caps"))


def _guests(text: str) -> list[str]:
    doc = etree.fromstring(text.encode())
    return [etree.tostring(g, encoding="unicode").strip() for g in doc.findall("guest")]


def test_capabilities_guests_match_libvirt(oracle: QemuOracle, cache: CapsCache) -> None:
    ours = build_capabilities(cache).format()
    assert _guests(ours) == _guests(oracle.capabilities())


@pytest.fixture(scope="module")
def host_pair(oracle: QemuOracle, cache: CapsCache) -> tuple[etree._Element, etree._Element]:
    ours = etree.fromstring(build_capabilities(cache).format().encode())
    theirs = etree.fromstring(oracle.capabilities().encode())
    return ours, theirs


def test_host_cpu_matches_libvirt(host_pair: tuple[etree._Element, etree._Element]) -> None:
    ours, theirs = host_pair
    assert etree.tostring(child(ours, "host/cpu")) == etree.tostring(child(theirs, "host/cpu"))


@pytest.mark.parametrize("part", ["host/migration_features", "host/iommu", "host/power_management"])
def test_host_part_matches_libvirt(
    host_pair: tuple[etree._Element, etree._Element], part: str
) -> None:
    ours, theirs = host_pair
    assert etree.tostring(child(ours, part)) == etree.tostring(child(theirs, part))


def test_numa_layout_matches_libvirt(host_pair: tuple[etree._Element, etree._Element]) -> None:
    # Memory and free-page counts move between two reads; the layout does not.
    layout = [
        "host/topology/cells/cell/@id",
        "host/topology/cells/cell/pages/@size",
        "host/topology/cells/cell/distances/sibling/@value",
        "host/topology/cells/cell/cpus/cpu/@siblings",
        "host/topology/cells/cell/cpus/cpu/@core_id",
        "host/cache/bank/@size",
    ]
    ours, theirs = host_pair
    for xpath in layout:
        assert texts(ours, xpath) == texts(theirs, xpath), xpath


def _request_id(request: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in request.items()) or "defaults"


@pytest.mark.parametrize("request_", DOMCAPS_REQUESTS, ids=_request_id)
def test_domcapabilities_match_libvirt(
    oracle: QemuOracle, cache: CapsCache, request_: dict[str, str]
) -> None:
    theirs = oracle.domain_capabilities(**request_)
    ours = domain_capabilities_xml(
        cache,
        emulatorbin=request_.get("emulator"),
        arch=request_.get("arch"),
        machine=request_.get("machine"),
        virttype=request_.get("virttype"),
    )
    assert ours == theirs


@pytest.fixture(scope="module")
def plain_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file that exists but is not executable (both daemons see /tmp)."""
    path = tmp_path_factory.mktemp("plain") / "qemu-system-x86_64"
    path.write_text("")
    path.chmod(0o644)
    return str(path)


@pytest.mark.parametrize("request_", ERROR_REQUESTS, ids=_request_id)
def test_domcapabilities_errors_match_libvirt(
    oracle: QemuOracle, cache: CapsCache, plain_file: str, request_: dict[str, str]
) -> None:
    request_ = {k: plain_file if v == "{plain-file}" else v for k, v in request_.items()}
    with pytest.raises(OracleError) as theirs:
        oracle.domain_capabilities(**request_)
    with pytest.raises(VirtError) as ours:
        domain_capabilities_xml(
            cache,
            emulatorbin=request_.get("emulator"),
            arch=request_.get("arch"),
            machine=request_.get("machine"),
            virttype=request_.get("virttype"),
        )
    assert (int(ours.value.code), int(ours.value.domain), ours.value.message) == (
        theirs.value.code,
        theirs.value.domain,
        theirs.value.message,
    )
