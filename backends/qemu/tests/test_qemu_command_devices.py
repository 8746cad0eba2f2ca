"""build_command for memory, NUMA, storage chains, NICs and host-backed devices.

The argv-equivalence suite holds these against libvirt's own command lines;
the tests here pin what it cannot reach: inputs domxml-to-native never shows
(multiqueue tap descriptors, the vsock descriptor, the swtpm socket), slots
and node numbers derived when the definition leaves them out, and the
errors for what needs host state the command line does not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import ConfigUnsupportedError, InternalError
from virtcore.xml.domain import Domain
from virtcore_qemu.command import CommandContext, build_command
from virtcore_qemu.command.memory import cpu_ranges

PCI4 = "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>"


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


def domain(devices: str = "", *, top: str = "", memory: int = 65536, vcpus: int = 1) -> Domain:
    return Domain.parse(
        f"""<domain type='qemu'>
  <name>t</name>
  <uuid>6f1e2a4c-55aa-4d1e-9c44-0a2b3c4d5e6f</uuid>
  <memory unit='KiB'>{memory}</memory>
  <vcpu>{vcpus}</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
  {top}
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='pci' index='0' model='pci-root'/>
    {devices}
  </devices>
</domain>"""
    )


def values(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == option]


def devices_json(argv: list[str]) -> list[dict[str, object]]:
    return [json.loads(value) for value in values(argv, "-device")]


def device(argv: list[str], driver: str) -> dict[str, object]:
    return next(props for props in devices_json(argv) if props["driver"] == driver)


# -- NUMA and memory devices --------------------------------------------------------------


def test_cpuset_becomes_one_range_per_cpus_property() -> None:
    assert cpu_ranges("0,2-3,5,6,7,^6") == ["0", "2-3", "5", "7"]


HOTPLUG = (
    "<maxMemory slots='4' unit='KiB'>1048576</maxMemory>"
    "<cpu><numa><cell id='0' cpus='0' memory='65536' unit='KiB'/></numa></cpu>"
)
DIMM = (
    "<memory model='dimm'><target><size unit='KiB'>{size}</size><node>0</node></target>"
    "{addr}</memory>"
)


def test_dimms_without_address_take_the_lowest_free_slots() -> None:
    mems = (
        DIMM.format(size=131072, addr="")
        + DIMM.format(size=131072, addr="<address type='dimm' slot='0'/>")
        + DIMM.format(size=131072, addr="")
    )
    argv = build_command(domain(mems, top=HOTPLUG, memory=458752), Caps(), ctx())
    dimms = [props for props in devices_json(argv) if props["driver"] == "pc-dimm"]
    assert [(props["id"], props["slot"]) for props in dimms] == [
        ("dimm1", 1),
        ("dimm0", 0),
        ("dimm2", 2),
    ]


def test_dimm_size_is_rounded_up_to_two_mebibytes() -> None:
    mems = DIMM.format(size=1025, addr="")
    argv = build_command(domain(mems, top=HOTPLUG, memory=66561), Caps(), ctx())
    backend = json.loads(values(argv, "-object")[-1])
    assert backend == {"qom-type": "memory-backend-ram", "id": "memdimm0", "size": 2 << 20}


def test_hotplug_memory_writes_slots_and_maximum_in_kib() -> None:
    argv = build_command(domain(top=HOTPLUG), Caps(), ctx())
    assert values(argv, "-m") == ["size=65536k,slots=4,maxmem=1048576k"]
    assert "memory-backend=pc.ram" not in values(argv, "-machine")[0]


def test_hotpluggable_online_vcpus_are_not_cold_plugged() -> None:
    top = (
        "<vcpus><vcpu id='0' enabled='yes' hotpluggable='no'/>"
        "<vcpu id='1' enabled='yes' hotpluggable='yes'/></vcpus>"
    )
    argv = build_command(domain(top=top, vcpus=2), Caps(), ctx())
    assert values(argv, "-smp") == ["1,maxcpus=2,sockets=2,cores=1,threads=1"]


# -- disks ---------------------------------------------------------------------------------


def _disk(dev: str, slot: int, source: str, fmt: str = "raw", extra: str = "") -> str:
    return (
        f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
        f"<source file='{source}'/>{extra}<target dev='{dev}' bus='virtio'/>"
        f"<address type='pci' domain='0x0000' bus='0x00' slot='{slot:#x}' function='0x0'/></disk>"
    )


def test_node_numbers_count_backing_images_last_disk_first() -> None:
    chain = (
        "<backingStore type='file'><format type='raw'/><source file='/i/base.raw'/>"
        "<backingStore/></backingStore>"
    )
    disks = _disk("vda", 4, "/i/a.raw") + _disk("vdb", 5, "/i/top.qcow2", "qcow2", chain)
    argv = build_command(domain(disks), Caps(), ctx())
    drives = [props["drive"] for props in devices_json(argv) if "drive" in props]
    assert drives == ["libvirt-3-format", "libvirt-1-format"]
    overlay = next(
        json.loads(value) for value in values(argv, "-blockdev") if '"libvirt-1-format"' in value
    )
    assert overlay["backing"] == "libvirt-2-format"


def test_terminated_qcow2_chain_gets_a_null_backing() -> None:
    argv = build_command(
        domain(_disk("vda", 4, "/i/a.qcow2", "qcow2", "<backingStore/>")), Caps(), ctx()
    )
    assert '"backing":null' in values(argv, "-blockdev")[-1]


def test_copy_on_read_puts_a_filter_node_under_the_frontend() -> None:
    disk = _disk("vda", 4, "/i/a.raw").replace("type='raw'/>", "type='raw' copy_on_read='on'/>")
    argv = build_command(domain(disk), Caps(), ctx())
    assert json.loads(values(argv, "-blockdev")[-1])["driver"] == "copy-on-read"
    assert device(argv, "virtio-blk-pci")["drive"] == "libvirt-CoR-vda"


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        ("error_policy='stop'", {"werror": "stop", "rerror": "stop"}),
        ("error_policy='enospace'", {"werror": "enospc"}),
        ("error_policy='report' rerror_policy='ignore'", {"werror": "report", "rerror": "ignore"}),
    ],
)
def test_error_policies_follow_libvirt(policies: str, expected: dict[str, str]) -> None:
    disk = _disk("vda", 4, "/i/a.raw").replace("type='raw'/>", f"type='raw' {policies}/>")
    props = device(build_command(domain(disk), Caps(), ctx()), "virtio-blk-pci")
    assert {key: props[key] for key in ("werror", "rerror") if key in props} == expected


def test_iotune_is_left_to_the_monitor() -> None:
    iotune = "<iotune><total_bytes_sec>1000</total_bytes_sec></iotune>"
    plain = build_command(domain(_disk("vda", 4, "/i/a.raw")), Caps(), ctx())
    tuned = build_command(domain(_disk("vda", 4, "/i/a.raw", extra=iotune)), Caps(), ctx())
    assert tuned == plain


# -- interfaces ----------------------------------------------------------------------------

TAP_NIC = (
    "<interface type='ethernet'><mac address='52:54:00:00:00:01'/>{extra}"
    "<model type='virtio'/>" + PCI4 + "</interface>"
)


def test_multiqueue_nic_gets_one_tap_per_queue_and_msix_vectors() -> None:
    nic = TAP_NIC.format(extra="<driver queues='2'/>")
    argv = build_command(domain(nic), Caps(), ctx(tap_fds={"hostnet0": [17, 18]}))
    assert json.loads(values(argv, "-netdev")[0]) == {
        "type": "tap",
        "fds": "17:18",
        "id": "hostnet0",
    }
    assert list(device(argv, "virtio-net-pci"))[:4] == ["driver", "mq", "vectors", "netdev"]
    assert device(argv, "virtio-net-pci")["vectors"] == 6


def test_multiqueue_nic_without_enough_taps_is_refused() -> None:
    nic = TAP_NIC.format(extra="<driver queues='4'/>")
    with pytest.raises(ConfigUnsupportedError, match="needs 4 tap devices, got 1"):
        build_command(domain(nic), Caps(), ctx(tap_fds={"hostnet0": [17]}))


def test_mtu_is_the_host_mtu_property_before_the_netdev() -> None:
    nic = TAP_NIC.format(extra="<mtu size='9000'/>")
    props = device(
        build_command(domain(nic), Caps(), ctx(tap_fds={"hostnet0": [17]})), "virtio-net-pci"
    )
    assert list(props)[:3] == ["driver", "host_mtu", "netdev"]
    assert props["host_mtu"] == 9000


def test_mtu_on_a_user_interface_gets_libvirts_error() -> None:
    nic = TAP_NIC.format(extra="<mtu size='9000'/>").replace("'ethernet'", "'user'")
    with pytest.raises(ConfigUnsupportedError) as info:
        build_command(domain(nic), Caps(), ctx())
    assert str(info.value) == (
        "unsupported configuration: setting MTU on interface type user is not supported yet"
    )


# -- host-backed devices -------------------------------------------------------------------

VSOCK = "<vsock model='virtio'><cid auto='no' address='7'/>" + PCI4 + "</vsock>"
TPM = "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"


def test_vsock_uses_the_drivers_descriptor() -> None:
    props = device(build_command(domain(VSOCK), Caps(), ctx(vsock_fd=31)), "vhost-vsock-pci")
    assert (props["guest-cid"], props["vhostfd"]) == (7, "31")


def test_vsock_without_a_descriptor_is_refused() -> None:
    with pytest.raises(ConfigUnsupportedError, match="vhost-vsock"):
        build_command(domain(VSOCK), Caps(), ctx())


def test_emulated_tpm_connects_to_the_swtpm_socket() -> None:
    argv = build_command(domain(TPM), Caps(), ctx(tpm_socket=Path("/run/t/swtpm,1.sock")))
    assert values(argv, "-chardev")[-1] == "socket,id=chrtpm,path=/run/t/swtpm,,1.sock"
    assert values(argv, "-tpmdev") == ["emulator,id=tpm-tpm0,chardev=chrtpm"]


def test_emulated_tpm_without_swtpm_is_refused() -> None:
    with pytest.raises(ConfigUnsupportedError, match="swtpm"):
        build_command(domain(TPM), Caps(), ctx())


def test_usb_hostdev_by_vendor_and_product_needs_host_lookup() -> None:
    hostdev = (
        "<controller type='usb' index='0' model='qemu-xhci'>" + PCI4 + "</controller>"
        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
        "<product id='0xbeef'/></source><address type='usb' bus='0' port='1'/></hostdev>"
    )
    with pytest.raises(InternalError) as info:
        build_command(domain(hostdev), Caps(), ctx())
    assert info.value.code == ErrorNumber.INTERNAL_ERROR
    assert info.value.domain == ErrorDomain.QEMU
    assert "missing bus/device information" in str(info.value)


def test_virtiofs_socket_lives_in_the_domain_directory() -> None:
    top = "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
    fs = (
        "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>"
        "<source dir='/srv'/><target dir='tag,1'/>" + PCI4 + "</filesystem>"
    )
    argv = build_command(domain(fs, top=top), Caps(), ctx(lib_dir=Path("/var/lib/t,x")))
    assert "socket,id=chr-vu-fs0,path=/var/lib/t,,x/fs0-fs.sock" in values(argv, "-chardev")
    assert device(argv, "vhost-user-fs-pci")["tag"] == "tag,1"


def test_hostile_9p_path_and_tag_stay_single_values() -> None:
    fs = (
        "<filesystem type='mount' accessmode='passthrough'><source dir='/srv,id=evil'/>"
        "<target dir='t,readonly'/>" + PCI4 + "</filesystem>"
    )
    argv = build_command(domain(fs), Caps(), ctx())
    assert values(argv, "-fsdev") == [
        "local,security_model=passthrough,id=fsdev-fs0,path=/srv,,id=evil"
    ]
    assert device(argv, "virtio-9p-pci")["mount_tag"] == "t,readonly"


def test_shared_memory_access_without_memfd_is_refused() -> None:
    top = "<memoryBacking><access mode='shared'/></memoryBacking>"
    with pytest.raises(ConfigUnsupportedError, match="memfd"):
        build_command(domain(top=top), Caps(), ctx())


def test_nbd_over_tls_is_refused_not_written_in_clear() -> None:
    disk = (
        "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
        "<source protocol='nbd' name='e' tls='yes'><host name='h' port='10809'/></source>"
        "<target dev='vda' bus='virtio'/>" + PCI4 + "</disk>"
    )
    with pytest.raises(ConfigUnsupportedError, match="tls"):
        build_command(domain(disk), Caps(), ctx())


@pytest.mark.parametrize(
    ("devices", "named"),
    [
        (
            "<shmem name='s' role='master'><model type='ivshmem-plain'/>"
            "<size unit='M'>4</size>" + PCI4 + "</shmem>",
            "<shmem role=...>",
        ),
        (
            "<filesystem type='mount' accessmode='mapped' multidevs='remap'>"
            "<source dir='/srv'/><target dir='t'/>" + PCI4 + "</filesystem>",
            "<filesystem multidevs=...>",
        ),
        (
            "<controller type='virtio-serial' index='0'><driver queues='2'/>"
            + PCI4
            + "</controller>",
            "virtio-serial controllers",
        ),
        (
            "<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/>"
            "<source dir='/srv'/><target dir='t'/><readonly/>" + PCI4 + "</filesystem>",
            "virtiofs does not yet support read-only mode",
        ),
    ],
)
def test_device_settings_the_command_line_cannot_write_are_refused(
    devices: str, named: str
) -> None:
    with pytest.raises(ConfigUnsupportedError) as info:
        build_command(domain(devices), Caps(), ctx())
    assert named in str(info.value)


def test_automatic_numa_placement_needs_numad_advice() -> None:
    top = "<numatune><memory mode='strict' placement='auto'/></numatune>"
    with pytest.raises(InternalError) as info:
        build_command(domain(top=top), Caps(), ctx())
    assert str(info.value) == (
        "internal error: Advice from numad is needed in case of automatic numa placement"
    )


def test_restrictive_numatune_leaves_the_ram_backend_alone() -> None:
    top = "<numatune><memory mode='restrictive' nodeset='0'/></numatune>"
    argv = build_command(domain(top=top), Caps(), ctx())
    assert json.loads(values(argv, "-object")[0]) == {
        "qom-type": "memory-backend-ram",
        "id": "pc.ram",
        "size": 65536 * 1024,
    }


def test_shared_cell_memory_without_memfd_is_refused() -> None:
    top = "<cpu><numa><cell id='0' cpus='0' memory='65536' memAccess='shared'/></numa></cpu>"
    with pytest.raises(ConfigUnsupportedError, match="memAccess"):
        build_command(domain(top=top), Caps(), ctx())


def test_fw_cfg_string_with_a_comma_stays_one_value() -> None:
    top = "<sysinfo type='fwcfg'><entry name='opt/x'>a,file=/etc/shadow</entry></sysinfo>"
    argv = build_command(domain(top=top), Caps(), ctx())
    assert values(argv, "-fw_cfg") == ["name=opt/x,string=a,,file=/etc/shadow"]


def test_host_smbios_mode_is_refused() -> None:
    test_domain = domain()
    os_node = test_domain.element.find("os")
    assert os_node is not None
    os_node.append(etree.fromstring("<smbios mode='host'/>"))
    with pytest.raises(ConfigUnsupportedError, match="host's SMBIOS"):
        build_command(test_domain, Caps(), ctx())


# -- -cpu ------------------------------------------------------------------------------------


def test_cpu_flags_follow_libvirts_order() -> None:
    top = (
        "<features><acpi/><kvm><hidden state='on'/></kvm><pmu state='off'/></features>"
        "<cpu mode='custom'><model>qemu64</model><feature policy='disable' name='svm'/></cpu>"
        "<clock offset='utc'><timer name='tsc' frequency='1000000000'/>"
        "<timer name='kvmclock' present='yes'/></clock>"
    )
    argv = build_command(domain(top=top), Caps(), ctx())
    assert values(argv, "-cpu") == [
        "qemu64,svm=off,tsc-frequency=1000000000,kvmclock=on,kvm=off,pmu=off"
    ]


def test_maximum_cpu_carries_its_migratable_setting() -> None:
    top = "<cpu mode='maximum' migratable='off'/>"
    assert values(build_command(domain(top=top), Caps(), ctx()), "-cpu") == ["max,migratable=off"]
