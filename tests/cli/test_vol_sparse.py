"""``vol-upload`` and ``vol-download`` with and without ``--sparse``, on the host storage driver.

Each test runs the command line in-process against an embedded storage host
(``storage:///embed?root=DIR``) with a started ``dir`` pool on the test's own
directory, and checks both the bytes and the layout: which ranges of the
volume's file and of the local file are data and which are holes, read with
``SEEK_DATA``/``SEEK_HOLE``. Every data range is a multiple of 64 KiB, so
the layouts compare exactly on any file system with blocks up to that size.

Option errors that virsh 9.0 reports before reaching the driver are compared
with real ``virsh -c test:///default`` byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.differential import Result, assert_same, run_virtcore
from virtcore.hosts import host_for

KIB = 1024
MIB = 1024 * KIB
BLOCK = 64 * KIB

# A 4 MiB image: a leading hole, two data runs, a hole between and a trailing hole.
SPARSE_LAYOUT = ((1 * MIB, 2 * BLOCK, b"A"), (3 * MIB, BLOCK, b"B"))
SPARSE_SIZE = 4 * MIB


def make_file(path: Path, size: int, runs: Sequence[tuple[int, int, bytes]]) -> bytes:
    """Write a file of *size* bytes holding only *runs* (offset, length, fill byte) as data."""
    with path.open("wb") as handle:
        handle.truncate(size)
        for offset, length, fill in runs:
            handle.seek(offset)
            handle.write(fill * length)
    return path.read_bytes()


def data_ranges(path: Path) -> list[tuple[int, int]]:
    """The file's data ranges ``[start, end)`` as ``SEEK_DATA``/``SEEK_HOLE`` report them."""
    ranges: list[tuple[int, int]] = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        position = 0
        while position < size:
            try:
                start = os.lseek(fd, position, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole up to the end
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            ranges.append((start, end))
            position = end
    finally:
        os.close(fd)
    return ranges


@dataclass
class Pool:
    """A started ``dir`` pool named ``p`` on an embedded storage host."""

    uri: str
    workdir: Path
    directory: Path

    def run(self, commands: str) -> Result:
        """Run *commands* (``;``-separated) through ``virtcore -c URI``."""
        return run_virtcore(["-c", self.uri, commands], self.workdir)

    def ok(self, commands: str) -> Result:
        """Run *commands* and require success."""
        result = self.run(commands)
        assert result.status == 0, result.err
        return result

    def volume(self, name: str) -> Path:
        """The file of volume *name*."""
        return self.directory / name


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[Pool]:
    root = tmp_path / "root"
    directory = tmp_path / "pool"
    directory.mkdir()
    found = Pool(f"storage:///embed?root={root}", tmp_path, directory)
    found.ok(f"pool-define-as p dir --target {directory}; pool-start p")
    yield found
    host_for(privileged=False, root=root).shutdown(30)


@pytest.fixture
def sparse_source(pool: Pool) -> bytes:
    """``src.img`` in the working directory, laid out as :data:`SPARSE_LAYOUT`."""
    return make_file(pool.workdir / "src.img", SPARSE_SIZE, SPARSE_LAYOUT)


def expected_ranges(runs: Sequence[tuple[int, int, bytes]]) -> list[tuple[int, int]]:
    """The data ranges a file made by :func:`make_file` from *runs* has."""
    return [(offset, offset + length) for offset, length, _ in runs]


def fill_volume(pool: Pool, name: str, size: int, fill: bytes) -> None:
    """Create volume *name* of *size* bytes wholly allocated with *fill*."""
    make_file(pool.workdir / "fill.img", size, [(0, size, fill)])
    pool.ok(f"vol-create-as p {name} {size}; vol-upload {name} fill.img --pool p")
    assert data_ranges(pool.volume(name)) == [(0, size)]


def test_sparse_upload_copies_the_content_and_keeps_the_holes(
    pool: Pool, sparse_source: bytes
) -> None:
    pool.ok(
        f"vol-create-as p v {SPARSE_SIZE} --allocation 0; vol-upload v src.img --pool p --sparse"
    )
    assert pool.volume("v").read_bytes() == sparse_source
    assert data_ranges(pool.volume("v")) == expected_ranges(SPARSE_LAYOUT)


def test_sparse_upload_turns_old_data_under_a_hole_into_a_hole(
    pool: Pool, sparse_source: bytes
) -> None:
    fill_volume(pool, "v", SPARSE_SIZE, b"\xff")
    pool.ok("vol-upload v src.img --pool p --sparse")
    assert pool.volume("v").read_bytes() == sparse_source
    assert data_ranges(pool.volume("v")) == expected_ranges(SPARSE_LAYOUT)


def test_dense_upload_writes_the_holes_as_zeros(pool: Pool, sparse_source: bytes) -> None:
    pool.ok(f"vol-create-as p v {SPARSE_SIZE} --allocation 0; vol-upload v src.img --pool p")
    assert pool.volume("v").read_bytes() == sparse_source
    assert data_ranges(pool.volume("v")) == [(0, SPARSE_SIZE)]


def test_sparse_download_keeps_the_holes_in_the_local_file(
    pool: Pool, sparse_source: bytes
) -> None:
    pool.ok(
        f"vol-create-as p v {SPARSE_SIZE} --allocation 0; vol-upload v src.img --pool p --sparse; "
        "vol-download v out.img --pool p --sparse"
    )
    out = pool.workdir / "out.img"
    assert out.read_bytes() == sparse_source
    assert data_ranges(out) == expected_ranges(SPARSE_LAYOUT)


def test_sparse_download_replaces_a_longer_existing_file(pool: Pool, sparse_source: bytes) -> None:
    make_file(pool.workdir / "out.img", 2 * SPARSE_SIZE, [(0, 2 * SPARSE_SIZE, b"z")])
    pool.ok(
        f"vol-create-as p v {SPARSE_SIZE} --allocation 0; vol-upload v src.img --pool p --sparse; "
        "vol-download v out.img --pool p --sparse"
    )
    assert (pool.workdir / "out.img").read_bytes() == sparse_source
    assert data_ranges(pool.workdir / "out.img") == expected_ranges(SPARSE_LAYOUT)


def test_dense_download_writes_every_byte(pool: Pool, sparse_source: bytes) -> None:
    pool.ok(
        f"vol-create-as p v {SPARSE_SIZE} --allocation 0; vol-upload v src.img --pool p --sparse; "
        "vol-download v out.img --pool p"
    )
    out = pool.workdir / "out.img"
    assert out.read_bytes() == sparse_source
    assert data_ranges(out) == [(0, SPARSE_SIZE)]


def test_sparse_upload_into_a_window_leaves_the_rest_of_the_volume_alone(pool: Pool) -> None:
    fill_volume(pool, "v", 4 * MIB, b"\xff")
    # 2 MiB: a 1 MiB hole, one block of data, then a hole to the end.
    source = make_file(pool.workdir / "src.img", 2 * MIB, [(1 * MIB, BLOCK, b"C")])
    pool.ok(f"vol-upload v src.img --pool p --sparse --offset {1 * MIB} --length {2 * MIB}")
    volume = pool.volume("v").read_bytes()
    assert volume == b"\xff" * MIB + source + b"\xff" * MIB
    assert data_ranges(pool.volume("v")) == [
        (0, 1 * MIB),
        (2 * MIB, 2 * MIB + BLOCK),
        (3 * MIB, 4 * MIB),
    ]


def test_sparse_upload_longer_than_the_length_fails_when_the_window_is_full(
    pool: Pool, sparse_source: bytes
) -> None:
    pool.ok(f"vol-create-as p v {SPARSE_SIZE} --allocation 0")
    result = pool.run(f"vol-upload v src.img --pool p --sparse --length {2 * MIB}")
    assert (result.status, result.err) == (
        1,
        "error: cannot send data to volume v\n"
        "error: cannot write to stream: No space left on device\n",
    )


def test_sparse_download_of_a_window_keeps_its_holes(pool: Pool, sparse_source: bytes) -> None:
    start, length = 1 * MIB + BLOCK, 2 * MIB
    pool.ok(
        f"vol-create-as p v {SPARSE_SIZE} --allocation 0; vol-upload v src.img --pool p --sparse; "
        f"vol-download v out.img --pool p --sparse --offset {start} --length {length}"
    )
    out = pool.workdir / "out.img"
    assert out.read_bytes() == sparse_source[start : start + length]
    assert data_ranges(out) == [(0, BLOCK), (3 * MIB - start, 3 * MIB - start + BLOCK)]


def test_length_minus_one_wraps_to_everything_as_in_virsh(pool: Pool, sparse_source: bytes) -> None:
    pool.ok(
        f"vol-create-as p v {SPARSE_SIZE} --allocation 0; "
        "vol-upload v src.img --pool p --sparse --length -1; "
        "vol-download v out.img --pool p --sparse --length -1"
    )
    assert (pool.workdir / "out.img").read_bytes() == sparse_source
    assert data_ranges(pool.workdir / "out.img") == expected_ranges(SPARSE_LAYOUT)


def test_sparse_progress_counts_holes_as_transferred(pool: Pool) -> None:
    # A 1 MiB hole then one block: the hole alone is 94 % of the transfer.
    make_file(pool.workdir / "src.img", MIB + BLOCK, [(MIB, BLOCK, b"D")])
    result = pool.ok(
        f"vol-create-as p v {MIB + BLOCK} --allocation 0; "
        "vol-upload v src.img --pool p --sparse --verbose; "
        "vol-download v out.img --pool p --sparse --verbose"
    )
    assert result.err == (
        "\nUpload: [ 94 %]\nUpload: [ 99 %]\nUpload: [100 %]\n"
        "\nDownload: [ 94 %]\nDownload: [ 99 %]\nDownload: [100 %]\n"
    )


# Malformed --offset/--length next to --sparse: virsh rejects them before any lookup.
OPTION_ERRORS = {
    "upload-negative-offset": "vol-upload a.img vol.xml --pool default-pool --sparse --offset -1",
    "upload-empty-offset": "vol-upload a.img vol.xml --pool default-pool --sparse --offset ''",
    "upload-length-suffix": "vol-upload a.img vol.xml --pool default-pool --sparse --length 1k",
    "download-empty-length": "vol-download a.img o.img --pool default-pool --sparse --length ''",
    "download-length-overflow": (
        "vol-download a.img o.img --pool default-pool --sparse --length 18446744073709551616"
    ),
    "download-negative-length-overflow": (
        "vol-download a.img o.img --pool default-pool --sparse --length -18446744073709551616"
    ),
    "download-hex-offset": "vol-download a.img o.img --pool default-pool --sparse --offset 0x10",
}


@pytest.mark.parametrize("line", OPTION_ERRORS.values(), ids=OPTION_ERRORS.keys())
def test_malformed_offset_or_length_fails_like_virsh(line: str, workdir: Path) -> None:
    assert_same(f"vol-create-as default-pool a.img 1M; {line}", workdir)
    assert not (workdir / "o.img").exists()


def test_a_failing_local_write_names_the_file_and_the_system_error(
    pool: Pool, sparse_source: bytes
) -> None:
    # /dev/full refuses every write with ENOSPC.
    pool.ok(f"vol-create-as p v {SPARSE_SIZE}; vol-upload v src.img --pool p")
    result = pool.run("vol-download v /dev/full --pool p")
    assert (result.status, result.err) == (
        1,
        "error: cannot receive data from volume v\n"
        "error: unable to write to '/dev/full': No space left on device\n",
    )
