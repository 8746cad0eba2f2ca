"""device_objects: one device's QMP commands, equal to what the full command line creates.

For every argv case, each disk, interface, character device and RNG of the
domain is turned into QMP commands (``blockdev-add``, ``netdev_add``,
``chardev-add``, ``object-add``, ``device_add``); their arguments must be
exactly the ``-blockdev``/``-netdev``/``-object``/``-device`` JSON of the
full command line, with the same ids and node names. The ``chardev-add``
translation of ``-chardev`` text is run against a real QEMU, which must
create a character device of the same kind.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from qemu_hardware import case_names, load_case

from virtcore.errors import ConfigUnsupportedError
from virtcore.xml.domain import Domain
from virtcore_qemu.command import CommandContext, build_command
from virtcore_qemu.command.device import (
    QMPCall,
    chardev_add_arguments,
    device_objects,
    undo_command,
)
from virtcore_qemu.qmp import QMPClient

QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
KINDS = ("disk", "interface", "serial", "parallel", "channel", "console", "rng")
_OPTIONS = {
    "blockdev-add": "-blockdev",
    "netdev_add": "-netdev",
    "object-add": "-object",
    "device_add": "-device",
}


class Caps:
    binary = QEMU


def _ctx(tmp: Path, domain: Domain) -> CommandContext:
    taps = {
        f"hostnet{number}": [17 + number]
        for number, net in enumerate(domain.element.iterfind("devices/interface"))
        if net.get("type") != "user"
    }
    return CommandContext(
        monitor_path=tmp / "monitor.sock",
        pidfile=tmp / "qemu.pid",
        lib_dir=tmp,
        chardev_dir=tmp / "channels",
        tap_fds=taps,
        vnc_ports=(5900,),
        vsock_fd=27,
        tpm_socket=tmp / "swtpm.sock",
    )


def _json_options(argv: list[str]) -> list[tuple[str, dict[str, object]]]:
    return [
        (option, json.loads(value))
        for option, value in itertools.pairwise(argv)
        if option in _OPTIONS.values() and value.startswith("{")
    ]


@pytest.mark.parametrize("name", case_names())
def test_device_objects_are_the_command_lines_objects(name: str, tmp_path: Path) -> None:
    domain = Domain.parse(load_case(name))
    ctx = _ctx(tmp_path, domain)
    argv = build_command(domain, Caps(), ctx)
    options = _json_options(argv)
    chardevs = [value for option, value in itertools.pairwise(argv) if option == "-chardev"]
    devices = domain.element.find("devices")
    assert devices is not None
    for node in [child for child in devices if child.tag in KINDS]:
        try:
            calls = device_objects(domain, node, Caps(), ctx)
        except ConfigUnsupportedError:
            continue  # a console that is a serial port
        assert calls[-1].command == "device_add"
        for call in calls:
            if call.command == "chardev-add":
                ident = call.arguments["id"]
                assert any(chardev_add_arguments(word)["id"] == ident for word in chardevs)
                continue
            assert (_OPTIONS[call.command], call.arguments) in options, call


def test_hot_plugged_disk_nodes_take_the_given_number(tmp_path: Path) -> None:
    domain = Domain.parse(load_case("disk-backing-chain"))
    disk = domain.element.find("devices/disk")
    assert disk is not None
    calls = device_objects(domain, disk, Caps(), _ctx(tmp_path, domain), node_number=40)
    names = [c.arguments["node-name"] for c in calls if c.command == "blockdev-add"]
    assert names and all(name.startswith(("libvirt-4", "libvirt-CoR")) for name in names)
    assert names[-1].startswith("libvirt-40-")


def test_a_device_of_another_domain_is_refused(tmp_path: Path) -> None:
    domain = Domain.parse(load_case("minimal"))
    other = Domain.parse(load_case("serial-two"))
    serial = other.element.find("devices/serial")
    assert serial is not None
    with pytest.raises(ConfigUnsupportedError):
        device_objects(domain, serial, Caps(), _ctx(tmp_path, domain))


def test_undo_names_what_each_command_created() -> None:
    assert undo_command(QMPCall("blockdev-add", {"node-name": "libvirt-3-format"})) == QMPCall(
        "blockdev-del", {"node-name": "libvirt-3-format"}
    )
    assert undo_command(QMPCall("netdev_add", {"type": "user", "id": "hostnet1"})) == QMPCall(
        "netdev_del", {"id": "hostnet1"}
    )
    assert undo_command(QMPCall("chardev-add", {"id": "charserial1"})) == QMPCall(
        "chardev-remove", {"id": "charserial1"}
    )


def test_chardev_text_with_doubled_commas_keeps_the_path() -> None:
    args = chardev_add_arguments("file,id=charserial0,path=/tmp/a,,b.log,append=on")
    assert args == {
        "id": "charserial0",
        "backend": {"type": "file", "data": {"out": "/tmp/a,b.log", "append": True}},
    }


@pytest.fixture
def bare_qemu(tmp_path: Path) -> Iterator[QMPClient]:
    sock = tmp_path / "monitor.sock"
    proc = subprocess.Popen(
        [
            QEMU, "-S", "-nodefaults", "-display", "none", "-machine", "none",
            "-accel", "tcg",
            "-chardev", f"socket,id=mon,path={sock},server=on,wait=off",
            "-mon", "chardev=mon,mode=control",
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = QMPClient.connect(sock, alive=lambda: proc.poll() is None, timeout=20)
        try:
            yield client
        finally:
            client.close()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("pty,id=c1", "pty:"),
        ("null,id=c1", "null"),
        ("file,id=c1,path=@DIR@/out.log,append=on", "file"),
        ("socket,id=c1,path=@DIR@/c1.sock,server=on,wait=off", "disconnected:unix:@DIR@/c1.sock"),
        ("socket,id=c1,host=127.0.0.1,port=0,server=on,wait=off", "disconnected:tcp:127.0.0.1:"),
        ("udp,id=c1,host=127.0.0.1,port=9,localaddr=127.0.0.1,localport=0", "udp"),
    ],
)
def test_chardev_add_creates_the_same_chardev(
    text: str, shown: str, bare_qemu: QMPClient, tmp_path: Path
) -> None:
    args = chardev_add_arguments(text.replace("@DIR@", str(tmp_path)))
    bare_qemu.execute("chardev-add", args)
    labels = {entry["label"]: entry["filename"] for entry in bare_qemu.execute("query-chardev")}
    assert labels["c1"].startswith(shown.replace("@DIR@", str(tmp_path))), labels["c1"]
