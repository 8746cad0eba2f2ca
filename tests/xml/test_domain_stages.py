"""The stages of a domain definition: parse, a driver's post-parse, validate, live output.

libvirt parses a document, runs the post-parse (its own and the driver's
callbacks) and only then validates it (``virDomainDefValidate``), so a
driver's defaults can complete a definition before it is checked.
:meth:`Domain.parse` with ``validate=False`` and :meth:`Domain.validate`
give a driver those steps; :meth:`Domain.keep_definition` lets it keep what
its processing made of the document. A running domain's definition is read
as libvirt reads its status XML, so runtime data (pty paths, aliases)
appears in its live output (``format(live=True)``).
"""

from __future__ import annotations

import pytest

from virtcore.enums.domain import DomainXMLFlags
from virtcore.errors import ConfigUnsupportedError, XMLError
from virtcore.xml.domain import Domain

UUID = "12345678-1234-5678-1234-567812345678"


def document(devices: str, *, running: bool = False) -> str:
    ident = " id='7'" if running else ""
    return (
        f"<domain type='qemu'{ident}><name>vm</name><uuid>{UUID}</uuid>"
        "<memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>"
        f"<devices>{devices}</devices></domain>"
    )


REDIRDEV = "<redirdev bus='usb' type='tcp'><source host='localhost' service='4000'/></redirdev>"
VNC_AUDIO = "<graphics type='vnc' port='-1'><audio id='1'/></graphics>"
PTY_SERIAL = (
    "<serial type='pty'><source path='/dev/pts/3'/><target port='0'/>"
    "<alias name='serial0'/></serial>"
)


# -- parse, post-parse, validate ------------------------------------------------------------


def test_parse_validates_by_default() -> None:
    with pytest.raises(ConfigUnsupportedError) as raised:
        Domain.parse(document(REDIRDEV))
    assert raised.value.message == (
        "unsupported configuration: cannot add redirected USB device: "
        "USB is disabled for this domain"
    )


def test_parse_without_validation_accepts_what_a_driver_default_completes() -> None:
    domain = Domain.parse(document(REDIRDEV), validate=False)

    assert domain.element.find("./devices/redirdev") is not None


def test_validate_refuses_a_document_nothing_completed() -> None:
    domain = Domain.parse(document(VNC_AUDIO), validate=False)

    with pytest.raises(XMLError) as raised:
        domain.validate()
    assert raised.value.message == "XML error: no audio device with ID 1"


def test_validate_accepts_the_document_once_the_driver_added_its_defaults() -> None:
    domain = Domain.parse(document(VNC_AUDIO), validate=False)
    devices = domain.element.find("./devices")
    assert devices is not None
    audio = devices.makeelement("audio", {"id": "1", "type": "none"})
    devices.append(audio)

    definition = domain.validate()

    assert definition.devices_def is not None
    assert "<audio id='1'/>" in domain.format()


def test_an_unvalidated_definition_is_validated_before_it_is_formatted() -> None:
    domain = Domain.parse(document(REDIRDEV), validate=False)

    with pytest.raises(ConfigUnsupportedError):
        domain.format()


def test_unvalidated_definition_still_has_the_defaults_of_the_validation_step() -> None:
    domain = Domain.parse(document("<graphics type='vnc'/>"), validate=False)

    definition = domain.definition(validate=False)

    assert definition.devices_def is not None
    assert [v.type for v in definition.devices_def["video"]] == ["cirrus"]  # type: ignore[attr-defined]


# -- keep_definition ------------------------------------------------------------------------


def test_a_kept_definition_is_what_format_prints() -> None:
    domain = Domain.parse(document(""))
    definition = domain.definition()
    definition.name = "renamed"

    domain.keep_definition(definition)

    assert "<name>renamed</name>" in domain.format()


def test_a_kept_definition_is_dropped_when_the_tree_changes() -> None:
    domain = Domain.parse(document(""))
    definition = domain.definition()
    definition.name = "renamed"
    domain.keep_definition(definition)

    domain.title = "changed"

    assert "<name>vm</name>" in domain.format()


# -- live output ----------------------------------------------------------------------------


def test_live_output_keeps_the_pty_path_and_alias_of_a_running_domain() -> None:
    domain = Domain.parse(document(PTY_SERIAL, running=True), inactive=False)

    text = domain.format(live=True)

    assert "<domain type='qemu' id='7'>" in text
    assert "<source path='/dev/pts/3'/>" in text
    assert "<alias name='serial0'/>" in text


def test_live_output_shows_the_serial_console_with_its_pty_path() -> None:
    domain = Domain.parse(document(PTY_SERIAL, running=True), inactive=False)

    text = domain.format(live=True)
    console = text.split("<console type='pty' tty='/dev/pts/3'>")[1].split("</console>")[0]

    assert "<source path='/dev/pts/3'/>" in console
    assert "<alias name='serial0'/>" in console


def test_live_pty_console_names_its_terminal_on_the_element() -> None:
    domain = Domain.parse(document(PTY_SERIAL, running=True), inactive=False)

    assert "<console type='pty' tty='/dev/pts/3'>" in domain.format(live=True)


def test_inactive_live_output_has_no_console_terminal() -> None:
    domain = Domain.parse(document(PTY_SERIAL, running=True), inactive=False)

    assert "tty=" not in domain.format(DomainXMLFlags.INACTIVE, live=True)


def test_output_read_as_a_definition_drops_runtime_data() -> None:
    domain = Domain.parse(document(PTY_SERIAL, running=True), inactive=False)

    text = domain.format()

    assert "/dev/pts/3" not in text
    assert "<alias" not in text


def test_inactive_live_output_leaves_out_the_pty_path() -> None:
    domain = Domain.parse(document(PTY_SERIAL, running=True), inactive=False)

    text = domain.format(DomainXMLFlags.INACTIVE, live=True)

    assert "id='7'" not in text
    assert "/dev/pts/3" not in text


def test_live_output_of_a_domain_without_id_is_inactive() -> None:
    domain = Domain.parse(document(PTY_SERIAL))

    assert "/dev/pts/3" not in domain.format(live=True)


def test_live_and_defined_outputs_are_kept_apart() -> None:
    domain = Domain.parse(document(PTY_SERIAL, running=True), inactive=False)

    live = domain.format(live=True)
    defined = domain.format()

    assert live != defined
    assert domain.format(live=True) == live


def test_live_output_keeps_driver_aliases_even_when_they_repeat_a_console() -> None:
    serial = PTY_SERIAL.replace("serial0", "ua-serial0")
    domain = Domain.parse(document(serial, running=True), inactive=False)

    assert domain.format(live=True).count("<alias name='ua-serial0'/>") == 2


def test_the_serial_console_shares_the_user_alias_of_its_serial_port() -> None:
    # libvirt 9.0 accepts this and prints the alias on both elements.
    serial = "<serial type='pty'><alias name='ua-s0'/></serial>"

    text = Domain.parse(document(serial)).format()

    assert text.count("<alias name='ua-s0'/>") == 2


def test_two_devices_with_one_user_alias_are_refused() -> None:
    devices = (
        "<parallel type='pty'><alias name='ua-x'/></parallel>"
        "<channel type='pty'><target type='virtio' name='c'/><alias name='ua-x'/></channel>"
    )

    with pytest.raises(ConfigUnsupportedError) as raised:
        Domain.parse(document(devices))
    assert raised.value.message == "unsupported configuration: non unique alias detected: ua-x"
