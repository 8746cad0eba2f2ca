"""Secret and network filter commands, on virtcore's test host (which has both drivers).

libvirt's own test driver has neither, so these commands cannot be compared
with virsh on ``test:///default``; the expected texts follow virsh 9.0's
formats, and the failure path of a driver without them is checked against
virsh's messages.
"""

from __future__ import annotations

import base64
from pathlib import Path

from tests.cli.differential import DEFAULT, run_virtcore

UUID = "aaaaaaaa-2222-3333-4444-555555555555"
SECRET_XML = f"""<secret ephemeral='no' private='no'>
  <uuid>{UUID}</uuid>
  <usage type='volume'>
    <volume>/var/lib/v.img</volume>
  </usage>
</secret>
"""
UNUSED_XML = """<secret ephemeral='no' private='no'>
  <uuid>bbbbbbbb-2222-3333-4444-555555555555</uuid>
</secret>
"""
FILTER_XML = """<filter name='no-spoof' chain='root'>
  <uuid>cccccccc-2222-3333-4444-555555555555</uuid>
  <rule action='drop' direction='out' priority='500'>
    <mac match='no' srcmacaddr='$MAC'/>
  </rule>
</filter>
"""


def run(line: str, cwd: Path) -> tuple[str, str, int]:
    (cwd / "secret.xml").write_text(SECRET_XML)
    (cwd / "unused.xml").write_text(UNUSED_XML)
    (cwd / "filter.xml").write_text(FILTER_XML)
    result = run_virtcore(["-c", DEFAULT, line], cwd)
    return result.out, result.err, result.status


def test_secret_define_and_list(workdir: Path) -> None:
    out, err, status = run(
        "secret-define secret.xml; secret-define unused.xml; secret-list", workdir
    )
    assert status == 0, err
    assert out == (
        f"Secret {UUID} created\n\n"
        "Secret bbbbbbbb-2222-3333-4444-555555555555 created\n\n"
        " UUID                                   Usage\n" + "-" * 63 + "\n"
        f" {UUID}   volume /var/lib/v.img\n"
        " bbbbbbbb-2222-3333-4444-555555555555   Unused\n\n"
    )


def test_secret_value_round_trip_in_base64_and_plain(workdir: Path) -> None:
    line = (
        f"secret-define secret.xml; secret-set-value {UUID} --base64 aGVsbG8=; "
        f"secret-get-value {UUID}; secret-get-value {UUID} --plain"
    )
    out, err, status = run(line, workdir)
    assert status == 0
    assert out.endswith("Secret value set\n\naGVsbG8=\n\nhello\n")
    assert err == "error: Passing secret value as command-line argument is insecure!\n"


def test_secret_value_from_a_file(workdir: Path) -> None:
    (workdir / "value.b64").write_text(base64.b64encode(b"s3cret").decode() + "\n")
    (workdir / "value.raw").write_bytes(b"raw!")
    line = (
        f"secret-define secret.xml; secret-set-value {UUID} --file value.b64; "
        f"secret-get-value {UUID} --plain; secret-set-value {UUID} --file value.raw --plain; "
        f"secret-get-value {UUID}"
    )
    out, _, status = run(line, workdir)
    assert status == 0
    assert "s3cret" in out
    assert out.endswith(base64.b64encode(b"raw!").decode() + "\n\n")


def test_secret_set_value_needs_a_value(workdir: Path) -> None:
    _, err, status = run(f"secret-define secret.xml; secret-set-value {UUID}", workdir)
    assert (err, status) == ("error: Input secret value is missing\n", 1)


def test_secret_set_value_exclusive_sources(workdir: Path) -> None:
    _, err, _ = run(f"secret-set-value {UUID} --file x --base64 y", workdir)
    assert err == "error: Options --file and --base64 are mutually exclusive\n"


def test_secret_dumpxml_and_undefine(workdir: Path) -> None:
    out, _, status = run(
        f"secret-define secret.xml; secret-dumpxml {UUID} --xpath //volume; "
        f"secret-undefine {UUID}; secret-list",
        workdir,
    )
    assert status == 0
    assert "<volume>/var/lib/v.img</volume>\n" in out
    assert f"Secret {UUID} deleted\n" in out
    assert out.endswith(" UUID   Usage\n---------------\n\n")


def test_secret_lookup_needs_a_valid_uuid(workdir: Path) -> None:
    _, err, status = run("secret-dumpxml nosuch", workdir)
    assert status == 1
    assert err == (
        "error: failed to get secret 'nosuch'\n"
        "error: uuidstr in virSecretLookupByUUIDString must be a valid UUID\n"
    )


def test_nwfilter_define_list_dump_undefine(workdir: Path) -> None:
    line = (
        "nwfilter-define filter.xml; nwfilter-list; "
        "nwfilter-dumpxml no-spoof --xpath //rule/@action; "
        "nwfilter-undefine no-spoof; nwfilter-list"
    )
    out, err, status = run(line, workdir)
    assert status == 0, err
    assert out == (
        "Network filter no-spoof defined from filter.xml\n\n"
        " UUID                                   Name\n" + "-" * 50 + "\n"
        " cccccccc-2222-3333-4444-555555555555   no-spoof\n\n"
        ' action="drop"\n\n'
        "Network filter no-spoof undefined\n\n"
        " UUID   Name\n--------------\n\n"
    )


def test_nwfilter_lookup_by_uuid(workdir: Path) -> None:
    out, _, status = run(
        "nwfilter-define filter.xml; nwfilter-dumpxml cccccccc-2222-3333-4444-555555555555 "
        "--xpath /filter/@name",
        workdir,
    )
    assert status == 0 and out.endswith(' name="no-spoof"\n\n')


def test_nwfilter_missing(workdir: Path) -> None:
    _, err, status = run("nwfilter-dumpxml nosuch", workdir)
    assert status == 1
    assert err.startswith("error: failed to get nwfilter 'nosuch'\nerror: ")
