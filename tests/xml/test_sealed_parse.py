"""A parsed domain's kept definition: no snapshot until the tree is handed out, changes seen.

``Domain.parse`` keeps the definition it read; ``format`` uses it while the
tree is unchanged. Until anything but ``parse`` reaches the tree (every way
to it passes ``Domain._find``) nothing can change it, so no snapshot of the
tree is taken; the first hand-out takes it, before any change.
"""

from __future__ import annotations

import copy

import pytest

from virtcore.xml.domain import Domain, model

DOCUMENT = """<domain type='test'>
  <name>sealed</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory>1048576</memory>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/a.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


@pytest.fixture
def snapshots(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    taken: list[str] = []
    real = model._snapshot

    def counting(root: object) -> str:
        text = real(root)  # type: ignore[arg-type]
        taken.append(text)
        return text

    monkeypatch.setattr(model, "_snapshot", counting)
    return taken


def test_parse_then_format_takes_no_snapshot(snapshots: list[str]) -> None:
    domain = Domain.parse(DOCUMENT)
    domain.format()
    domain.format()
    assert snapshots == []


def test_the_first_hand_out_of_the_tree_takes_the_snapshot_before_any_change(
    snapshots: list[str],
) -> None:
    domain = Domain.parse(DOCUMENT)
    domain.element.find("name").text = "changed"  # type: ignore[union-attr]
    assert "<name>sealed</name>" in snapshots[0]
    assert "<name>changed</name>" in domain.format()


def test_a_change_through_a_property_is_formatted() -> None:
    domain = Domain.parse(DOCUMENT)
    domain.format()
    domain.name = "renamed"
    assert "<name>renamed</name>" in domain.format()


def test_a_change_through_a_child_model_is_formatted() -> None:
    domain = Domain.parse(DOCUMENT)
    domain.devices.disks[0].source_file = "/var/lib/b.img"
    assert "file='/var/lib/b.img'" in domain.format()


def test_a_change_through_an_xpath_result_is_formatted() -> None:
    domain = Domain.parse(DOCUMENT)
    (target,) = domain.xpath("./devices/disk/target")
    target.set("dev", "vdz")
    assert "dev='vdz'" in domain.format()


def test_an_unchanged_tree_handed_out_keeps_its_definition(snapshots: list[str]) -> None:
    domain = Domain.parse(DOCUMENT)
    first = domain._checked()
    assert domain.name == "sealed"
    assert domain._checked() is first
    assert len(snapshots) == 2  # taken at the hand-out, compared at the check


def test_a_document_parsed_without_validation_is_validated_before_formatting() -> None:
    domain = Domain.parse(DOCUMENT, validate=False)
    assert "<name>sealed</name>" in domain.format()


def test_a_change_through_a_shallow_copy_is_formatted_by_the_original() -> None:
    domain = Domain.parse(DOCUMENT)
    clone = copy.copy(domain)
    clone.name = "through-copy"
    assert "<name>through-copy</name>" in domain.format()


def test_a_deep_copy_formats_as_the_original_and_changes_alone() -> None:
    domain = Domain.parse(DOCUMENT)
    clone = copy.deepcopy(domain)
    assert clone.format() == domain.format()
    clone.name = "deep"
    assert "<name>deep</name>" in clone.format()
    assert "<name>sealed</name>" in domain.format()
