"""``start --pass-fds`` and ``create --pass-fds`` against virsh, with descriptors passed.

libvirt's test driver accepts descriptors and ignores them
(``testDomainCreateWithFiles`` starts the domain with its flags, and
``virDomainCreateXMLWithFiles`` creates it); these tests give virtcore's
test driver the same two calls, recording the descriptors, so each command
line can be compared byte for byte with virsh and the list virtcore parsed
can be checked. Malformed lists are compared in ``test_diff_domain_lifecycle``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.differential import DEFAULT, assert_same, run_virtcore
from virtcore.connection import Connection
from virtcore.drivers.test.driver import reset_default_host
from virtcore.drivers.test.hypervisor import TestHypervisorDriver
from virtcore.objects import Domain

PASSING = {
    "start-one-fd": "destroy test; start test --pass-fds 3; list",
    "start-several-fds": "destroy test; start test --pass-fds 3,4,5",
    "start-signed-and-blank-fds": "destroy test; start test --pass-fds ' 3,+4,-1'",
    "start-fds-paused-unsupported": "destroy test; start test --pass-fds 3 --paused",
    "start-fds-force-boot": "managedsave test; start test --pass-fds 3 --force-boot",
    "create-with-fds": "create new.xml --pass-fds 3,4; list",
    "create-fds-paused-unsupported": "create new.xml --pass-fds 3 --paused",
}


@pytest.fixture
def passed_fds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[int]]]:
    """The test driver with libvirt's descriptor-taking calls; yields what each call got."""
    calls: list[list[int]] = []

    def create_with_files(
        self: TestHypervisorDriver, conn: Connection, dom: Domain, files: list[int], flags: int
    ) -> None:
        calls.append(list(files))
        self.domain_create_with_flags(conn, dom, flags)

    def create_xml_with_files(
        self: TestHypervisorDriver, conn: Connection, xml: str, files: list[int], flags: int
    ) -> Domain:
        calls.append(list(files))
        return self.domain_create_xml(conn, xml, flags)

    for name, func in (
        ("domain_create_with_files", create_with_files),
        ("domain_create_xml_with_files", create_xml_with_files),
    ):
        monkeypatch.setattr(TestHypervisorDriver, name, func, raising=False)
    reset_default_host()
    yield calls
    reset_default_host()


@pytest.mark.parametrize("line", PASSING.values(), ids=PASSING.keys())
def test_passing_fds_matches_virsh(line: str, passed_fds: list[list[int]], workdir: Path) -> None:
    assert_same(line, workdir)


def test_start_passes_the_parsed_descriptors(passed_fds: list[list[int]], workdir: Path) -> None:
    run_virtcore(["-c", DEFAULT, "destroy test; start test --pass-fds ' 3,+4,-1'"], workdir)
    assert passed_fds == [[3, 4, -1]]


def test_create_passes_the_parsed_descriptors(passed_fds: list[list[int]], workdir: Path) -> None:
    run_virtcore(["-c", DEFAULT, "create new.xml --pass-fds 7"], workdir)
    assert passed_fds == [[7]]


def test_empty_fd_list_uses_the_plain_start(passed_fds: list[list[int]], workdir: Path) -> None:
    result = run_virtcore(["-c", DEFAULT, "destroy test; start test --pass-fds ''"], workdir)
    assert (result.status, passed_fds) == (0, [])
