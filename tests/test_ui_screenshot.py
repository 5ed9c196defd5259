"""The Dagster UI's global asset lineage, screenshotted by headless Chromium from a `dagster dev`.

The server is the shared `served_projects` one (the example project built by its sensor). The
screenshot must not be blank, and every asset of the Definitions must be on the page: the PNG
cannot be searched for text, so the same page's DOM (rendered with the same virtual-time budget)
is searched for each asset name, and the server's GraphQL `assetNodes` must hold every asset key.
The list of assets comes from `pipeline_defs.definitions`, so new stages are checked as they land.
"""

from __future__ import annotations

import html
import re
import shutil
import statistics
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import dagster as dg
import pymupdf
import pytest

from pipeline_core.settings import Settings
from pipeline_defs.definitions import build_definitions
from tests.support.dagster_dev import SESSION_SERVER_TIMEOUT, ServedProjects

LINEAGE_PATH = "/asset-groups"  # the UI's "Global asset lineage"
# Where the graph is drawn, as shares of the window's width and height.
GRAPH_PANE_LEFT, GRAPH_PANE_TOP = 0.35, 0.12
VIRTUAL_TIME_MS = 20_000  # without a budget the single-page app is captured before it renders


def definitions_asset_keys() -> list[dg.AssetKey]:
    """Every asset key of the code location's Definitions (materialisable and observed sources)."""
    defs = build_definitions(Settings(pipeline_llm_provider="offline"))
    return sorted(defs.resolve_all_asset_keys(), key=lambda key: key.to_user_string())


def chromium(url: str, folder: Path, *flags: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    argv = [
        found,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tempfile.mkdtemp(dir=folder)}",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}",
        "--window-size=1600,1000",
        *flags,
        url,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def page_text(dom: str) -> str:
    """The visible text of a dumped DOM (scripts and styles left out)."""
    body = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", dom)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def ink(png: Path) -> tuple[float, float]:
    """(standard deviation of pixel luminance over the whole image, share of inked pixels in the
    graph pane): inked is tinted (nodes, edges in colour) or darker than the near-white background."""
    pixmap = pymupdf.Pixmap(str(png))
    samples, channels, width, height = pixmap.samples, pixmap.n, pixmap.width, pixmap.height

    def pixels(left: float, top: float) -> list[tuple[int, int]]:
        out = []
        for y in range(int(top * height), height, 3):
            for x in range(int(left * width), width, 3):
                i = (y * width + x) * channels
                r, g, b = samples[i], samples[i + 1], samples[i + 2]
                out.append(((299 * r + 587 * g + 114 * b) // 1000, max(r, g, b) - min(r, g, b)))
        return out

    whole = pixels(0, 0)
    # The graph pane: right of the navigation and the asset tree, below the header and search bar.
    pane = pixels(GRAPH_PANE_LEFT, GRAPH_PANE_TOP)
    inked = sum(lum < 235 or tint > 12 for lum, tint in pane) / len(pane)
    return statistics.pstdev(lum for lum, _ in whole), inked


def lineage_url(base: str, nodes: list[dict]) -> str:
    """The global lineage with every group expanded, as "Expand all groups" leaves it (the UI keeps
    the open groups in `?expanded=`; with several groups they start collapsed to their names)."""
    groups = set()
    for node in nodes:
        repository = node["repository"]
        groups.add(f"global@global:{node['groupName']}")
        # The id the UI uses when groups are kept per code location (a feature flag).
        groups.add(f"{repository['name']}@{repository['location']['name']}:{node['groupName']}")
    return f"{base}{LINEAGE_PATH}?" + urllib.parse.urlencode({"expanded": ",".join(sorted(groups))})


def test_every_definitions_asset_is_in_the_expected_list() -> None:
    names = {key.to_user_string() for key in definitions_asset_keys()}
    # The stages the README names; the list grows with the Definitions, never shrinks below these.
    assert {"documents", "requirements", "architecture", "story_builds", "validations"} <= names


@pytest.mark.integration
@pytest.mark.timeout(SESSION_SERVER_TIMEOUT)
def test_the_lineage_view_shows_every_asset_of_the_definitions(
    served_projects: ServedProjects, tmp_path: Path
) -> None:
    server = served_projects.server
    expected = definitions_asset_keys()
    nodes = server.graphql(
        "{ assetNodes { assetKey { path } groupName repository { name location { name } } } }"
    )["assetNodes"]
    served = {tuple(node["assetKey"]["path"]) for node in nodes}
    missing = [key.to_user_string() for key in expected if tuple(key.path) not in served]
    assert not missing, f"assets of the Definitions the server does not know: {missing}"

    url = lineage_url(server.url, nodes)
    dom = chromium(url, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = page_text(dom.stdout)
    assert "Global asset lineage" in text, text[:2000]
    not_drawn = [key.to_user_string() for key in expected if key.path[-1] not in text]
    assert not not_drawn, f"not on the lineage page: {not_drawn}\n{text[:3000]}"

    screenshot = tmp_path / "asset-lineage.png"
    shot = chromium(url, tmp_path, f"--screenshot={screenshot}")
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    spread, inked = ink(screenshot)
    print(f"lineage screenshot: {screenshot} (luminance spread {spread:.1f}, graph pane {inked:.1%} inked)")
    # A blank page has no spread; an empty graph pane is its white, dotted background (under 1 %);
    # the drawn graph (6 assets in 3 groups) inks about 6 % of it.
    assert spread > 8 and inked > 0.02, (spread, inked, str(screenshot))
