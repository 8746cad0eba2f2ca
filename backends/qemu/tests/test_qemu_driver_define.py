"""The driver's define and create paths follow libvirt's order: parse, qemu post-parse, validate.

A document that is only valid once the qemu driver filled in its defaults -
a redirected USB device relying on the USB controller the driver adds, VNC
audio naming the audio backend the driver adds - must define through
``virDomainDefineXML`` and start through ``virDomainCreateXML`` as in
libvirt. The expected documents are the ``data/define`` recordings of
libvirt 9.0 (``test_qemu_postparse_oracle.py`` keeps them current).
"""

from __future__ import annotations

import pytest
from qemu_define_cases import DefineCase, define_cases

from virtcore.connection import Connection
from virtcore.enums.domain import DomainXMLFlags

CASES = {case.name: case for case in define_cases()}
ORDER_CASES = ["i440fx-redirdev-default-usb", "i440fx-vnc-audio-default-backend"]
TPM_CASES = ["i440fx-tpm-emulator-default-version", "q35-tpm-crb-emulator-default-version"]


def _case(name: str) -> DefineCase:
    case = CASES[name]
    assert case.expected_xml is not None, f"{name} has no recorded libvirt output"
    return case


@pytest.mark.parametrize("name", ORDER_CASES + TPM_CASES)
def test_define_prints_what_libvirt_printed(name: str, conn: Connection) -> None:
    case = _case(name)
    dom = conn.domain_define_xml(case.text)
    assert dom.xml_desc(DomainXMLFlags.INACTIVE) == case.expected_xml


def test_create_accepts_audio_of_the_default_backend(conn: Connection) -> None:
    case = _case("i440fx-vnc-audio-default-backend")
    text = case.text.replace("<graphics type='vnc' port='-1'>", "<graphics type='vnc' port='-1' "
                             "listen='127.0.0.1'>")  # fmt: skip
    dom = conn.domain_create_xml(text, 0x1)  # paused: nothing runs but QEMU's VNC server
    try:
        assert dom.is_active()
        assert "<audio id='1' type='none'/>" in dom.xml_desc()
    finally:
        dom.destroy()


def test_create_still_validates_after_the_post_parse(conn: Connection) -> None:
    from virtcore.errors import XMLError

    text = _case("i440fx-vnc-audio-default-backend").text.replace(
        "<audio id='1'/>", "<audio id='2'/>"
    )
    with pytest.raises(XMLError, match="no audio device with ID 2"):
        conn.domain_create_xml(text, 0x1)
