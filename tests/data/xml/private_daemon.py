"""What the XML oracle scripts share (system interpreter with python3-libvirt only).

Every oracle script asks real libvirt how it describes (or refuses) XML
documents and offers the same modes; this module holds them, and what the
scripts needing a private libvirtd share:

* :func:`quiet_libvirt` stops libvirt printing every error to stderr;
* :func:`attempt` turns one describe call into an outcome: ``{"ok": true,
  "xml": ...}`` or ``{"ok": false, "code": N, "domain": N, "message": ...}``;
* :func:`serve` runs the golden modes, for scripts whose documents stand
  alone:

  ``dump DIR``
      Describe every ``DIR/<name>.input.xml``; print a JSON object name -> XML.
  ``record DIR``
      The same, written to ``DIR/<name>.xml`` (the golden files).
  ``run``
      Read a JSON list of cases (``{"xml": TEXT}``, and whatever else the
      script reads) from stdin and print a JSON list of outcomes.

* :func:`serve_cases` runs the modes of scripts whose cases carry options
  (``DIR/cases.json``) and whose refusals are goldens too
  (``DIR/outcomes.json``);
* :func:`describe_nodedev` describes a node device the way libvirt's test
  driver loads one, from a custom driver file;
* libvirt's test driver has no secrets and no network filters, and its
  storage is not the storage driver, so some scripts start a libvirtd of
  their own with all its state in a temporary directory:
  :func:`session_daemon` starts an unprivileged session daemon,
  :func:`connect_when_ready` waits for any daemon's socket and connects, and
  :func:`private_daemon` runs one for the length of a ``with`` block, always
  stopping it and removing its directory; :func:`main` serves the golden
  modes against such a daemon.
"""

import contextlib
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libvirt

LIBVIRTD = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
STARTUP_LIMIT = 30.0
_ERROR_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
# Kept referenced for as long as libvirt may call it.
_QUIET = _ERROR_FUNC(lambda _ctx, _err: None)
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def quiet_libvirt():
    """Stop libvirt printing every error to stderr (the scripts report them as JSON)."""
    ctypes.CDLL("libvirt.so.0").virSetErrorFunc(None, _QUIET)


def error_outcome(exc):
    """The outcome of a call libvirt refused with *exc*."""
    return {
        "ok": False,
        "code": exc.get_error_code(),
        "domain": exc.get_error_domain(),
        "message": exc.get_error_message(),
    }


def attempt(describe):
    """``{"ok": true, "xml": describe()}``, or libvirt's error as an outcome."""
    try:
        return {"ok": True, "xml": describe()}
    except libvirt.libvirtError as exc:
        return error_outcome(exc)


def outcome(define, text):
    """libvirt's answer to *text*: ``define(text)`` then ``XMLDesc(0)``, or its error."""
    try:
        obj = define(text)
    except libvirt.libvirtError as exc:
        return error_outcome(exc)
    try:
        return {"ok": True, "xml": obj.XMLDesc(0)}
    finally:
        obj.undefine()


def describe_nodedev(text, workdir):
    """*text* as libvirt's test driver describes a host device read from its driver file."""
    body = _DECL.sub("", text)
    path = Path(workdir) / "node.xml"
    path.write_text(f"<node>\n{body}\n</node>\n")
    conn = libvirt.open(f"test://{path}")
    try:
        names = conn.listDevices(None, 0)
        if not names:
            return ""
        return conn.nodeDeviceLookupByName(names[0]).XMLDesc(0)
    finally:
        conn.close()


def _inputs(directory):
    for source in sorted(directory.glob("*.input.xml")):
        yield source.name[: -len(".input.xml")], source.read_text()


