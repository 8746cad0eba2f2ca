"""pytest plugin: ``import libvirt`` resolves to :mod:`virtcore.libvirt`.

Loaded with ``-p tests.compat.libvirt_alias`` by the runner of libvirt-python's
own test suite (``tests/compat/test_libvirt_python_suite.py``), before any test
module is imported. ``libvirtmod`` - libvirt-python's C extension - is replaced
by a namespace holding the one function libvirt-python's test helper
``eventmock.py`` calls on it, ``virEventRegisterImpl``.
"""

from __future__ import annotations

import sys
import types

import virtcore.libvirt as compat

libvirtmod = types.ModuleType("libvirtmod")
libvirtmod.virEventRegisterImpl = compat.virEventRegisterImpl  # type: ignore[attr-defined]

sys.modules["libvirt"] = compat
sys.modules["libvirtmod"] = libvirtmod
