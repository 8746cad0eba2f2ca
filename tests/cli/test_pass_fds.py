"""``start --pass-fds`` and ``create --pass-fds`` against virsh, with descriptors passed.

libvirt's test driver accepts descriptors and ignores them
(``virDomainCreateWithFiles`` starts the domain as ``virDomainCreateWithFlags``
does, ``virDomainCreateXMLWithFiles`` creates it as ``virDomainCreateXML``);
virtcore's test driver answers both calls the same way, so each command line
is compared byte for byte with virsh on the real drivers. The descriptor list
virtcore parsed is checked by watching the connection calls go through.
Malformed lists are compared in ``test_diff_domain_lifecycle``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.cli.differential import DEFAULT, assert_same, run_virtcore
from virtcore.connection import Connection
from virtcore.objects import Domain

PASSING = {
    "start-one-fd": "destroy test; start test --pass-fds 3; list",
    "start-several-fds": "destroy test; start test --pass-fds 3,4,5",
    "start-signed-and-blank-fds": "destroy test; start test --pass-fds ' 3,+4,-1'",
    "start-fds-paused-unsupported": "destroy test; start test --pass-fds 3 --paused",
    "start-fds-force-boot": "managedsave test; start test --pass-fds 3 --force-boot",
    "start-fds-already-running": "start test --pass-fds 3",
    "create-with-fds": "create new.xml --pass-fds 3,4; list",
    "create-fds-paused-unsupported": "create new.xml --pass-fds 3 --paused",
    "create-fds-twice": "create new.xml --pass-fds 3; create new.xml --pass-fds 4",
}


@pytest.mark.parametrize("line", PASSING.values(), ids=PASSING.keys())
def test_passing_fds_matches_virsh(line: str, workdir: Path) -> None:
    assert_same(line, workdir, masks=["random-uuid"])


@pytest.fixture
def passed_fds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[int]]]:
    """The descriptor lists the command line hands the connection, calls left untouched."""
    calls: list[list[int]] = []
    start = Connection.domain_create_with_files
    create = Connection.domain_create_xml_with_files

    def watch_start(self: Connection, dom: Domain, files: Sequence[int], flags: int = 0) -> None:
        calls.append(list(files))
        start(self, dom, files, flags)

    def watch_create(self: Connection, xml: str, files: Sequence[int], flags: int = 0) -> Domain:
        calls.append(list(files))
        return create(self, xml, files, flags)

    monkeypatch.setattr(Connection, "domain_create_with_files", watch_start)
    monkeypatch.setattr(Connection, "domain_create_xml_with_files", watch_create)
    yield calls


def test_start_passes_the_parsed_descriptors(passed_fds: list[list[int]], workdir: Path) -> None:
    result = run_virtcore(
        ["-c", DEFAULT, "destroy test; start test --pass-fds ' 3,+4,-1'"], workdir
    )
    assert (result.status, passed_fds) == (0, [[3, 4, -1]])


def test_create_passes_the_parsed_descriptors(passed_fds: list[list[int]], workdir: Path) -> None:
    result = run_virtcore(["-c", DEFAULT, "create new.xml --pass-fds 7"], workdir)
    assert (result.status, passed_fds) == (0, [[7]])


def test_empty_fd_list_uses_the_plain_start(passed_fds: list[list[int]], workdir: Path) -> None:
    result = run_virtcore(["-c", DEFAULT, "destroy test; start test --pass-fds ''"], workdir)
    assert (result.status, passed_fds) == (0, [])
