"""virtcore's QEMU command line against libvirt 9.0's, for every case in data/argv.

For each case (a domain as libvirt defines it, see ``qemu_hardware``; the
document it was defined from is ``data/argv/input/<case>.xml``):

* the golden file ``<case>.argv`` is exactly what the private libvirt
  daemon's ``domxml-to-native qemu-argv`` prints today (normalised host
  paths), so the goldens cannot drift from the oracle - or, for the cases of
  ``LIVE_CASES`` (interface options domxml-to-native drops), the argv of a
  guest the daemon really starts (paused);
* virtcore's argv equals the golden argv once the accepted differences
  (:func:`expected_from_libvirt`, data/argv/DIFFERENCES.md) are applied;
* for the cases of ``LIVE_CASES`` virtcore's side is, like libvirt's, the
  started guest's: disks' backing chains read from the images and numbered
  as libvirt numbers them;
* the input document taken through virtcore's define path
  (``prepare_definition``) gives that same argv - the whole XML-to-argv
  pipeline against libvirt's;
* both command lines, made standalone, boot in QEMU (TCG, ``-S``) side by side
  and report the same hardware over QMP (PCI devices, block devices,
  character devices, vCPUs, memory, name, UUID) - except the cases of
  :data:`ARGV_ONLY`, which need host resources (devices, daemons, firmware)
  this machine's tests cannot have and are compared as text only.

Golden files are written by ``python qemu_hardware.py record``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from lxml import etree
from qemu_hardware import (
    DATA_DIR,
    LIVE_CASES,
    PIDFILE,
    booted,
    case_names,
    create_images,
    describe_difference,
    hardware,
    libvirt_argv,
    load_case,
    materialise,
    normalise_argv,
)
from qemu_libvirt_oracle import QemuOracle, shared_qemu_oracle

from virtcore.xml.domain import Domain
from virtcore_qemu.caps import CapsCache, QemuCaps
from virtcore_qemu.chain import fill_live_chains
from virtcore_qemu.command import CommandContext, assign_aliases, build_command
from virtcore_qemu.postparse import prepare_definition

CASES = case_names()
ARGV_ONLY: dict[str, str] = {
    "numa-memoryless": "libvirt writes a zero-sized memory-backend-ram that QEMU 7.2 refuses",
    "disk-lun": "needs a host SCSI block device",
    "disk-lun-filtered": "needs a host SCSI block device",
    "disk-network-nbd": "needs an NBD server",
    "disk-network-iscsi": "needs an iSCSI target",
    "hostdev-pci": "needs a host PCI device bound to vfio-pci",
    "hostdev-usb": "needs host USB devices",
    "filesystem-virtiofs": "needs a running virtiofsd",
    "shmem-doorbell": "needs an ivshmem server",
    "vsock": "needs /dev/vhost-vsock",
    "panic-hyperv": "hv-crash and other Hyper-V flags need KVM",
    "iommu-intel": "eim=on needs KVM's split irqchip",
    "features-hyperv": "Hyper-V enlightenments need KVM",
    "video-virtio-accel": "virtio-gpu with 3D acceleration needs OpenGL on the host",
    "smartcard-host": "needs a host smartcard reader through NSS",
}
"""Cases compared as text only, with the reason QEMU cannot boot them here."""
# swtpm and OVMF are installed by scripts/bootstrap.sh: the TPM and firmware
# cases boot, and fail (rather than quietly shrink to a text comparison) without them.
BOOTED = [name for name in CASES if name not in ARGV_ONLY]
INPUT_DIR = DATA_DIR / "input"
CHANNELS = Path("/run/virtcore-test/channels")
FIRST_TAP_FD = 17
VSOCK_FD = 27
TPM_SOCKET = Path("/run/virtcore-test/swtpm.sock")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One image directory per side: two QEMUs cannot share an image's write lock."""
    dirs = {side: tmp_path_factory.mktemp(f"images-{side}") for side in ("virtcore", "libvirt")}
    for name in CASES:
        for path in dirs.values():
            create_images(load_case(name), path)
    return dirs


@pytest.fixture(scope="module")
def caps(tmp_path_factory: pytest.TempPathFactory) -> QemuCaps:
    return CapsCache(tmp_path_factory.mktemp("caps")).get("/usr/bin/qemu-system-x86_64")


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> QemuOracle:
    return shared_qemu_oracle(tmp_path_factory)


@functools.cache
def _libvirt_argv(oracle: QemuOracle, name: str, images: Path) -> tuple[str, ...]:
    return tuple(libvirt_argv(oracle, name, materialise(load_case(name), images)))


