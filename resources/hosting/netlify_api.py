"""The few Netlify API calls a file-digest deploy needs, over `requests` with retries.

Retries are urllib3's (429 and 5xx, honouring `Retry-After`, exponential back-off). The token is a
`SecretStr` that only the request signer reads, so no repr, traceback, log line or error shows it.
Failures become `HostingError` naming the call and Netlify's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from resources.hosting.base import HostingError

NETLIFY_API_URL = "https://api.netlify.com/api/v1"
_PAGE = 100


class _BearerToken(requests.auth.AuthBase):
    """Adds the token to each request; holds it as a SecretStr."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        return request

    def __repr__(self) -> str:
        return "_BearerToken(**********)"


def _segment(value: str) -> str:
    return quote(value, safe="")


class NetlifyClient:
    """Sites and deploys of one Netlify account (whatever the token can see)."""

    def __init__(
        self,
        token: SecretStr,
        api_url: str = NETLIFY_API_URL,
        *,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        backoff_factor: float = 0.5,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.session = requests.Session()
        self.session.auth = _BearerToken(token)
        retry = Retry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            backoff_factor=backoff_factor,
            status_forcelist=[429, 500, 502, 503, 504],
            # Every call here is safe to repeat: uploads are by content, a deploy that gets no files
            # is never published, a second site of the same name is refused and then found.
            allowed_methods=frozenset({"GET", "POST", "PUT"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"NetlifyClient(api_url={self.api_url!r})"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
    ) -> Any:
        """One call; the JSON answer (None when empty). HostingError on a failure after the retries."""
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            response = self.session.request(
                method,
                self.api_url + path,
                json=json,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeout_seconds,
            )
        except requests.RequestException as error:
            raise HostingError(
                f"Netlify {method} {path}: {type(error).__name__} talking to {self.api_url}"
            ) from None
        if response.status_code >= 400:
            raise HostingError(
                f"Netlify {method} {path} answered {response.status_code}: {_message(response)}"
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise HostingError(f"Netlify {method} {path} answered something that is not JSON") from None

    # --- sites ---------------------------------------------------------------------------------

    def find_site(self, name: str) -> dict[str, Any] | None:
        """The site called exactly `name` (the API's `name` filter matches substrings)."""
        page = 1
        while True:
            sites = self.request(
                "GET", "/sites", params={"name": name, "filter": "all", "page": page, "per_page": _PAGE}
            )
            if not isinstance(sites, list):
                raise HostingError("Netlify GET /sites did not answer a list of sites")
            found = next((site for site in sites if site.get("name") == name), None)
            if found is not None or len(sites) < _PAGE:
                return found
            page += 1

    def create_site(self, name: str, account_slug: str | None = None) -> dict[str, Any]:
        path = f"/{_segment(account_slug)}/sites" if account_slug else "/sites"
        return self.request("POST", path, json={"name": name})

    def ensure_site(self, name: str, account_slug: str | None = None) -> dict[str, Any]:
        """The site called `name`, created when missing; losing a creation race finds the winner's."""
        site = self.find_site(name)
        if site is not None:
            return site
        try:
            return self.create_site(name, account_slug)
        except HostingError as error:
            site = self.find_site(name)
            if site is None:
                raise HostingError(
                    f"{error} (site names are global on Netlify: NETLIFY_SITE_PREFIX makes them unique)"
                ) from None
            return site

    # --- deploys -------------------------------------------------------------------------------

    def create_deploy(self, site_id: str, files: Mapping[str, str], title: str) -> dict[str, Any]:
        """A deploy of the files (`/path` -> SHA1); its `required` lists the SHA1s to upload."""
        return self.request(
            "POST",
            f"/sites/{_segment(site_id)}/deploys",
            params={"title": title},
            json={"files": dict(files), "draft": False, "async": False},
        )

    def upload_file(self, deploy_id: str, path: str, content: bytes) -> None:
        # The whole path is one URL segment ('/' as %2F), as Netlify's own clients send it.
        self.request(
            "PUT",
            f"/deploys/{_segment(deploy_id)}/files/{_segment(path.lstrip('/'))}",
            params={"size": len(content)},
            data=content,
        )

    def get_deploy(self, deploy_id: str) -> dict[str, Any]:
        return self.request("GET", f"/deploys/{_segment(deploy_id)}")

    def restore_deploy(self, site_id: str, deploy_id: str) -> dict[str, Any]:
        """Publish an earlier deploy of the site again (Netlify's rollback)."""
        return self.request("POST", f"/sites/{_segment(site_id)}/deploys/{_segment(deploy_id)}/restore")


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]
