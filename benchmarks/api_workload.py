"""Benchmark: one management API workload on libvirt, virtcore's native API and virtcore.libvirt.

Run ``python benchmarks/api_workload.py`` from the checkout (virtcore
importable). The workload - define, list all, lookup by name and by UUID, XML
description, info, create, suspend, resume, destroy and undefine over
``--domains`` domains (default 500) on ``test:///default`` - runs in fresh
processes three ways:

* ``libvirt``: the real python3-libvirt 9.0 under ``/usr/bin/python3``, on
  libvirt's own test driver;
* ``native``: virtcore's native API (``virtcore.open``);
* ``compat``: the same libvirt-python code with ``libvirt`` aliased to
  ``virtcore.libvirt``.

Each phase makes one call per domain (``list`` lists all domains
``--domains`` times). The libvirt-python flavour and the native flavour
differ only in the names of the calls, which the per-implementation tables
``LIBVIRT_CALLS`` and ``NATIVE_CALLS`` give, so the loops are shared. Each
worker runs ``--rounds`` times (default 3) and the fastest time of each phase
is kept, so that other load on the machine does not decide the ratios; as
with :mod:`timeit`, garbage collection is paused while a phase is timed. The
output is ops/s per phase and the ratios native/libvirt and compat/libvirt
(above 1.0: virtcore is faster). Numbers are printed, never asserted.

Beyond the issue's phases, ``open`` (open and close a connection),
``legacy_list`` (``listDomainsID`` + ``listDefinedDomains``), ``xml_again``
(the XML description of every domain once more, unchanged since the ``xml``
phase: what a management application polling its domains does), ``state``
(state + isActive) and ``stats`` (vcpus, memoryStats, getCPUStats,
memoryParameters of the domain ``test``: calls whose results the
compatibility layer reshapes) are measured too.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from operator import methodcaller
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LIBVIRT_PYTHON = "/usr/bin/python3"
URI = "test:///default"
DOMAIN_XML = """<domain type='test'>
  <name>bench{n}</name>
  <uuid>{uuid}</uuid>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>"""
IMPLEMENTATIONS = ("libvirt", "native", "compat")
PHASES = (
    "open",
    "define",
    "list",
    "legacy_list",
    "lookup_name",
    "lookup_uuid",
    "xml",
    "xml_again",
    "info",
    "state",
    "create",
    "suspend",
    "resume",
    "destroy",
    "undefine",
    "stats",
)

# Domain calls both implementations spell alike.
_SAME_NAMED: dict[str, Any] = {
    name: methodcaller(name)
    for name in ("info", "state", "create", "suspend", "resume", "destroy", "undefine")
}
# Per implementation: how each call of the workload is spelled. Connection calls are
# (method name, extra args); domain calls are methodcallers applied to a domain handle.
LIBVIRT_CALLS: dict[str, Any] = {
    "open": "open",
    "define": "defineXML",
    "list_all": "listAllDomains",
    "list_ids": "listDomainsID",
    "list_defined": "listDefinedDomains",
    "lookup_name": "lookupByName",
    "lookup_uuid": "lookupByUUIDString",
    "uuid_of": methodcaller("UUIDString"),
    "xml": methodcaller("XMLDesc", 0),
    "is_active": methodcaller("isActive"),
    **_SAME_NAMED,
    "stats": (
        methodcaller("vcpus"),
        methodcaller("memoryStats"),
        methodcaller("getCPUStats", False),
        methodcaller("memoryParameters", 0),
    ),
}
NATIVE_CALLS: dict[str, Any] = {
    "open": "open",
    "define": "domain_define_xml",
    "list_all": "list_all_domains",
    "list_ids": "list_domains_ids",
    "list_defined": "list_defined_domains",
    "lookup_name": "domain_lookup_by_name",
    "lookup_uuid": "domain_lookup_by_uuid",
    "uuid_of": lambda dom: dom.uuid,
    "xml": methodcaller("xml_desc", 0),
    "is_active": methodcaller("is_active"),
    **_SAME_NAMED,
    "stats": (
        methodcaller("vcpus"),
        methodcaller("memory_stats"),
        methodcaller("get_cpu_stats", False),
        methodcaller("memory_parameters", 0),
    ),
}


def _each(call: Callable[[Any], Any], items: list[Any]) -> Callable[[], int]:
    def body() -> int:
        for item in items:
            call(item)
        return len(items)

    return body


def workload(module: Any, calls: dict[str, Any], domains: int) -> dict[str, float]:
    """Run every phase through *module* spelled as *calls*; returns seconds per operation.

    The domains are defined fresh (names ``bench0``..), so each run starts from
    libvirt's default host plus nothing else.
    """
    results: dict[str, float] = {}
    keep = getattr(module, calls["open"])(URI)  # keeps the shared host alive across phases
    opener = getattr(module, calls["open"])

    def open_close() -> int:
        opener(URI).close()
        return 1

    results["open"] = _timed(open_close, max(domains // 5, 1))
    conn = getattr(module, calls["open"])(URI)
    xmls = [
        DOMAIN_XML.format(n=n, uuid=f"00000000-0000-4000-8000-{n:012x}") for n in range(domains)
    ]
    doms: list[Any] = []
    define = getattr(conn, calls["define"])

    def define_all() -> int:
        doms.extend(define(xml) for xml in xmls)
        return len(xmls)

    results["define"] = _timed(define_all)
    names = [f"bench{n}" for n in range(domains)]
    uuids = [calls["uuid_of"](dom) for dom in doms]
    list_all = getattr(conn, calls["list_all"])
    list_ids, list_defined = getattr(conn, calls["list_ids"]), getattr(conn, calls["list_defined"])

    def listing() -> int:
        for _ in range(domains):
            list_all()
        return domains

    def legacy_listing() -> int:
        for _ in range(domains):
            list_ids()
            list_defined()
        return 2 * domains

    def states(dom: Any) -> None:
        calls["state"](dom)
        calls["is_active"](dom)

    test = getattr(conn, calls["lookup_name"])("test")

    def stats() -> int:
        for call in calls["stats"]:
            call(test)
        return len(calls["stats"])

    results["list"] = _timed(listing)
    results["legacy_list"] = _timed(legacy_listing)
    results["lookup_name"] = _timed(_each(getattr(conn, calls["lookup_name"]), names))
    results["lookup_uuid"] = _timed(_each(getattr(conn, calls["lookup_uuid"]), uuids))
    results["xml"] = _timed(_each(calls["xml"], doms))
    results["xml_again"] = _timed(_each(calls["xml"], doms))
    results["info"] = _timed(_each(calls["info"], doms))
    results["state"] = _timed(_each(states, doms), ops_per_item=2)
    for phase in ("create", "suspend", "resume", "destroy", "undefine"):
        results[phase] = _timed(_each(calls[phase], doms))
    results["stats"] = _timed(stats, domains)
    conn.close()
    keep.close()
    return results


def _timed(body: Callable[[], int], repeat: int = 1, ops_per_item: int = 1) -> float:
    """Seconds per operation of *body* run *repeat* times (it returns how many items it did).

    Like :mod:`timeit`, the cyclic garbage collector is paused while a phase is
    timed (after a full collection), so that a collection of everything the
    process allocated before does not land in whichever phase happens to
    trigger it.
    """
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        ops = 0
        start = time.perf_counter()
        for _ in range(repeat):
            ops += body()
        return (time.perf_counter() - start) / max(ops * ops_per_item, 1)
    finally:
        if enabled:
            gc.enable()


def _worker(implementation: str, domains: int) -> dict[str, float]:
    if implementation == "native":
        import virtcore

        return workload(virtcore, NATIVE_CALLS, domains)
    if implementation == "compat":
        import virtcore.libvirt

        sys.modules["libvirt"] = virtcore.libvirt
    libvirt = importlib.import_module("libvirt")
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    return workload(libvirt, LIBVIRT_CALLS, domains)


def _run_worker(implementation: str, domains: int) -> dict[str, float]:
    python = LIBVIRT_PYTHON if implementation == "libvirt" else sys.executable
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("LIBVIRT_DEFAULT_URI", None)
    proc = subprocess.run(
        [python, __file__, "--worker", implementation, "--domains", str(domains)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def measure(rounds: int, domains: int) -> dict[str, dict[str, float]]:
    """Per implementation and phase, the fastest seconds/op of *rounds* interleaved runs."""
    best: dict[str, dict[str, float]] = {impl: {} for impl in IMPLEMENTATIONS}
    for _ in range(max(rounds, 1)):
        for impl in IMPLEMENTATIONS:
            for phase, seconds in _run_worker(impl, domains).items():
                best[impl][phase] = min(seconds, best[impl].get(phase, seconds))
    return best


def report(best: dict[str, dict[str, float]]) -> str:
    """The table of ops/s per phase and the ratios against libvirt."""
    columns = ("phase", "libvirt op/s", "native op/s", "compat op/s")
    ratios = ("native/libvirt", "compat/libvirt")
    lines = ["{:<12} {:>12} {:>12} {:>12} {:>15} {:>15}".format(*columns, *ratios)]
    real, native, compat = (best[impl] for impl in IMPLEMENTATIONS)
    for phase in PHASES:
        if phase not in real:
            continue
        lines.append(
            f"{phase:<12} {1 / real[phase]:>12.0f} {1 / native[phase]:>12.0f} "
            f"{1 / compat[phase]:>12.0f} {real[phase] / native[phase]:>14.2f}x "
            f"{real[phase] / compat[phase]:>14.2f}x"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the three workers and print per-phase ops/s and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--domains", type=int, default=500, help="domains in the workload")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each worker; the fastest per phase counts"
    )
    parser.add_argument("--worker", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sys.stdout.write(json.dumps(_worker(args.worker, args.domains)) + "\n")
        return
    sys.stdout.write(report(measure(args.rounds, args.domains)))


if __name__ == "__main__":
    main()
