"""Errors carry libvirt's codes, domains and wording, and form one tree."""

from __future__ import annotations

import pickle

import pytest

from virtcore import errors
from virtcore.enums.errors import ErrorDomain, ErrorLevel, ErrorNumber
from virtcore.errors import (
    AlreadyExistsError,
    ConnectError,
    NoDomainError,
    NoSupportError,
    NotFoundError,
    OperationInvalidError,
    SystemCallError,
    VirtError,
    XMLDetailError,
    XMLError,
    error_class_for,
    error_domain_name,
    format_message,
)


def test_message_without_detail_is_the_generic_text() -> None:
    assert str(NoDomainError()) == "Domain not found"


def test_message_with_detail_follows_the_codes_template() -> None:
    err = OperationInvalidError("domain is not running", domain=ErrorDomain.DOMAIN)
    assert err.message == "Requested operation is not valid: domain is not running"
    assert err.detail == "domain is not running"


@pytest.mark.parametrize(
    ("code", "detail", "expected"),
    [
        (ErrorNumber.NO_CONNECT, "nosuchdrv:///x",
         "no connection driver available for nosuchdrv:///x"),
        (ErrorNumber.XML_ERROR, "bad", "XML error: bad"),
        (ErrorNumber.XML_DETAIL, "(domain_definition):1: oops", "(domain_definition):1: oops"),
        (ErrorNumber.DOM_EXIST, "'x'", "domain 'x' exists already"),
        (ErrorNumber.OPERATION_DENIED, "read only access prevents virDomainCreate",
         "operation forbidden: read only access prevents virDomainCreate"),
        (ErrorNumber.INVALID_CONN, "virConnectGetType",
         "invalid connection pointer in virConnectGetType"),
        (ErrorNumber.OPERATION_TIMEOUT, "cannot acquire state change lock",
         "Timed out during operation: cannot acquire state change lock"),
    ],
)  # fmt: skip
def test_format_message_matches_libvirt(code: int, detail: str, expected: str) -> None:
    assert format_message(code, detail) == expected


def test_every_error_number_has_a_message() -> None:
    for code in ErrorNumber:
        if code is ErrorNumber.OK:
            continue
        assert format_message(code, None), code.name


def test_subclasses_fix_their_code_and_callers_fix_the_domain() -> None:
    err = NoDomainError("no domain with matching name 'x'", domain=ErrorDomain.QEMU)
    assert (err.code, err.domain, err.level) == (
        ErrorNumber.NO_DOMAIN,
        ErrorDomain.QEMU,
        ErrorLevel.ERROR,
    )
    assert err.domain_name == "QEMU Driver"


def test_from_code_picks_the_most_specific_class() -> None:
    assert type(VirtError.from_code(ErrorNumber.NO_DOMAIN)) is NoDomainError
    assert type(VirtError.from_code(ErrorNumber.NETWORK_EXIST, "'n'")) is AlreadyExistsError
    assert type(VirtError.from_code(ErrorNumber.NO_KERNEL)) is VirtError
    assert error_class_for(ErrorNumber.XML_DETAIL) is XMLDetailError


def test_not_found_errors_share_a_base_class() -> None:
    for code in (ErrorNumber.NO_DOMAIN, ErrorNumber.NO_NETWORK, ErrorNumber.NO_STORAGE_VOL,
                 ErrorNumber.NO_SECRET, ErrorNumber.NO_DOMAIN_SNAPSHOT):  # fmt: skip
        assert issubclass(error_class_for(code), NotFoundError)
    assert issubclass(XMLDetailError, XMLError)
    assert issubclass(errors.AuthFailedError, ConnectError)


def test_unknown_codes_and_domains_are_kept_as_ints() -> None:
    err = VirtError("x", code=999, domain=999)
    assert err.code == 999 and err.domain == 999
    assert err.message == "x"
    assert error_domain_name(999) == "Unknown"


def test_str_fields_mirror_libvirt_for_the_compat_layer() -> None:
    err = NoSupportError("virConnectSetKeepAlive", domain=ErrorDomain.DOMAIN)
    assert err.str2 == "virConnectSetKeepAlive"
    assert (err.int1, err.int2) == (-1, -1)


def test_errors_survive_pickling() -> None:
    err = NoDomainError("no domain with matching name 'x'", domain=ErrorDomain.TEST)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is NoDomainError
    assert (copy.code, copy.domain, copy.message) == (err.code, err.domain, err.message)


def test_system_errors_append_the_os_reason() -> None:
    err = SystemCallError.from_os_error("cannot open '/nope'", FileNotFoundError(2, "x"))
    assert err.message == "cannot open '/nope': No such file or directory"
    assert err.int1 == 2


def test_every_exported_error_is_a_virt_error() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, VirtError), name
