# mypy: ignore-errors
"""What the differential scripts share: printing a call's outcome, opening the test driver.

The scripts run from tests/compat/scripts under libvirt-python and under
virtcore's ``libvirt`` alias alike; this package sits in a subdirectory so
the runner does not take it for a script. Outcomes print as
``<label>: ok <repr>`` or ``<label>: error <code> <domain> <message>``.
"""

import libvirt


def attempt(label, call):
    """Print *call*'s result, or libvirt's error code, domain and message."""
    try:
        print(f"{label}: ok {call()!r}")
    except libvirt.libvirtError as e:
        print(f"{label}: error {e.get_error_code()} {e.get_error_domain()} {e.get_error_message()}")


def attempt_str(label, call):
    """Like :func:`attempt`, printing the exception's text (which libvirt-python builds)."""
    try:
        print(f"{label}: ok {call()!r}")
    except libvirt.libvirtError as e:
        print(f"{label}: error {e.get_error_code()} {e.get_error_domain()} {e}")


def open_quiet(uri="test:///default"):
    """A connection to *uri*, with libvirt's printing of every error to stderr turned off."""
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    return libvirt.open(uri)
