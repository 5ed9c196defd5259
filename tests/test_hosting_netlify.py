"""Netlify hosting: every request checked by Prism against Netlify's official OpenAPI document.

Prism serves `@netlify/open-api`'s `dist/swagger.json` with its paths rewritten under `/api/v1` (Prism
ignores `basePath`). It validates each request (body, query, the Authorization header, the
octet-stream upload, the `%2F`-encoded file path) but answers fixed placeholders, so the deploy's
states (processing, ready, error) and the site's live deploy are scripted through the recording proxy
*after* Prism has checked the request: the state machine is tested on requests the contract accepts.
The site's URL points at a small local HTTP server that plays the deployed frontend (healthy or not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pipeline_core.hashing import content_hash
from pipeline_core.repository.manifest import ComponentSpec
from resources.hosting.base import HostingError, ReleaseRequest, publish_files
from resources.hosting.netlify import (
    NetlifyHosting,
    deploy_title,
    file_digests,
    parse_title,
    site_name,
    title_api_url,
)
from tests.support.netlify import StandInSite, netlify_api, netlify_prism  # noqa: F401 (fixtures)
from tests.support.prism import PrismProxy

pytestmark = pytest.mark.integration

TOKEN = "nfp_netlify_token_that_must_never_leak_42"
SITES = "/api/v1/sites"


# --- servers ---------------------------------------------------------------------------------------


@pytest.fixture
def api(netlify_api: PrismProxy) -> Iterator[PrismProxy]:  # noqa: F811
    """The recording proxy to the Netlify Prism (`netlify_api`); every request carried the token."""
    yield netlify_api
    for exchange in netlify_api.exchanges:
        assert exchange.request_headers.get("Authorization") == f"Bearer {TOKEN}"


Frontend = StandInSite


@pytest.fixture
def frontend() -> Iterator[Frontend]:
    server = Frontend()
    yield server
    server.close()


# --- inputs ----------------------------------------------------------------------------------------


def component() -> ComponentSpec:
    return ComponentSpec(
        name="web",
        path="web",
        kind="frontend",
        runtime="static",
        test=["python", "-m", "unittest"],
        build=["npm", "run", "build"],
        publish_dir="web/dist",
        health="/index.html",
    )


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A built frontend component folder: web/ with its dist/ (and things that must not be published)."""
    root = tmp_path / "web"
    (root / "dist" / "assets" / "img").mkdir(parents=True)
    (root / "dist" / "index.html").write_text("<!doctype html><script src=assets/app.js></script>")
    (root / "dist" / "assets" / "app.js").write_text("console.log('app')\n")
    (root / "dist" / "assets" / "img" / "logo.svg").write_text("<svg/>")
    (root / "dist" / "assets" / "copy.js").write_text("console.log('app')\n")  # same content as app.js
    (root / "dist" / "config.js").write_text('window.API_BASE = window.API_BASE || "";\n')
    (root / "dist" / ".env").write_text("SECRET=1")
    (root / "src.js").write_text("not published")
    return root


def release(source: Path, commit: str = "c0ffee1", **extra: Any) -> ReleaseRequest:
    return ReleaseRequest(
        project="acme-tasks",
        environment="preview",
        component=component(),
        commit=commit,
        source_dir=source,
        api_url="https://api.example.test",
        stories=["S-1", "S-2"],
        **extra,
    )


def hosting(api: PrismProxy, **overrides: Any) -> NetlifyHosting:
    settings: dict[str, Any] = {
        "api_url": f"{api.url}/api/v1",
        "site_prefix": "team-",
        "poll_interval_seconds": 0.01,
        "ready_timeout_seconds": 5.0,
        "health_timeout_seconds": 0.0,
        "max_retries": 2,
        "backoff_factor": 0.0,
    }
    return NetlifyHosting(token=TOKEN, **(settings | overrides))


NAME = "team-acme-tasks-web-preview"


def site(
    frontend: Frontend, published: dict[str, Any] | None = None, site_id: str = "site-1"
) -> dict[str, Any]:
    return {"id": site_id, "name": NAME, "ssl_url": frontend.url, "published_deploy": published}


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# --- the contract guard itself --------------------------------------------------------------------


