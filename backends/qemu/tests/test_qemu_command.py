"""build_command: quoting of hostile values, context handling, libvirt's errors.

The argv-equivalence tests hold the whole command line against libvirt's;
these tests pin the behaviours that comparison cannot reach: values built to
inject options, inputs libvirt never sees through domxml-to-native (monitor
file descriptors, tap descriptors, volumes, allocated VNC ports) and the
errors for what cannot be written.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from qemu_hardware import split_keyval

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError
from virtcore.xml.domain import Domain
from virtcore_qemu.command import CommandContext, build_command, escape, json_arg, keyval
from virtcore_qemu.command.disks import disk_index

HOSTILE = (
    "a,b",
    "x,id=evil",
    "a=b",
    "two words",
    "new\nline",
    ",,",
    "trailing,",
    "-S",
    "a,,b,c=d -device e1000",
)


@dataclass(frozen=True)
class FakeVolume:
    disk_type: str
    path: str
    format: str | None


@dataclass(frozen=True)
class Caps:
    binary: str = "/usr/bin/qemu-system-x86_64"


def ctx(**changes: object) -> CommandContext:
    base: dict[str, object] = {
        "monitor_path": Path("/run/t/monitor.sock"),
        "pidfile": Path("/run/t/qemu.pid"),
        "lib_dir": Path("/var/lib/t"),
        "chardev_dir": Path("/run/t/channels"),
    }
    base.update(changes)
    return CommandContext(**base)  # type: ignore[arg-type]


def domain(devices: str = "", *, name: str = "t", top: str = "", boot: str = "") -> Domain:
    return Domain.parse(
        f"""<domain type='qemu'>
  <name>{name}</name>
  <uuid>6f1e2a4c-55aa-4d1e-9c44-0a2b3c4d5e6f</uuid>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>{boot}</os>
  {top}
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='pci' index='0' model='pci-root'/>
    {devices}
  </devices>
