"""Run the backend: `python -m app --port 8000` (0 picks a free port; the address is printed)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from app.resources import RESOURCES
from app.server import make_server

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="app", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--db", default=os.environ.get("DATABASE_PATH", "data/app.sqlite3"))
    parser.add_argument(
        "--static", default=os.environ.get("STATIC_DIR", str(FRONTEND)), help="frontend folder"
    )
    parser.add_argument("--no-static", action="store_true", help="serve the API only")
    args = parser.parse_args(argv)
    static = None if args.no_static or not Path(args.static).is_dir() else Path(args.static)
    server = make_server(args.host, args.port, args.db, RESOURCES, static)
    # SIGTERM (docker stop, ECS, test teardown) ends the process like Ctrl-C, closing the socket.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
