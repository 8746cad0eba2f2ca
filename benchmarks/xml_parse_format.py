"""Benchmark: parse + format of a domain document, virtcore against libvirt, in one run.

Run ``python benchmarks/xml_parse_format.py`` (from the checkout, with
virtcore importable). Two documents are measured: a typical ~40-line
``<domain type='test'>`` of the kind users define (three disks, a network
interface, a console, VNC graphics, a video card, a memory balloon) and the
same domain without ``<devices>``.

For each document:

* ``libvirt`` - ``virDomainDefineXML`` + ``virDomainGetXMLDesc(0)`` through
  python3-libvirt 9.0 on ``test:///default``, in a worker process run by
  ``/usr/bin/python3`` (python3-libvirt lives in the system interpreter);
* ``virtcore`` - :meth:`virtcore.xml.domain.Domain.parse` (libvirt's
  define-time checks, the test driver's interface names) followed by
  :meth:`~virtcore.xml.domain.Domain.format`, in this process;
* ``parse`` and ``format`` - the two halves of virtcore's round trip alone
  (``format`` prints an already parsed document).

Before timing, both outputs are compared: the ratio only means something
when virtcore prints what libvirt prints, so a difference is reported. Each
measurement runs ``--rounds`` times (default 3), alternating between the
two, and the fastest counts; times are CPU times of the measuring process,
so that other load on the machine does not decide the ratio. Ratios are
virtcore ops/s divided by libvirt ops/s: 1.0 or more meets the target.
Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
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

TYPICAL_XML = """<domain type='test'>
  <name>bench</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory unit='MiB'>1024</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/bench.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/var/lib/libvirt/images/install.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <console type='pty'/>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <video>
      <model type='cirrus' vram='16384' heads='1'/>
    </video>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""


def _without_devices(text: str) -> str:
    start = text.index("  <devices>")
    end = text.index("  </devices>\n") + len("  </devices>\n")
    return text[:start] + text[end:]


DOCUMENTS = {"typical": TYPICAL_XML, "no devices": _without_devices(TYPICAL_XML)}


def _ops_per_second(body: Callable[[], object], seconds: float) -> float:
    """How often *body* runs per second of this process's CPU time, for about *seconds*.

    CPU time rather than wall-clock time: both implementations do all their
    work in the measuring process (the test driver runs inside libvirt.so),
    and time spent waiting for a core other processes hold is not counted.
    """
    body()  # warm caches, as a long-running daemon has them
    count = 0
    batch = 10
    start = time.process_time()
    elapsed = 0.0
    while elapsed < seconds:
        for _ in range(batch):
            body()
        count += batch
        elapsed = time.process_time() - start
    return count / elapsed


def libvirt_worker(seconds: float) -> dict[str, dict[str, Any]]:
    """define + XMLDesc through python3-libvirt: ops/s and the output, per document."""
    import libvirt  # type: ignore[import-not-found]  # system interpreter only

    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    conn = libvirt.open("test:///default")
    results: dict[str, dict[str, Any]] = {}
    for label, text in DOCUMENTS.items():

        def round_trip(text: str = text) -> str:
            xml: str = conn.defineXML(text).XMLDesc(0)
            return xml

        output = round_trip()
        results[label] = {"ops": _ops_per_second(round_trip, seconds), "output": output}
        conn.lookupByName("bench").undefine()
    conn.close()
    return results


def virtcore_worker(seconds: float) -> dict[str, dict[str, Any]]:
    """virtcore's parse + format, parse alone and format alone, per document."""
    from virtcore.xml.domain import Domain

    results: dict[str, dict[str, Any]] = {}
    for label, text in DOCUMENTS.items():

        def parse(text: str = text) -> Domain:
            return Domain.parse(text, test_ifnames=True)

        parsed = parse()

        def round_trip(text: str = text) -> str:
            return Domain.parse(text, test_ifnames=True).format()

        results[label] = {
            "ops": _ops_per_second(round_trip, seconds),
            "parse": _ops_per_second(parse, seconds),
            "format": _ops_per_second(parsed.format, seconds),
            "output": round_trip(),
        }
    return results


def _run_libvirt(seconds: float) -> dict[str, dict[str, Any]]:
    proc = subprocess.run(
        [LIBVIRT_PYTHON, __file__, "--worker", "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=True,
    )
    result: dict[str, dict[str, Any]] = json.loads(proc.stdout)
    return result


def _best(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per document and measurement, the fastest of *runs* (load only slows runs down)."""
    best = runs[0]
    for run in runs[1:]:
        for label, values in run.items():
            for key, value in values.items():
                if isinstance(value, float):
                    best[label][key] = max(best[label][key], value)
    return best


def main() -> None:
    """Measure both implementations and print ops/s and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent on each measurement")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each measurement; the fastest counts"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.stdout.write(json.dumps(libvirt_worker(args.seconds)) + "\n")
        return
    sys.path.insert(0, str(ROOT))
    rounds = max(args.rounds, 1)
    # Rounds alternate between the two, so that a change of load hits both alike.
    theirs_runs: list[dict[str, dict[str, Any]]] = []
    ours_runs: list[dict[str, dict[str, Any]]] = []
    for _ in range(rounds):
        theirs_runs.append(_run_libvirt(args.seconds))
        ours_runs.append(virtcore_worker(args.seconds))
    real, ours = _best(theirs_runs), _best(ours_runs)
    header = ("document", "libvirt ops/s", "virtcore ops/s", "ratio", "parse ops/s", "format ops/s")
    sys.stdout.write("{:<12} {:>14} {:>15} {:>7} {:>12} {:>13}\n".format(*header))
    for label, theirs in real.items():
        mine = ours[label]
        sys.stdout.write(
            f"{label:<12} {theirs['ops']:>14.0f} {mine['ops']:>15.0f} "
            f"{mine['ops'] / theirs['ops']:>6.2f}x {mine['parse']:>12.0f} {mine['format']:>13.0f}\n"
        )
    for label, theirs in real.items():
        if theirs["output"] != ours[label]["output"]:
            sys.stdout.write(
                f"note: the {label!r} outputs differ; the ratio compares unlike work\n"
            )
    sys.stdout.write("ratio: virtcore parse+format ops/s / libvirt define+XMLDesc ops/s\n")


if __name__ == "__main__":
    main()
