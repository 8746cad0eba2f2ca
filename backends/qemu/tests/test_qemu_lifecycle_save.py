"""Save, restore and managed save of real QEMU guests (TCG), in libvirt's image format."""

from __future__ import annotations

from pathlib import Path

import pytest
from qemu_guests import EventLog, guest_xml

from virtcore.connection import Connection
from virtcore.enums.domain import (
    DomainPausedReason,
    DomainRunningReason,
    DomainShutoffReason,
    DomainState,
)
from virtcore.enums.domain_events import (
    DomainEventID,
    DomainEventStartedDetailType,
    DomainEventStoppedDetailType,
    DomainEventSuspendedDetailType,
    DomainEventType,
)
from virtcore.errors import InvalidArgError, OperationFailedError, OperationInvalidError
from virtcore.objects import Domain

SAVED = (DomainEventType.STOPPED, DomainEventStoppedDetailType.SAVED)
RESTORED = (DomainEventType.STARTED, DomainEventStartedDetailType.RESTORED)


def _running(conn: Connection, name: str = "g") -> Domain:
    dom = conn.domain_define_xml(guest_xml(name))
    dom.create()
    return dom


def test_save_stops_the_guest_as_saved(
    conn: Connection, events: EventLog, embed_root: Path
) -> None:
    dom = _running(conn)
    image = embed_root / "g.save"
    dom.save(str(image))
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.SAVED)
    assert image.read_bytes()[:16] == b"LibvirtQemudSave"
    assert events.wait_for("g", DomainEventID.LIFECYCLE, SAVED)


def test_restore_runs_the_saved_guest_again(
    conn: Connection, events: EventLog, embed_root: Path
) -> None:
    dom = _running(conn)
    image = str(embed_root / "g.save")
    dom.save(image)
    conn.domain_restore(image)
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.RESTORED)
    assert events.wait_for("g", DomainEventID.LIFECYCLE, RESTORED)


def test_restore_paused_leaves_the_guest_paused(
    conn: Connection, events: EventLog, embed_root: Path
) -> None:
    dom = _running(conn)
    image = str(embed_root / "g.save")
    dom.save(image)
    conn.domain_restore(image, flags=0x4)
    assert dom.state() == (DomainState.PAUSED, DomainPausedReason.MIGRATION)
    paused = (DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.RESTORED)
    assert events.lifecycle("g")[-2:] == [RESTORED, paused]


def test_save_image_holds_the_domain_definition(conn: Connection, embed_root: Path) -> None:
    dom = _running(conn)
    image = str(embed_root / "g.save")
    dom.save(image)
    assert f"<uuid>{dom.uuid}</uuid>" in conn.save_image_get_xml_desc(image)


def test_restoring_something_else_fails_like_libvirt(conn: Connection, embed_root: Path) -> None:
    bogus = embed_root / "bogus.save"
    bogus.write_bytes(b"x" * 200)
    with pytest.raises(OperationFailedError) as err:
        conn.domain_restore(str(bogus))
    assert str(err.value) == "operation failed: image magic is incorrect"


def test_running_and_paused_flags_are_mutually_exclusive(conn: Connection) -> None:
    dom = _running(conn)
    with pytest.raises(InvalidArgError) as err:
        dom.save("/nonexistent", flags=0x6)
    assert "mutually exclusive" in str(err.value)
    assert dom.state().state == DomainState.RUNNING


def test_start_after_managed_save_restores_and_drops_the_image(
    conn: Connection, events: EventLog
) -> None:
    dom = _running(conn)
    dom.managed_save()
    assert dom.has_managed_save_image()
    assert dom.state() == (DomainState.SHUTOFF, DomainShutoffReason.SAVED)
    dom.create()
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.RESTORED)
    assert not dom.has_managed_save_image()
    assert events.wait_for("g", DomainEventID.LIFECYCLE, RESTORED)


def test_force_boot_discards_the_managed_save_image(conn: Connection) -> None:
    dom = _running(conn)
    dom.managed_save()
    dom.create(0x8)
    assert dom.state() == (DomainState.RUNNING, DomainRunningReason.BOOTED)
    assert not dom.has_managed_save_image()


def test_undefine_refuses_while_a_managed_save_image_exists(conn: Connection) -> None:
    dom = _running(conn)
    dom.managed_save()
    with pytest.raises(OperationInvalidError) as err:
        dom.undefine()
    assert "Refusing to undefine while domain managed save image exists" in str(err.value)
    dom.undefine(0x1)
    assert conn.list_defined_domains() == []


def test_managed_save_of_a_transient_guest_is_refused(conn: Connection) -> None:
    dom = conn.domain_create_xml(guest_xml("t"))
    with pytest.raises(OperationInvalidError) as err:
        dom.managed_save()
    assert str(err.value) == (
        "Requested operation is not valid: cannot do managed save for transient domain"
    )
