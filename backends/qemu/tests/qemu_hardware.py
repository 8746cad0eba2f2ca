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
    ``qemu-img``, overlays on the next image of their ``<backingStore>``
    chain, raw files sparse, a multiboot stub as ``-kernel``, UEFI varstores
    from their template).
    ``data/argv/<case>.argv`` is libvirt's argv for it, one argument per
    line, normalised by :func:`normalise_argv`.

Standalone boot (:func:`standalone_argv`)
    libvirt's argv refers to its own runtime state, so both command lines are
    rewritten the same way before they run: the ``masterKey0`` secret object
    (a file libvirt would have written) is dropped; the monitor chardev is
    pointed at a socket in the boot's work directory; every other chardev
    ``path=`` moves into the work directory (``chardev-<id>``) and TCP, UDP
    and client sockets become a listening UNIX socket there (they would
    need a peer or a free port on this host), except the TPM's, which
    connects to an ``swtpm`` started in the work directory; every
    ``-netdev`` becomes ``{"type":"user"}`` with the same id, because
    domxml-to-native writes tap file descriptors it never opened and the
    NIC the guest sees (``-device``) does not depend on the back-end; VNC
    listens on a UNIX socket in the work directory. ``-S`` stays, so no
    guest code runs, and the accelerator stays ``tcg``.