def virtcore_argv(
    name: str, images: Path, caps: QemuCaps, work: Path, *, from_input: bool = False
) -> list[str]:
    """virtcore's argv for case *name* with the case's images in *images*.

    With *from_input* the case's input document is defined the way the
    driver defines it (``prepare_definition``), with the UUID libvirt
    generated for it; otherwise libvirt's defined form is used as it is.

    Interfaces that libvirt backs with a tap device get pre-opened tap
    descriptors numbered as libvirt numbers them (17, 18, ...), VNC
    ``autoport`` gets port 5900 (display 0, what domxml-to-native shows).
    """
    domain = Domain.parse(materialise(load_case(name), images))
    if from_input:
        defined = domain
        domain = Domain.parse(materialise((INPUT_DIR / f"{name}.xml").read_text(), images))
        domain.uuid = defined.uuid
        prepare_definition(domain, caps)
    _as_started(name, domain)
    argv: list[str] = build_command(domain, caps, _context(domain, work))
    return argv


def _as_started(name: str, domain: Domain) -> None:
    """For a case libvirt really starts, what the driver does to a starting guest's disks.

    The backing chains are read from the images and every image numbered as
    libvirt numbers them (:func:`~virtcore_qemu.chain.fill_live_chains`).
    """
    if name in LIVE_CASES:
        fill_live_chains(domain)


def _context(domain: Domain, work: Path) -> CommandContext:
    taps = {
        f"hostnet{number}": [FIRST_TAP_FD + number]
        for number, net in enumerate(domain.element.iterfind("devices/interface"))
        if net.get("type") != "user"
    }
    return CommandContext(
        monitor_path=work / "monitor.sock",
        pidfile=work / "qemu.pid",
        lib_dir=work,
        chardev_dir=CHANNELS,
        accel="tcg",
        tap_fds=taps,
        vnc_ports=(5900,),
        vsock_fd=VSOCK_FD,
        tpm_socket=TPM_SOCKET,
    )


def golden(name: str) -> list[str]:
    """The recorded libvirt argv of case *name*."""
    return (DATA_DIR / f"{name}.argv").read_text().splitlines()


def expected_from_libvirt(argv: list[str], xml: str) -> list[str]:
    """libvirt's argv with the differences virtcore is meant to have (DIFFERENCES.md).

    1. The ``masterKey0`` secret object is dropped: virtcore passes no
       encrypted secrets to QEMU.
    2. domxml-to-native replaces every interface by a tap device it does not
       open (``"fd":"17"``); for ``type='user'`` virtcore writes the real
       back-end, ``{"type":"user","id":"hostnetN"}``.
    3. domxml-to-native also drops an interface's ``<boot order>``; a real
       start (and virtcore) writes it as the NIC's ``bootindex``.
    4. domxml-to-native starts no swtpm and writes the TPM chardev as
       ``null``; virtcore writes the socket of the driver's swtpm
       (``CommandContext.tpm_socket``, :data:`TPM_SOCKET` here).
    5. domxml-to-native opens no ``/dev/vhost-vsock`` and writes
       ``"vhostfd":"-1"``; virtcore writes the driver's descriptor
       (``CommandContext.vsock_fd``, :data:`VSOCK_FD` here).
    6. libvirt writes the pidfile itself and passes no ``-pidfile``; virtcore
       has QEMU write it: ``-pidfile`` right after ``-mon`` (normalised to
       ``@PIDFILE@``).
    """
    root = etree.fromstring(xml.encode())
    nets = root.findall("devices/interface")
    out: list[str] = []
    skip = False
    for index, original in enumerate(argv):
        word = original
        if skip:
            skip = False
            continue
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if word == "-object" and '"masterKey0"' in following:
            skip = True
            continue
        if word == "chardev=charmonitor,id=monitor,mode=control":
            out += [word, "-pidfile", PIDFILE]
            continue
        if word == "null,id=chrtpm":
            word = f"socket,id=chrtpm,path={TPM_SOCKET}"
        if word.startswith('{"driver":"vhost-vsock-pci"'):
            word = word.replace('"vhostfd":"-1"', f'"vhostfd":"{VSOCK_FD}"')
        if word.startswith('{"type":"tap"'):
            props = json.loads(word)
            number = int(props["id"].removeprefix("hostnet"))
            if nets[number].get("type") == "user":
                word = json.dumps({"type": "user", "id": props["id"]}, separators=(",", ":"))
        elif word.startswith('{"driver":') and '"netdev":"hostnet' in word:
            props = json.loads(word)
            number = int(props["netdev"].removeprefix("hostnet"))
            boot = nets[number].find("boot")
            if boot is not None and "bootindex" not in props:
                rebuilt: dict[str, object] = {}
                for key, value in props.items():
                    rebuilt[key] = value
                    if key == "mac":
                        rebuilt["bootindex"] = int(boot.get("order", "0"))
                word = json.dumps(rebuilt, separators=(",", ":"))
        out.append(word)
    return out


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_golden_argv_is_what_libvirt_prints(
    name: str, oracle: QemuOracle, images: dict[str, Path]
) -> None:
    live = list(_libvirt_argv(oracle, name, images["libvirt"]))
    assert normalise_argv(live, images=images["libvirt"]) == golden(name)


