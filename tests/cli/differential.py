"""Running one command line through real virsh and through virtcore, and comparing.

virsh runs as a subprocess (``virsh -c test:///default ...``): its
``test:///default`` host lives in the process, so every invocation starts
from the stock host. virtcore runs in-process through
:func:`virtcore.cli.main` after :func:`reset_default_host`, which gives it the
same fresh start; its standard streams are captured. Both run in the same
working directory, which holds the input files of :data:`FILES`.

Values that legitimately differ between two runs are masked, each mask
named and explained in :data:`MASKS`; a case lists the masks it needs.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.libvirt_oracle import oracle_missing
from virtcore.cli import main
from virtcore.drivers.test.driver import reset_default_host

DEFAULT = "test:///default"

VIRSH = shutil.which("virsh")
VIRSH_ATTEMPTS = 12
VIRSH_HANG_SECONDS = 2

# Each mask: (pattern, replacement) and why the value differs between runs.
MASKS: dict[str, tuple[re.Pattern[str], str]] = {
    # The test driver derives a domain's CPU time from the wall clock.
    "cpu-time": (re.compile(r"(CPU time:? +)\d+\.\ds"), r"\1<seconds>s"),
    # Block and interface counters of the test driver grow with the wall clock.
    "stats": (
        re.compile(
            r"(rd_req|rd_bytes|wr_req|wr_bytes|errs|rx_bytes|rx_packets|rx_errs|rx_drop|"
            r"tx_bytes|tx_packets|tx_errs|tx_drop|operations:|read:|written:|count:) +\d+"
        ),
        r"\1 <n>",
    ),
    # Objects defined without a UUID get a random (version 4) one.
    "random-uuid": (
        re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
        "<uuid>",
    ),
    # Snapshots record their creation time; unnamed ones are named after it.
    "snapshot-time": (
        re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}|\b1[0-9]{9}\b"),
        "<time>",
    ),
    # Editors work on a temporary file with a random name.
    "editor-file": (re.compile(r"/\S*/(virsh|virtcore)\w+\.xml"), "<tmpfile>"),
    # Screenshot files without a name are named after the local time.
    "timestamp": (re.compile(r"\d{4}-\d\d-\d\d-\d\d:\d\d:\d\d"), "<time>"),
}

DOMAIN_XML = """<domain type='test'>
  <name>new</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>
"""

FILES: dict[str, str] = {
    "new.xml": DOMAIN_XML,
    "bad.xml": '<domain type="test"><name>bad</name',
    "noname.xml": '<domain type="test"><memory>1024</memory><os><type>hvm</type></os></domain>',
    "disk.xml": (
        "<disk type='file' device='disk'>\n  <source file='/var/lib/x.img'/>\n"
        "  <target dev='vdb' bus='virtio'/>\n</disk>\n"
    ),
    "net2.xml": """<network>
  <name>net2</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <bridge name='virbr9'/>
  <ip address='10.9.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.9.0.2' end='10.9.0.254'/>
    </dhcp>
  </ip>
</network>
""",
    "host.xml": '<host mac="52:54:00:00:00:09" name="h9" ip="10.9.0.9"/>',
    "pool2.xml": """<pool type='dir'>
  <name>pool2</name>
  <uuid>22222222-2222-3333-4444-555555555555</uuid>
  <target>
    <path>/pool2dir</path>
  </target>
</pool>
""",
    "vol.xml": """<volume>
  <name>v1.img</name>
  <capacity unit='M'>10</capacity>
  <allocation>0</allocation>
</volume>
""",
    "vol2.xml": "<volume>\n  <name>v2.img</name>\n  <capacity>1048576</capacity>\n</volume>\n",
    "snap.xml": """<domainsnapshot>
  <name>fromxml</name>
  <description>made from xml</description>
</domainsnapshot>
""",
}


@dataclass(frozen=True)
class Result:
    """What a command line printed and its exit status."""

    out: str
    err: str
    status: int

    def masked(self, masks: Sequence[str]) -> Result:
        """The result with the named masks applied to both streams."""
        out, err = self.out, self.err
        for name in masks:
            pattern, replacement = MASKS[name]
            out = pattern.sub(replacement, out)
            err = pattern.sub(replacement, err)
        return Result(out, err, self.status)


def write_files(directory: Path) -> None:
    """Create the input files the cases refer to."""
    for name, text in FILES.items():
        (directory / name).write_text(text)


def run_virsh(argv: Sequence[str], cwd: Path, hang_seconds: float = VIRSH_HANG_SECONDS) -> Result:
    """Run real virsh with *argv*.

    virsh 9.0's ``save`` and ``managedsave`` sometimes never return when the
    job ends before virsh starts watching it (a race in virsh itself); such a
    run is abandoned after *hang_seconds* and repeated, as a user would.
    Commands that wait on purpose (``nodecpustats --percent``) pass more.
    """
    if VIRSH is None:
        oracle_missing("virsh (libvirt-clients)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRSH_", "LIBVIRT_"))}
    for _attempt in range(VIRSH_ATTEMPTS):
        try:
            proc = subprocess.run(
                [VIRSH, *argv],
                cwd=cwd,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                env=env,
                timeout=hang_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired:
            continue
        return Result(proc.stdout, proc.stderr, proc.returncode)
    raise AssertionError(f"virsh {argv} hung {VIRSH_ATTEMPTS} times")


def run_virtcore(argv: Sequence[str], cwd: Path) -> Result:
    """Run virtcore's command line in-process with *argv*, on a fresh default host."""
    reset_default_host()
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        status = main(list(argv), out=out, err=err, stdin=io.StringIO(""))
    finally:
        os.chdir(previous)
        reset_default_host()
    return Result(out.getvalue(), err.getvalue(), status)


def command_argv(line: str | Sequence[str], uri: str = DEFAULT) -> list[str]:
    """``-c URI`` plus the command: one command string, or a ready argument list."""
    if isinstance(line, str):
        return ["-c", uri, line]
    return list(line)


def assert_same(
    line: str | Sequence[str],
    cwd: Path,
    masks: Sequence[str] = (),
    uri: str = DEFAULT,
    hang_seconds: float = VIRSH_HANG_SECONDS,
) -> None:
    """Run *line* both ways and require identical output and exit status."""
    argv = command_argv(line, uri)
    expected = run_virsh(argv, cwd, hang_seconds).masked(masks)
    actual = run_virtcore(argv, cwd).masked(masks)
    assert actual == expected
