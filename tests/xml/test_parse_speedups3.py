"""What a domain parse does less of, and the answers that must stay the same.

* A document whose interfaces all have a MAC address is read once, by a
  read that stops at the first interface without one; such a document gets
  its addresses in the tree and is read again, the UUIDs the factory made
  for the first read handed out again in the same order, and an error of
  the first read is the completed tree's error.
* What the parse generates for the tree (the UUID, the generation id, the
  test driver's interface names; the ``id`` dropped) is written when the
  tree is first handed out, once, before the snapshot of the kept
  definition is taken.
* A plain ASCII document without an XML declaration, too short to nest too
  deep, skips the checks of the syntax errors only other documents can have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from lxml import etree

from virtcore.errors import VirtError
from virtcore.xml.domain import Domain, model
from virtcore.xml.parse import XMLParseError, parse_document
from virtcore.xml.syntax import _SHALLOW_SIZE, MAX_DEPTH, find_error, new_parser

UUID = "12345678-1234-5678-1234-567812345678"
WITH_MAC = (
    "<interface type='network'><mac address='52:54:00:00:00:01'/>"
    "<source network='default'/></interface>"
)
WITHOUT_MAC = "<interface type='network'><source network='default'/></interface>"


def document(body: str = "", *, head: str = f"<uuid>{UUID}</uuid>", attrs: str = "") -> str:
    return (
        f"<domain type='test'{attrs}><name>vm</name>{head}"
        "<memory unit='MiB'>64</memory><os><type>hvm</type></os>"
        f"<devices>{body}</devices></domain>"
    )


def counting_uuids() -> tuple[Callable[[], bytes], list[bytes]]:
    made: list[bytes] = []

    def factory() -> bytes:
        value = bytes([len(made) + 1] * 16)
        made.append(value)
        return value

    return factory, made


def macs(*values: str) -> tuple[Callable[[], str], list[str]]:
    given: list[str] = []
    pending: Iterator[str] = iter(values)

    def generator() -> str:
        value = next(pending)
        given.append(value)
        return value

    return generator, given


# -- interfaces without a MAC address ---------------------------------------------------------


def test_a_document_with_every_mac_never_calls_the_generator() -> None:
    generator, given = macs()

    Domain.parse(document(WITH_MAC + WITH_MAC.replace(":01", ":02")), mac_generator=generator)

    assert given == []


def test_each_interface_without_a_mac_gets_the_next_generated_one() -> None:
    generator, given = macs("52:54:00:aa:aa:01", "52:54:00:aa:aa:02")

    domain = Domain.parse(document(WITHOUT_MAC + WITH_MAC + WITHOUT_MAC), mac_generator=generator)

    assert given == ["52:54:00:aa:aa:01", "52:54:00:aa:aa:02"]
    assert [m.get("address") for m in domain.element.iter("mac")] == [
        "52:54:00:aa:aa:01",
        "52:54:00:00:00:01",
        "52:54:00:aa:aa:02",
    ]


def test_a_generated_mac_is_the_one_formatted() -> None:
    generator, _ = macs("52:54:00:AB:CD:EF")

    domain = Domain.parse(document(WITHOUT_MAC), mac_generator=generator)

    assert "<mac address='52:54:00:ab:cd:ef'/>" in domain.format()


def test_a_document_read_twice_takes_each_generated_uuid_once() -> None:
    factory, made = counting_uuids()
    generator, _ = macs("52:54:00:aa:aa:01")

    domain = Domain.parse(
        document(WITHOUT_MAC, head="<genid/>"), uuid_factory=factory, mac_generator=generator
    )

    assert len(made) == 2
    assert domain.uuid == "01010101-0101-0101-0101-010101010101"
    assert domain.genid == "02020202-0202-0202-0202-020202020202"
    assert "<uuid>01010101-0101-0101-0101-010101010101</uuid>" in domain.format()


def test_a_document_read_once_takes_its_generated_uuid_once() -> None:
    factory, made = counting_uuids()

    domain = Domain.parse(document(WITH_MAC, head=""), uuid_factory=factory)

    assert len(made) == 1
    assert domain.uuid == "01010101-0101-0101-0101-010101010101"


def test_an_error_after_an_interface_without_mac_is_the_completed_trees_error() -> None:
    # The tree gets the (unusable) address first, so its interface fails before the video.
    generator, _ = macs("not-a-mac")
    body = WITHOUT_MAC + "<video><model type='bogus'/></video>"

    with pytest.raises(VirtError, match="unable to parse mac address 'not-a-mac'"):
        Domain.parse(document(body), mac_generator=generator)


def test_an_error_of_a_document_with_every_mac_is_raised_as_read() -> None:
    generator, given = macs()
    body = WITH_MAC + "<video><model type='bogus'/></video>"

    with pytest.raises(VirtError, match="unknown video model 'bogus'"):
        Domain.parse(document(body), mac_generator=generator)
    assert given == []


def test_an_interface_without_mac_does_not_hide_a_later_error() -> None:
    generator, given = macs("52:54:00:aa:aa:01")
    body = WITHOUT_MAC + "<video><model type='bogus'/></video>"

    with pytest.raises(VirtError, match="unknown video model 'bogus'"):
        Domain.parse(document(body), mac_generator=generator)
    assert given == ["52:54:00:aa:aa:01"]


# -- what the parse writes into the tree ------------------------------------------------------


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> list[Domain]:
    done: list[Domain] = []
    real = Domain._store_generated

    def counting(self: Domain, *args: object) -> None:
        done.append(self)
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Domain, "_store_generated", counting)
    return done


def test_parse_then_format_writes_nothing_into_the_tree(stores: list[Domain]) -> None:
    domain = Domain.parse(document(WITH_MAC, head=""), test_ifnames=True)

    formatted = domain.format()

    assert stores == []
    assert "<target dev='testnet0'/>" in formatted


def test_the_generated_values_are_written_once_when_the_tree_is_handed_out(
    stores: list[Domain],
) -> None:
    domain = Domain.parse(document(WITH_MAC), test_ifnames=True)

    domain.element  # noqa: B018 - the hand-out itself
    targets = domain.element.findall("devices/interface/target")

    assert stores == [domain]
    assert [t.get("dev") for t in targets] == ["testnet0"]


def test_the_snapshot_holds_what_the_parse_generated(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[str] = []
    real = model._snapshot

    def recording(root: etree._Element) -> str:
        text = real(root)
        taken.append(text)
        return text

    monkeypatch.setattr(model, "_snapshot", recording)
    factory, _ = counting_uuids()
    domain = Domain.parse(document(WITH_MAC, head=""), uuid_factory=factory, test_ifnames=True)
    kept = domain.__dict__["_kept_definitions"][False][1]

    domain.element  # noqa: B018 - the hand-out itself
    domain.format()

    assert '<target dev="testnet0"/>' in taken[0]
    assert "<uuid>01010101-0101-0101-0101-010101010101</uuid>" in taken[0]
    assert domain.__dict__["_kept_definitions"][False][1] is kept


def test_the_id_of_an_inactive_parse_is_gone_when_the_tree_is_handed_out() -> None:
    domain = Domain.parse(document(attrs=" id='7'"))

    assert domain.element.get("id") is None
    assert domain.id is None


def test_the_id_of_a_live_parse_stays() -> None:
    domain = Domain.parse(document(attrs=" id='7'"), inactive=False)

    assert domain.id == 7


def test_a_generated_genid_is_in_the_tree() -> None:
    factory, _ = counting_uuids()

    domain = Domain.parse(document(head=f"<uuid>{UUID}</uuid><genid/>"), uuid_factory=factory)

    assert domain.genid == "01010101-0101-0101-0101-010101010101"


def test_a_parse_without_validation_is_validated_with_what_it_generated() -> None:
    domain = Domain.parse(document(WITH_MAC, head=""), validate=False, test_ifnames=True)

    checked = domain.validate()

    assert checked.devices_def is not None
    assert [n.ifname for n in checked.devices_def.interfaces] == ["testnet0"]
    assert domain.element.find("uuid") is not None


# -- the syntax checks a plain document skips ------------------------------------------------


def nested(levels: int) -> str:
    return "<a>" * (levels - 1) + "<a/>" + "</a>" * (levels - 1)


def test_the_shallow_size_is_that_of_the_shortest_document_nested_too_deep() -> None:
    assert len(nested(MAX_DEPTH + 1)) == _SHALLOW_SIZE


def test_the_shortest_document_nested_too_deep_is_refused() -> None:
    with pytest.raises(XMLParseError, match="Excessive depth in document"):
        parse_document(nested(MAX_DEPTH + 1), url=None)


def test_the_deepest_document_allowed_is_parsed() -> None:
    assert parse_document(nested(MAX_DEPTH), url=None).tag == "a"


def test_a_plain_document_has_no_error() -> None:
    data = document().encode()
    tree = etree.fromstring(data, new_parser())

    assert find_error(data, None, tree) is None


def test_an_unknown_encoding_declared_is_still_refused() -> None:
    text = "<?xml version='1.0' encoding='no-such-charset'?><domain/>"

    with pytest.raises(XMLParseError, match="Unsupported encoding no-such-charset"):
        parse_document(text)


def test_a_non_character_is_still_refused() -> None:
    with pytest.raises(XMLParseError, match="Char 0xFFFE out of allowed range"):
        parse_document("<domain><name>\ufffe</name></domain>")
