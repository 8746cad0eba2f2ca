"""Domain documents libvirt 9.0 refuses, with its verdict: (code, error domain, message).

Each case is a fragment of a ``<domain>`` document (expanded by
:func:`document`: a name, a UUID, 1 GiB of memory and an HVM ``<os>`` are
added unless the fragment has its own) or a whole document. The verdicts
were recorded from python3-libvirt 9.0 defining the documents on
``test:///default``; ``test_domain_differential.py`` checks them again
against the live library and ``test_domain_errors.py`` against virtcore.
"""

from __future__ import annotations

from typing import NamedTuple

BASE = (
    "<domain type='test'><name>x</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
    "{memory}{os}{fragment}</domain>"
)


class DomainErrorCase(NamedTuple):
    """One refused document and what libvirt reports."""

    name: str
    fragment: str
    code: int
    domain: int
    message: str

    @property
    def document(self) -> str:
        """The whole document."""
        return document(self.fragment)


def document(fragment: str) -> str:
    """*fragment* completed into a domain document (whole documents are kept)."""
    if fragment.startswith("<domain"):
        return fragment
    has_memory = "<memory>" in fragment or "<memory " in fragment
    has_os = "<os>" in fragment or "<os " in fragment
    return BASE.format(
        memory="" if has_memory else "<memory>1048576</memory>",
        os="" if has_os else "<os><type>hvm</type></os>",
        fragment=fragment,
    )


