"""libvirt-python's tests run only through tests/compat/test_libvirt_python_suite.py.

That runner starts a separate pytest with ``libvirt`` aliased to
virtcore.libvirt and VIRTCORE_LIBVIRT_PYTHON_SUITE=1; the main test run must
not collect these files (they import ``libvirt``).
"""

import os

if os.environ.get("VIRTCORE_LIBVIRT_PYTHON_SUITE") != "1":
    collect_ignore_glob = ["*.py"]
