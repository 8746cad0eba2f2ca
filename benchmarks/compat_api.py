"""Benchmark: a libvirt-python API workload on virtcore.libvirt and on python3-libvirt.

Run ``python benchmarks/compat_api.py`` (from the checkout, with virtcore
importable). The same workload - written against libvirt-python - runs in two
fresh processes on ``test:///default``: once with the real python3-libvirt 9.0
under ``/usr/bin/python3`` and once with ``libvirt`` aliased to
``virtcore.libvirt``. For each phase it prints the time per operation of both
and the ratio libvirt/virtcore (above 1.0: virtcore is faster). A third run
does the same through virtcore's native API; the native/compat ratio shows what
the compatibility layer itself costs (1.0: nothing). Each worker runs
``--rounds`` times (default 3) and the fastest time of each phase is kept, so
that other load on the machine does not decide the ratios.

Phases: ``open`` (open + close), ``list`` (listAllDomains, listDomainsID,
listDefinedDomains), ``lookup`` (lookupByName, lookupByUUIDString), ``xml``
(XMLDesc), ``query`` (info, state, isActive), ``stats`` (vcpus, memoryStats,
getCPUStats, memoryParameters of the domain ``test``: calls whose results the
compatibility layer reshapes), ``lifecycle`` (define, create, suspend, resume,
destroy, undefine). Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LIBVIRT_PYTHON = "/usr/bin/python3"
DOMAIN_XML = """<domain type='test'>
  <name>bench{n}</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>"""
EXTRA_DOMAINS = 20


def _timed(repeat: int, body: Callable[[], int]) -> float:
    """Seconds per operation of *body* (which returns how many operations it did)."""
    ops = 0
    start = time.perf_counter()
    for _ in range(repeat):
        ops += body()
    return (time.perf_counter() - start) / max(ops, 1)


def workload(libvirt: Any, repeat: int) -> dict[str, float]:
    """Run every phase against the module *libvirt*; returns seconds per operation."""
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    keep = libvirt.open("test:///default")  # keeps the shared host alive across phases
    results: dict[str, float] = {}

    def open_close() -> int:
        libvirt.open("test:///default").close()
        return 1

    results["open"] = _timed(max(repeat // 10, 1), open_close)
    conn = libvirt.open("test:///default")
    for n in range(EXTRA_DOMAINS):
        conn.defineXML(DOMAIN_XML.format(n=n)).create()
    names = [d.name() for d in conn.listAllDomains()]
    uuids = [d.UUIDString() for d in conn.listAllDomains()]

    def listing() -> int:
        conn.listAllDomains()
        conn.listDomainsID()
        conn.listDefinedDomains()
        return 3

    def lookup() -> int:
        for name in names:
            conn.lookupByName(name)
        for uuid in uuids:
            conn.lookupByUUIDString(uuid)
        return len(names) + len(uuids)

    doms = conn.listAllDomains()

    def xml() -> int:
        for dom in doms:
            dom.XMLDesc(0)
        return len(doms)

    def query() -> int:
        for dom in doms:
            dom.info()
            dom.state()
            dom.isActive()
        return 3 * len(doms)

    test = conn.lookupByName("test")

    def stats() -> int:
        test.vcpus()
        test.memoryStats()
        test.getCPUStats(False)
        test.memoryParameters(0)
        return 4

    counter = [0]

    def lifecycle() -> int:
        counter[0] += 1
        dom = conn.defineXML(DOMAIN_XML.format(n=f"lc{counter[0]}"))
        dom.create()
        dom.suspend()
        dom.resume()
        dom.destroy()
        dom.undefine()
        return 6

    results["list"] = _timed(repeat, listing)
    results["lookup"] = _timed(max(repeat // 10, 1), lookup)
    results["xml"] = _timed(max(repeat // 10, 1), xml)
    results["query"] = _timed(max(repeat // 10, 1), query)
    results["stats"] = _timed(max(repeat // 5, 1), stats)
    results["lifecycle"] = _timed(max(repeat // 5, 1), lifecycle)
    conn.close()
    keep.close()
    return results


def native_workload(repeat: int) -> dict[str, float]:
    """The same phases through virtcore's native API, to show what the compat layer adds."""
    import virtcore

    keep = virtcore.open("test:///default")
    results: dict[str, float] = {}

    def open_close() -> int:
        virtcore.open("test:///default").close()
        return 1

    results["open"] = _timed(max(repeat // 10, 1), open_close)
    conn = virtcore.open("test:///default")
    for n in range(EXTRA_DOMAINS):
        conn.domain_define_xml(DOMAIN_XML.format(n=n)).create()
    doms = conn.list_all_domains()

    def listing() -> int:
        conn.list_all_domains()
        conn.list_domains_ids()
        conn.list_defined_domains()
        return 3

    def lookup() -> int:
        for dom in doms:
            conn.domain_lookup_by_name(dom.name)
        for dom in doms:
            conn.domain_lookup_by_uuid(dom.uuid)
        return 2 * len(doms)

    def xml() -> int:
        for dom in doms:
            dom.xml_desc(0)
        return len(doms)

    def query() -> int:
        for dom in doms:
            dom.info()
            dom.state()
            dom.is_active()
        return 3 * len(doms)

    test = conn.domain_lookup_by_name("test")

    def stats() -> int:
        test.vcpus()
        test.memory_stats()
        test.get_cpu_stats(False)
        test.memory_parameters(0)
        return 4

    counter = [0]

    def lifecycle() -> int:
        counter[0] += 1
        dom = conn.domain_define_xml(DOMAIN_XML.format(n=f"lc{counter[0]}"))
        dom.create()
        dom.suspend()
        dom.resume()
        dom.destroy()
        dom.undefine()
        return 6

    results["list"] = _timed(repeat, listing)
    results["lookup"] = _timed(max(repeat // 10, 1), lookup)
    results["xml"] = _timed(max(repeat // 10, 1), xml)
    results["query"] = _timed(max(repeat // 10, 1), query)
    results["stats"] = _timed(max(repeat // 5, 1), stats)
    results["lifecycle"] = _timed(max(repeat // 5, 1), lifecycle)
    conn.close()
    keep.close()
    return results


def _worker(implementation: str, repeat: int) -> None:
    if implementation == "native":
        sys.stdout.write(json.dumps(native_workload(repeat)) + "\n")
        return
    if implementation == "virtcore":
        import virtcore.libvirt as module

        sys.modules["libvirt"] = module
    libvirt = importlib.import_module("libvirt")
    sys.stdout.write(json.dumps(workload(libvirt, repeat)) + "\n")


def _run_worker(python: str, implementation: str, repeat: int) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [python, __file__, "--worker", implementation, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def _best_of(rounds: int, python: str, implementation: str, repeat: int) -> dict[str, float]:
    """Per phase, the fastest of *rounds* runs: other load on the machine only slows runs down."""
    best: dict[str, float] = {}
    for _ in range(max(rounds, 1)):
        for phase, seconds in _run_worker(python, implementation, repeat).items():
            best[phase] = min(seconds, best.get(phase, seconds))
    return best


def main() -> None:
    """Run both workers and print per-phase times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1000, help="iterations of the list phase")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each worker; the fastest per phase counts"
    )
    parser.add_argument(
        "--worker", choices=("libvirt", "virtcore", "native"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.repeat)
        return
    real = _best_of(args.rounds, LIBVIRT_PYTHON, "libvirt", args.repeat)
    ours = _best_of(args.rounds, sys.executable, "virtcore", args.repeat)
    native = _best_of(args.rounds, sys.executable, "native", args.repeat)
    header = (
        "phase",
        "libvirt us/op",
        "compat us/op",
        "native us/op",
        "libvirt/compat",
        "native/compat",
    )
    sys.stdout.write("{:<10} {:>14} {:>13} {:>13} {:>15} {:>14}\n".format(*header))
    for phase, seconds in real.items():
        mine, base = ours[phase], native[phase]
        sys.stdout.write(
            f"{phase:<10} {seconds * 1e6:>14.2f} {mine * 1e6:>13.2f} {base * 1e6:>13.2f} "
            f"{seconds / mine:>14.2f}x {base / mine:>13.2f}x\n"
        )


if __name__ == "__main__":
    main()
