# mypy: ignore-errors
"""Run the storage scenario on real libvirt 9.0's storage driver; print the outcomes as JSON.

Run with the system interpreter that has python3-libvirt. It starts a
private, unprivileged libvirtd in session mode (as ``nobody`` when run by
root) whose state and pools live in a temporary directory, runs
:data:`scenario.STEPS` (or the steps given as JSON on stdin) over
``storage:///session?socket=...`` and stops the daemon again. The daemon also
exits on its own after two idle minutes should this script die.
"""

import json
import os
import sys
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "data" / "xml"))
import private_daemon
import scenario


def _prepare(workdir):
    # The daemon runs as nobody: it must reach its directories and the pools.
    os.chmod(workdir, 0o777)
    pools = Path(workdir) / "pools"
    pools.mkdir()
    os.chmod(pools, 0o777)


def main():
    private_daemon.quiet_libvirt()
    steps = json.load(sys.stdin) if not sys.stdin.isatty() else None
    with private_daemon.private_daemon(
        lambda workdir: private_daemon.session_daemon(workdir, "storage"),
        "virtcore-storage-oracle-",
        _prepare,
    ) as (conn, workdir):
        pools = str(Path(workdir) / "pools")
        result = scenario.run_steps(libvirt, conn, pools, steps or scenario.STEPS)
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
