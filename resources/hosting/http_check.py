"""HTTP health checks of a deployed release's public URL (Netlify sites, ECS services behind a URL)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import requests


def http_health(url: str, timeout_seconds: float, interval_seconds: float = 1.0) -> tuple[bool, str]:
    """(healthy, what was seen): a 2xx answer to GET `url` within `timeout_seconds` (a CDN may lag)."""
    deadline = time.monotonic() + timeout_seconds
    seen = "no answer"
    while True:
        try:
            response = requests.get(url, timeout=min(10.0, max(timeout_seconds, 1.0)), allow_redirects=True)
            if 200 <= response.status_code < 300:
                return True, f"{url} answered {response.status_code}"
            seen = f"{url} answered {response.status_code}"
        except requests.RequestException as error:
            seen = f"{url}: {type(error).__name__}"
        if time.monotonic() >= deadline:
            return False, seen
        time.sleep(interval_seconds)


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + (path if path.startswith("/") else "/" + path)


def check_paths(base: str, paths: Iterable[str], timeout_seconds: float) -> tuple[bool, str]:
    """Every path (the health path first, then the request's extra checks) answers 2xx under `base`."""
    seen = []
    for path in dict.fromkeys(paths):
        healthy, what = http_health(join_url(base, path), timeout_seconds)
        seen.append(what)
        if not healthy:
            return False, what
    return True, "; ".join(seen)
