"""Inputs, audio back-ends, graphics (VNC), video adapters and sound cards.

* Inputs: PS/2 mouse and keyboard are part of the machine; USB inputs are
  ``usb-tablet``/``usb-mouse``/``usb-kbd`` on their USB port, virtio inputs
  ``virtio-{tablet,mouse,keyboard}-pci``. Ids are ``inputN`` by position.
* ``<audio>``: ``-audiodev`` with id ``audioN``; ``none`` is what libvirt
  adds for a guest with graphics and no sound.
* VNC: ``-vnc HOST:DISPLAY`` or ``-vnc vnc=unix:PATH``; the audio back-end
  is attached as libvirt does. With ``autoport`` the driver's chosen port is
  used, else QEMU searches a free display from 0 (``to=99``).
* Video: ``cirrus-vga``, ``VGA``, ``qxl-vga``/``qxl``, ``virtio-vga``/
  ``virtio-gpu-pci``, ``bochs-display``, ``ramfb``; the primary adapter takes
  the VGA variant. Sizes follow libvirt (KiB in the XML, bytes or MiB in
  QEMU's properties); 3D acceleration selects the ``-gl`` variants.
* Sound cards (``qemuBuildSoundCommandLine``, after the video adapters):
  ``soundN`` by position. AC97, ES1370, SB16 (ISA) and USB audio name their
  ``audiodev`` themselves; an Intel HDA controller (``intel-hda`` for
  ``ich6``, ``ich9-intel-hda`` for ``ich9``) carries its codecs on bus
  ``soundN.0``: one ``hda-*`` device per ``<codec>`` (``soundN-codecM``,
  ``cad`` M), or a single ``hda-duplex`` when none is given, each naming the
  ``audiodev``. The back-end is the ``<audio>`` the card names, else the
  domain's first one.
"""

from __future__ import annotations

import logging
from typing import Any

from lxml import etree

from virtcore_qemu.command.common import Build, attr_int, pci_props, unsupported, usb_props
from virtcore_qemu.command.escape import json_arg, keyval

__all__ = ["build_audio", "build_graphics", "build_inputs", "build_sounds", "build_video"]

logger = logging.getLogger(__name__)

_USB_INPUTS = {"tablet": "usb-tablet", "mouse": "usb-mouse", "keyboard": "usb-kbd"}
_VIRTIO_INPUTS = {
    "tablet": "virtio-tablet-pci",
    "mouse": "virtio-mouse-pci",
    "keyboard": "virtio-keyboard-pci",
}
_AUDIO_DRIVERS = {"none": "none", "file": "wav", "spice": "spice", "pulseaudio": "pa"}


def build_inputs(build: Build) -> None:
    """Append the USB and virtio input devices."""
    for node in build.devices.findall("input"):
        kind = node.get("type") or "mouse"
        bus = node.get("bus") or "ps2"
        props: dict[str, Any]
        if bus == "ps2":
            continue
        if bus == "usb" and kind in _USB_INPUTS:
            props = {"driver": _USB_INPUTS[kind], "id": build.alias(node), **usb_props(build, node)}
        elif bus == "virtio" and kind in _VIRTIO_INPUTS:
            props = {
                "driver": _VIRTIO_INPUTS[kind],
                "id": build.alias(node),
                **pci_props(build, node),
            }
        else:
            raise unsupported(f"input device '{kind}' on bus '{bus}' is not supported")
        build.add("-device", json_arg(props))


def _audio_id(build: Build) -> str | None:
    node = build.devices.find("audio")
    return None if node is None else f"audio{attr_int(node, 'id', 1)}"


def build_audio(build: Build) -> None:
    """Append the ``-audiodev`` back-ends."""
    for node in build.devices.findall("audio"):
        kind = node.get("type") or "none"
        driver = _AUDIO_DRIVERS.get(kind)
        if driver is None:
            raise unsupported(f"audio type '{kind}' is not supported")
        props: dict[str, Any] = {"id": f"audio{attr_int(node, 'id', 1)}", "driver": driver}
        if kind == "file":
            props["path"] = node.get("path")
        build.add("-audiodev", json_arg(props))


def build_graphics(build: Build) -> None:
    """Append ``-vnc`` for each VNC display."""
    for number, node in enumerate(build.devices.findall("graphics")):
        kind = node.get("type")
        if kind != "vnc":
            raise unsupported(f"graphics type '{kind}' is not supported")
        build.add("-vnc", _vnc(build, node, number))


