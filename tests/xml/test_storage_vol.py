"""The storage volume document: units, formats per pool type, libvirt's checks and exact output.

Golden files tests/data/xml/storage/vol-<case>.xml were recorded from
libvirt 9.0's test driver after ``vol-create`` of vol-<case>.input.xml in
its ``default-pool`` (a ``dir`` pool at /default-pool); the driver names the
volume's path and key after the pool, which :func:`in_default_pool` does as
a driver would. errors.json holds the errors libvirt raised for refused
volumes (re-checked against live libvirt by test_storage_differential.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import VirtError, XMLError
from virtcore.xml.storage_vol import StorageVolume
from virtcore.xml.validate import validate

DATA = Path(__file__).parent.parent / "data" / "xml" / "storage"
CASES = sorted(p.name[: -len(".input.xml")] for p in DATA.glob("vol-*.input.xml"))
ERRORS: list[dict[str, Any]] = [
    c for c in json.loads((DATA / "errors.json").read_text()) if c["kind"] == "volume"
]


def in_default_pool(volume: StorageVolume) -> StorageVolume:
    """Place the volume in the test driver's default pool, as its driver does."""
    volume.key = volume.target_path = f"/default-pool/{volume.name}"
    return volume


def created(name: str) -> StorageVolume:
    return in_default_pool(StorageVolume.parse((DATA / f"{name}.input.xml").read_text()))


def refusal(text: str, pool_type: str = "dir") -> VirtError:
    with pytest.raises(VirtError) as info:
        StorageVolume.parse(text, pool_type=pool_type)
    return info.value


# -- libvirt's output ------------------------------------------------------------------


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    formats = {created(name).definition().target.format for name in CASES}
    assert len(formats) >= 10


@pytest.mark.parametrize("name", CASES)
def test_format_is_what_libvirt_prints_after_vol_create(name: str) -> None:
    assert created(name).format() == (DATA / f"{name}.xml").read_text()


@pytest.mark.parametrize("name", CASES)
def test_formatted_volume_validates_against_libvirts_schema(
    name: str, libvirt_schemas: Path
) -> None:
    validate(etree.fromstring(created(name).format().encode()), "storagevol.rng")


@pytest.mark.parametrize("name", CASES)
def test_formatting_is_a_fixed_point(name: str) -> None:
    text = created(name).format()
    assert StorageVolume.parse(text).format() == text


@pytest.mark.parametrize(
    ("capacity", "unit", "size"),
    [("1", None, 1), ("10", "G", 10 * 1024**3), ("5", "GB", 5 * 10**9), ("3", "KiB", 3072),
     ("2", "b", 2), ("1", "T", 1024**4), ("+7", "M", 7 * 1024**2)],
)  # fmt: skip
def test_sizes_are_read_in_libvirts_units(capacity: str, unit: str | None, size: int) -> None:
    unit_attr = f" unit='{unit}'" if unit else ""
    volume = StorageVolume.parse(
        f"<volume><name>v</name><capacity{unit_attr}>{capacity}</capacity></volume>"
    )
    definition = volume.definition()
    assert (definition.capacity, definition.allocation) == (size, size)


def test_allocation_defaults_to_the_capacity() -> None:
    definition = StorageVolume.parse(
        "<volume><name>v</name><capacity unit='M'>4</capacity></volume>"
    ).definition()
    assert definition.allocation == 4 * 1024**2


def test_capacity_may_be_left_out_when_the_caller_says_so() -> None:
    text = "<volume><name>v</name><backingStore><path>/b</path></backingStore></volume>"
    assert refusal(text).message == "XML error: missing capacity element"
    assert StorageVolume.from_xml(text).definition(flags=2).capacity == 0
    assert StorageVolume.from_xml("<volume><name>v</name></volume>").definition(flags=1)


def test_live_sizes_timestamps_and_extents_come_from_the_driver() -> None:
    volume = StorageVolume.parse(
        "<volume><name>v</name><capacity>10</capacity><physical>5</physical>"
        "<target><timestamps><atime>1</atime></timestamps></target></volume>"
    )
    assert volume.physical is None and volume.target.atime is None
    volume.physical = 4096
    volume.target.mtime = "1700000000.000000001"
    volume.extents = [("/dev/sda", 0, 10), ("/dev/sda", 20, 30), ("/dev/sdb", 0, 5)]
    text = in_default_pool(volume).format()
    assert "<physical unit='bytes'>4096</physical>" in text
    assert "<timestamps>\n      <mtime>1700000000.000000001</mtime>\n    </timestamps>" in text
    assert text.count("<device path=") == 2 and text.count("<extent ") == 3


