"""Benchmark: the libvirt-python workload on virtcore.libvirt against python3-libvirt.

The workload, its phases and the report live in :mod:`api_workload` (one copy
of the workload for python3-libvirt, virtcore's native API and the
compatibility layer); this entry point runs it with the same options, so
``python benchmarks/compat_api.py`` and ``python benchmarks/api_workload.py``
print the same table: ops/s per phase for the three implementations and the
ratios native/libvirt and compat/libvirt.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_workload import main  # found through the path set just above

if __name__ == "__main__":
    main()
