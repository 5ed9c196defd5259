"""The stable port of a locally hosted component: a TCP proxy to whichever release is current.

Run as a script (`python -I proxy.py PORT UPSTREAM_FILE`, standard library only, started detached by
local hosting). Every new connection reads the upstream port from UPSTREAM_FILE (`{"port": N}`,
replaced atomically when a new release has passed its health check), so switching releases needs
no restart and drops no connection already open. When the release does not answer, the client
gets an HTTP 502 saying so instead of a reset.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

_MESSAGE = b"the current release is not running (yet)\n"
BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    + f"Content-Length: {len(_MESSAGE)}\r\n\r\n".encode()
    + _MESSAGE
)


class Upstream:
    """The upstream port from the file, read again only when the file changed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stamp: tuple[int, int] | None = None
        self.port: int | None = None

    def current(self) -> int | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_ino)
        if stamp != self.stamp:
            try:
                with open(self.path, encoding="utf-8") as handle:
                    self.port = int(json.load(handle)["port"])
                self.stamp = stamp
            except (OSError, ValueError, KeyError, TypeError):
                return self.port
        return self.port


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass


async def serve(port: int, upstream: Upstream) -> None:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        target = upstream.current()
        try:
            if target is None:
                raise ConnectionRefusedError
            server_reader, server_writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", target), timeout=5
            )
        except (OSError, TimeoutError):
            client_writer.write(BAD_GATEWAY)
            try:
                await client_writer.drain()
            finally:
                client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port, reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Upstream(sys.argv[2])))