def test_formats_depend_on_the_pool_type() -> None:
    partition = "<volume><name>v</name><capacity>1</capacity><target><format type='linux'/></target></volume>"  # noqa: E501
    assert "<format type='linux'/>" in StorageVolume.parse(partition, pool_type="disk").format(
        pool_type="disk"
    )
    assert (
        refusal(partition).message == "unsupported configuration: unknown volume format type linux"
    )
    logical = StorageVolume.parse(partition, pool_type="logical").format(pool_type="logical")
    assert "<format" not in logical


def test_the_none_format_is_a_partition_type_not_a_file_format() -> None:
    text = "<volume><name>v</name><capacity>1</capacity><target><format type='none'/></target></volume>"  # noqa: E501
    assert refusal(text).message == "unsupported configuration: unknown volume format type none"
    assert StorageVolume.parse(text, pool_type="disk").definition("disk").target.format == "none"


# -- libvirt's checks ------------------------------------------------------------------


@pytest.mark.parametrize("case", ERRORS, ids=[c["name"] for c in ERRORS])
def test_refused_volume_gets_libvirts_exact_error(case: dict[str, Any]) -> None:
    error = refusal(case["xml"])
    assert (int(error.code), int(error.domain), error.message) == (
        case["code"],
        case["domain"],
        case["message"],
    )


def test_error_corpus_is_large_and_varied() -> None:
    assert len(ERRORS) >= 30


def test_oversized_capacity_is_an_overflow() -> None:
    error = refusal("<volume><name>v</name><capacity unit='E'>8</capacity></volume>")
    assert (error.code, error.domain) == (ErrorNumber.OVERFLOW, ErrorDomain.NONE)


def test_syntax_errors_name_the_volume_definition() -> None:
    with pytest.raises(XMLError, match=r"^\(storage_volume_definition\):1:"):
        StorageVolume.parse("<volume>")


# -- the editable view -----------------------------------------------------------------

BUILT = """<volume type='file'>
  <name>built.qcow2</name>
  <key>/default-pool/built.qcow2</key>
  <capacity unit='bytes'>10737418240</capacity>
  <allocation unit='bytes'>0</allocation>
  <target>
    <path>/default-pool/built.qcow2</path>
    <format type='qcow2'/>
    <permissions>
      <mode>0600</mode>
    </permissions>
    <encryption format='luks'>
      <secret type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/>
    </encryption>
    <compat>1.1</compat>
    <features>
      <lazy_refcounts/>
    </features>
  </target>
  <backingStore>
    <path>/images/base.qcow2</path>
    <format type='qcow2'/>
  </backingStore>
</volume>
"""


def test_a_volume_built_from_scratch_formats_like_libvirt() -> None:
    volume = StorageVolume()
    volume.name = "built.qcow2"
    volume.capacity = 10 * 1024**3
    volume.allocation = 0
    volume.target.format = "qcow2"
    volume.target.mode = "0600"
    volume.target.encryption.format = "luks"
    secret = volume.target.encryption.secrets.append()
    secret.type, secret.uuid = "passphrase", "f52a81b2-424e-490c-823d-6bd4235bc572"
    volume.target.lazy_refcounts = True
    volume.backing_store.path = "/images/base.qcow2"
    volume.backing_store.format = "qcow2"
    assert in_default_pool(volume).format() == BUILT


def test_unknown_content_survives_edits() -> None:
    volume = StorageVolume.from_xml(
        "<volume><name>v</name><capacity>1</capacity><future a='b'/>"
        "<target><format type='raw'/><later/></target></volume>"
    )
    volume.target.format = "qcow2"
    volume.capacity = 2048
    text = volume.to_string()
    assert "<future a='b'/>" in text and "<later/>" in text
    assert "<capacity unit='bytes'>2048</capacity>" in text