</domain>"""
    )


def option_values(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == option]


def devices_json(argv: list[str]) -> list[dict[str, object]]:
    return [json.loads(value) for value in option_values(argv, "-device")]


# -- the escape helpers ----------------------------------------------------------------


def test_escape_doubles_every_comma() -> None:
    assert escape("a,b,,c") == "a,,b,,,,c"


def test_escape_refuses_nul_with_config_unsupported() -> None:
    with pytest.raises(ConfigUnsupportedError) as info:
        escape("a\0b")
    assert info.value.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert info.value.domain == ErrorDomain.QEMU


def test_keyval_writes_booleans_as_on_off_and_skips_none() -> None:
    assert keyval("socket", [("server", True), ("wait", False), ("x", None)]) == (
        "socket,server=on,wait=off"
    )


def test_json_arg_is_compact_and_keeps_key_order() -> None:
    assert json_arg({"driver": "x", "id": "y", "skip": None, "n": 1}) == (
        '{"driver":"x","id":"y","n":1}'
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_keyval_value_stays_one_property(value: str) -> None:
    parts = split_keyval(keyval(None, [("guest", value), ("debug-threads", True)]))
    assert parts == [f"guest={value.replace(',', ',,')}", "debug-threads=on"]


# -- hostile XML values ------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_domain_name_cannot_add_an_option(value: str) -> None:
    name = value.replace("\n", " ").replace("-S", "S-")
    argv = build_command(domain(name=name), Caps(), ctx())
    parts = split_keyval(option_values(argv, "-name")[0])
    assert parts == [f"guest={escape(name)}", "debug-threads=on"]
    assert argv.count("-S") == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_disk_path_is_one_json_string(value: str) -> None:
    path = f"/images/{value}.raw"
    disk = (
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file={quoteattr(path, {chr(10): '&#10;'})}/><target dev='vda' bus='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>"
    )
    argv = build_command(domain(disk), Caps(), ctx())
    storage = json.loads(option_values(argv, "-blockdev")[0])
    assert storage["filename"] == path
    assert set(storage) == {"driver", "filename", "node-name", "auto-read-only", "discard"}


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_chardev_path_stays_one_property(value: str) -> None:
    path = f"/logs/{value}.log".replace("\n", "&#10;")
    serial = f"<serial type='file'><source path='{path}'/><target port='0'/></serial>"
    argv = build_command(domain(serial), Caps(), ctx())
    backend = next(v for v in option_values(argv, "-chardev") if "charserial0" in v)
    parts = split_keyval(backend)
    assert parts[:2] == ["file", "id=charserial0"]
    assert len(parts) == 3
    assert parts[2].replace(",,", ",") == f"path=/logs/{value}.log"


def test_hostile_disk_serial_is_one_json_string() -> None:
    disk = (
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/i/d.raw'/><target dev='vda' bus='virtio'/>"
        "<serial>a,b=c</serial>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>"
    )
    argv = build_command(domain(disk), Caps(), ctx())
    assert devices_json(argv)[-1]["serial"] == "a,b=c"


def test_hostile_vnc_socket_path_is_escaped() -> None:
    graphics = (
        "<graphics type='vnc'><listen type='socket' socket='/run/a,password=off.sock'/>"
        "</graphics><audio id='1' type='none'/>"
    )
    argv = build_command(domain(graphics), Caps(), ctx())
    parts = split_keyval(option_values(argv, "-vnc")[0])
    assert parts == ["vnc=unix:/run/a,,password=off.sock", "audiodev=audio1"]


# -- context -------------------------------------------------------------------------


def test_monitor_is_a_socket_path_without_fd() -> None:
    argv = build_command(domain(), Caps(), ctx())
    assert "socket,id=charmonitor,path=/run/t/monitor.sock,server=on,wait=off" in argv


def test_monitor_fd_replaces_the_path() -> None:
    argv = build_command(domain(), Caps(), ctx(monitor_fd=23))
    assert "socket,id=charmonitor,fd=23,server=on,wait=off" in argv


def test_pidfile_follows_the_monitor() -> None:
    argv = build_command(domain(), Caps(), ctx())
    mon = argv.index("-mon")
    assert argv[mon + 2 : mon + 4] == ["-pidfile", "/run/t/qemu.pid"]


def test_hostile_pidfile_path_stays_the_option_value() -> None:
    argv = build_command(domain(), Caps(), ctx(pidfile=Path("/run/t/a,b -S")))
    assert option_values(argv, "-pidfile") == ["/run/t/a,b -S"]


def test_qemu_writes_its_own_pid_to_the_pidfile(tmp_path: Path) -> None:
    pidfile = tmp_path / "qemu.pid"
    argv = build_command(
        domain(), Caps(), ctx(monitor_path=tmp_path / "monitor.sock", pidfile=pidfile)
    )
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        # QEMU writes the pidfile before it listens on the monitor.
        deadline = time.monotonic() + 20
        while not (tmp_path / "monitor.sock").exists() and process.poll() is None:
            assert time.monotonic() < deadline, "QEMU did not start"
            time.sleep(0.05)
        assert pidfile.read_text().strip() == str(process.pid)
    finally:
        process.kill()
        process.wait()


def test_accelerator_comes_from_the_context() -> None:
    argv = build_command(domain(), Caps(), ctx(accel="kvm"))
    assert option_values(argv, "-accel") == ["kvm"]


def test_argv_starts_with_the_domain_emulator() -> None:
    assert build_command(domain(), Caps(binary="/other"), ctx())[0] == (
        "/usr/bin/qemu-system-x86_64"
    )


def test_guest_agent_socket_lives_in_the_chardev_dir() -> None:
    channel = (
        "<controller type='virtio-serial' index='0'><address type='pci' domain='0x0000' "
        "bus='0x00' slot='0x03' function='0x0'/></controller>"
        "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
        "<address type='virtio-serial' controller='0' bus='0' port='1'/></channel>"
    )
    argv = build_command(domain(channel), Caps(), ctx())
    assert (
        "socket,id=charchannel0,path=/run/t/channels/org.qemu.guest_agent.0,server=on,wait=off"
        in argv
    )
    port = devices_json(argv)[-1]
    assert port["driver"] == "virtserialport"
    assert port["name"] == "org.qemu.guest_agent.0"


NIC = (
    "<interface type='{kind}'><mac address='52:54:00:00:00:01'/>{extra}<model type='virtio'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>"
)


def test_tap_interface_uses_the_pre_opened_fd() -> None:
    nic = NIC.format(kind="ethernet", extra="")
    argv = build_command(domain(nic), Caps(), ctx(tap_fds={"hostnet0": [30]}))
    assert json.loads(option_values(argv, "-netdev")[0]) == {
        "type": "tap",
        "fd": "30",
        "id": "hostnet0",
    }


def test_multiqueue_tap_passes_every_fd() -> None:
    nic = NIC.format(kind="ethernet", extra="")
    argv = build_command(domain(nic), Caps(), ctx(tap_fds={"hostnet0": [30, 31]}))
    assert json.loads(option_values(argv, "-netdev")[0])["fds"] == "30:31"


def test_ethernet_without_fd_names_its_tap() -> None:
    nic = NIC.format(kind="ethernet", extra="<target dev='tap,x' managed='no'/>")
    argv = build_command(domain(nic), Caps(), ctx())
    backend = json.loads(option_values(argv, "-netdev")[0])
    assert backend == {
        "type": "tap",
        "ifname": "tap,x",
        "script": "no",
        "downscript": "no",
        "id": "hostnet0",
    }


def test_bridge_without_fd_uses_the_bridge_helper() -> None:
    nic = NIC.format(kind="bridge", extra="<source bridge='br0'/>")
    argv = build_command(domain(nic), Caps(), ctx())
    assert json.loads(option_values(argv, "-netdev")[0]) == {
        "type": "bridge",
        "br": "br0",
        "id": "hostnet0",
    }


def test_network_interface_without_fd_is_refused() -> None:
    nic = NIC.format(kind="network", extra="<source network='default'/>")
    with pytest.raises(ConfigUnsupportedError, match="network driver"):
        build_command(domain(nic), Caps(), ctx())


VOLUME_DISK = (
    "<disk type='volume' device='disk'><driver name='qemu'/>"
    "<source pool='p' volume='v'/><target dev='vda' bus='virtio'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>"
)


def test_volume_disk_opens_the_translated_path_and_format() -> None:
    volumes = {("p", "v"): FakeVolume("file", "/pool/v.qcow2", "qcow2")}
    argv = build_command(domain(VOLUME_DISK), Caps(), ctx(volumes=volumes))
    storage, fmt = (json.loads(v) for v in option_values(argv, "-blockdev"))
    assert (storage["driver"], storage["filename"]) == ("file", "/pool/v.qcow2")
    assert fmt["driver"] == "qcow2"


def test_block_volume_uses_host_device() -> None:
    volumes = {("p", "v"): FakeVolume("block", "/dev/vg/v", "raw")}
    argv = build_command(domain(VOLUME_DISK), Caps(), ctx(volumes=volumes))
    assert json.loads(option_values(argv, "-blockdev")[0])["driver"] == "host_device"


def test_unresolved_volume_is_refused() -> None:
    with pytest.raises(ConfigUnsupportedError, match="has not been resolved"):
        build_command(domain(VOLUME_DISK), Caps(), ctx())


def test_vnc_autoport_uses_the_allocated_port() -> None:
    graphics = "<graphics type='vnc' port='-1' autoport='yes'/><audio id='1' type='none'/>"
    argv = build_command(domain(graphics), Caps(), ctx(vnc_ports=[5907]))
    assert option_values(argv, "-vnc") == ["127.0.0.1:7,audiodev=audio1"]


def test_vnc_autoport_without_a_port_lets_qemu_search() -> None:
    graphics = "<graphics type='vnc' port='-1' autoport='yes'/><audio id='1' type='none'/>"
    argv = build_command(domain(graphics), Caps(), ctx())
    assert option_values(argv, "-vnc") == ["127.0.0.1:0,to=99,audiodev=audio1"]


def test_vnc_audio_names_its_own_backend() -> None:
    graphics = (
        "<graphics type='vnc' port='5901' autoport='no'><audio id='2'/></graphics>"
        "<audio id='1' type='none'/><audio id='2' type='none'/>"
    )
    argv = build_command(domain(graphics), Caps(), ctx())
    assert option_values(argv, "-vnc") == ["127.0.0.1:1,audiodev=audio2"]


# -- libvirt's derivations ---------------------------------------------------------------


@pytest.mark.parametrize(("target", "index"), [("vda", 0), ("hdc", 2), ("sdz", 25), ("sdaa", 26)])
def test_disk_index_follows_libvirt(target: str, index: int) -> None:
    assert disk_index(target) == index


def test_os_boot_order_gives_first_devices_their_bootindex() -> None:
    devices = (
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/i/a.raw'/><target dev='vda' bus='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/i/b.raw'/><target dev='vdb' bus='virtio'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>"
        + NIC.format(kind="user", extra="")
    )
    root = domain(devices, boot="<boot dev='network'/><boot dev='hd'/>")
    argv = build_command(root, Caps(), ctx())
    boots = {d["id"]: d.get("bootindex") for d in devices_json(argv)}
    assert boots == {"virtio-disk0": 2, "virtio-disk1": None, "net0": 1}


def test_no_acpi_unless_the_feature_is_on() -> None:
    assert "-no-acpi" in build_command(domain(), Caps(), ctx())
    with_acpi = domain(top="<features><acpi/></features>")
    assert "-no-acpi" not in build_command(with_acpi, Caps(), ctx())


def test_no_shutdown_is_always_written() -> None:
    destroy = domain(top="<on_poweroff>destroy</on_poweroff>")
    assert "-no-shutdown" in build_command(destroy, Caps(), ctx())


# -- errors --------------------------------------------------------------------------


def test_unsupported_device_kind_is_refused_not_dropped() -> None:
    crypto = (
        "<crypto model='virtio' type='qemu'><backend model='builtin' queues='1'/>"
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></crypto>"
    )
    with pytest.raises(ConfigUnsupportedError) as info:
        build_command(domain(crypto), Caps(), ctx())
    assert info.value.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert info.value.domain == ErrorDomain.QEMU
    assert "<crypto>" in str(info.value)


def test_non_qemu_domain_is_refused() -> None:
    test_domain = domain()
    test_domain.element.set("type", "test")
    with pytest.raises(ConfigUnsupportedError, match="not a QEMU domain"):
        build_command(test_domain, Caps(), ctx())


def test_unknown_nic_model_is_refused() -> None:
    nic = NIC.format(kind="user", extra="").replace("virtio", "fancy")
    with pytest.raises(ConfigUnsupportedError, match="model 'fancy'"):
        build_command(domain(nic), Caps(), ctx())


@pytest.mark.parametrize(
    ("top", "devices", "named"),
    [
        (
            "<cpu><numa><cell id='0' cpus='0' memory='65536' memAccess='shared'/></numa></cpu>",
            "",
            "memAccess",
        ),
        ("<features><acpi/><gic version='2'/></features>", "", "<gic>"),
        ("<memoryBacking><hugepages/></memoryBacking>", "", "<memoryBacking>"),
        ("<clock offset='utc'><timer name='tsc' mode='native'/></clock>", "", "mode 'native'"),
        ("<iothreads>1</iothreads><iothreadids><iothread id='1'><poll max='4'/></iothread>"
         "</iothreadids>", "", "<iothread> tuning"),
        (
            "",
            "<disk type='file' device='disk'><driver name='qemu' type='raw' ioeventfd='on'/>"
            "<source file='/i/a.raw'/><target dev='vda' bus='virtio'/>"
            "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>"
            "</disk>",
            "ioeventfd",
        ),
        (
            "",
            "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
            "<source protocol='rbd' name='pool/image'><host name='mon'/></source>"
            "<target dev='vda' bus='virtio'/>"
            "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>"
            "</disk>",
            "protocol 'rbd'",
        ),
        (
            "",
            NIC.format(kind="user", extra="<driver queues='2'/>"),
            "multiqueue is not supported for network interfaces of type user",
        ),
        (
            "",
            "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/>"
            "</backend></tpm>",
            "TPM backend type 'passthrough'",
        ),
        (
            "<maxMemory slots='2' unit='KiB'>1048576</maxMemory>"
            "<cpu><numa><cell id='0' cpus='0' memory='32768'/></numa></cpu>",
            "<memory model='dimm' access='private'><target><size unit='KiB'>32768</size>"
            "<node>0</node></target></memory>",
            "<memory access=...>",
        ),
    ],
)  # fmt: skip
def test_setting_the_command_line_cannot_write_is_refused(
    top: str, devices: str, named: str
) -> None:
    with pytest.raises(ConfigUnsupportedError) as info:
        build_command(domain(devices, top=top), Caps(), ctx())
    assert named in str(info.value)
    assert info.value.domain == ErrorDomain.QEMU


def test_kernel_command_line_is_passed_whole() -> None:
    boot = "<kernel>/k/vmlinuz</kernel><cmdline>console=ttyS0,115200 a=b</cmdline>"
    argv = build_command(domain(boot=boot), Caps(), ctx())
    assert option_values(argv, "-kernel") == ["/k/vmlinuz"]
    assert option_values(argv, "-append") == ["console=ttyS0,115200 a=b"]