def test_a_request_outside_the_contract_is_caught(api: PrismProxy) -> None:
    client = hosting(api).client
    with pytest.raises(HostingError, match="422"):
        client.request("POST", "/sites/site-1/deploys", json={"files": ["/index.html"]})  # not a map
    problems = api.contract_problems()
    assert len(problems) == 1 and "files" in problems[0]
    api.exchanges.clear()  # handled here; the fixture would fail the test otherwise


def test_an_unencoded_nested_upload_path_is_not_a_netlify_route(api: PrismProxy) -> None:
    client = hosting(api).client
    with pytest.raises(HostingError, match="404"):
        client.request("PUT", "/deploys/d-1/files/assets/app.js", data=b"x")
    assert api.exchanges[-1].upstream_status == 404
    api.exchanges.clear()


# --- digests and names -----------------------------------------------------------------------------


def test_file_digests_are_the_sha1_of_each_published_file(built: Path) -> None:
    files = file_digests(publish_files(release(built)))
    config = 'window.API_BASE = "https://api.example.test";'
    assert {path: sha for path, sha in files.items() if path != "/config.js"} == {
        "/ai-pipeline-config.json": sha1('{"api_url": "https://api.example.test"}'),
        "/assets/app.js": sha1("console.log('app')\n"),
        "/assets/copy.js": sha1("console.log('app')\n"),
        "/assets/img/logo.svg": sha1("<svg/>"),
        "/index.html": sha1("<!doctype html><script src=assets/app.js></script>"),
    }
    assert files["/config.js"] == sha1(publish_files(release(built))["config.js"].decode())
    assert config in publish_files(release(built))["config.js"].decode()


def test_site_names_are_netlify_subdomains() -> None:
    assert site_name("", "acme-tasks", "web", "production") == "acme-tasks-web"
    assert site_name("Team_", "acme-tasks", "web", "preview") == "team-acme-tasks-web-preview"
    long = site_name("", "p" * 60, "web", "preview")
    assert len(long) <= 63 and long == site_name("", "p" * 60, "web", "preview")
    assert parse_title(deploy_title(release(Path(".")), "abc123")) == ("c0ffee1", "abc123")
    assert parse_title("a deploy made by hand") == (None, None)
    # The backend URL the frontend was published with travels in the title too.
    assert title_api_url(deploy_title(release(Path(".")), "abc123")) == "https://api.example.test"
    assert title_api_url("a deploy made by hand") is None


# --- deploying -------------------------------------------------------------------------------------


def test_first_deploy_creates_the_site_and_uploads_only_what_netlify_lacks(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    files = file_digests(publish_files(release(built)))
    needed = [files["/assets/app.js"], files["/assets/img/logo.svg"]]
    api.override("POST", SITES, body=site(frontend))
    api.override(
        "POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "state": "uploading", "required": needed}
    )
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "processing"}, times=2)
    api.override(
        "GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready", "ssl_url": frontend.url}
    )

    record = hosting(api).deploy(release(built))

    assert (record.status, record.health, record.target) == ("deployed", "healthy", "netlify")
    assert (record.url, record.version, record.commit) == (frontend.url, "dep-1", "c0ffee1")
    assert record.previous_version is None and record.stories == ["S-1", "S-2"]
    # Found by name first (the name filter is a substring match: exact names only), then created.
    looked = api.requests("GET", SITES)
    assert "name=team-acme-tasks-web-preview" in looked[0].path and "filter=all" in looked[0].path
    assert [e.json() for e in api.requests("POST", SITES)] == [{"name": NAME}]
    created = api.requests("POST", rf"{SITES}/site-1/deploys")
    assert created[0].json()["files"] == files
    assert parse_title(json_query(created[0].path)["title"]) == ("c0ffee1", content_hash(files, 16))
    uploads = api.requests("PUT")
    assert [e.path.split("?")[0] for e in uploads] == [
        "/api/v1/deploys/dep-1/files/assets%2Fapp.js",
        "/api/v1/deploys/dep-1/files/assets%2Fimg%2Flogo.svg",
    ]
    assert [e.request_body for e in uploads] == [b"console.log('app')\n", b"<svg/>"]
    assert {e.request_headers["Content-Type"] for e in uploads} == {"application/octet-stream"}
    assert len(api.requests("GET", r"/api/v1/deploys/dep-1")) == 3
    assert frontend.paths == ["/index.html"]
    assert not api.requests("POST", r".*/restore")


