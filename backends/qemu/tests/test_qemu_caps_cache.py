"""Specification of the QEMU capabilities cache (virtcore_qemu.caps.CapsCache).

A wrapper script that execs the real QEMU stands in for an installed
emulator, so the tests can change it (touch, replace) as a package upgrade
would; a plain copy would not do, QEMU finds its modules relative to its
own location. The cache
counts the probes it runs (``CapsCache.probes``): a hit leaves it unchanged.
KVM usability is simulated through the injectable check.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from qemu_capsprobe import QEMU, no_kvm

from virtcore.errors import SystemCallError
from virtcore_qemu.caps import CACHE_FORMAT_VERSION, CapsCache


def make_emulator(path: Path) -> Path:
    """An executable at *path* that runs the real QEMU."""
    path.write_text(f'#!/bin/sh\nexec {QEMU} "$@"\n')
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_emulator(tmp_path_factory.mktemp("bin") / "qemu-system-x86_64")


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "capabilities"


class Switch:
    """An injectable /dev/kvm check the test can flip."""

    def __init__(self) -> None:
        self.usable = False

    def __call__(self) -> bool:
        return self.usable


@pytest.fixture
def seeded(binary: Path, cache_dir: Path) -> Iterator[CapsCache]:
    """A cache directory already holding a probe of *binary*."""
    first = CapsCache(cache_dir, kvm_check=no_kvm)
    first.get(binary)
    assert first.probes == 1
    yield first


def test_first_lookup_probes_and_persists(binary: Path, cache_dir: Path) -> None:
    cache = CapsCache(cache_dir, kvm_check=no_kvm)
    caps = cache.get(binary)
    assert cache.probes == 1
    assert caps.binary == str(binary)
    assert cache.cache_file(binary).is_file()


def test_second_lookup_is_served_from_memory(seeded: CapsCache, binary: Path) -> None:
    first = seeded.get(binary)
    assert seeded.get(binary) is first
    assert seeded.probes == 1


def test_new_cache_reuses_the_file(seeded: CapsCache, binary: Path, cache_dir: Path) -> None:
    fresh = CapsCache(cache_dir, kvm_check=no_kvm)
    assert fresh.get(binary) == seeded.get(binary)
    assert fresh.probes == 0


def test_touched_binary_is_probed_again(seeded: CapsCache, binary: Path, cache_dir: Path) -> None:
    stat = binary.stat()
    os.utime(binary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    fresh = CapsCache(cache_dir, kvm_check=no_kvm)
    fresh.get(binary)
    assert fresh.probes == 1


def test_touched_binary_invalidates_the_memory_entry_too(seeded: CapsCache, binary: Path) -> None:
    stat = binary.stat()
    os.utime(binary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    seeded.get(binary)
    assert seeded.probes == 2


def test_replaced_binary_is_probed_again(tmp_path: Path, binary: Path) -> None:
    # A package upgrade puts a new file (new inode) at the same path.
    path = make_emulator(tmp_path / "qemu-system-x86_64")
    cache = CapsCache(tmp_path / "caps", kvm_check=no_kvm)
    cache.get(path)
    os.replace(make_emulator(tmp_path / "new"), path)
    fresh = CapsCache(tmp_path / "caps", kvm_check=no_kvm)
    fresh.get(path)
    assert fresh.probes == 1


def test_kvm_becoming_usable_invalidates(seeded: CapsCache, binary: Path, cache_dir: Path) -> None:
    switch = Switch()
    cache = CapsCache(cache_dir, kvm_check=switch)
    cache.get(binary)
    assert cache.probes == 0
    switch.usable = True
    cache.get(binary)
    assert cache.probes == 1


def test_new_kernel_invalidates_a_kvm_probe(binary: Path, cache_dir: Path) -> None:
    switch = Switch()
    switch.usable = True
    cache = CapsCache(cache_dir, kvm_check=switch)
    cache.get(binary)
    path = cache.cache_file(binary)
    data = json.loads(path.read_text())
    assert data["host"]["kvm"] is True
    data["host"]["kernel"] = "0.0.0-previous"
    path.write_text(json.dumps(data))
    fresh = CapsCache(cache_dir, kvm_check=switch)
    fresh.get(binary)
    assert fresh.probes == 1


def test_kernel_does_not_matter_without_kvm(seeded: CapsCache, binary: Path) -> None:
    data = json.loads(seeded.cache_file(binary).read_text())
    assert data["host"] == {"kvm": False}


def test_corrupt_cache_file_is_probed_again(
    seeded: CapsCache, binary: Path, cache_dir: Path
) -> None:
    seeded.cache_file(binary).write_text("{ not json")
    fresh = CapsCache(cache_dir, kvm_check=no_kvm)
    caps = fresh.get(binary)
    assert fresh.probes == 1
    assert json.loads(fresh.cache_file(binary).read_text())["caps"]["binary"] == caps.binary


def test_cache_file_with_malformed_caps_is_probed_again(
    seeded: CapsCache, binary: Path, cache_dir: Path
) -> None:
    path = seeded.cache_file(binary)
    data = json.loads(path.read_text())
    data["caps"]["machines"] = "not a list of machines"
    path.write_text(json.dumps(data))
    fresh = CapsCache(cache_dir, kvm_check=no_kvm)
    fresh.get(binary)
    assert fresh.probes == 1


def test_old_cache_format_is_probed_again(seeded: CapsCache, binary: Path, cache_dir: Path) -> None:
    path = seeded.cache_file(binary)
    data = json.loads(path.read_text())
    data["format"] = CACHE_FORMAT_VERSION - 1
    path.write_text(json.dumps(data))
    fresh = CapsCache(cache_dir, kvm_check=no_kvm)
    fresh.get(binary)
    assert fresh.probes == 1


def test_cache_file_of_another_binary_is_not_trusted(
    seeded: CapsCache, binary: Path, cache_dir: Path, tmp_path: Path
) -> None:
    other = make_emulator(tmp_path / "other-qemu")
    seeded.cache_file(binary).rename(seeded.cache_file(other))
    fresh = CapsCache(cache_dir, kvm_check=no_kvm)
    assert fresh.get(other).binary == str(other)
    assert fresh.probes == 1


def test_unwritable_cache_still_answers(binary: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = CapsCache(blocker / "capabilities", kvm_check=no_kvm)
    assert cache.get(binary).binary == str(binary)


def test_cache_file_is_written_atomically_and_readable(seeded: CapsCache, binary: Path) -> None:
    path = seeded.cache_file(binary)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert path.stat().st_mode & 0o777 == 0o644


def test_missing_binary_raises_libvirts_error(cache_dir: Path, tmp_path: Path) -> None:
    cache = CapsCache(cache_dir, kvm_check=no_kvm)
    with pytest.raises(SystemCallError, match="Cannot check QEMU binary"):
        cache.get(tmp_path / "nope")


def test_concurrent_lookups_probe_once(binary: Path, cache_dir: Path) -> None:
    cache = CapsCache(cache_dir, kvm_check=no_kvm)
    results = []
    errors: list[BaseException] = []

    def lookup() -> None:
        try:
            results.append(cache.get(binary))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=lookup) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert cache.probes == 1
    assert all(r is results[0] for r in results)


def test_invalidate_forgets_the_memory_entry(seeded: CapsCache, binary: Path) -> None:
    seeded.invalidate(binary)
    seeded.get(binary)
    # The file is still valid: forgetting memory costs a read, not a probe.
    assert seeded.probes == 1
    assert seeded.cached()[0].binary == str(binary)
