"""The stable port of a locally hosted component: a TCP proxy to whichever release is current.

Run as a script (`python -I proxy.py PORT UPSTREAM_FILE`, standard library only, started detached by
local hosting). Every new connection reads the upstream port from UPSTREAM_FILE (`{"port": N}`,
replaced atomically when a new release has passed its health check), so switching releases needs
no restart and drops no connection already open. When the release does not answer, the client
gets an HTTP 502 saying so instead of a reset.

It is also the watchdog of its release: when the component's folder (UPSTREAM_FILE's) is deleted,
say with the temporary data folder of a test, it stops the release it forwards to (`pid` and
`started` in UPSTREAM_FILE) and then itself, so a deleted deployment leaves no process behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
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
        self.process: tuple[int, str] | None = None

    def current(self) -> int | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_ino)
        if stamp != self.stamp:
            try:
                with open(self.path, encoding="utf-8") as handle:
                    data = json.load(handle)
                self.port = int(data["port"])
                if data.get("pid") and data.get("started"):
                    self.process = (int(data["pid"]), str(data["started"]))
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


def start_time(pid: int) -> str | None:
    """As local hosting records it: boot id prefix and start ticks (None: gone or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()[:8]
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else f"{boot}:{fields[19]}"


async def watch(upstream: Upstream, interval_s: float = 2.0) -> None:
    """Return once the component's folder is gone, after stopping the release it ran."""
    folder = os.path.dirname(os.path.abspath(upstream.path))
    while os.path.isdir(folder):
        upstream.current()  # keep the release's pid current across switches
        await asyncio.sleep(interval_s)
    if upstream.process is not None and start_time(upstream.process[0]) == upstream.process[1]:
        try:
            os.killpg(upstream.process[0], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
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
        await watch(upstream)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Upstream(sys.argv[2])))
