"""A frontend release served over http: the release's published files, nothing else.

Run as a script (`python -I static_server.py PORT FOLDER`, standard library only, started detached by
local hosting). No directory listings, nothing outside FOLDER (the release holds only the published files).
"""

from __future__ import annotations

import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class Handler(SimpleHTTPRequestHandler):
    def list_directory(self, path):  # type: ignore[no-untyped-def]
        self.send_error(404, "Not found")
        return None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()


if __name__ == "__main__":
    port, folder = int(sys.argv[1]), sys.argv[2]
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=folder))
    server.serve_forever()