def json_query(path: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(path).query))


def test_a_file_netlify_already_holds_is_not_uploaded_twice(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    files = file_digests(publish_files(release(built)))
    shared = files["/assets/app.js"]  # app.js and copy.js have the same content: one upload
    api.override("POST", SITES, body=site(frontend))
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": [shared, shared]})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})
    record = hosting(api).deploy(release(built))
    assert (
        record.status == "deployed" and record.url == frontend.url
    )  # the site's URL when the deploy has none
    assert [e.path.split("?")[0] for e in api.requests("PUT")] == [
        "/api/v1/deploys/dep-1/files/assets%2Fapp.js"
    ]


def test_the_same_files_of_the_same_commit_cost_one_status_read(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    files = file_digests(publish_files(release(built)))
    title = deploy_title(release(built), content_hash(files, 16))
    live = {"id": "dep-1", "title": title, "published_at": "2026-12-01T10:00:00Z"}
    api.override("GET", SITES, body=[{"id": "other", "name": NAME + "-old"}, site(frontend, live)])

    record = hosting(api).deploy(release(built))

    assert (record.status, record.health, record.version) == ("unchanged", "healthy", "dep-1")
    assert record.deployed_at.isoformat().startswith("2026-12-01T10:00")
    assert [(e.method, e.path.split("?")[0]) for e in api.exchanges] == [("GET", SITES)]
    assert frontend.paths == ["/index.html"]


def test_a_new_commit_is_deployed_even_with_the_same_files(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    files = file_digests(publish_files(release(built)))
    live = {"id": "dep-0", "title": deploy_title(release(built, "0ld0ld0"), content_hash(files, 16))}
    api.override("GET", SITES, body=[site(frontend, live)])
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})
    record = hosting(api).deploy(release(built))
    assert (record.status, record.version, record.previous_version, record.previous_commit) == (
        "deployed",
        "dep-1",
        "dep-0",
        "0ld0ld0",
    )
    assert not api.requests("POST", SITES) and not api.requests("PUT")


def test_a_failed_health_check_restores_the_previous_deploy(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    live = {"id": "dep-0", "title": "ai-pipeline acme-tasks/web preview commit=0ld0ld0 files=abc"}
    api.override("GET", SITES, body=[site(frontend, live)])
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})
    api.override("POST", rf"{SITES}/site-1/deploys/dep-0/restore", body={"id": "dep-0", "state": "ready"})
    frontend.status = 500

    record = hosting(api).deploy(release(built))

    assert (record.status, record.health) == ("rolled_back", "unhealthy")
    assert (record.version, record.commit) == ("dep-0", "0ld0ld0")
    assert "500" in (record.reason or "") and "dep-1" in (record.reason or "")
    assert len(api.requests("POST", rf"{SITES}/site-1/deploys/dep-0/restore")) == 1


def test_a_first_deploy_that_fails_its_health_check_has_nothing_to_restore(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    api.override("POST", SITES, body=site(frontend))
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})
    frontend.status = 404
    record = hosting(api).deploy(release(built))
    assert (record.status, record.health) == ("failed", "unhealthy")
    assert "no earlier deploy" in (record.reason or "")
    assert not api.requests("POST", r".*/restore")


def test_a_deploy_in_error_fails_and_leaves_the_live_one_alone(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    live = {"id": "dep-0", "title": "ai-pipeline acme-tasks/web preview commit=0ld0ld0 files=abc"}
    api.override("GET", SITES, body=[site(frontend, live)])
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override(
        "GET",
        r"/api/v1/deploys/dep-1",
        body={"id": "dep-1", "state": "error", "error_message": "bad _redirects"},
    )
    record = hosting(api).deploy(release(built))
    assert (record.status, record.health, record.version, record.commit) == (
        "rolled_back",
        "not_checked",
        "dep-0",
        "0ld0ld0",
    )
    assert "bad _redirects" in record.reason and "dep-0 stays live" in record.reason
    assert frontend.paths == [] and not api.requests("POST", r".*/restore")


def test_waiting_for_ready_is_bounded(api: PrismProxy, frontend: Frontend, built: Path) -> None:
    api.override("POST", SITES, body=site(frontend))
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "processing"})
    record = hosting(api, ready_timeout_seconds=0.2).deploy(release(built))
    assert record.status == "failed" and "still 'processing'" in (record.reason or "")


