"""A TCP server on 127.0.0.1 in the test's own network namespace that greets every connection: what
a sandboxed program must not reach (or, where it is let out, does reach)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def greeting_listener(greeting: bytes) -> Iterator[int]:
    """Serve `greeting` to every connection until the block ends; yields the port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            connection.sendall(greeting)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        server.close()