def serve(argv, outcome_of, *, kind_of=None):
    """Run mode ``argv[1]``; ``outcome_of(case)`` answers one case.

    A ``dump``/``record`` case is ``{"xml": TEXT}``, with ``"kind":
    kind_of(directory, name)`` when *kind_of* is given; a refused golden
    document stops the script.
    """
    if argv[1] in ("dump", "record"):
        directory = Path(argv[2])
        results = {}
        for name, text in _inputs(directory):
            case = {"xml": text}
            if kind_of is not None:
                case["kind"] = kind_of(directory, name)
            result = outcome_of(case)
            if not result["ok"]:
                raise SystemExit(f"{name}: {result['message']}")
            results[name] = result["xml"]
        if argv[1] == "record":
            for name, text in results.items():
                (directory / f"{name}.xml").write_text(text)
        else:
            json.dump(results, sys.stdout, indent=1, sort_keys=True)
    elif argv[1] == "run":
        cases = json.load(sys.stdin)
        json.dump([outcome_of(c) for c in cases], sys.stdout)
    else:
        raise SystemExit(f"unknown mode {argv[1]!r}")


def serve_cases(argv, outcome_of):
    """Run mode ``argv[1]`` for cases with options; ``outcome_of(case)`` answers one.

    ``dump DIR`` prints every ``DIR/<name>.input.xml``'s outcome, its case
    completed by ``DIR/cases.json``; ``record DIR`` writes the accepted ones
    to ``DIR/<name>.xml`` and all of them to ``DIR/outcomes.json``; ``run``
    answers the cases on stdin.
    """
    if argv[1] in ("dump", "record"):
        directory = Path(argv[2])
        options = json.loads((directory / "cases.json").read_text())
        results = {
            name: outcome_of({"xml": text, **options.get(name, {})})
            for name, text in _inputs(directory)
        }
        if argv[1] == "record":
            for name, result in results.items():
                if result["ok"]:
                    (directory / f"{name}.xml").write_text(result["xml"])
            (directory / "outcomes.json").write_text(json.dumps(results, indent=1, sort_keys=True))
        else:
            json.dump(results, sys.stdout, indent=1, sort_keys=True)
    elif argv[1] == "run":
        json.dump([outcome_of(c) for c in json.load(sys.stdin)], sys.stdout)
    else:
        raise SystemExit(f"unknown mode {argv[1]!r}")


def connect_when_ready(proc, sock, uri, what):
    """The connection to *uri* once the daemon *proc* listens on *sock*.

    Gives up (killing the daemon) when it exits or has not answered within
    :data:`STARTUP_LIMIT` seconds; *what* names it in the message.
    """
    deadline = time.monotonic() + STARTUP_LIMIT
    while True:
        if sock.exists():
            try:
                return libvirt.open(uri)
            except libvirt.libvirtError:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"{what} did not start")
        time.sleep(0.1)


def session_daemon(workdir, scheme):
    """A session libvirtd whose state lives under *workdir*; returns (process, connection).

    It runs as ``nobody`` when started by root (so *workdir* must be open to
    it) and exits on its own after two idle minutes should the script die;
    the connection is ``<scheme>:///session`` through its socket.
    """
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
    conn = connect_when_ready(
        proc, sock, f"{scheme}:///session?socket={sock}", "the session libvirtd"
    )
    return proc, conn


def stop(proc):
    """Stop the daemon *proc*, killing it if it does not exit in time."""
    proc.terminate()
    try:
        proc.wait(timeout=STARTUP_LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def private_daemon(start_daemon, prefix, prepare=None):
    """The connection to a daemon from ``start_daemon(workdir)`` for a ``with`` block.

    ``start_daemon`` returns (process, connection); ``prepare(workdir)``, if
    given, readies the temporary directory (named after *prefix*) before the
    daemon starts. On leaving, the connection is closed, the daemon stopped
    and the directory removed.
    """
    workdir = tempfile.mkdtemp(prefix=prefix)
    if prepare is not None:
        prepare(workdir)
    proc = None
    try:
        proc, conn = start_daemon(workdir)
        try:
            yield conn, workdir
        finally:
            conn.close()
    finally:
        if proc is not None:
            stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv, *, start_daemon, define, prefix, prepare=None):
    """Serve mode ``argv[1]`` against a private daemon (see :func:`private_daemon`).

    ``define(conn, text)`` defines a document, which is described and
    undefined again.
    """
    with private_daemon(start_daemon, prefix, prepare) as (conn, _):
        serve(argv, lambda case: outcome(lambda text: define(conn, text), case["xml"]))
