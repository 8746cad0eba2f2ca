# mypy: ignore-errors
"""A screenshot stream: writing to it, and using it after finish() or abort()."""

from scriptlib import attempt, open_quiet

conn = open_quiet()
dom = conn.lookupByName("test")

stream = conn.newStream(0)
dom.screenshot(stream, 0, 0)
attempt("send while open", lambda: stream.send(b"abc"))
print("head", stream.recv(4))
while stream.recv(65536):
    pass
print("at the end", stream.recv(10))
attempt("finish", stream.finish)
attempt("recv after finish", lambda: stream.recv(10))
attempt("send after finish", lambda: stream.send(b"x"))
attempt("finish again", stream.finish)
attempt("abort after finish", stream.abort)

stream = conn.newStream(0)
dom.screenshot(stream, 0, 0)
stream.recv(10)
attempt("finish before the end", stream.finish)
attempt("recv after early finish", lambda: stream.recv(10))

stream = conn.newStream(0)
dom.screenshot(stream, 0, 0)
attempt("abort", stream.abort)
attempt("recv after abort", lambda: stream.recv(10))
attempt("finish after abort", stream.finish)
conn.close()
