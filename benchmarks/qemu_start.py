"""Benchmark: guest start and destroy latency - bare QEMU, virtcore, libvirt.

Run ``python benchmarks/qemu_start.py [--runs N]`` from the checkout with
virtcore and virtcore-qemu importable. The same tiny TCG guest (32 MiB, one
vCPU, a pty serial port, no OS) is started and destroyed ``--runs`` times
(default 10) three ways, and the median of each is printed:

* ``bare``: the physical floor - the very argv virtcore builds for the guest
  (QEMU listening on its own monitor socket), timed from ``exec`` to QEMU's
  answer to ``query-status``; destroy is SIGTERM until the process is reaped
  (woken by a pidfd, so the floor carries no polling delay);
* ``virtcore``: ``Domain.create()`` and ``Domain.destroy()`` on
  ``qemu:///embed?root=<tmp>`` (define happens once, before timing);
* ``libvirt``: ``virDomainCreate`` and ``virDomainDestroy`` through
  python3-libvirt 9.0 on ``qemu:///system`` of a private libvirtd started in
  its own mount namespace (backends/qemu/tests/qemu_libvirt_oracle.py); left
  out, with the reason, when libvirt or its qemu driver is not installed.

Ratios are printed against the floor (virtcore/bare, libvirt/bare) and
between the two managers (libvirt/virtcore: above 1.0, virtcore is faster).
Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "backends" / "qemu" / "tests"

GUEST = """<domain type='qemu'><name>bench</name>
<memory unit='MiB'>32</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><serial type='pty'/></devices>
</domain>"""

LIBVIRT_WORKER = r"""
import json, statistics, sys, time
import libvirt
uri, xml, runs = sys.argv[1], sys.stdin.read(), int(sys.argv[2])
conn = libvirt.open(uri)
dom = conn.defineXML(xml)
starts, stops = [], []
try:
    for _ in range(runs):
        t = time.perf_counter(); dom.create(); starts.append(time.perf_counter() - t)
        t = time.perf_counter(); dom.destroy(); stops.append(time.perf_counter() - t)
finally:
    if dom.isActive():
        dom.destroy()
    dom.undefine()
print(json.dumps({"start": starts, "destroy": stops}))
"""


def bare(argv: list[str], monitor: Path, runs: int) -> tuple[list[float], list[float]]:
    """Exec to ``query-status`` answer, and SIGTERM to reaped, of the plain argv."""
    from virtcore_qemu.qmp import QMPClient

    starts, stops = [], []
    for _ in range(runs):
        monitor.unlink(missing_ok=True)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            client = QMPClient.connect(monitor, timeout=30, alive=_alive(proc))
            client.execute("query-status")
            starts.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            _wait_exit(proc, 30)
            stops.append(time.perf_counter() - t1)
            client.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return starts, stops


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Block on a pidfd until *proc* exits, then reap it.

    ``Popen.wait(timeout)`` polls with growing sleeps, which would add up to
    milliseconds to the floor; a pidfd wakes the waiter the moment QEMU is gone.
    """
    fd = os.pidfd_open(proc.pid)
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    proc.wait(timeout)


