"""Boot two QEMU command lines and compare the hardware the guest would see.

The argv-equivalence tests hold virtcore's command line against libvirt's
(``virsh domxml-to-native qemu-argv``) in two ways: as text (golden files in
``data/argv``) and by booting both and asking QEMU what it built. This module
is the machinery for both.

Cases
    ``data/argv/<case>.xml`` is a domain as libvirt defines it (``dumpxml
    --inactive --security-info`` after ``define``: defaults, controllers and
    addresses filled in) from the document ``data/argv/input/<case>.xml``;
    host paths of disk images and chardev files are written
    ``@IMAGES@/...``. :func:`materialise` substitutes a directory and
    :func:`create_images` creates the images a case uses there (qcow2 by
    ``qemu-img``, raw files sparse, a multiboot stub as ``-kernel``).
    ``data/argv/<case>.argv`` is libvirt's argv for it, one argument per
    line, normalised by :func:`normalise_argv`.

Standalone boot (:func:`standalone_argv`)
    libvirt's argv refers to its own runtime state, so both command lines are
    rewritten the same way before they run: the ``masterKey0`` secret object
    (a file libvirt would have written) is dropped; the monitor chardev is
    pointed at a socket in the boot's work directory; every other chardev
    ``path=`` moves into the work directory (``chardev-<id>``) and TCP, UDP
    and client sockets become a listening UNIX socket there (they would
    need a peer or a free port on this host); every
    ``-netdev`` becomes ``{"type":"user"}`` with the same id, because
    domxml-to-native writes tap file descriptors it never opened and the
    NIC the guest sees (``-device``) does not depend on the back-end; VNC
    listens on a UNIX socket in the work directory. ``-S`` stays, so no
    guest code runs, and the accelerator stays ``tcg``.

Hardware (:func:`hardware`) and its normalisation
    The QMP answers of ``query-pci``, ``query-block``, ``query-chardev``,
    ``query-cpus-fast``, ``query-memory-size-summary``, ``query-name`` and
    ``query-uuid``, with only host-specific values rewritten:

    * paths under the boot's image or work directory become ``@IMAGES@`` /
      ``@WORK@`` (each QEMU gets its own copy of the images: two processes
      cannot both hold an image's write lock);
    * ``pty:/dev/pts/N`` becomes ``pty``; host thread ids are dropped; the
      images' ``actual-size`` (host allocation) is dropped;
    * every ``-device`` (``qom-list /machine/peripheral``) is compared by
      id with its QOM type and its guest-visible properties
      (:data:`GUEST_VISIBLE`: MAC address, boot index, PCI/USB/SCSI
      placement, port numbers, serial numbers, video memory sizes, ...);
    * lists whose order QEMU derives from creation order of host objects
      (``query-chardev``) are sorted by label.

    Device ids (``qdev_id``, ``qdev``), node names and chardev labels are
    compared as they are: virtcore gives devices libvirt's ids, so a
    difference there is a real difference.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from virtcore_qemu.qmp import QMPClient

__all__ = [
    "DATA_DIR",
    "IMAGES",
    "QUERIES",
    "BootedQemu",
    "booted",
    "case_names",
    "create_images",
    "hardware",
    "load_case",
    "materialise",
    "normalise_argv",
    "split_keyval",
    "standalone_argv",
]

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data") / "argv"
IMAGES = "@IMAGES@"
QEMU_IMG = shutil.which("qemu-img") or "/usr/bin/qemu-img"
BOOT_TIMEOUT = 60.0
QUERIES = (
    "query-pci",
    "query-block",
    "query-chardev",
    "query-cpus-fast",
    "query-memory-size-summary",
    "query-name",
    "query-uuid",
)
GUEST_VISIBLE = frozenset(
    {
        "addr", "bootindex", "channel", "chassis", "chassis_nr", "index", "lun", "mac",
        "max_outputs", "max_ports", "max-bytes", "multifunction", "name", "nr", "period",
        "port", "ram_size", "scsi-id", "serial", "share-rw", "unit", "vgamem_mb",
        "vram_size", "vram64_size_mb", "write-cache", "p2", "p3",
    }
)  # fmt: skip
"""Device properties a guest can observe (or that place the device), compared per device."""
_DATE = re.compile(r"base=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_FLOPPY_BYTES = 1474560


# -- cases ---------------------------------------------------------------------------


def case_names() -> list[str]:
    """The names of the recorded cases, sorted."""
    return sorted(path.stem for path in DATA_DIR.glob("*.xml"))


def load_case(name: str) -> str:
    """The XML of case *name*, with the ``@IMAGES@`` placeholder."""
    return (DATA_DIR / f"{name}.xml").read_text()


def materialise(xml: str, images: Path) -> str:
    """*xml* with ``@IMAGES@`` replaced by the directory *images*."""
    return xml.replace(IMAGES, str(images))


def _multiboot_kernel() -> bytes:
    """The smallest kernel QEMU's x86 ``-kernel`` loads: a multiboot header, then ``hlt``."""
    magic, flags, load = 0x1BADB002, 0x00010000, 0x100000
    checksum = -(magic + flags) & 0xFFFFFFFF
    header = struct.pack("<8I", magic, flags, checksum, load, load, 0, 0, load + 32)
    return header + b"\xf4" * 32


