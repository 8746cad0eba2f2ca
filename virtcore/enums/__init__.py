"""libvirt 9.0's enumerations and flags as ``IntEnum``/``IntFlag`` types.

Every member has libvirt's numeric value, so it compares equal to the plain
integers libvirt-python returns and accepts.
"""

from virtcore.enums.errors import ErrorDomain, ErrorLevel, ErrorNumber

__all__ = ["ErrorDomain", "ErrorLevel", "ErrorNumber"]