def test_an_existing_site_is_found_and_a_lost_creation_race_is_accepted(
    api: PrismProxy, frontend: Frontend, built: Path
) -> None:
    api.override("GET", SITES, body=[], times=1)
    api.override("POST", SITES, status=422, body={"code": 422, "message": "name already taken"})
    api.override("GET", SITES, body=[site(frontend, site_id="site-9")])
    api.override("POST", rf"{SITES}/site-9/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})
    record = hosting(api).deploy(release(built))
    assert record.status == "deployed"
    assert len(api.requests("POST", SITES)) == 1 and len(api.requests("GET", SITES)) == 2


def test_a_taken_site_name_names_the_setting(api: PrismProxy, frontend: Frontend, built: Path) -> None:
    api.override("GET", SITES, body=[])
    api.override("POST", SITES, status=422, body={"code": 422, "message": "name already taken"})
    with pytest.raises(HostingError, match="NETLIFY_SITE_PREFIX"):
        hosting(api).deploy(release(built))


def test_429_and_5xx_are_retried_with_back_off(api: PrismProxy, frontend: Frontend, built: Path) -> None:
    api.override("GET", SITES, status=429, body={"message": "slow down"}, times=1)
    api.override("POST", SITES, status=503, body={"message": "unavailable"}, times=1)
    api.override("POST", SITES, body=site(frontend))
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", status=502, body={"message": "bad gateway"}, times=1)
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})
    record = hosting(api).deploy(release(built))
    assert record.status == "deployed"
    assert (len(api.requests("GET", SITES)), len(api.requests("POST", SITES))) == (2, 2)


def test_a_lasting_5xx_is_a_clear_error(api: PrismProxy, frontend: Frontend, built: Path) -> None:
    api.override("GET", SITES, status=500, body={"message": "internal trouble"})
    with pytest.raises(HostingError, match="500: internal trouble") as caught:
        hosting(api).deploy(release(built))
    assert len(api.requests("GET", SITES)) == 3  # first try + 2 retries
    assert TOKEN not in str(caught.value)


def test_current_reads_the_live_deploy(api: PrismProxy, frontend: Frontend) -> None:
    live = {"id": "dep-4", "title": "ai-pipeline acme-tasks/web preview commit=abc1234 files=f00"}
    api.override("GET", SITES, body=[site(frontend, live)], times=1)
    record = hosting(api).current("acme-tasks", "preview", component())
    assert record is not None and (record.commit, record.version, record.url) == (
        "abc1234",
        "dep-4",
        frontend.url,
    )
    assert record.health == "healthy" and frontend.paths == ["/index.html"]
    api.override("GET", SITES, body=[])
    assert hosting(api).current("acme-tasks", "preview", component()) is None


def test_the_token_never_leaks(
    api: PrismProxy, frontend: Frontend, built: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    netlify = hosting(api)
    api.override("POST", SITES, body=site(frontend))
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})
    record = netlify.deploy(release(built, app_secrets={"API_KEY": SecretStr("app-secret")}))
    api.override("GET", SITES, status=503, body={"message": "down"})
    with pytest.raises(HostingError) as caught:
        netlify.current("acme-tasks", "preview", component())
    seen = " ".join(
        [repr(netlify), repr(netlify.client), repr(netlify.client.session.auth), record.model_dump_json()]
        + [str(caught.value), repr(caught.value), caplog.text]
    )
    assert TOKEN not in seen and "app-secret" not in seen


def test_a_missing_publish_folder_is_a_clear_error(api: PrismProxy, tmp_path: Path) -> None:
    with pytest.raises(HostingError, match="not in the build"):
        hosting(api).deploy(release(tmp_path / "web"))
    assert not api.exchanges