@pytest.mark.parametrize("name", CASES)
def test_virtcore_argv_equals_libvirt_argv(
    name: str, images: dict[str, Path], caps: QemuCaps, tmp_path: Path
) -> None:
    mine = normalise_argv(
        virtcore_argv(name, images["virtcore"], caps, tmp_path),
        images=images["virtcore"],
        channels=CHANNELS,
        lib_dir=tmp_path,
    )
    expected = expected_from_libvirt(golden(name), load_case(name))
    assert mine == expected


@pytest.mark.parametrize("name", CASES)
def test_defined_input_gives_libvirt_argv(
    name: str, images: dict[str, Path], caps: QemuCaps, tmp_path: Path
) -> None:
    mine = normalise_argv(
        virtcore_argv(name, images["virtcore"], caps, tmp_path, from_input=True),
        images=images["virtcore"],
        channels=CHANNELS,
        lib_dir=tmp_path,
    )
    assert mine == expected_from_libvirt(golden(name), load_case(name))


@pytest.mark.parametrize("name", CASES)
def test_recorded_aliases_give_the_same_argv(
    name: str, images: dict[str, Path], caps: QemuCaps, tmp_path: Path
) -> None:
    # The live definition carries the aliases assign_aliases wrote; building
    # from it must give the guest exactly the ids the plain definition gets.
    plain = virtcore_argv(name, images["virtcore"], caps, tmp_path)
    domain = Domain.parse(materialise(load_case(name), images["virtcore"]))
    _as_started(name, domain)
    assign_aliases(domain)
    assert domain.element.find("devices/*/alias") is not None
    assert build_command(domain, caps, _context(domain, tmp_path)) == plain


def test_argv_only_cases_exist() -> None:
    assert set(ARGV_ONLY) <= set(CASES)


@pytest.mark.parametrize("name", BOOTED)
def test_booted_hardware_equals_libvirt(
    name: str, oracle: QemuOracle, images: dict[str, Path], caps: QemuCaps, tmp_path: Path
) -> None:
    # The accepted differences are libvirt's domxml-to-native artifacts: a real
    # libvirt start writes the NIC boot index too, so compare against that.
    live = list(_libvirt_argv(oracle, name, images["libvirt"]))
    theirs_argv = expected_from_libvirt(live, load_case(name))
    mine_argv = virtcore_argv(name, images["virtcore"], caps, tmp_path / "virtcore")
    runs = [(mine_argv, tmp_path / "virtcore"), (theirs_argv, tmp_path / "libvirt")]
    with booted(*runs) as (mine_qemu, theirs_qemu):
        mine = hardware(mine_qemu, images["virtcore"])
        theirs = hardware(theirs_qemu, images["libvirt"])
    assert mine == theirs, describe_difference(mine, theirs)


@pytest.mark.parametrize(
    "change",
    [
        ('"mac":"52:54:00:00:00:05"', '"mac":"52:54:00:00:00:99"', "peripherals"),
        ('"addr":"0x2"', '"addr":"0x9"', "query-pci"),
    ],
)
def test_hardware_comparison_sees_a_changed_device(
    change: tuple[str, str, str], images: dict[str, Path], caps: QemuCaps, tmp_path: Path
) -> None:
    old, new, query = change
    argv = virtcore_argv("nic-user-virtio", images["virtcore"], caps, tmp_path / "a")
    changed = [
        word.replace(old, new) if '"driver":"virtio-net-pci"' in word else word for word in argv
    ]
    assert changed != argv
    runs = [(argv, tmp_path / "a"), (changed, tmp_path / "b")]
    with booted(*runs) as (first, second):
        mine = hardware(first, images["virtcore"])
        theirs = hardware(second, images["virtcore"])
    assert mine[query] != theirs[query]