def _vnc(build: Build, node: etree._Element, number: int) -> str:
    listen = node.find("listen")
    own = node.find("audio")
    # The display's own <audio id> (VNC audio), else the guest's first back-end.
    audio = f"audio{attr_int(own, 'id', 1)}" if own is not None else _audio_id(build)
    pairs: list[tuple[str, object | None]] = []
    if listen is not None and listen.get("type") == "socket":
        pairs.append(("vnc", f"unix:{listen.get('socket')}"))
        first = None
    elif listen is not None and listen.get("type") == "none":
        first = "none"
    else:
        host = (listen.get("address") if listen is not None else None) or node.get("listen")
        host = host or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        port = attr_int(node, "port", -1)
        autoport = node.get("autoport") == "yes" or port == -1
        if autoport:
            ports = build.ctx.vnc_ports
            if number < len(ports):
                first = f"{host}:{ports[number] - 5900}"
            else:
                first = f"{host}:0"
                pairs.append(("to", 99))
        else:
            first = f"{host}:{port - 5900}"
    if node.get("passwd") is not None:
        pairs.append(("password", True))
    pairs.append(("audiodev", audio))
    return keyval(first, pairs) if first is not None else keyval(None, pairs)


def build_video(build: Build) -> None:
    """Append the video adapters."""
    videos = build.devices.findall("video")
    for number, node in enumerate(videos):
        model = node.find("model")
        kind = (model.get("type") if model is not None else None) or "cirrus"
        if kind == "none":
            continue
        primary = number == 0
        props = _video(kind, model, primary)
        props["id"] = build.alias(node)
        props.update(_video_sizes(kind, model))
        props.update(pci_props(build, node))
        build.add("-device", json_arg(props))


def _video(kind: str, model: etree._Element | None, primary: bool) -> dict[str, Any]:
    if kind == "cirrus":
        return {"driver": "cirrus-vga"}
    if kind == "vga":
        return {"driver": "VGA"}
    if kind == "qxl":
        return {"driver": "qxl-vga" if primary else "qxl"}
    if kind == "virtio":
        acceleration = model.find("acceleration") if model is not None else None
        if acceleration is not None and acceleration.get("accel3d") == "yes":
            return {"driver": "virtio-vga-gl" if primary else "virtio-gpu-gl-pci"}
        return {"driver": "virtio-vga" if primary else "virtio-gpu-pci"}
    if kind == "bochs":
        return {"driver": "bochs-display"}
    if kind == "ramfb":
        return {"driver": "ramfb"}
    raise unsupported(f"video type '{kind}' is not supported")


def _video_sizes(kind: str, model: etree._Element | None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if kind == "qxl":
        props["max_outputs"] = attr_int(model, "heads", 1)
        props["ram_size"] = attr_int(model, "ram", 65536) * 1024
        props["vram_size"] = attr_int(model, "vram", 65536) * 1024
        props["vram64_size_mb"] = attr_int(model, "vram64", 0) // 1024
        props["vgamem_mb"] = attr_int(model, "vgamem", 16384) // 1024
    elif kind == "virtio":
        props["max_outputs"] = attr_int(model, "heads", 1)
    elif kind == "vga":
        props["vgamem_mb"] = attr_int(model, "vram", 16384) // 1024
    elif kind == "bochs" and model is not None and model.get("vram"):
        props["vgamem"] = attr_int(model, "vram") * 1024
    return props


_PLAIN = {"ac97": "AC97", "es1370": "ES1370", "sb16": "sb16", "usb": "usb-audio"}
_HDA = {"ich6": "intel-hda", "ich9": "ich9-intel-hda"}
_CODECS = {"duplex": "hda-duplex", "micro": "hda-micro", "output": "hda-output"}


def _audiodev(build: Build, sound: etree._Element) -> str | None:
    chosen = sound.find("audio")
    if chosen is not None:
        return f"audio{attr_int(chosen, 'id', 1)}"
    first = build.devices.find("audio")
    return None if first is None else f"audio{attr_int(first, 'id', 1)}"


def _address(build: Build, sound: etree._Element) -> dict[str, Any]:
    address = sound.find("address")
    if address is not None and address.get("type") == "usb":
        return usb_props(build, sound)
    return pci_props(build, sound)


def build_sounds(build: Build) -> None:
    """Append every sound card and its codecs."""
    for sound in build.devices.findall("sound"):
        model = sound.get("model") or ""
        alias = build.alias(sound)
        audiodev = _audiodev(build, sound)
        if model in _PLAIN:
            props = {"driver": _PLAIN[model], "id": alias, "audiodev": audiodev}
            props.update(_address(build, sound))
            build.add("-device", json_arg(props))
            continue
        if model not in _HDA:
            raise unsupported(f"sound card model '{model}' is not supported")
        props = {"driver": _HDA[model], "id": alias, **_address(build, sound)}
        build.add("-device", json_arg(props))
        codecs = [codec.get("type") or "duplex" for codec in sound.findall("codec")]
        for cad, codec in enumerate(codecs or ["duplex"]):
            driver = _CODECS.get(codec)
            if driver is None:
                raise unsupported(f"sound codec '{codec}' is not supported")
            build.add(
                "-device",
                json_arg(
                    {
                        "driver": driver,
                        "id": f"{alias}-codec{cad}",
                        "bus": f"{alias}.0",
                        "cad": cad,
                        "audiodev": audiodev,
                    }
                ),
            )
