"""virtcore: libvirt rebuilt in pure Python."""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"
