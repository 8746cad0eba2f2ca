# mypy: ignore-errors
"""Run the storage scenario on real libvirt 9.0's storage driver; print the outcomes as JSON.

Run with the system interpreter that has python3-libvirt. It starts a
private, unprivileged libvirtd in session mode (as ``nobody`` when run by
root) whose state and pools live in a temporary directory, runs
:data:`scenario.STEPS` (or the steps given as JSON on stdin) over
``storage:///session?socket=...`` and stops the daemon again. The daemon also
exits on its own after two idle minutes should this script die.
"""

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scenario

LIBVIRTD = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
STARTUP_LIMIT = 30.0
_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)


def start_daemon(workdir):
    """A session libvirtd whose state lives under *workdir*; returns (process, connection)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": workdir}
    for name in ("RUNTIME", "CONFIG", "CACHE", "DATA", "STATE"):
        path = Path(workdir) / name.lower()
        path.mkdir()
        os.chmod(path, 0o777)
        env[f"XDG_{name}_{'DIR' if name == 'RUNTIME' else 'HOME'}"] = str(path)
    user = "nobody" if os.geteuid() == 0 else None
    proc = subprocess.Popen(
        [LIBVIRTD, "--timeout", "120"],
        env=env,
        user=user,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    sock = Path(env["XDG_RUNTIME_DIR"]) / "libvirt" / "libvirt-sock"
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        if sock.exists():
            try:
                return proc, libvirt.open(f"storage:///session?socket={sock}")
            except libvirt.libvirtError:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the session libvirtd did not start")
        time.sleep(0.1)


def main():
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)
    steps = json.load(sys.stdin) if not sys.stdin.isatty() else None
    workdir = tempfile.mkdtemp(prefix="virtcore-storage-oracle-")
    os.chmod(workdir, 0o777)
    pools = Path(workdir) / "pools"
    pools.mkdir()
    os.chmod(pools, 0o777)
    proc = None
    try:
        proc, conn = start_daemon(workdir)
        try:
            result = scenario.run_steps(libvirt, conn, str(pools), steps or scenario.STEPS)
        finally:
            conn.close()
        json.dump(result, sys.stdout, indent=1)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=STARTUP_LIMIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