def create_images(xml: str, images: Path) -> None:
    """Create in *images* every disk image, kernel and initrd *xml* (with placeholders) names."""
    images.mkdir(parents=True, exist_ok=True)
    root = etree.fromstring(xml.encode())
    for element, content in (("kernel", _multiboot_kernel()), ("initrd", bytes(512))):
        path = root.findtext(f"os/{element}")
        if path and path.startswith(IMAGES + "/"):
            (images / path[len(IMAGES) + 1 :]).write_bytes(content)
    for disk in root.iterfind("devices/disk"):
        source = disk.find("source")
        path = source.get("file") if source is not None else None
        if not path or not path.startswith(IMAGES + "/"):
            continue
        target = images / path[len(IMAGES) + 1 :]
        if target.exists():
            continue
        driver = disk.find("driver")
        if driver is not None and driver.get("type") == "qcow2":
            subprocess.run(
                [QEMU_IMG, "create", "-q", "-f", "qcow2", str(target), "16M"],
                check=True,
                capture_output=True,
                timeout=60,
            )
        else:
            size = _FLOPPY_BYTES if disk.get("device") == "floppy" else 1 << 20
            with open(target, "wb") as handle:
                handle.truncate(size)


# -- argv text -----------------------------------------------------------------------


def split_keyval(value: str) -> list[str]:
    """Split a QEMU keyval option at single commas (``,,`` is an escaped comma)."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == ",":
            if value[index + 1 : index + 2] == ",":
                current.append(",,")
                index += 2
                continue
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _option_pairs(argv: list[str]) -> Iterator[tuple[int, str, str]]:
    """(index of the value, option, value) for each ``-option value`` pair of *argv*.

    Values never start with ``-`` on these command lines (they are keyval
    text, JSON or numbers), which tells options with a value from flags.
    """
    index = 1
    while index < len(argv):
        option = argv[index]
        if index + 1 < len(argv) and not argv[index + 1].startswith("-"):
            yield index + 1, option, argv[index + 1]
            index += 2
        else:
            index += 1


def normalise_argv(argv: list[str], *, images: Path, channels: Path | None = None) -> list[str]:
    """*argv* with host-specific text replaced, for golden files and comparisons.

    The image directory becomes ``@IMAGES@``, the monitor chardev's
    ``path=``/``fd=`` becomes ``@MONITOR@``, the automatic channel
    directory (libvirt's ``/var/lib/libvirt/qemu/channel/target/domain-N-NAME``
    or virtcore's ``CommandContext.chardev_dir``) becomes ``@CHANNELS@`` and a
    computed ``-rtc base=`` date becomes ``@DATE@``.
    """
    result: list[str] = []
    for original in argv:
        word = original.replace(str(images), IMAGES)
        if channels is not None:
            word = word.replace(str(channels), "@CHANNELS@")
        word = re.sub(r"/var/lib/libvirt/qemu/channel/target/domain-[^/]*", "@CHANNELS@", word)
        word = _DATE.sub("base=@DATE@", word)
        if word.startswith("socket,id=charmonitor,"):
            parts = split_keyval(word)
            parts = ["@MONITOR@" if part.startswith(("path=", "fd=")) else part for part in parts]
            word = ",".join(parts)
        result.append(word)
    return result


def standalone_argv(argv: list[str], work: Path) -> list[str]:
    """*argv* rewritten to run on its own with its runtime state under *work* (see module doc)."""
    out = [argv[0]]
    values = {index: (option, value) for index, option, value in _option_pairs(argv)}
    vnc_number = 0
    for index in range(1, len(argv)):
        if index in values:
            continue
        if index + 1 not in values:
            out.append(argv[index])
            continue
        option, value = values[index + 1]
        if option == "-object" and '"masterKey0"' in value:
            continue
        if option == "-netdev":
            value = json.dumps({"type": "user", "id": json.loads(value)["id"]})
        elif option == "-chardev":
            value = _standalone_chardev(value, work)
        elif option == "-vnc":
            kept = [part for part in split_keyval(value) if part.startswith("audiodev=")]
            value = ",".join([f"unix:{work}/vnc{vnc_number}.sock", *kept])
            vnc_number += 1
        out += [option, value]
    return out


def _standalone_chardev(value: str, work: Path) -> str:
    parts = split_keyval(value)
    ident = next((p[3:] for p in parts if p.startswith("id=")), "chardev")
    own = work / ("monitor.sock" if ident == "charmonitor" else f"chardev-{ident}")
    if parts[0] in ("socket", "udp"):
        # Network and client sockets would need a peer (or a free port) on
        # this host: both sides get the same listening UNIX socket instead.
        return f"socket,id={ident},path={own},server=on,wait=off"
    return ",".join(f"path={own}" if part.startswith("path=") else part for part in parts)


# -- booting -------------------------------------------------------------------------


@dataclass
class BootedQemu:
    """A QEMU started from a standalone argv, stopped before the first instruction."""

    process: subprocess.Popen[bytes]
    work: Path
    qmp: QMPClient | None = None

    def log(self) -> str:
        """QEMU's stderr so far."""
        try:
            return (self.work / "qemu.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Close the monitor and kill QEMU (always safe to call)."""
        if self.qmp is not None:
            self.qmp.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=BOOT_TIMEOUT)


def start(argv: list[str], work: Path) -> BootedQemu:
    """Start *argv* made standalone under *work* (monitor not yet connected)."""
    work.mkdir(parents=True, exist_ok=True)
    final = standalone_argv(argv, work)
    (work / "argv.json").write_text(json.dumps(final, indent=1))
    with open(work / "qemu.log", "wb") as log:
        process = subprocess.Popen(
            final, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=work
        )
    return BootedQemu(process, work)


def connect(qemu: BootedQemu) -> None:
    """Connect *qemu*'s monitor; raises with QEMU's log when it does not come up."""
    try:
        qemu.qmp = QMPClient.connect(
            qemu.work / "monitor.sock",
            name=qemu.work.name,
            timeout=BOOT_TIMEOUT,
            alive=lambda: qemu.process.poll() is None,
        )
    except Exception as exc:
        raise AssertionError(f"QEMU in {qemu.work} did not start: {exc}\n{qemu.log()}") from exc


@contextlib.contextmanager
def booted(*runs: tuple[list[str], Path]) -> Iterator[list[BootedQemu]]:
    """Start every (argv, work dir) at once, connect their monitors, kill them all on exit."""
    started: list[BootedQemu] = []
    try:
        for argv, work in runs:
            started.append(start(argv, work))
        for qemu in started:
            connect(qemu)
        yield started
    finally:
        for qemu in started:
            qemu.stop()


# -- hardware ------------------------------------------------------------------------


def hardware(qemu: BootedQemu, images: Path) -> dict[str, Any]:
    """The normalised answers of :data:`QUERIES` from *qemu* (see module doc)."""
    assert qemu.qmp is not None
    answers = {query: qemu.qmp.execute(query) for query in QUERIES}
    answers["peripherals"] = _peripherals(qemu.qmp)
    answers = dict(_replace_paths(answers, {str(images): IMAGES, str(qemu.work): "@WORK@"}))
    for cpu in answers["query-cpus-fast"]:
        cpu.pop("thread-id", None)
    for chardev in answers["query-chardev"]:
        if str(chardev.get("filename", "")).startswith("pty:"):
            chardev["filename"] = "pty"
    answers["query-chardev"].sort(key=lambda entry: entry["label"])
    for block in answers["query-block"]:
        image = block.get("inserted", {}).get("image")
        while image is not None:
            image.pop("actual-size", None)
            image = image.get("backing-image")
    return answers


def _peripherals(qmp: QMPClient) -> dict[str, dict[str, Any]]:
    """Each ``-device`` by id: its QOM type and its :data:`GUEST_VISIBLE` properties."""
    found: dict[str, dict[str, Any]] = {}
    for child in qmp.execute("qom-list", {"path": "/machine/peripheral"}):
        if not child["type"].startswith("child<"):
            continue
        path = f"/machine/peripheral/{child['name']}"
        entry: dict[str, Any] = {"type": child["type"]}
        for prop in qmp.execute("qom-list", {"path": path}):
            if prop["name"] in GUEST_VISIBLE:
                entry[prop["name"]] = qmp.execute(
                    "qom-get", {"path": path, "property": prop["name"]}
                )
        found[child["name"]] = entry
    return found


def _replace_paths(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_paths(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _replace_paths(item, replacements) for key, item in value.items()}
    return value


def describe_difference(mine: dict[str, Any], theirs: dict[str, Any]) -> str:
    """The queries whose answers differ, both answers pretty-printed."""
    lines = []
    for query in (*QUERIES, "peripherals"):
        if mine.get(query) != theirs.get(query):
            lines.append(f"{query}:\n  virtcore: {json.dumps(mine.get(query), sort_keys=True)}")
            lines.append(f"  libvirt:  {json.dumps(theirs.get(query), sort_keys=True)}")
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    """``python qemu_hardware.py record|define [CASE...]``: write the golden files.

    ``record`` writes ``<case>.argv`` from ``<case>.xml``; ``define`` first
    defines ``input/<case>.xml`` through libvirt and writes what it made of
    it as ``<case>.xml`` (image paths back to ``@IMAGES@``), then records.
    """
    import tempfile

    from qemu_libvirt_oracle import start_qemu_oracle

    if len(argv) < 2 or argv[1] not in ("record", "define"):
        raise SystemExit("usage: qemu_hardware.py record|define [CASE...]")
    define = argv[1] == "define"
    names = argv[2:] or case_names()
    with tempfile.TemporaryDirectory() as tmp:
        images = Path(tmp) / "images"
        with start_qemu_oracle(Path(tmp) / "oracle") as oracle:
            for name in names:
                if define:
                    source = (DATA_DIR / "input" / f"{name}.xml").read_text()
                    create_images(source, images)
                    defined = oracle.define_and_dump(materialise(source, images))
                    (DATA_DIR / f"{name}.xml").write_text(
                        defined.replace(str(images), IMAGES).rstrip("\n") + "\n"
                    )
                xml = load_case(name)
                create_images(xml, images)
                words = oracle.domxml_to_native(materialise(xml, images))
                text = "\n".join(normalise_argv(words, images=images)) + "\n"
                (DATA_DIR / f"{name}.argv").write_text(text)
                logger.info("recorded %s", name)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(_main(sys.argv))