def _alive(proc: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: proc.poll() is None


def bare_argv(conn: object, workdir: Path) -> tuple[list[str], Path]:
    """virtcore's argv for the guest, with QEMU creating its monitor socket itself."""
    from virtcore_qemu.command import CommandContext, build_command
    from virtcore_qemu.driver import QemuHypervisorDriver

    table = conn.tables.hypervisor  # type: ignore[attr-defined]
    assert isinstance(table, QemuHypervisorDriver)
    driver = table.driver
    obj = driver.domains.find_by_name("bench")
    assert obj is not None and obj.config is not None
    monitor = workdir / "bare-monitor.sock"
    (workdir / "bare-chardev").mkdir(exist_ok=True)
    ctx = CommandContext(
        monitor_path=monitor,
        pidfile=workdir / "bare.pid",
        lib_dir=workdir,
        chardev_dir=workdir / "bare-chardev",
        accel="tcg",
    )
    caps = driver.caps(driver.emulator_of(obj.config))
    return build_command(obj.config, caps, ctx), monitor


def virtcore_runs(conn: object, runs: int) -> tuple[list[float], list[float]]:
    """``create()``/``destroy()`` latencies through virtcore."""
    dom = conn.domain_lookup_by_name("bench")  # type: ignore[attr-defined]
    starts, stops = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        dom.create()
        starts.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        dom.destroy()
        stops.append(time.perf_counter() - t1)
    return starts, stops


def libvirt_runs(workdir: Path, runs: int) -> tuple[list[float], list[float]] | str:
    """The same through real libvirt, or the reason it cannot be measured."""
    sys.path.insert(0, str(TESTS))
    try:
        oracle_module: Any = importlib.import_module("qemu_libvirt_oracle")
    except ImportError as exc:
        return f"oracle module unavailable: {exc}"
    try:
        oracle = oracle_module.start_qemu_oracle(workdir / "libvirt")
    except (oracle_module.OracleUnavailable, RuntimeError) as exc:
        return str(exc)
    try:
        proc = subprocess.run(
            ["/usr/bin/python3", "-c", LIBVIRT_WORKER, oracle.uri, str(runs)],
            input=GUEST,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            return f"libvirt run failed: {proc.stderr.strip()[-500:]}"
        result = json.loads(proc.stdout)
        return result["start"], result["destroy"]
    finally:
        oracle.stop()


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    """Measure and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="starts and destroys per flavour")
    args = parser.parse_args()
    runs = max(1, args.runs)

    import virtcore
    from virtcore.hosts import shutdown_hosts

    with tempfile.TemporaryDirectory(prefix="vc-bench-") as tmp:
        workdir = Path(tmp)
        root = workdir / "embed"
        root.mkdir()
        results: dict[str, tuple[list[float], list[float]]] = {}
        with virtcore.open(f"qemu:///embed?root={root}") as conn:
            conn.domain_define_xml(GUEST)
            argv, monitor = bare_argv(conn, workdir)
            # One unmeasured round each warms the page cache and the capability cache.
            bare(argv, monitor, 1)
            results["bare"] = bare(argv, monitor, runs)
            virtcore_runs(conn, 1)
            results["virtcore"] = virtcore_runs(conn, runs)
        shutdown_hosts()
        lv = libvirt_runs(workdir, runs + 1)
        if isinstance(lv, str):
            libvirt_note = lv
        else:
            results["libvirt"] = (lv[0][1:], lv[1][1:])
            libvirt_note = ""

    print(f"guest start/destroy latency, median of {runs} runs (ms)")
    print(f"{'flavour':<10} {'start':>9} {'destroy':>9}")
    for name, (starts, stops) in results.items():
        print(f"{name:<10} {_ms(starts):9.1f} {_ms(stops):9.1f}")
    floor_start, floor_stop = (_ms(v) for v in results["bare"])
    vc_start, vc_stop = (_ms(v) for v in results["virtcore"])
    _ratio("virtcore/bare", vc_start / floor_start, vc_stop / floor_stop)
    if "libvirt" in results:
        lv_start, lv_stop = (_ms(v) for v in results["libvirt"])
        _ratio("libvirt/bare", lv_start / floor_start, lv_stop / floor_stop)
        _ratio("libvirt/virtcore", lv_start / vc_start, lv_stop / vc_stop)
        print("(libvirt/virtcore above 1.0: virtcore is faster)")
    else:
        print(f"libvirt: not measured ({libvirt_note})")


def _ratio(label: str, start: float, destroy: float) -> None:
    print(f"{label:<17} start {start:6.2f}x  destroy {destroy:6.2f}x")


if __name__ == "__main__":
    main()