ERROR_CASES: tuple[DomainErrorCase, ...] = (
    DomainErrorCase(
        "missing-type",
        "<domain><name>x</name><memory>1024</memory><os><type>hvm</type></os></domain>",
        1,
        20,
        "internal error: missing domain type attribute",
    ),
    DomainErrorCase(
        "unknown-type",
        (
            "<domain type='bogus'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
            "</domain>"
        ),
        67,
        20,
        "unsupported configuration: invalid domain type bogus",
    ),
    DomainErrorCase(
        "missing-name",
        "<domain type='test'><memory>1024</memory><os><type>hvm</type></os></domain>",
        21,
        20,
        "missing name information",
    ),
    DomainErrorCase(
        "empty-name",
        "<domain type='test'><name></name><memory>1024</memory><os><type>hvm</type></os></domain>",
        21,
        20,
        "missing name information",
    ),
    DomainErrorCase(
        "name-with-slash",
        (
            "<domain type='test'><name>a/b</name><memory>1024</memory><os><type>hvm</type></os>"
            "</domain>"
        ),
        27,
        20,
        "XML error: name a/b cannot contain '/'",
    ),
    DomainErrorCase(
        "malformed-uuid",
        (
            "<domain type='test'><name>x</name><uuid>zzz</uuid><memory>1024</memory><os>"
            "<type>hvm</type></os></domain>"
        ),
        1,
        20,
        "internal error: malformed uuid element",
    ),
    DomainErrorCase(
        "uuid-too-long",
        (
            "<domain type='test'><name>x</name><uuid>11111111-2222-3333-4444-5555555555556</uuid>"
            "<memory>1024</memory><os><type>hvm</type></os></domain>"
        ),
        1,
        20,
        "internal error: malformed uuid element",
    ),
    DomainErrorCase(
        "uuid-split-digits",
        (
            "<domain type='test'><name>x</name><uuid>1-1111111-2222-3333-4444-55555555555-5</uuid>"
            "<memory>1024</memory><os><type>hvm</type></os></domain>"
        ),
        1,
        20,
        "internal error: malformed uuid element",
    ),
    DomainErrorCase(
        "malformed-genid",
        "<genid>not-a-uuid</genid>",
        1,
        20,
        "internal error: malformed genid element",
    ),
    DomainErrorCase(
        "title-with-newline",
        "<title>a\nb</title>",
        27,
        20,
        "XML error: Domain title can't contain newlines",
    ),
    DomainErrorCase(
        "memory-missing",
        "<domain type='test'><name>x</name><os><type>hvm</type></os></domain>",
        27,
        20,
        "XML error: Memory size must be specified via <memory> or in the <numa> configuration",
    ),
    DomainErrorCase(
        "memory-zero",
        "<memory>0</memory>",
        27,
        20,
        "XML error: Memory size must be specified via <memory> or in the <numa> configuration",
    ),
    DomainErrorCase(
        "memory-not-a-number",
        "<memory>abc</memory>",
        27,
        5,
        "XML error: Invalid value 'abc' for element or attribute './memory[1]'",
    ),
    DomainErrorCase(
        "memory-unknown-unit",
        "<memory unit='XB'>1024</memory>",
        8,
        0,
        "invalid argument: unknown suffix 'XB'",
    ),
    DomainErrorCase(
        "memory-overflow",
        "<memory unit='KiB'>9007199254740992</memory>",
        82,
        0,
        "numerical overflow: value too large: 9007199254740992KiB",
    ),
    DomainErrorCase(
        "memory-scaling-overflow",
        "<memory unit='E'>9</memory>",
        82,
        0,
        "numerical overflow: value too large: 9E",
    ),
    DomainErrorCase(
        "memory-bad-dumpcore",
        "<memory dumpCore='x'>2048</memory>",
        27,
        5,
        "XML error: Invalid value for attribute 'dumpCore' in element 'memory': 'x'.",
    ),
    DomainErrorCase(
        "currentmemory-not-a-number",
        "<memory>2048</memory><currentMemory>abc</currentMemory>",
        27,
        5,
        "XML error: Invalid value 'abc' for element or attribute './currentMemory[1]'",
    ),
    DomainErrorCase(
        "maxmemory-below-memory",
        "<memory>2048</memory><maxMemory slots='2'>1024</maxMemory>",
        27,
        20,
        "XML error: maximum memory size must be equal or greater than the actual memory size",
    ),
    DomainErrorCase(
        "maxmemory-without-slots",
        "<memory>2048</memory><maxMemory>4096</maxMemory>",
        27,
        20,
        "XML error: both maximum memory size and memory slot count must be specified",
    ),
    DomainErrorCase(
        "maxmemory-zero-slots",
        "<memory>2048</memory><maxMemory slots='0'>4096</maxMemory>",
        27,
        20,
        "XML error: both maximum memory size and memory slot count must be specified",
    ),
    DomainErrorCase(
        "maxmemory-bad-slots",
        "<memory>2048</memory><maxMemory slots='x'>4096</maxMemory>",
        27,
        20,
        "XML error: Failed to parse memory slot count",
    ),
    DomainErrorCase(
        "maxmemory-not-a-number",
        "<memory>2048</memory><maxMemory slots='3'>abc</maxMemory>",
        27,
        5,
        "XML error: Invalid value 'abc' for element or attribute './maxMemory[1]'",
    ),
    DomainErrorCase(
        "memtune-not-a-number",
        "<memtune><hard_limit>abc</hard_limit></memtune>",
        27,
        5,
        "XML error: Invalid value 'abc' for element or attribute './memtune/hard_limit[1]'",
    ),
    DomainErrorCase(
        "memtune-over-unlimited",
        "<memtune><hard_limit>9007199254740992</hard_limit></memtune>",
        82,
        0,
        "numerical overflow: value too large: 9007199254740992",
    ),
    DomainErrorCase(
        "hugepage-zero",
        "<memoryBacking><hugepages><page size='0'/></hugepages></memoryBacking>",
        35,
        20,
        "hugepage size can't be zero",
    ),
    DomainErrorCase(
        "hugepage-missing-size",
        "<memoryBacking><hugepages><page unit='KiB'/></hugepages></memoryBacking>",
        27,
        5,
        "XML error: missing element or attribute './@size'",
    ),
    DomainErrorCase(
        "hugepage-bad-size",
        "<memoryBacking><hugepages><page size='x'/></hugepages></memoryBacking>",
        27,
        5,
        "XML error: Invalid value 'x' for element or attribute './@size'",
    ),
    DomainErrorCase(
        "hugepage-bad-unit",
        "<memoryBacking><hugepages><page size='1' unit='bogus'/></hugepages></memoryBacking>",
        8,
        0,
        "invalid argument: unknown suffix 'bogus'",
    ),
    DomainErrorCase(
        "hugepage-two-defaults",
        (
            "<memoryBacking><hugepages><page size='2048'/><page size='4096'/></hugepages>"
            "</memoryBacking>"
        ),
        35,
        20,
        "two master hugepages detected: 4096 and 2048",
    ),
    DomainErrorCase(
        "hugepage-missing-node",
        "<memoryBacking><hugepages><page size='2048' nodeset='1'/></hugepages></memoryBacking>",
        35,
        20,
        "hugepages: node 1 not found",
    ),
    DomainErrorCase(
        "hugepage-bad-nodeset",
        "<memoryBacking><hugepages><page size='2048' nodeset='x'/></hugepages></memoryBacking>",
        8,
        0,
        "invalid argument: Failed to parse bitmap 'x'",
    ),
    DomainErrorCase(
        "hugepage-nodes-intersect",
        (
            "<vcpu>2</vcpu><memoryBacking><hugepages><page size='2048' nodeset='0-1'/><page "
            "size='4096' nodeset='1'/></hugepages></memoryBacking><cpu><numa><cell id='0' cpus='0' "
            "memory='524288'/><cell id='1' cpus='1' memory='524288'/></numa></cpu>"
        ),
        35,
        20,
        "nodeset attribute of hugepages of sizes 4096 and 2048 intersect",
    ),
    DomainErrorCase(
        "backing-bad-source",
        "<memoryBacking><source type='x'/></memoryBacking>",
        67,
        20,
        "unsupported configuration: unknown memoryBacking/source/type 'x'",
    ),
    DomainErrorCase(
        "backing-bad-access",
        "<memoryBacking><access mode='x'/></memoryBacking>",
        67,
        20,
        "unsupported configuration: unknown memoryBacking/access/mode 'x'",
    ),
    DomainErrorCase(
        "backing-bad-allocation",
        "<memoryBacking><allocation mode='x'/></memoryBacking>",
        67,
        20,
        "unsupported configuration: unknown memoryBacking/allocation/mode 'x'",
    ),
    DomainErrorCase(
        "backing-bad-threads",
        "<memoryBacking><allocation threads='x'/></memoryBacking>",
        27,
        20,
        "XML error: Failed to parse memory allocation threads",
    ),
    DomainErrorCase(
        "blkio-missing-path",
        "<blkiotune><device><weight>5</weight></device></blkiotune>",
        67,
        20,
        "unsupported configuration: missing per-device path",
    ),
    DomainErrorCase(
        "blkio-duplicate-path",
        (
            "<blkiotune><device><path>/a</path><weight>5</weight></device><device><path>/a</path>"
            "<weight>6</weight></device></blkiotune>"
        ),
        67,
        20,
        "unsupported configuration: duplicate blkio device path '/a'",
    ),
    DomainErrorCase(
        "blkio-bad-weight",
        "<blkiotune><device><path>/a</path><weight>x</weight></device></blkiotune>",
        67,
        20,
        "unsupported configuration: could not parse weight x",
    ),
    DomainErrorCase(
        "blkio-bad-read-bytes",
        "<blkiotune><device><path>/a</path><read_bytes_sec>x</read_bytes_sec></device></blkiotune>",
        67,
        20,
        "unsupported configuration: could not parse read bytes sec x",
    ),
    DomainErrorCase(
        "vcpu-not-a-number",
        "<vcpu>abc</vcpu>",
        27,
        20,
        "XML error: maximum vcpus count must be an integer",
    ),
    DomainErrorCase(
        "vcpu-trailing-space",
        "<vcpu> 3 </vcpu>",
        27,
        20,
        "XML error: maximum vcpus count must be an integer",
    ),
    DomainErrorCase(
        "vcpu-zero",
        "<vcpu>0</vcpu>",
        1,
        20,
        "internal error: CPU IDs in <numa> exceed the <vcpu> count",
    ),
    DomainErrorCase(
        "vcpu-current-above-max",
        "<vcpu current='5'>4</vcpu>",
        67,
        20,
        "unsupported configuration: maximum vCPU count must not be less than current vCPU count",
    ),
    DomainErrorCase(
        "vcpu-bad-current",
        "<vcpu current='x'>2</vcpu>",
        27,
        5,
        (
            "XML error: Invalid value for attribute 'current' in element 'vcpu': 'x'. Expected "
            "non-negative integer value"
        ),
    ),
    DomainErrorCase(
        "vcpu-bad-placement",
        "<vcpu placement='x'>2</vcpu>",
        27,
        5,
        "XML error: Invalid value for attribute 'placement' in element 'vcpu': 'x'.",
    ),
    DomainErrorCase(
        "vcpu-bad-cpuset",
        "<vcpu cpuset='a'>2</vcpu>",
        8,
        0,
        "invalid argument: Failed to parse bitmap 'a'",
    ),
    DomainErrorCase(
        "vcpu-reversed-range",
        "<vcpu cpuset='3-1'>2</vcpu>",
        8,
        0,
        "invalid argument: Failed to parse bitmap '3-1'",
    ),
    DomainErrorCase(
        "vcpu-empty-cpuset",
        "<vcpu cpuset='^1'>2</vcpu>",
        67,
        20,
        "unsupported configuration: Invalid value of 'cpuset': ^1",
    ),
    DomainErrorCase(
        "vcpus-id-out-of-range",
        "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='yes'/><vcpu id='5' enabled='yes'/></vcpus>",
        27,
        20,
        "XML error: vcpu id '5' is out of range of maximum vcpu count",
    ),
    DomainErrorCase(
        "vcpus-missing-enabled",
        "<vcpu>2</vcpu><vcpus><vcpu id='0'/></vcpus>",
        27,
        5,
        "XML error: Missing required attribute 'enabled' in element 'vcpu'",
    ),
    DomainErrorCase(
        "vcpus-offline-not-hotpluggable",
        (
            "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='no' "
            "hotpluggable='no'/></vcpus>"
        ),
        67,
        20,
        "unsupported configuration: vcpu '1' is both offline and not hotpluggable",
    ),
    DomainErrorCase(
        "iothreads-not-a-number",
        "<iothreads>x</iothreads>",
        27,
        20,
        "XML error: invalid iothreads count 'x'",
    ),
    DomainErrorCase(
        "iothread-id-zero",
        "<iothreadids><iothread id='0'/></iothreadids>",
        27,
        5,
        "XML error: Invalid value for attribute 'id' in element 'iothread': Zero is not permitted",
    ),
    DomainErrorCase(
        "iothread-missing-id",
        "<iothreadids><iothread/></iothreadids>",
        27,
        5,
        "XML error: Missing required attribute 'id' in element 'iothread'",
    ),
    DomainErrorCase(
        "iothread-duplicate-id",
        "<iothreadids><iothread id='3'/><iothread id='3'/></iothreadids>",
        27,
        20,
        "XML error: duplicate iothread id '3' found",
    ),
    DomainErrorCase(
        "iothread-pool-min-above-max",
        "<iothreadids><iothread id='1' thread_pool_min='5' thread_pool_max='2'/></iothreadids>",
        67,
        20,
        "unsupported configuration: thread_pool_min must be smaller or equal to thread_pool_max",
    ),
    DomainErrorCase(
        "iothread-pool-negative",
        "<iothreadids><iothread id='1' thread_pool_min='-1'/></iothreadids>",
        27,
        5,
        (
            "XML error: Invalid value for attribute 'thread_pool_min' in element 'iothread': '-1'. "
            "Expected non-negative value"
        ),
    ),
    DomainErrorCase(
        "iothread-pool-max-zero",
        "<iothreadids><iothread id='1' thread_pool_min='0' thread_pool_max='0'/></iothreadids>",
        67,
        20,
        "unsupported configuration: thread_pool_max must be a positive integer",
    ),
    DomainErrorCase(
        "defaultiothread-min-without-max",
        "<defaultiothread thread_pool_min='1'/>",
        67,
        20,
        "unsupported configuration: thread_pool_min must be smaller or equal to thread_pool_max",
    ),
    DomainErrorCase(
        "cputune-bad-shares",
        "<cputune><shares>x</shares></cputune>",
        27,
        20,
        "XML error: can't parse cputune shares value",
    ),
    DomainErrorCase(
        "cputune-shares-range",
        "<cputune><shares>262145</shares></cputune>",
        67,
        20,
        "unsupported configuration: Value of cputune 'shares' must be in range [2, 262144]",
    ),
    DomainErrorCase(
        "cputune-bad-period",
        "<cputune><period>x</period></cputune>",
        27,
        20,
        "XML error: can't parse cputune period value",
    ),
    DomainErrorCase(
        "cputune-period-range",
        "<cputune><period>999</period></cputune>",
        67,
        20,
        "unsupported configuration: Value of cputune 'period' must be in range [1000, 1000000]",
    ),
    DomainErrorCase(
        "cputune-quota-range",
        "<cputune><quota>999</quota></cputune>",
        67,
        20,
        (
            "unsupported configuration: Value of cputune 'quota' must be in range [1000, "
            "17592186044415]"
        ),
    ),
    DomainErrorCase(
        "cputune-bad-emulator-quota",
        "<cputune><emulator_quota>x</emulator_quota></cputune>",
        27,
        20,
        "XML error: can't parse cputune emulator quota value",
    ),
    DomainErrorCase(
        "vcpupin-duplicate",
        (
            "<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='0' cpuset='2'/>"
            "</cputune>"
        ),
        1,
        20,
        "internal error: duplicate vcpupin for vcpu '0'",
    ),
    DomainErrorCase(
        "vcpupin-missing-vcpu",
        "<vcpu>2</vcpu><cputune><vcpupin cpuset='1'/></cputune>",
        27,
        5,
        "XML error: Missing required attribute 'vcpu' in element 'vcpupin'",
    ),
    DomainErrorCase(
        "vcpupin-missing-cpuset",
        "<vcpu>2</vcpu><cputune><vcpupin vcpu='0'/></cputune>",
        1,
        20,
        "internal error: missing cpuset for vcpupin",
    ),
    DomainErrorCase(
        "vcpupin-bad-vcpu",
        "<vcpu>2</vcpu><cputune><vcpupin vcpu='x' cpuset='1'/></cputune>",
        27,
        5,
        (
            "XML error: Invalid value for attribute 'vcpu' in element 'vcpupin': 'x'. Expected "
            "non-negative integer value"
        ),
    ),
    DomainErrorCase(
        "emulatorpin-twice",
        "<cputune><emulatorpin cpuset='0'/><emulatorpin cpuset='1'/></cputune>",
        27,
        20,
        "XML error: only one emulatorpin is supported",
    ),
    DomainErrorCase(
        "emulatorpin-missing-cpuset",
        "<cputune><emulatorpin/></cputune>",
        1,
        20,
        "internal error: missing cpuset for emulatorpin",
    ),
    DomainErrorCase(
        "iothreadpin-unknown-iothread",
        "<cputune><iothreadpin iothread='1' cpuset='0'/></cputune>",
        67,
        20,
        "unsupported configuration: Cannot find 'iothread' : 1",
    ),
    DomainErrorCase(
        "iothreadpin-duplicate",
        (
            "<iothreads>1</iothreads><cputune><iothreadpin iothread='1' cpuset='0'/><iothreadpin "
            "iothread='1' cpuset='1'/></cputune>"
        ),
        1,
        20,
        "internal error: duplicate iothreadpin for same iothread '1'",
    ),
    DomainErrorCase(
        "vcpusched-missing-priority",
        "<vcpu>2</vcpu><cputune><vcpusched vcpus='0' scheduler='fifo'/></cputune>",
        27,
        5,
        "XML error: Missing required attribute 'priority' in element 'vcpusched'",
    ),
    DomainErrorCase(
        "vcpusched-bad-scheduler",
        "<vcpu>2</vcpu><cputune><vcpusched vcpus='0' scheduler='bogus'/></cputune>",
        27,
        5,
        "XML error: Invalid value for attribute 'scheduler' in element 'vcpusched': 'bogus'.",
    ),
    DomainErrorCase(
        "vcpusched-missing-vcpus",
        "<vcpu>2</vcpu><cputune><vcpusched scheduler='batch'/></cputune>",
        27,
        20,
        "XML error: Missing attribute 'vcpus' in element 'vcpusched'",
    ),
    DomainErrorCase(
        "vcpusched-overlap",
        (
            "<vcpu>2</vcpu><cputune><vcpusched vcpus='0' scheduler='batch'/><vcpusched vcpus='0-1' "
            "scheduler='idle'/></cputune>"
        ),
        35,
        20,
        "'vcpusched' attributes 'vcpus' must not overlap",
    ),
    DomainErrorCase(
        "vcpusched-unknown-vcpu",
        "<vcpu>2</vcpu><cputune><vcpusched vcpus='5' scheduler='batch'/></cputune>",
        67,
        20,
        "unsupported configuration: vCPU '5' is not present in domain definition",
    ),
    DomainErrorCase(
        "emulatorsched-twice",
        "<cputune><emulatorsched scheduler='idle'/><emulatorsched scheduler='batch'/></cputune>",
        27,
        20,
        "XML error: only one emulatorsched is supported",
    ),
    DomainErrorCase(
        "iothreadsched-unknown-iothread",
        (
            "<iothreads>2</iothreads><cputune><iothreadsched iothreads='3' scheduler='idle'/>"
            "</cputune>"
        ),
        67,
        20,
        "unsupported configuration: Cannot find 'iothread' : 3",
    ),
    DomainErrorCase(
        "numatune-bad-mode",
        "<numatune><memory mode='bogus' nodeset='0'/></numatune>",
        67,
        20,
        "unsupported configuration: Unsupported NUMA memory tuning mode 'bogus'",
    ),
    DomainErrorCase(
        "numatune-bad-placement",
        "<numatune><memory placement='bogus'/></numatune>",
        67,
        20,
        "unsupported configuration: Unsupported NUMA memory placement mode 'bogus'",
    ),
    DomainErrorCase(
        "numatune-static-without-nodeset",
        "<numatune><memory mode='interleave'/></numatune>",
        67,
        20,
        (
            "unsupported configuration: nodeset for NUMA memory tuning must be set if 'placement' "
            "is 'static'"
        ),
    ),
    DomainErrorCase(
        "memnode-without-cells",
        "<numatune><memnode cellid='0' mode='strict' nodeset='0'/></numatune>",
        27,
        20,
        "XML error: Element 'memnode' is invalid without any guest NUMA cells",
    ),
    DomainErrorCase(
        "memnode-with-auto-placement",
        (
            "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='524288'/></numa></cpu>"
            "<numatune><memory placement='auto'/><memnode cellid='0' mode='strict' nodeset='0'/>"
            "</numatune>"
        ),
        67,
        20,
        (
            "unsupported configuration: Per-node binding is not compatible with automatic NUMA "
            "placement."
        ),
    ),
    DomainErrorCase(
        "memnode-bad-mode",
        (
            "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='524288'/></numa></cpu>"
            "<numatune><memnode cellid='0' mode='bogus' nodeset='0'/></numatune>"
        ),
        27,
        5,
        "XML error: Invalid value for attribute 'mode' in element 'memnode': 'bogus'.",
    ),
    DomainErrorCase(
        "numa-cell-bad-id",
        "<vcpu>4</vcpu><cpu><numa><cell id='2' cpus='0-1' memory='1024'/></numa></cpu>",
        27,
        20,
        (
            "XML error: Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous "
            "ranges or ranges not starting from 0 are not allowed"
        ),
    ),
    DomainErrorCase(
        "numa-cell-missing-memory",
        "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0-1'/></numa></cpu>",
        27,
        5,
        "XML error: missing element or attribute './@memory'",
    ),
    DomainErrorCase(
        "numa-cells-overlap",
        (
            "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0-2' memory='524288'/><cell id='1' "
            "cpus='2-3' memory='524288'/></numa></cpu>"
        ),
        67,
        20,
        "unsupported configuration: NUMA cells 1 and 0 have overlapping vCPU ids",
    ),
    DomainErrorCase(
        "numa-too-many-cpus",
        "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0-5' memory='524288'/></numa></cpu>",
        1,
        20,
        "internal error: Number of CPUs in <numa> exceeds the <vcpu> count",
    ),
    DomainErrorCase(
        "numa-bad-memaccess",
        (
            "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0' memory='1024' memAccess='bogus'/>"
            "</numa></cpu>"
        ),
        27,
        5,
        "XML error: Invalid value for attribute 'memAccess' in element 'cell': 'bogus'.",
    ),
    DomainErrorCase(
        "resource-empty",
        "<resource/>",
        1,
        0,
        "An error occurred, but the cause is unknown",
    ),
    DomainErrorCase(
        "cpu-bad-mode",
        "<cpu mode='bogus'/>",
        67,
        31,
        "unsupported configuration: Invalid mode attribute 'bogus'",
    ),
    DomainErrorCase(
        "cpu-bad-match",
        "<cpu match='bogus'><model>qemu64</model></cpu>",
        27,
        5,
        "XML error: Invalid value for attribute 'match' in element 'cpu': 'bogus'.",
    ),
    DomainErrorCase(
        "cpu-bad-check",
        "<cpu check='bogus'/>",
        27,
        5,
        "XML error: Invalid value for attribute 'check' in element 'cpu': 'bogus'.",
    ),
    DomainErrorCase(
        "cpu-check-without-model",
        "<cpu mode='custom' check='none'/>",
        67,
        20,
        "unsupported configuration: check attribute specified for CPU with no model",
    ),
    DomainErrorCase(
        "cpu-migratable-custom",
        "<cpu migratable='on'/>",
        67,
        31,
        (
            "unsupported configuration: Attribute migratable is only allowed for "
            "'host-passthrough' / 'maximum' CPU mode"
        ),
    ),
    DomainErrorCase(
        "cpu-bad-fallback",
        "<cpu><model fallback='bogus'>qemu64</model></cpu>",
        67,
        31,
        "unsupported configuration: Invalid fallback attribute",
    ),
    DomainErrorCase(
        "cpu-short-vendor-id",
        "<cpu><model vendor_id='short'>qemu64</model></cpu>",
        27,
        31,
        "XML error: vendor_id must be exactly 12 characters long",
    ),
    DomainErrorCase(
        "cpu-vendor-without-model",
        "<cpu><vendor>Intel</vendor></cpu>",
        27,
        31,
        "XML error: CPU vendor specified without CPU model",
    ),
    DomainErrorCase(
        "cpu-features-without-model",
        "<cpu><feature name='avx'/></cpu>",
        27,
        31,
        "XML error: Non-empty feature list specified without CPU model",
    ),
    DomainErrorCase(
        "cpu-feature-twice",
        "<cpu><model>qemu64</model><feature name='avx'/><feature name='avx'/></cpu>",
        27,
        31,
        "XML error: CPU feature 'avx' specified more than once",
    ),
    DomainErrorCase(
        "cpu-bad-feature-policy",
        "<cpu><model>qemu64</model><feature policy='bogus' name='avx'/></cpu>",
        67,
        31,
        "unsupported configuration: Invalid CPU feature policy",
    ),
    DomainErrorCase(
        "cpu-feature-without-name",
        "<cpu><model>qemu64</model><feature policy='require'/></cpu>",
        27,
        31,
        "XML error: Invalid CPU feature name",
    ),
    DomainErrorCase(
        "cpu-topology-missing-sockets",
        "<vcpu>2</vcpu><cpu><topology cores='2' threads='1'/></cpu>",
        27,
        5,
        "XML error: Missing required attribute 'sockets' in element 'topology'",
    ),
    DomainErrorCase(
        "cpu-topology-zero",
        "<vcpu>2</vcpu><cpu><topology sockets='0' cores='2' threads='1'/></cpu>",
        27,
        5,
        (
            "XML error: Invalid value for attribute 'sockets' in element 'topology': Zero is not "
            "permitted"
        ),
    ),
    DomainErrorCase(
        "cpu-bad-cache-mode",
        "<cpu><cache mode='bogus'/></cpu>",
        27,
        5,
        "XML error: Invalid value for attribute 'mode' in element 'cache': 'bogus'.",
    ),
    DomainErrorCase(
        "os-missing",
        "<domain type='test'><name>x</name><memory>1024</memory></domain>",
        27,
        20,
        "XML error: an os <type> must be specified",
    ),
    DomainErrorCase(
        "os-unknown-type",
        "<os><type>bogus</type></os>",
        67,
        20,
        "unsupported configuration: unknown OS type 'bogus'",
    ),
    DomainErrorCase(
        "os-unknown-arch",
        "<os><type arch='bogus'>hvm</type></os>",
        67,
        20,
        "unsupported configuration: Unknown architecture bogus",
    ),
    DomainErrorCase(
        "os-exe-without-init",
        "<os><type arch='x86_64'>exe</type></os>",
        27,
        20,
        "XML error: init binary must be specified",
    ),
    DomainErrorCase(
        "os-bad-boot-dev",
        "<os><type>hvm</type><boot dev='floppy'/></os>",
        27,
        5,
        "XML error: Invalid value for attribute 'dev' in element 'boot': 'floppy'.",
    ),
    DomainErrorCase(
        "os-boot-without-dev",
        "<os><type>hvm</type><boot/></os>",
        27,
        5,
        "XML error: Missing required attribute 'dev' in element 'boot'",
    ),
    DomainErrorCase(
        "os-bad-bootmenu",
        "<os><type>hvm</type><bootmenu enable='maybe'/></os>",
        27,
        5,
        "XML error: Invalid value for attribute 'enable' in element 'bootmenu': 'maybe'.",
    ),
    DomainErrorCase(
        "os-bootmenu-timeout-range",
        "<os><type>hvm</type><bootmenu enable='yes' timeout='70000'/></os>",
        67,
        20,
        (
            "unsupported configuration: invalid value for boot menu timeout, must be in range "
            "[0,65535]"
        ),
    ),
    DomainErrorCase(
        "os-reboot-timeout-range",
        "<os><type>hvm</type><bios useserial='yes' rebootTimeout='70000'/></os>",
        67,
        20,
        "unsupported configuration: invalid value for rebootTimeout, must be in range [-1,65535]",
    ),
    DomainErrorCase(
        "os-bad-reboot-timeout",
        "<os><type>hvm</type><bios rebootTimeout='x'/></os>",
        27,
        5,
        (
            "XML error: Invalid value for attribute 'rebootTimeout' in element 'bios': 'x'. "
            "Expected integer value"
        ),
    ),
    DomainErrorCase(
        "os-bad-smbios",
        "<os><type>hvm</type><smbios mode='bogus'/></os>",
        67,
        20,
        "unsupported configuration: unknown smbios mode 'bogus'",
    ),
    DomainErrorCase(
        "os-bad-firmware",
        "<os firmware='bogus'><type>hvm</type></os>",
        27,
        20,
        "XML error: unknown firmware value bogus",
    ),
    DomainErrorCase(
        "os-firmware-with-loader-path",
        "<os firmware='efi'><type arch='x86_64'>hvm</type><loader>/x</loader></os>",
        35,
        20,
        "loader attribute 'type' cannot be specified when firmware autoselection is enabled",
    ),
    DomainErrorCase(
        "os-firmware-with-nvram-template",
        (
            "<os firmware='efi'><type arch='x86_64'>hvm</type><nvram template='/t.fd'>/n.fd</nvram>"
            "</os>"
        ),
        35,
        20,
        "nvram attribute 'template' cannot be specified when firmware autoselection is enabled",
    ),
    DomainErrorCase(
        "os-loader-without-path",
        "<os><type arch='x86_64'>hvm</type><loader/></os>",
        35,
        20,
        "no loader path specified and firmware auto selection disabled",
    ),
    DomainErrorCase(
        "os-bad-loader-type",
        "<os><type>hvm</type><loader type='bogus'>/l</loader></os>",
        27,
        5,
        "XML error: Invalid value for attribute 'type' in element 'loader': 'bogus'.",
    ),
    DomainErrorCase(
        "os-stateless-with-template",
        "<os><type>hvm</type><loader stateless='yes'>/l.fd</loader><nvram template='/t.fd'/></os>",
        35,
        20,
        "NVRAM template is not permitted when loader is stateless",
    ),
    DomainErrorCase(
        "os-acpi-table-without-type",
        "<os><type>hvm</type><acpi><table>/x</table></acpi></os>",
        27,
        20,
        "XML error: Missing acpi table type",
    ),
    DomainErrorCase(
        "os-acpi-table-bad-type",
        "<os><type>hvm</type><acpi><table type='bogus'>/x</table></acpi></os>",
        27,
        20,
        "XML error: Unknown acpi table type: bogus",
    ),
    DomainErrorCase(
        "os-initenv-without-name",
        "<os><type>exe</type><init>/sbin/init</init><initenv>x</initenv></os>",
        27,
        20,
        "XML error: No name supplied for <initenv> element",
    ),
    DomainErrorCase(
        "os-empty-initarg",
        "<os><type>exe</type><init>/sbin/init</init><initarg/></os>",
        27,
        20,
        "XML error: No data supplied for <initarg> element",
    ),
    DomainErrorCase(
        "os-boot-with-device-boot",
        (
            "<os><type>hvm</type><boot dev='cdrom'/></os><devices><disk type='file' device='disk'>"
            "<source file='/a'/><target dev='vda' bus='virtio'/><boot order='1'/></disk></devices>"
        ),
        67,
        20,
        (
            "unsupported configuration: per-device boot elements cannot be used together with "
            "os/boot elements"
        ),
    ),
    DomainErrorCase(
        "idmap-uid-only",
        (
            "<os><type>exe</type><init>/bin/sh</init></os><idmap><uid start='0' target='1000' "
            "count='10'/></idmap>"
        ),
        67,
        20,
        "unsupported configuration: uid and gid should be mapped both",
    ),
    DomainErrorCase(
        "idmap-root-unmapped",
        (
            "<os><type>exe</type><init>/bin/sh</init></os><idmap><uid start='1' target='1000' "
            "count='10'/><gid start='0' target='1000' count='10'/></idmap>"
        ),
        67,
        20,
        "unsupported configuration: You must map the root user of container",
    ),
    DomainErrorCase(
        "idmap-missing-count",
        (
            "<os><type>exe</type><init>/bin/sh</init></os><idmap><uid start='0' target='1000'/>"
            "<gid start='0' target='1000' count='10'/></idmap>"
        ),
        27,
        20,
        "XML error: invalid idmap start/target/count settings",
    ),
    DomainErrorCase(
        "feature-unknown",
        "<features><bogus/></features>",
        67,
        20,
        "unsupported configuration: unexpected feature 'bogus'",
    ),
    DomainErrorCase(
        "feature-bad-state",
        "<features><smm state='bogus'/></features>",
        27,
        5,
        "XML error: Invalid value for attribute 'state' in element 'smm': 'bogus'.",
    ),
    DomainErrorCase(
        "feature-bad-gic-version",
        "<features><gic version='4'/></features>",
        27,
        5,
        "XML error: Invalid value for attribute 'version' in element 'gic': '4'.",
    ),
    DomainErrorCase(
        "feature-bad-apic-eoi",
        "<features><apic eoi='bogus'/></features>",
        27,
        5,
        "XML error: Invalid value for attribute 'eoi' in element 'apic': 'bogus'.",
    ),
    DomainErrorCase(
        "feature-msrs-without-unknown",
        "<features><msrs/></features>",
        27,
        5,
        "XML error: Missing required attribute 'unknown' in element 'msrs'",
    ),
    DomainErrorCase(
        "hyperv-bad-mode",
        "<features><hyperv mode='bogus'/></features>",
        27,
        5,
        "XML error: Invalid value for attribute 'mode' in element 'hyperv': 'bogus'.",
    ),
    DomainErrorCase(
        "hyperv-unknown-enlightenment",
        "<features><hyperv><bogus state='on'/></hyperv></features>",
        67,
        20,
        "unsupported configuration: unsupported HyperV Enlightenment feature: bogus",
    ),
    DomainErrorCase(
        "hyperv-missing-state",
        "<features><hyperv><relaxed/></hyperv></features>",
        27,
        5,
        "XML error: Missing required attribute 'state' in element 'relaxed'",
    ),
    DomainErrorCase(
        "hyperv-spinlocks-too-few",
        "<features><hyperv><spinlocks state='on' retries='100'/></hyperv></features>",
        27,
        20,
        "XML error: HyperV spinlock retry count must be at least 4095",
    ),
    DomainErrorCase(
        "hyperv-spinlocks-missing-retries",
        "<features><hyperv><spinlocks state='on'/></hyperv></features>",
        27,
        5,
        "XML error: Missing required attribute 'retries' in element 'spinlocks'",
    ),
    DomainErrorCase(
        "hyperv-vendor-id-too-long",
        "<features><hyperv><vendor_id state='on' value='1234567890123'/></hyperv></features>",
        27,
        20,
        "XML error: HyperV vendor_id value must not be more than 12 characters.",
    ),
    DomainErrorCase(
        "kvm-unknown-feature",
        "<features><kvm><bogus state='on'/></kvm></features>",
        67,
        20,
        "unsupported configuration: unsupported KVM feature: bogus",
    ),
    DomainErrorCase(
        "kvm-dirty-ring-size",
        "<features><kvm><dirty-ring state='on' size='100'/></kvm></features>",
        27,
        20,
        "XML error: dirty ring must be power of 2 and ranges [1024, 65536]",
    ),
    DomainErrorCase(
        "capability-unknown",
        "<features><capabilities><bogus/></capabilities></features>",
        67,
        20,
        "unsupported configuration: unexpected capability feature 'bogus'",
    ),
    DomainErrorCase(
        "clock-bad-offset",
        "<clock offset='bogus'/>",
        67,
        20,
        "unsupported configuration: unknown clock offset 'bogus'",
    ),
    DomainErrorCase(
        "clock-bad-basis",
        "<clock offset='variable' basis='bogus'/>",
        67,
        20,
        "unsupported configuration: unknown clock basis 'bogus'",
    ),
    DomainErrorCase(
        "clock-bad-adjustment",
        "<clock offset='utc' adjustment='x'/>",
        27,
        20,
        "XML error: unknown clock adjustment 'x'",
    ),
    DomainErrorCase(
        "clock-timezone-missing",
        "<clock offset='timezone'/>",
        1,
        20,
        "internal error: missing 'timezone' attribute for clock with offset='timezone'",
    ),
    DomainErrorCase(
        "clock-absolute-without-start",
        "<clock offset='absolute'/>",
        1,
        20,
        "internal error: missing 'start' attribute for clock with offset='absolute'",
    ),
    DomainErrorCase(
        "timer-unknown-name",
        "<clock offset='utc'><timer name='bogus'/></clock>",
        27,
        5,
        "XML error: Invalid value for attribute 'name' in element 'timer': 'bogus'.",
    ),
    DomainErrorCase(
        "timer-without-name",
        "<clock offset='utc'><timer/></clock>",
        27,
        5,
        "XML error: Missing required attribute 'name' in element 'timer'",
    ),
    DomainErrorCase(
        "timer-bad-present",
        "<clock offset='utc'><timer name='rtc' present='maybe'/></clock>",
        27,
        5,
        "XML error: Invalid value for attribute 'present' in element 'timer': 'maybe'.",
    ),
    DomainErrorCase(
        "timer-bad-tickpolicy",
        "<clock offset='utc'><timer name='rtc' tickpolicy='bogus'/></clock>",
        27,
        5,
        "XML error: Invalid value for attribute 'tickpolicy' in element 'timer': 'bogus'.",
    ),
    DomainErrorCase(
        "timer-track-unsupported",
        "<clock offset='utc'><timer name='pit' track='boot'/></clock>",
        67,
        20,
        "unsupported configuration: timer pit doesn't support setting of timer track",
    ),
    DomainErrorCase(
        "timer-mode-unsupported",
        "<clock offset='utc'><timer name='rtc' mode='native'/></clock>",
        67,
        20,
        "unsupported configuration: timer rtc doesn't support setting of timer mode",
    ),
    DomainErrorCase(
        "timer-frequency-unsupported",
        "<clock offset='utc'><timer name='rtc' frequency='5'/></clock>",
        67,
        20,
        "unsupported configuration: timer rtc doesn't support setting of timer frequency",
    ),
    DomainErrorCase(
        "timer-tickpolicy-unsupported",
        "<clock offset='utc'><timer name='kvmclock' tickpolicy='delay'/></clock>",
        67,
        20,
        "unsupported configuration: timer kvmclock doesn't support setting of timer tickpolicy",
    ),
    DomainErrorCase(
        "timer-catchup-without-policy",
        (
            "<clock offset='utc'><timer name='rtc' tickpolicy='delay'><catchup threshold='1'/>"
            "</timer></clock>"
        ),
        27,
        20,
        "XML error: setting of timer catchup policies is only supported with tickpolicy='catchup'",
    ),
    DomainErrorCase(
        "on-reboot-unknown",
        "<on_reboot>bogus</on_reboot>",
        67,
        20,
        "unsupported configuration: unknown on_reboot action: bogus",
    ),
    DomainErrorCase(
        "on-reboot-checked-first",
        "<on_reboot>bogus</on_reboot><on_poweroff>bogus2</on_poweroff>",
        67,
        20,
        "unsupported configuration: unknown on_reboot action: bogus",
    ),
    DomainErrorCase(
        "on-lockfailure-unknown",
        "<on_lockfailure>bogus</on_lockfailure>",
        67,
        20,
        "unsupported configuration: unknown on_lockfailure action: bogus",
    ),
    DomainErrorCase(
        "on-poweroff-coredump",
        "<on_poweroff>coredump-destroy</on_poweroff>",
        67,
        20,
        (
            "unsupported configuration: Lifecycle event 'poweroff' doesn't support "
            "'coredump-destroy' action"
        ),
    ),
    DomainErrorCase(
        "on-reboot-coredump",
        "<on_reboot>coredump-restart</on_reboot>",
        67,
        20,
        (
            "unsupported configuration: Lifecycle event 'reboot' doesn't support "
            "'coredump-restart' action"
        ),
    ),
    DomainErrorCase(
        "pm-bad-enabled",
        "<pm><suspend-to-mem enabled='maybe'/></pm>",
        27,
        5,
        "XML error: Invalid value for attribute 'enabled' in element 'suspend-to-mem': 'maybe'.",
    ),
    DomainErrorCase(
        "perf-unknown-event",
        "<perf><event name='bogus' enabled='no'/></perf>",
        27,
        5,
        "XML error: Invalid value for attribute 'name' in element 'event': 'bogus'.",
    ),
    DomainErrorCase(
        "perf-missing-enabled",
        "<perf><event name='cmt'/></perf>",
        27,
        5,
        "XML error: Missing required attribute 'enabled' in element 'event'",
    ),
    DomainErrorCase(
        "perf-event-twice",
        "<perf><event name='cmt' enabled='yes'/><event name='cmt' enabled='no'/></perf>",
        27,
        20,
        "XML error: perf event 'cmt' was already specified",
    ),
    DomainErrorCase(
        "sysinfo-missing-type",
        "<sysinfo/>",
        27,
        5,
        "XML error: Missing required attribute 'type' in element 'sysinfo'",
    ),
    DomainErrorCase(
        "sysinfo-bad-type",
        "<sysinfo type='bogus'/>",
        27,
        5,
        "XML error: Invalid value for attribute 'type' in element 'sysinfo': 'bogus'.",
    ),
    DomainErrorCase(
        "sysinfo-uuid-mismatch",
        (
            "<sysinfo type='smbios'><system><entry "
            "name='uuid'>11111111-2222-3333-4444-666666666666</entry></system></sysinfo>"
        ),
        35,
        20,
        "UUID mismatch between <uuid> and <sysinfo>",
    ),
    DomainErrorCase(
        "sysinfo-malformed-uuid",
        "<sysinfo type='smbios'><system><entry name='uuid'>zz</entry></system></sysinfo>",
        35,
        20,
        "malformed <sysinfo> uuid element",
    ),
    DomainErrorCase(
        "sysinfo-bad-bios-date",
        "<sysinfo type='smbios'><bios><entry name='date'>2020-01-01</entry></bios></sysinfo>",
        35,
        20,
        "Invalid BIOS 'date' format",
    ),
    DomainErrorCase(
        "seclabel-bad-type",
        "<seclabel type='bogus'/>",
        27,
        5,
        "XML error: Invalid value for attribute 'type' in element 'seclabel': 'bogus'.",
    ),
    DomainErrorCase(
        "seclabel-static-without-label",
        "<seclabel type='static' model='selinux'/>",
        27,
        20,
        "XML error: security label is missing",
    ),
    DomainErrorCase(
        "seclabel-dynamic-without-relabel",
        "<seclabel type='dynamic' model='selinux' relabel='no'/>",
        67,
        20,
        "unsupported configuration: dynamic label type must use resource relabeling",
    ),
    DomainErrorCase(
        "seclabel-multiple-without-model",
        "<seclabel type='none'/><seclabel type='static' model='dac'><label>1:1</label></seclabel>",
        27,
        20,
        "XML error: missing security model when using multiple labels",
    ),
    DomainErrorCase(
        "seclabel-model-twice",
        "<seclabel type='dynamic' model='selinux'/><seclabel type='dynamic' model='selinux'/>",
        35,
        20,
        "seclabel for model selinux is already provided",
    ),
    DomainErrorCase(
        "keywrap-cipher-twice",
        "<keywrap><cipher name='aes' state='on'/><cipher name='aes' state='off'/></keywrap>",
        1,
        20,
        "internal error: A domain definition can have no more than one cipher node with name aes",
    ),
    DomainErrorCase(
        "keywrap-bad-cipher",
        "<keywrap><cipher name='bogus' state='on'/></keywrap>",
        27,
        5,
        "XML error: Invalid value for attribute 'name' in element 'cipher': 'bogus'.",
    ),
    DomainErrorCase(
        "sev-without-policy",
        "<launchSecurity type='sev'/>",
        27,
        20,
        "XML error: failed to get launch security policy",
    ),
    DomainErrorCase(
        "launchsecurity-bad-type",
        "<launchSecurity type='bogus'/>",
        27,
        5,
        "XML error: Invalid value for attribute 'type' in element 'launchSecurity': 'bogus'.",
    ),
    DomainErrorCase(
        "genid-twice",
        (
            "<genid>11111111-2222-3333-4444-555555555555</genid>"
            "<genid>11111111-2222-3333-4444-555555555555</genid>"
        ),
        27,
        20,
        "XML error: element 'genid' can only appear once",
    ),
    DomainErrorCase(
        "numatune-twice",
        (
            "<numatune><memory placement='auto'/></numatune><numatune><memory placement='auto'/>"
            "</numatune>"
        ),
        27,
        20,
        "XML error: only one numatune is supported",
    ),
    DomainErrorCase(
        "numatune-empty-nodeset",
        "<numatune><memory nodeset='^0'/></numatune>",
        67,
        20,
        "unsupported configuration: Invalid value of 'nodeset': ^0",
    ),
    DomainErrorCase(
        "resource-twice",
        (
            "<resource><partition>/m</partition></resource><resource><partition>/m</partition>"
            "</resource>"
        ),
        27,
        20,
        "XML error: only one resource element is supported",
    ),
    DomainErrorCase(
        "os-acpi-table-twice",
        (
            "<os><type>hvm</type><acpi><table type='slic'>/a</table><table type='slic'>/b</table>"
            "</acpi></os>"
        ),
        27,
        20,
        "XML error: Only one acpi table is supported",
    ),
    DomainErrorCase(
        "os-rom-loader-with-nvram",
        "<os><type>hvm</type><loader stateless='no'>/l.fd</loader></os>",
        35,
        20,
        "Only pflash loader type permits NVRAM",
    ),
    DomainErrorCase(
        "os-firmware-feature-before-value",
        (
            "<os firmware='x'><type>hvm</type><firmware><feature name='on' enabled='yes'/>"
            "</firmware></os>"
        ),
        27,
        5,
        "XML error: Invalid value for attribute 'name' in element 'feature': 'on'.",
    ),
    DomainErrorCase(
        "vcpu-empty",
        "<vcpu></vcpu>",
        27,
        20,
        "XML error: maximum vcpus count must be an integer",
    ),
    DomainErrorCase(
        "vcpusched-empty-set",
        "<vcpu>2</vcpu><cputune><vcpusched vcpus='^0' scheduler='idle'/></cputune>",
        67,
        20,
        "unsupported configuration: 'vcpus' scheduler bitmap '^0' is empty",
    ),
    DomainErrorCase(
        "iothreadsched-empty-set",
        (
            "<iothreads>2</iothreads><cputune><iothreadsched iothreads='^1' scheduler='idle'/>"
            "</cputune>"
        ),
        67,
        20,
        "unsupported configuration: 'iothreads' scheduler bitmap '^1' is empty",
    ),
    DomainErrorCase(
        "cachetune-missing-vcpus",
        (
            "<vcpu>2</vcpu><cputune><cachetune><cache id='0' level='3' type='both' size='2'/>"
            "</cachetune></cputune>"
        ),
        27,
        20,
        "XML error: Missing cachetune attribute 'vcpus'",
    ),
    DomainErrorCase(
        "cachetune-bad-vcpus",
        (
            "<vcpu>2</vcpu><cputune><cachetune vcpus='x'><cache id='0' level='3' type='both' "
            "size='2'/></cachetune></cputune>"
        ),
        27,
        20,
        "XML error: Invalid cachetune attribute 'vcpus' value 'x'",
    ),
    DomainErrorCase(
        "cachetune-identical-vcpus",
        (
            "<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><cache id='0' level='3' type='both' "
            "size='2'/></cachetune><cachetune vcpus='0-1'><cache id='1' level='3' type='both' "
            "size='2'/></cachetune></cputune>"
        ),
        27,
        20,
        "XML error: Identical vcpus in cachetunes found",
    ),
    DomainErrorCase(
        "cachetune-overlap",
        (
            "<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><cache id='0' level='3' type='both' "
            "size='2'/></cachetune><cachetune vcpus='1-2'><cache id='0' level='3' type='both' "
            "size='2'/></cachetune></cputune>"
        ),
        27,
        20,
        "XML error: Overlapping vcpus in resctrls",
    ),
    DomainErrorCase(
        "cachetune-colliding-caches",
        (
            "<vcpu>2</vcpu><cputune><cachetune vcpus='0'><cache id='0' level='3' type='both' "
            "size='2'/><cache id='0' level='3' type='both' size='4'/></cachetune></cputune>"
        ),
        27,
        67,
        "XML error: Colliding cache allocations for cache level '3' id '0', type 'both'",
    ),
    DomainErrorCase(
        "cachetune-monitor-level",
        (
            "<vcpu>2</vcpu><cputune><cachetune vcpus='0'><monitor level='2' vcpus='0'/></cachetune>"
            "</cputune>"
        ),
        27,
        20,
        "XML error: Invalid monitor cache level '2'",
    ),
    DomainErrorCase(
        "cachetune-monitor-outside",
        (
            "<vcpu>4</vcpu><cputune><cachetune vcpus='0-1'><monitor level='3' vcpus='2'/>"
            "</cachetune></cputune>"
        ),
        8,
        20,
        "invalid argument: Monitor vcpus conflicts with allocation",
    ),
    DomainErrorCase(
        "memorytune-node-twice",
        (
            "<vcpu>4</vcpu><cputune><memorytune vcpus='0-1'><node id='0' bandwidth='5'/><node "
            "id='0' bandwidth='6'/></memorytune></cputune>"
        ),
        27,
        67,
        "XML error: Memory Bandwidth already defined for node 0",
    ),
    DomainErrorCase(
        "numa-cell-twice",
        (
            "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='1024'/><cell id='0' "
            "cpus='2-3' memory='1024'/></numa></cpu>"
        ),
        27,
        20,
        "XML error: Duplicate NUMA cell info for cell id '0'",
    ),
    DomainErrorCase(
        "cpu-cache-twice",
        "<cpu mode='host-passthrough'><cache mode='passthrough'/><cache mode='disable'/></cpu>",
        27,
        31,
        "XML error: at most one CPU cache element may be specified",
    ),
    DomainErrorCase(
        "cpu-features-checked-without-model-first",
        "<cpu><feature name='vmx'/><feature name='vmx'/></cpu>",
        27,
        31,
        "XML error: Non-empty feature list specified without CPU model",
    ),
    DomainErrorCase(
        "feature-htm-without-state",
        "<features><htm/></features>",
        27,
        5,
        "XML error: Missing required attribute 'state' in element 'htm'",
    ),
    DomainErrorCase(
        "feature-hpt-bad-pagesize",
        "<features><hpt><maxpagesize unit='x'>5</maxpagesize></hpt></features>",
        67,
        20,
        "unsupported configuration: Unable to parse HPT maxpagesize setting",
    ),
    DomainErrorCase(
        "clock-absolute-bad-start",
        "<clock offset='absolute' start='-5'/>",
        1,
        20,
        "internal error: missing 'start' attribute for clock with offset='absolute'",
    ),
    DomainErrorCase(
        "fwcfg-entry-without-value",
        "<sysinfo type='fwcfg'><entry name='b'/></sysinfo>",
        27,
        20,
        "XML error: Firmware entry must have either value or 'file' attribute",
    ),
    DomainErrorCase(
        "sev-bad-cbitpos",
        "<launchSecurity type='sev'><policy>0x1</policy><cbitpos>-1</cbitpos></launchSecurity>",
        27,
        20,
        "XML error: Invalid format for launch security cbitpos",
    ),
    DomainErrorCase(
        "test-runstate-invalid",
        "<test:runstate xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>x</test:runstate>",
        27,
        12,
        "XML error: invalid runstate",
    ),
    DomainErrorCase(
        "test-runstate-out-of-range",
        "<test:runstate xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>8</test:runstate>",
        27,
        12,
        "XML error: runstate '8' out of range'",
    ),
    DomainErrorCase(
        "test-transient-shutoff",
        (
            "<test:runstate "
            "xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>5</test:runstate>"
            "<test:transient xmlns:test='http://libvirt.org/schemas/domain/test/1.0'/>"
        ),
        27,
        12,
        "XML error: transient domain cannot have runstate 'shutoff'",
    ),
    DomainErrorCase(
        "test-managedsave-running",
        "<test:hasmanagedsave xmlns:test='http://libvirt.org/schemas/domain/test/1.0'/>",
        27,
        12,
        "XML error: domain with managedsave data can only have runstate 'shutoff'",
    ),
)
