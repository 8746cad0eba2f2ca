# mypy: ignore-errors
"""Streams: a console screenshot received with recvAll and recv, and what a file stream lacks."""

import libvirt
from scriptlib import attempt, open_quiet

conn = open_quiet()
dom = conn.lookupByName("test")

stream = conn.newStream(0)
print("mime", dom.screenshot(stream, 0, 0))
chunks = []
stream.recvAll(lambda st, data, opaque: opaque.append(data), chunks)
image = b"".join(chunks)
# The picture itself is the driver's own; its format is what clients rely on.
print("png", image[:8], image[12:16], len(chunks) >= 1, all(chunks))
print("finish", stream.finish())

stream = conn.newStream(0)
dom.screenshot(stream, 0, 0)
print("head", stream.recv(8))
attempt("recvFlags", lambda: stream.recvFlags(8, libvirt.VIR_STREAM_RECV_STOP_AT_HOLE))
attempt("recvHole", lambda: stream.recvHole(0))
events = []
try:
    stream.sparseRecvAll(lambda st, data, o: o.append(data), lambda st, n, o: o.append(n), events)
except libvirt.libvirtError as e:
    print("sparseRecvAll", e.get_error_code(), e.get_error_message(), events)
rest = stream.recv(1 << 20)
print("rest", rest[-8:], stream.recv(10))
print("abort", stream.abort())

stream = conn.newStream(0)
dom.screenshot(stream, 0, 0)
seen = []


def handler(st, data, opaque):
    opaque.append(len(data))
    return -1


try:
    stream.recvAll(handler, seen)
except RuntimeError as e:
    print("handler refused", e, len(seen))
attempt("screen 1", lambda: dom.screenshot(conn.newStream(0), 1, 0))
attempt("unbound send", lambda: conn.newStream(0).send(b"x"))
attempt("unbound recv", lambda: conn.newStream(0).recv(1))
conn.close()
