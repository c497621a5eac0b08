#!/usr/bin/env python3
"""echo_server.py PORTFILE - TCP echo server on 127.0.0.1 (random port, written to PORTFILE).

The far end of the forwarded connections of figure 5: every accepted connection stays open and
echoes what it gets until the peer closes it. One thread, non-blocking, thousands of connections.
"""
import os
import resource
import selectors
import socket
import sys


def main() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.setblocking(False)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(tmp, sys.argv[1])  # readers never see a half-written port
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is listener:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(sock)
                sock.close()
                continue
            try:
                sock.sendall(data)  # small echoes only: a short blocking send is fine
            except OSError:
                sel.unregister(sock)
                sock.close()


if __name__ == "__main__":
    sys.exit(main())
