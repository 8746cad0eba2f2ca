"""Specification of per-object jobs (virtcore.jobs), libvirt's job model."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from virtcore.enums.errors import ErrorDomain, ErrorNumber
from virtcore.errors import (
    InternalError,
    InvalidArgError,
    OperationFailedError,
    OperationTimeoutError,
)
from virtcore.jobs import (
    DEFAULT_JOB_MASK,
    DEFAULT_JOB_WAIT,
    AgentJobKind,
    AsyncJobKind,
    JobKind,
    ObjectJobs,
)

# Safety net for waits that must succeed; never an expectation about speed.
SAFETY = 10.0
# Timeout given to job requests that are expected to fail.
SHORT = 0.05


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def wait_until(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + SAFETY
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.001)


def hold_job(
    pool: ThreadPoolExecutor,
    jobs: ObjectJobs,
    kind: JobKind,
    owner: str,
    *,
    agent: AgentJobKind = AgentJobKind.NONE,
) -> tuple[threading.Event, Future[None]]:
    """Hold a job on a worker thread until the returned event is set."""
    started = threading.Event()
    release = threading.Event()

    def body() -> None:
        with jobs.job(kind, owner=owner, agent=agent):
            started.set()
            assert release.wait(SAFETY)

    future = pool.submit(body)
    assert started.wait(SAFETY)
    return release, future


def failure_in_thread(pool: ThreadPoolExecutor, fn: Callable[[], object]) -> BaseException:
    def body() -> BaseException:
        try:
            fn()
        except BaseException as exc:
            return exc
        raise AssertionError("expected the call to fail")

    return pool.submit(body).result(SAFETY)


# -- the synchronous job ------------------------------------------------------


def test_default_wait_is_libvirts_thirty_seconds() -> None:
    assert DEFAULT_JOB_WAIT == 30.0
    assert ObjectJobs().default_timeout == DEFAULT_JOB_WAIT


def test_job_kinds_have_libvirts_values() -> None:
    assert {k.name: k.value for k in JobKind} == {
        "NONE": 0,
        "QUERY": 1,
        "DESTROY": 2,
        "SUSPEND": 3,
        "MODIFY": 4,
        "ABORT": 5,
        "MIGRATION_OP": 6,
        "MODIFY_MIGRATION_SAFE": 7,
        "ASYNC": 8,
        "ASYNC_NESTED": 9,
    }
    assert [k.value for k in AsyncJobKind] == list(range(8))
    assert AsyncJobKind.MIGRATION_OUT.label == "migration out"
    assert [k.name for k in AgentJobKind] == ["NONE", "QUERY", "MODIFY"]


def test_active_job_is_reported_while_held_and_cleared_after() -> None:
    jobs = ObjectJobs("vm1")
    with jobs.job(JobKind.MODIFY, owner="virDomainSuspend") as handle:
        info = jobs.active
        assert info is not None
        assert (info.kind, info.owner) == (JobKind.MODIFY, "virDomainSuspend")
        assert info.thread_id == threading.get_ident()
        assert handle.kind is JobKind.MODIFY
    assert jobs.active is None
    assert jobs.queued == 0


def test_second_job_waits_until_the_first_ends(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, holder = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSuspend")
    acquired = threading.Event()

    def second() -> None:
        with jobs.job(JobKind.MODIFY, owner="virDomainResume"):
            acquired.set()

    waiter = pool.submit(second)
    wait_until(lambda: jobs.waiting == 1)
    assert not acquired.is_set()
    release.set()
    waiter.result(SAFETY)
    holder.result(SAFETY)
    assert acquired.is_set()


def test_timed_out_job_fails_with_libvirts_message_naming_the_holder(
    pool: ThreadPoolExecutor,
) -> None:
    jobs = ObjectJobs("vm1")
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSuspend")
    try:
        exc = failure_in_thread(
            pool, lambda: jobs.begin(JobKind.MODIFY, owner="virDomainResume", timeout=SHORT)
        )
    finally:
        release.set()
    assert isinstance(exc, OperationTimeoutError)
    assert exc.code == ErrorNumber.OPERATION_TIMEOUT
    assert str(exc) == (
        "Timed out during operation: cannot acquire state change lock "
        "(held by monitor=virDomainSuspend)"
    )


def test_zero_timeout_fails_at_once_when_the_object_is_busy(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, _ = hold_job(pool, jobs, JobKind.QUERY, "virDomainGetInfo")
    try:
        exc = failure_in_thread(pool, lambda: jobs.begin(JobKind.QUERY, owner="x", timeout=0))
    finally:
        release.set()
    assert isinstance(exc, OperationTimeoutError)


def test_object_default_timeout_applies_when_call_gives_none(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1", default_timeout=SHORT)
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSuspend")
    try:
        exc = failure_in_thread(pool, lambda: jobs.begin(JobKind.MODIFY, owner="x"))
    finally:
        release.set()
    assert isinstance(exc, OperationTimeoutError)


def test_failed_wait_leaves_no_trace_in_the_queue(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, holder = hold_job(pool, jobs, JobKind.MODIFY, "a")
    failure_in_thread(pool, lambda: jobs.begin(JobKind.MODIFY, owner="b", timeout=SHORT))
    assert (jobs.waiting, jobs.queued) == (0, 1)
    release.set()
    holder.result(SAFETY)
    assert jobs.queued == 0


def test_errors_carry_the_objects_error_domain(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1", error_domain=ErrorDomain.QEMU)
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "a")
    try:
        exc = failure_in_thread(pool, lambda: jobs.begin(JobKind.MODIFY, owner="b", timeout=0))
    finally:
        release.set()
    assert isinstance(exc, OperationTimeoutError)
    assert exc.domain == ErrorDomain.QEMU


def test_waiters_are_served_in_arrival_order(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "holder")
    order: list[str] = []

    def waiter(owner: str) -> None:
        with jobs.job(JobKind.MODIFY, owner=owner):
            order.append(owner)

    def queue_length_is(count: int) -> Callable[[], bool]:
        return lambda: jobs.waiting == count

    futures = []
    for owner in ["first", "second", "third"]:
        futures.append(pool.submit(waiter, owner))
        wait_until(queue_length_is(len(futures)))
    release.set()
    for future in futures:
        future.result(SAFETY)
    assert order == ["first", "second", "third"]


def test_reads_under_the_object_lock_never_block_behind_a_job(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSuspend")
    try:
        assert jobs.lock.acquire(timeout=SAFETY)
        jobs.lock.release()
    finally:
        release.set()


def test_ending_a_job_twice_is_an_internal_error() -> None:
    jobs = ObjectJobs("vm1")
    handle = jobs.begin(JobKind.MODIFY, owner="virDomainSuspend")
    handle.end()
    with pytest.raises(InternalError, match="already ended"):
        handle.end()


@pytest.mark.parametrize("kind", [JobKind.NONE, JobKind.ASYNC])
def test_bookkeeping_kinds_cannot_be_begun(kind: JobKind) -> None:
    with pytest.raises(InvalidArgError):
        ObjectJobs().begin(kind, owner="x")


def test_negative_timeout_is_rejected() -> None:
    with pytest.raises(InvalidArgError):
        ObjectJobs().begin(JobKind.QUERY, owner="x", timeout=-1)


def test_max_queued_limit_fails_with_libvirts_message(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1", max_queued=1)
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSuspend")
    try:
        exc = failure_in_thread(pool, lambda: jobs.begin(JobKind.MODIFY, owner="x"))
    finally:
        release.set()
    assert isinstance(exc, OperationFailedError)
    assert str(exc) == (
        "operation failed: cannot acquire state change lock "
        "(held by monitor=virDomainSuspend) due to max_queued limit"
    )


# -- re-entry ---------------------------------------------------------------------


def test_second_job_from_the_holding_thread_is_an_internal_error() -> None:
    jobs = ObjectJobs("vm1")
    with (
        jobs.job(JobKind.MODIFY, owner="virDomainSuspend"),
        pytest.raises(InternalError) as info,
    ):
        jobs.begin(JobKind.QUERY, owner="virDomainGetInfo")
    assert info.value.code == ErrorNumber.INTERNAL_ERROR
    assert "virDomainSuspend" in str(info.value)
    assert jobs.queued == 0


def test_async_owner_asking_for_a_masked_out_job_is_an_internal_error() -> None:
    jobs = ObjectJobs("vm1")
    with (
        jobs.async_job(AsyncJobKind.SAVE, "virDomainSave"),
        pytest.raises(InternalError, match="virDomainSave"),
    ):
        jobs.begin(JobKind.MODIFY, owner="virDomainSetVcpus")


def test_released_async_job_lets_its_old_thread_wait_normally() -> None:
    jobs = ObjectJobs("vm1")
    handle = jobs.begin_async(AsyncJobKind.MIGRATION_IN, "virDomainMigratePrepare3")
    jobs.release_async()
    with pytest.raises(OperationTimeoutError, match="monitor=virDomainMigratePrepare3"):
        jobs.begin(JobKind.MODIFY, owner="virDomainSetVcpus", timeout=0)
    handle.end()


# -- asynchronous jobs ---------------------------------------------------------


def test_default_async_mask_is_query_destroy_and_abort() -> None:
    assert {JobKind.QUERY, JobKind.DESTROY, JobKind.ABORT} == DEFAULT_JOB_MASK
    jobs = ObjectJobs("vm1")
    with jobs.async_job(AsyncJobKind.DUMP, "virDomainCoreDump"):
        info = jobs.active_async
        assert info is not None
        assert info.allowed == DEFAULT_JOB_MASK


def test_async_job_admits_only_the_jobs_in_its_mask(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    with jobs.async_job(AsyncJobKind.SAVE, "virDomainSave", {JobKind.QUERY}):

        def query() -> JobKind:
            with jobs.job(JobKind.QUERY, owner="virDomainGetJobInfo", timeout=0) as handle:
                return handle.kind

        assert pool.submit(query).result(SAFETY) is JobKind.QUERY
        exc = failure_in_thread(
            pool, lambda: jobs.begin(JobKind.MODIFY, owner="virDomainSetVcpus", timeout=SHORT)
        )
    assert isinstance(exc, OperationTimeoutError)
    assert str(exc) == (
        "Timed out during operation: cannot acquire state change lock "
        "(held by monitor=virDomainSave)"
    )


def test_destroy_can_never_be_masked_out(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    with jobs.async_job(AsyncJobKind.MIGRATION_OUT, "virDomainMigratePerform3", set()):

        def destroy() -> None:
            with jobs.job(JobKind.DESTROY, owner="virDomainDestroy", timeout=0):
                pass

        pool.submit(destroy).result(SAFETY)
        info = jobs.active_async
        assert info is not None
        assert info.allowed == {JobKind.DESTROY}


def test_masked_out_job_starts_once_the_async_job_ends(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    handle = jobs.begin_async(AsyncJobKind.SNAPSHOT, "virDomainSnapshotCreateXML")

    def modify() -> None:
        with jobs.job(JobKind.MODIFY, owner="virDomainSetVcpus"):
            pass

    waiter = pool.submit(modify)
    wait_until(lambda: jobs.waiting == 1)
    assert not waiter.done()
    handle.end()
    waiter.result(SAFETY)


def test_widening_the_mask_admits_a_waiting_job(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    with jobs.async_job(AsyncJobKind.MIGRATION_OUT, "virDomainMigratePerform3") as handle:

        def migration_op() -> None:
            with jobs.job(JobKind.MIGRATION_OP, owner="virDomainMigrateSetMaxSpeed"):
                pass

        waiter = pool.submit(migration_op)
        wait_until(lambda: jobs.waiting == 1)
        handle.set_allowed({JobKind.QUERY, JobKind.MIGRATION_OP})
        waiter.result(SAFETY)


def test_async_job_waits_for_the_running_sync_job(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSetVcpus")
    try:
        exc = failure_in_thread(
            pool, lambda: jobs.begin_async(AsyncJobKind.SAVE, "virDomainSave", timeout=SHORT)
        )
    finally:
        release.set()
    assert isinstance(exc, OperationTimeoutError)
    assert "held by monitor=virDomainSetVcpus" in str(exc)


def test_second_async_job_is_blocked_by_the_first(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    with jobs.async_job(AsyncJobKind.BACKUP, "virDomainBackupBegin"):
        exc = failure_in_thread(
            pool, lambda: jobs.begin_async(AsyncJobKind.DUMP, "virDomainCoreDump", timeout=0)
        )
    assert isinstance(exc, OperationTimeoutError)
    assert "held by monitor=virDomainBackupBegin" in str(exc)


def test_nested_job_runs_a_step_of_the_async_job() -> None:
    jobs = ObjectJobs("vm1")
    with jobs.async_job(AsyncJobKind.SAVE, "virDomainSave") as handle, handle.nested() as step:
        assert step.kind is JobKind.ASYNC_NESTED
        info = jobs.active
        assert info is not None and info.owner == "virDomainSave"


def test_nested_job_without_async_job_is_an_internal_error() -> None:
    with pytest.raises(InternalError, match="without an active async job"):
        ObjectJobs("vm1").begin(JobKind.ASYNC_NESTED, owner="x")


def test_nested_job_waits_for_an_allowed_sync_job(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    with jobs.async_job(AsyncJobKind.SAVE, "virDomainSave") as handle:
        release, _ = hold_job(pool, jobs, JobKind.QUERY, "virDomainGetJobStats")
        try:
            with pytest.raises(OperationTimeoutError, match="monitor=virDomainGetJobStats"):
                handle.nested(timeout=SHORT)
        finally:
            release.set()


def test_abort_request_is_visible_to_the_async_job() -> None:
    jobs = ObjectJobs("vm1")
    assert not jobs.request_abort()
    with jobs.async_job(AsyncJobKind.DUMP, "virDomainCoreDump") as handle:
        assert not handle.abort_requested
        assert jobs.request_abort()
        assert handle.abort_requested


def test_async_job_may_be_ended_from_another_thread(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    handle = jobs.begin_async(AsyncJobKind.MIGRATION_IN, "virDomainMigratePrepare3")
    pool.submit(handle.end).result(SAFETY)
    assert jobs.active_async is None
    assert not handle.active


def test_stale_async_handle_cannot_end_a_later_async_job() -> None:
    jobs = ObjectJobs("vm1")
    first = jobs.begin_async(AsyncJobKind.SAVE, "virDomainSave")
    first.end()
    second = jobs.begin_async(AsyncJobKind.DUMP, "virDomainCoreDump")
    with pytest.raises(InternalError):
        first.end()
    assert second.active
    second.end()


def test_ending_async_job_when_none_runs_is_an_internal_error() -> None:
    with pytest.raises(InternalError, match="no async job"):
        ObjectJobs("vm1").end_async()


# -- guest-agent jobs ----------------------------------------------------------


def test_agent_job_runs_alongside_a_monitor_job(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, _ = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSuspend")
    try:
        with jobs.agent_job(AgentJobKind.QUERY, owner="virDomainGetHostname", timeout=0):
            agent = jobs.active_agent
            assert agent is not None and agent.owner == "virDomainGetHostname"
    finally:
        release.set()


def test_agent_job_timeout_names_the_agent_holder(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release, _ = hold_job(pool, jobs, JobKind.NONE, "virDomainFSFreeze", agent=AgentJobKind.MODIFY)
    try:
        exc = failure_in_thread(
            pool,
            lambda: jobs.begin(JobKind.NONE, owner="x", agent=AgentJobKind.QUERY, timeout=0),
        )
    finally:
        release.set()
    assert str(exc) == (
        "Timed out during operation: cannot acquire state change lock "
        "(held by agent=virDomainFSFreeze)"
    )


def test_combined_request_names_both_holders(pool: ThreadPoolExecutor) -> None:
    jobs = ObjectJobs("vm1")
    release_monitor, _ = hold_job(pool, jobs, JobKind.MODIFY, "virDomainSuspend")
    release_agent, _ = hold_job(
        pool, jobs, JobKind.NONE, "virDomainFSFreeze", agent=AgentJobKind.MODIFY
    )
    try:
        exc = failure_in_thread(
            pool,
            lambda: jobs.begin(JobKind.MODIFY, owner="x", agent=AgentJobKind.MODIFY, timeout=0),
        )
    finally:
        release_monitor.set()
        release_agent.set()
    assert str(exc) == (
        "Timed out during operation: cannot acquire state change lock "
        "(held by monitor=virDomainSuspend agent=virDomainFSFreeze)"
    )


# -- many threads --------------------------------------------------------------


def test_concurrent_jobs_on_many_objects_are_mutually_exclusive() -> None:
    objects = [ObjectJobs(f"vm{i}") for i in range(4)]
    inside = [0] * 4
    overlaps: list[int] = []
    counter_lock = threading.Lock()
    completed = [0] * 4
    rounds = 50
    start = threading.Barrier(16)

    def worker(index: int) -> None:
        start.wait(SAFETY)
        for step in range(rounds):
            target = (index + step) % 4
            kind = JobKind.QUERY if step % 3 == 0 else JobKind.MODIFY
            with objects[target].job(kind, owner=f"worker{index}", timeout=SAFETY):
                with counter_lock:
                    inside[target] += 1
                    if inside[target] != 1:
                        overlaps.append(target)
                # Let another thread run while this one is inside the job.
                time.sleep(0)
                with counter_lock:
                    inside[target] -= 1
                    completed[target] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SAFETY * 3)
        assert not thread.is_alive(), "deadlock: a worker never finished"
    assert overlaps == []
    assert sum(completed) == 16 * rounds
    assert all(jobs.queued == 0 and jobs.active is None for jobs in objects)
