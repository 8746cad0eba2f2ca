"""Statistics and the balloon of real QEMU guests (TCG): block, memory, set memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from qemu_guests import guest_xml, make_raw_disk, wait_until

from virtcore.connection import Connection
from virtcore.errors import InvalidArgError, OperationInvalidError
from virtcore.objects import Domain


def _running_with_disk(conn: Connection, root: Path) -> Domain:
    dom = conn.domain_define_xml(guest_xml("g", disk_file=make_raw_disk(root / "d.img")))
    dom.create()
    return dom


def test_block_stats_count_the_firmware_reading_the_boot_disk(
    conn: Connection, embed_root: Path
) -> None:
    dom = _running_with_disk(conn, embed_root)
    # SeaBIOS reads the boot sector of vda: at least one 512-byte read.
    assert wait_until(lambda: dom.block_stats("vda").rd_req >= 1)
    stats = dom.block_stats(str(embed_root / "d.img"))
    assert stats.rd_bytes >= 512 and stats.errs == -1


def test_block_stats_of_an_unknown_disk_is_an_invalid_path(
    conn: Connection, embed_root: Path
) -> None:
    dom = _running_with_disk(conn, embed_root)
    with pytest.raises(InvalidArgError) as err:
        dom.block_stats("vdz")
    assert str(err.value) == "invalid argument: invalid path: vdz"


def test_block_stats_of_a_stopped_guest_is_refused(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    with pytest.raises(OperationInvalidError):
        dom.block_stats("vda")


def test_memory_stats_report_the_balloon_and_qemus_rss(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    dom.create()
    stats = dom.memory_stats()
    assert stats["actual"] == 32 * 1024
    assert stats["rss"] > 0
    assert stats["last_update"] == 0  # libvirt reports it even before any guest update
    assert "swap_in" not in stats  # no guest balloon driver reports it


def test_set_memory_config_changes_current_memory_of_the_definition(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    dom.create()
    dom.set_memory(20 * 1024, 2)
    assert "<currentMemory unit='KiB'>20480</currentMemory>" in dom.xml_desc(2)
    assert "<currentMemory unit='KiB'>32768</currentMemory>" in dom.xml_desc()


def test_set_memory_above_the_maximum_is_refused(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    dom.create()
    with pytest.raises(InvalidArgError) as err:
        dom.set_memory(64 * 1024)
    assert str(err.value) == "invalid argument: cannot set memory higher than max memory"


def test_maximum_memory_of_a_running_guest_cannot_change_live(conn: Connection) -> None:
    dom = conn.domain_define_xml(guest_xml("g"))
    dom.create()
    with pytest.raises(OperationInvalidError) as err:
        dom.set_memory(64 * 1024, 0x4 | 0x1)
    assert "cannot resize the maximum memory on an active domain" in str(err.value)