Hardware (:func:`hardware`) and its normalisation
    The QMP answers of :data:`QUERIES` (PCI, block and character devices,
    vCPUs with their NUMA node, memory size, memory devices and backends,
    I/O threads, name, UUID), with only host-specific values rewritten:

    * paths under the boot's image or work directory become ``@IMAGES@`` /
      ``@WORK@`` (each QEMU gets its own copy of the images: two processes
      cannot both hold an image's write lock);
    * ``pty:/dev/pts/N`` becomes ``pty``; host thread ids (vCPUs, I/O
      threads) are dropped; the
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
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from virtcore_qemu.qmp import QMPClient

if TYPE_CHECKING:
    from qemu_libvirt_oracle import QemuOracle

__all__ = [
    "DATA_DIR",
    "HIDDEN_BACKING",
    "IMAGES",
    "LIVE_CASES",
    "QUERIES",
    "BootedQemu",
    "booted",
    "case_names",
    "create_images",
    "hardware",
    "libvirt_argv",
    "load_case",
    "materialise",
    "normalise_argv",
    "split_keyval",
    "standalone_argv",
]

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data") / "argv"
IMAGES = "@IMAGES@"
PIDFILE = "@PIDFILE@"
QEMU_IMG = shutil.which("qemu-img") or "/usr/bin/qemu-img"
SWTPM = shutil.which("swtpm") or "/usr/bin/swtpm"
TPM_SOCKET_NAME = "swtpm.sock"
BOOT_TIMEOUT = 60.0
QUERIES = (
    "query-pci",
    "query-block",
    "query-chardev",
    "query-cpus-fast",
    "query-memory-size-summary",
    "query-name",
    "query-uuid",
    "query-memory-devices",
    "query-memdev",
    "query-iothreads",
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


LIVE_CASES = frozenset({"nic-driver-options", "disk-chains-detected"})
"""Cases whose golden argv comes from a real (paused) start, not domxml-to-native.

domxml-to-native rebuilds every interface from its MAC and model alone, so
what else an interface says (``<driver>`` ring sizes, ``<rom>``) can only
be seen on the command line of a guest libvirt really starts; nor does it
read the backing chains of the images, which a start does.
"""

HIDDEN_BACKING = {
    "chain-a.qcow2": ("chain-a-base.raw", "raw"),
    "chain-b.qcow2": ("chain-b-base.raw", "raw"),
}
"""Backing images an image's header names while the case's XML does not.

:func:`create_images` creates them below the image; starting the guest
detects them (libvirt's ``qemuDomainDetermineDiskChain``).
"""


def libvirt_argv(oracle: QemuOracle, name: str, xml: str) -> list[str]:
    """libvirt's argv for case *name* (its XML *xml*, paths materialised).

    :data:`LIVE_CASES` are started paused by the private daemon and their
    QEMU's ``/proc/PID/cmdline`` is read before the guest is destroyed;
    the others come from ``domxml-to-native``.
    """
    if name not in LIVE_CASES:
        return oracle.domxml_to_native(xml)
    path = oracle.workdir / f"live-{name}.xml"
    path.write_text(xml)
    oracle.virsh("create", "--paused", str(path), check=True)
    try:
        pid = int((oracle.workdir / "run" / "libvirt" / "qemu" / f"{name}.pid").read_text())
        return [
            word.decode() for word in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        ]
    finally:
        oracle.virsh("destroy", name, check=True)


#: Device kinds with an alias, in libvirt's assignment order (``qemuAssignDeviceAliases``).
ALIASED_TAGS = (
    "disk", "interface", "filesystem", "sound", "hostdev", "redirdev", "video", "controller",
    "input", "parallel", "serial", "channel", "console", "hub", "shmem", "smartcard",
    "watchdog", "memballoon", "rng", "tpm", "memory", "vsock", "iommu",
)  # fmt: skip
ALIASES_DIR = DATA_DIR / "aliases"


def device_alias_list(root: etree._Element) -> list[list[object]]:
    """``[tag, position among the tag, alias or None]`` of every aliased device of *root*."""
    devices = root.find("devices")
    found: list[list[object]] = []
    for tag in ALIASED_TAGS:
        for position, node in enumerate(devices.findall(tag) if devices is not None else []):
            alias = node.find("alias")
            found.append([tag, position, alias.get("name") if alias is not None else None])
    return found


def libvirt_live_aliases(oracle: QemuOracle, name: str, xml: str) -> list[list[object]] | None:
    """The aliases of case *name* as libvirt starts it (paused); ``None`` if it cannot start."""
    path = oracle.workdir / f"aliases-{name}.xml"
    path.write_text(xml)
    # By UUID: a case's domain name may be built to be awkward on a command line.
    uuid = etree.fromstring(xml.encode()).findtext("uuid") or name
    if oracle.virsh("create", "--paused", str(path)).returncode != 0:
        return None
    try:
        live = oracle.virsh("dumpxml", uuid, check=True).stdout
    finally:
        oracle.virsh("destroy", uuid, check=True)
    return device_alias_list(etree.fromstring(live.encode()))


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
    """Create in *images* every disk image, kernel and initrd *xml* (with placeholders) names.

    Images of :data:`HIDDEN_BACKING` are overlays of their hidden backing image.
    """
    images.mkdir(parents=True, exist_ok=True)
    root = etree.fromstring(xml.encode())
    for element, content in (("kernel", _multiboot_kernel()), ("initrd", bytes(512))):
        path = root.findtext(f"os/{element}")
        if path and path.startswith(IMAGES + "/"):
            (images / path[len(IMAGES) + 1 :]).write_bytes(content)
    nvram = root.find("os/nvram")
    if nvram is not None and (nvram.text or "").startswith(IMAGES + "/"):
        # What the driver does before a first start: the varstore from its template.
        template = nvram.get("template")
        target = images / (nvram.text or "")[len(IMAGES) + 1 :]
        if template and not target.exists():
            shutil.copyfile(template, target)
    for disk in root.iterfind("devices/disk"):
        driver = disk.find("driver")
        chain: list[tuple[etree._Element, str]] = [
            (disk, (driver.get("type") if driver is not None else None) or "raw")
        ]
        below = disk.find("backingStore")
        while below is not None and below.find("source") is not None:
            format_node = below.find("format")
            chain.append(
                (below, (format_node.get("type") if format_node is not None else None) or "raw")
            )
            below = below.find("backingStore")
        backing: tuple[Path, str] | None = None
        floppy = disk.get("device") == "floppy"
        for image_node, image_format in reversed(chain):
            source = image_node.find("source")
            path = source.get("file") if source is not None else None
            if not path or not path.startswith(IMAGES + "/"):
                backing = None
                continue
            target = images / path[len(IMAGES) + 1 :]
            hidden = HIDDEN_BACKING.get(target.name)
            if hidden is not None and backing is None:
                backing = (images / hidden[0], hidden[1])
                if not backing[0].exists():
                    _create_image(backing[0], backing[1], None, floppy=floppy)
            if not target.exists():
                _create_image(target, image_format, backing, floppy=floppy)
            backing = (target, image_format)


def _create_image(
    target: Path, fmt: str, backing: tuple[Path, str] | None, *, floppy: bool
) -> None:
    """A qcow2 image by ``qemu-img`` (an overlay of *backing* if given), else a sparse file."""
    if fmt == "qcow2":
        command = [QEMU_IMG, "create", "-q", "-f", "qcow2"]
        if backing is not None:
            command += ["-b", str(backing[0]), "-F", backing[1]]
        subprocess.run([*command, str(target), "16M"], check=True, capture_output=True, timeout=60)
        return
    with open(target, "wb") as handle:
        handle.truncate(_FLOPPY_BYTES if floppy else 1 << 20)


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


def normalise_argv(
    argv: list[str], *, images: Path, channels: Path | None = None, lib_dir: Path | None = None
) -> list[str]:
    """*argv* with host-specific text replaced, for golden files and comparisons.

    The image directory becomes ``@IMAGES@``, the monitor chardev's
    ``path=``/``fd=`` becomes ``@MONITOR@``, the automatic channel
    directory (libvirt's ``/var/lib/libvirt/qemu/channel/target/domain-N-NAME``
    or virtcore's ``CommandContext.chardev_dir``) becomes ``@CHANNELS@``, the
    per-domain private directory (libvirt's
    ``/var/lib/libvirt/qemu/domain-N-NAME``, virtcore's
    ``CommandContext.lib_dir``) becomes ``@LIBDIR@``, a computed ``-rtc
    base=`` date becomes ``@DATE@`` and the ``-pidfile`` path ``@PIDFILE@``.
    """
    result: list[str] = []
    for original in argv:
        word = original.replace(str(images), IMAGES)
        if channels is not None:
            word = word.replace(str(channels), "@CHANNELS@")
        word = re.sub(r"/var/lib/libvirt/qemu/channel/target/domain-[^/]*", "@CHANNELS@", word)
        if lib_dir is not None:
            word = word.replace(str(lib_dir), "@LIBDIR@")
        word = re.sub(r"/var/lib/libvirt/qemu/domain-[^/]*", "@LIBDIR@", word)
        word = _DATE.sub("base=@DATE@", word)
        if result and result[-1] == "-pidfile":
            word = PIDFILE
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
        elif option == "-pidfile":
            value = str(work / "qemu.pid")
        elif option == "-vnc":
            kept = [part for part in split_keyval(value) if part.startswith("audiodev=")]
            value = ",".join([f"unix:{work}/vnc{vnc_number}.sock", *kept])
            vnc_number += 1
        out += [option, value]
    return out


def _standalone_chardev(value: str, work: Path) -> str:
    parts = split_keyval(value)
    ident = next((p[3:] for p in parts if p.startswith("id=")), "chardev")
    if ident == "chrtpm":
        # QEMU is the client of the swtpm started next to it (see start()).
        return f"socket,id=chrtpm,path={work / TPM_SOCKET_NAME}"
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
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    """Daemons QEMU talks to (``swtpm``), killed with it."""

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
        for process in (self.process, *self.helpers):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=BOOT_TIMEOUT)


def start(argv: list[str], work: Path) -> BootedQemu:
    """Start *argv* made standalone under *work* (monitor not yet connected)."""
    work.mkdir(parents=True, exist_ok=True)
    final = standalone_argv(argv, work)
    (work / "argv.json").write_text(json.dumps(final, indent=1))
    helpers = [_start_swtpm(work)] if "-tpmdev" in final else []
    try:
        with open(work / "qemu.log", "wb") as log:
            process = subprocess.Popen(
                final, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=work
            )
    except BaseException:
        for helper in helpers:
            helper.kill()
            helper.wait(timeout=BOOT_TIMEOUT)
        raise
    return BootedQemu(process, work, helpers=helpers)


def _start_swtpm(work: Path) -> subprocess.Popen[bytes]:
    """A TPM 2.0 ``swtpm`` serving the control socket the standalone TPM chardev names."""
    state = work / "tpm"
    state.mkdir(exist_ok=True)
    socket = work / TPM_SOCKET_NAME
    with open(work / "swtpm.log", "wb") as log:
        process = subprocess.Popen(
            [SWTPM, "socket", "--tpm2", "--tpmstate", f"dir={state}",
             "--ctrl", f"type=unixio,path={socket}", "--terminate"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    deadline = time.monotonic() + BOOT_TIMEOUT
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=BOOT_TIMEOUT)
            raise AssertionError(f"swtpm did not start: {(work / 'swtpm.log').read_text()}")
        time.sleep(0.01)
    return process


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
    for iothread in answers["query-iothreads"]:
        iothread.pop("thread-id", None)
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
    """``python qemu_hardware.py record|define|aliases [CASE...]``: write the golden files.

    ``record`` writes ``<case>.argv`` from ``<case>.xml``; ``define`` first
    defines ``input/<case>.xml`` through libvirt and writes what it made of
    it as ``<case>.xml`` (image paths back to ``@IMAGES@``), then records;
    ``aliases`` starts each case in libvirt (paused) and writes the device
    aliases of its live XML as ``aliases/<case>.json`` (cases libvirt cannot
    start on this host get none).
    """
    import tempfile

    from qemu_libvirt_oracle import start_qemu_oracle

    if len(argv) < 2 or argv[1] not in ("record", "define", "aliases"):
        raise SystemExit("usage: qemu_hardware.py record|define|aliases [CASE...]")
    define = argv[1] == "define"
    names = argv[2:] or case_names()
    with tempfile.TemporaryDirectory() as tmp:
        images = Path(tmp) / "images"
        with start_qemu_oracle(Path(tmp) / "oracle") as oracle:
            for name in names:
                if argv[1] == "aliases":
                    _record_aliases(oracle, name, images)
                    continue
                if define:
                    source = (DATA_DIR / "input" / f"{name}.xml").read_text()
                    # Before the images: libvirt will not undefine a domain whose
                    # varstore exists.
                    defined = oracle.define_and_dump(materialise(source, images))
                    (DATA_DIR / f"{name}.xml").write_text(
                        defined.replace(str(images), IMAGES).rstrip("\n") + "\n"
                    )
                xml = load_case(name)
                create_images(xml, images)
                words = libvirt_argv(oracle, name, materialise(xml, images))
                text = "\n".join(normalise_argv(words, images=images)) + "\n"
                (DATA_DIR / f"{name}.argv").write_text(text)
                logger.info("recorded %s", name)
    return 0


def _record_aliases(oracle: QemuOracle, name: str, images: Path) -> None:
    """Write ``aliases/<case>.json``: the aliases of the guest libvirt starts for the case."""
    xml = load_case(name)
    create_images(xml, images)
    aliases = libvirt_live_aliases(oracle, name, materialise(xml, images))
    target = ALIASES_DIR / f"{name}.json"
    if aliases is None:
        logger.info("libvirt cannot start %s here: no aliases recorded", name)
        target.unlink(missing_ok=True)
        return
    ALIASES_DIR.mkdir(exist_ok=True)
    target.write_text(json.dumps(aliases) + "\n")
    logger.info("recorded the aliases of %s", name)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(_main(sys.argv))
