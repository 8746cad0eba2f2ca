"""The ``event`` command: formatting every domain event as virsh does, and waiting for events."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import virtcore
from virtcore.cli import main
from virtcore.cli.event_cmds import EVENT_NAMES, format_event
from virtcore.connection import Connection
from virtcore.enums.domain import DomainMetadataType
from virtcore.testing import PrivateHost, create_host

SAFETY_TIMEOUT = 30.0


@pytest.mark.parametrize(
    ("event_id", "args", "text"),
    [
        (0, (5, 1), "event 'lifecycle' for domain 'd': Stopped Destroyed\n"),
        (0, (2, 0), "event 'lifecycle' for domain 'd': Started Booted\n"),
        (0, (99, 0), "event 'lifecycle' for domain 'd': unknown unknown\n"),
        (1, (), "event 'reboot' for domain 'd'\n"),
        (2, (-3600,), "event 'rtc-change' for domain 'd': -3600\n"),
        (3, (1,), "event 'watchdog' for domain 'd': reset\n"),
        (4, ("/p", "vda", 1), "event 'io-error' for domain 'd': /p (vda) pause\n"),
        (
            6,
            ("/p", "vda", 2, "enospc"),
            "event 'io-error-reason' for domain 'd': /p (vda) report due to enospc\n",
        ),
        (8, ("vda", 2, 0), "event 'block-job' for domain 'd': Block Copy for vda completed\n"),
        (16, ("vda", 1, 3), "event 'block-job-2' for domain 'd': Block Pull for vda ready\n"),
        (
            9,
            ("/a", "/b", "cd", 0),
            "event 'disk-change' for domain 'd' disk cd: /a -> /b: changed\n",
        ),
        (10, ("cd", 0), "event 'tray-change' for domain 'd' disk cd: opened\n"),
        (11, (0,), "event 'pmwakeup' for domain 'd'\n"),
        (13, (1024,), "event 'balloon-change' for domain 'd': 1024KiB\n"),
        (15, ("net0",), "event 'device-removed' for domain 'd': net0\n"),
        (
            17,
            ({"cputune.vcpu0": "0-1"},),
            "event 'tunable' for domain 'd':\n\tcputune.vcpu0: 0-1\n",
        ),
        (
            18,
            (1, 2),
            "event 'agent-lifecycle' for domain 'd': state: 'connected' reason: 'channel event'\n",
        ),
        (20, (3,), "event 'migration-iteration' for domain 'd': iteration: '3'\n"),
        (23, (1, None), "event 'metadata-change' for domain 'd': type title, uri (null)\n"),
        (24, ("vda", "/p", 100, 5), "event 'block-threshold' for domain 'd': dev: vda(/p) 100 5\n"),
        (
            26,
            ("dimm0", 2048),
            "event 'memory-device-size-change' for domain 'd':\nalias: dimm0\nsize: 2048\n",
        ),
    ],
)
def test_events_are_printed_in_virsh_format(
    event_id: int, args: tuple[Any, ...], text: str
) -> None:
    assert format_event(event_id, "d", args) == text


def test_every_event_type_has_a_name() -> None:
    assert len(EVENT_NAMES) == 27 and EVENT_NAMES[0] == "lifecycle"


@pytest.fixture
def host() -> Iterator[PrivateHost]:
    with create_host() as private:
        yield private


def _run_in_thread(argv: list[str]) -> tuple[threading.Thread, io.StringIO, list[int]]:
    out = io.StringIO()
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(main(argv, out=out, err=io.StringIO())))
    thread.start()
    return thread, out, status


def test_first_event_ends_a_one_shot_wait(host: PrivateHost) -> None:
    thread, out, status = _run_in_thread(
        ["-c", host.uri, "event --event metadata-change --timeout 60"]
    )
    with virtcore.open(host.uri) as conn:
        dom = conn.domain_lookup_by_name("test")
        # The command registers on its own thread; keep causing the event until it has seen one.
        while thread.is_alive():
            dom.set_metadata(DomainMetadataType.TITLE, "t")
            thread.join(0.05)
    assert status == [0]
    assert out.getvalue() == (
        "event 'metadata-change' for domain 'test': type title, uri (null)\nevents received: 1\n\n"
    )


def test_loop_prints_every_event_until_the_timeout(
    host: PrivateHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered = threading.Event()
    original = Connection.event_register

    def register(self: Connection, *args: Any, **kwargs: Any) -> int:
        result = original(self, *args, **kwargs)
        registered.set()
        return result

    monkeypatch.setattr(Connection, "event_register", register)
    thread, out, status = _run_in_thread(
        ["-c", host.uri, "event --event lifecycle --loop --timeout 1"]
    )
    assert registered.wait(SAFETY_TIMEOUT)
    with virtcore.open(host.uri) as conn:
        dom = conn.domain_lookup_by_name("test")
        dom.suspend()
        dom.resume()
    thread.join(SAFETY_TIMEOUT)
    assert status == [0]
    assert out.getvalue() == (
        "event 'lifecycle' for domain 'test': Suspended Paused\n"
        "event 'lifecycle' for domain 'test': Resumed Unpaused\n"
        "event loop timed out\n"
        "events received: 2\n\n"
    )


def test_domain_filter_ignores_other_domains(host: PrivateHost) -> None:
    with virtcore.open(host.uri) as conn:
        conn.domain_define_xml(
            "<domain type='test'><name>other</name><memory>1024</memory>"
            "<os><type>hvm</type></os></domain>"
        )
    thread, out, status = _run_in_thread(
        ["-c", host.uri, "event --domain test --event lifecycle --timeout 60"]
    )
    with virtcore.open(host.uri) as conn:
        other = conn.domain_lookup_by_name("other")
        test = conn.domain_lookup_by_name("test")
        while thread.is_alive():
            other.create()
            other.destroy()
            test.suspend()
            test.resume()
            thread.join(0.05)
    assert "for domain 'other'" not in out.getvalue()
    assert out.getvalue().startswith("event 'lifecycle' for domain 'test': ")
    assert status == [0]
