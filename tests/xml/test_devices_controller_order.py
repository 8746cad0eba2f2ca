"""Controller order: sorted by type and index when parsed, kept when never parsed again.

The data in tests/data/xml/controller-order was printed by libvirt 9.0's qemu
driver for a q35 guest whose definition names some PCIe ports: after
``define`` (the post-parse appended the PCIe root, a spare root port, the USB
and SATA controllers), the live XML of its first start (the same in-memory
definition: the appended order) and its inactive XML while it runs (the
persistent definition is then a re-parse: sorted).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from virtcore.enums.domain import DomainXMLFlags
from virtcore.xml.domain import Domain

DATA = Path(__file__).resolve().parents[1] / "data" / "xml" / "controller-order"
INACTIVE = int(DomainXMLFlags.INACTIVE)


def recorded(name: str) -> str:
    return (DATA / f"q35-root-ports.{name}.xml").read_text()


def controllers(xml: str) -> list[tuple[str | None, str | None, str | None]]:
    root = etree.fromstring(xml.encode())
    return [
        (node.get("type"), node.get("index"), node.get("model"))
        for node in root.iterfind("devices/controller")
    ]


def test_libvirts_two_orders_differ() -> None:
    # The premise of the tests below: the recorded outputs disagree on the order.
    assert controllers(recorded("live")) != controllers(recorded("running-inactive"))


def test_a_parse_sorts_the_appended_controllers_next_to_their_type() -> None:
    parsed = Domain.parse(recorded("defined"))
    assert parsed.format(INACTIVE) == recorded("running-inactive")


def test_a_kept_order_follows_the_document() -> None:
    kept = Domain.parse(recorded("defined"))
    kept.keep_controller_order()
    assert kept.controller_order_kept
    assert controllers(kept.format(INACTIVE)) == controllers(recorded("live"))


def test_the_kept_order_survives_changes_to_the_tree() -> None:
    kept = Domain.parse(recorded("defined"))
    kept.keep_controller_order()
    kept.id = 1
    kept.title = "changed"
    assert controllers(kept.format(live=True)) == controllers(recorded("live"))


def test_a_new_parse_of_a_kept_document_sorts_again() -> None:
    kept = Domain.parse(recorded("defined"))
    kept.keep_controller_order()
    again = Domain.parse(kept.format(INACTIVE))
    assert not again.controller_order_kept
    assert controllers(again.format(INACTIVE)) == controllers(recorded("running-inactive"))


def test_keeping_can_be_undone() -> None:
    kept = Domain.parse(recorded("defined"))
    kept.keep_controller_order()
    kept.keep_controller_order(False)
    assert controllers(kept.format(INACTIVE)) == controllers(recorded("running-inactive"))
