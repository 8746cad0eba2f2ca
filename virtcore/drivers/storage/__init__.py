"""The host storage driver: directory pools and their volumes, on the real file system.

A built-in plugin (``storage``): :class:`StorageStateDriver` keeps each
host's pools (configs, autostart links and live status laid out as libvirt
does), :class:`StorageConnectDriver` serves ``storage:///system``,
``storage:///session`` and ``storage:///embed?root=DIR``, and volumes are
made and inspected with the real ``qemu-img``. See docs/storage.md.

For hypervisor drivers:

* :func:`storage_table_for` - the storage table serving a host's pools, to
  attach to their own connections (``DriverTables.storage``);
* :meth:`StorageStateDriver.translate_volume` - resolve a
  ``<disk type='volume'>`` to a :class:`TranslatedVolume`; reach the driver
  lazily during initialize with ``ctx.lookup("storage", ...)``.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from virtcore.drivers.storage.connect import StorageConnectDriver
from virtcore.drivers.storage.state import StorageStateDriver, TranslatedVolume
from virtcore.state import InitResult

if TYPE_CHECKING:
    from virtcore.driver import StorageDriver
    from virtcore.state import Host

__all__ = [
    "StorageConnectDriver",
    "StorageStateDriver",
    "TranslatedVolume",
    "storage_table_for",
]

_tables: weakref.WeakKeyDictionary[StorageStateDriver, StorageDriver] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


def storage_table_for(host: Host) -> StorageDriver | None:
    """The storage table of *host*'s storage driver; None if it has none initialized."""
    from virtcore.drivers.storage.table import StorageTable

    driver = next((d for d in host.drivers if isinstance(d, StorageStateDriver)), None)
    if driver is None or host.init_result(driver.name) is not InitResult.COMPLETE:
        return None
    if not driver.ready:
        return None
    with _tables_lock:
        table = _tables.get(driver)
        if table is None:
            table = StorageTable(driver)
            _tables[driver] = table
        return table
