"""The GitHub forge: every request checked against GitHub's OpenAPI document (Prism), retries against a
tiny local server that misbehaves on purpose.

Prism answers with the document's fixed examples (create_repo returns Hello-World, SHAs never change);
where a test needs another state it scripts the answer through the proxy, after Prism has checked the
request. The `github_api` fixture fails the test if Prism rejected any request (422).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from nacl.public import PrivateKey, SealedBox

from assets.review_feedback.collect import read_project_feedback
from assets.reviews.merge import review_and_merge
from assets.reviews.update import StoryRegenerator
from assets.story_builds.generation import offline_generator
from resources.forge.base import FileChange, ForgeError, GitIdentity, MergeConflictError
from resources.forge.github import GitHubForge, web_url_for
from tests.support.offline_build import notes_design
from tests.support.prism import PrismProxy

pytestmark = pytest.mark.integration

TOKEN = "ghp_test_token_that_must_never_leak_0123456789"
REPO = r"/repos/octocat/shop"


def make_forge(url: str, owner: str = "octocat", **overrides: Any) -> GitHubForge:
    settings: dict[str, Any] = {
        "token": TOKEN,
        "owner": owner,
        "api_url": url,
        "max_retries": 2,
        "backoff_factor": 0.0,
        "secondary_rate_wait_seconds": 0.0,
        "seconds_between_requests": 0.0,
        "seconds_between_writes": 0.0,
        "initial_commit_wait_seconds": 0.0,
    }
    return GitHubForge(**(settings | overrides))


@pytest.fixture
def api(github_api: PrismProxy) -> PrismProxy:
    """The recording proxy to GitHub's contract (see tests/support/prism.py)."""
    return github_api


@pytest.fixture
def forge(api: PrismProxy) -> GitHubForge:
    return make_forge(api.url)


def example(proxy: PrismProxy, method: str, path_regex: str) -> Any:
    """The JSON Prism answered last for a request (its example), to build a scripted variant from."""
    return proxy.requests(method, path_regex)[-1].response_json()


# --- the contract guard itself -------------------------------------------------------------------


def test_a_request_outside_the_contract_is_caught(forge: GitHubForge, api: PrismProxy) -> None:
    with pytest.raises(ForgeError, match="422"):
        with forge._errors("deliberately bad request"):
            forge._request("POST", f"{REPO}/git/refs", {"ref": "refs/heads/x"})  # no sha
    problems = api.contract_problems()
    assert len(problems) == 1 and "sha" in problems[0]
    api.exchanges.clear()  # handled here; the fixture would fail the test otherwise


# --- repositories --------------------------------------------------------------------------------


def test_ensure_repository_finds_an_existing_one(forge: GitHubForge, api: PrismProxy) -> None:
    ref = forge.ensure_repository("shop", "A small shop")
    answer = example(api, "GET", REPO)
    assert (ref.name, ref.full_name) == ("shop", "octocat/shop")
    assert ref.default_branch == answer["default_branch"]
    assert ref.url == answer["html_url"]
    assert not api.requests("POST")


@pytest.mark.parametrize(
    ("owner", "create_path"), [("octocat", "/user/repos"), ("shop-org", "/orgs/shop-org/repos")]
)
def test_ensure_repository_creates_a_missing_one(api: PrismProxy, owner: str, create_path: str) -> None:
    forge = make_forge(api.url, owner=owner)
    api.override("GET", rf"/repos/{owner}/shop", status=404, times=1)
    ref = forge.ensure_repository("shop", "A small shop")
    created = api.requests("POST", create_path)
    assert len(created) == 1
    assert created[0].json() == {
        "name": "shop",
        "description": "A small shop",
        "private": True,
        "auto_init": True,
    }
    assert ref.full_name == f"{owner}/shop"
    # It waits for the initial commit on the default branch before anyone builds on it.
    branch = created[0].response_json()["default_branch"]
    assert api.requests("GET", rf"/repos/{owner}/shop/git/ref/heads%2F{branch}")


def test_ensure_repository_accepts_losing_a_creation_race(forge: GitHubForge, api: PrismProxy) -> None:
    api.override("GET", REPO, status=404, times=1)
    api.override("POST", "/user/repos", status=422, body={"message": "Repository creation failed."})
    ref = forge.ensure_repository("shop")
    assert ref.name == "shop"
    assert len(api.requests("GET", REPO)) == 2


# --- commits -------------------------------------------------------------------------------------


def test_commit_files_writes_blobs_tree_commit_then_creates_the_branch(
    forge: GitHubForge,
    api: PrismProxy,
) -> None:
    api.override("GET", rf"{REPO}/git/ref/heads%2Fstory%2Fs-1", status=404)
    date = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    commit = forge.commit_files(
        "shop",
        "story/s-1",
        "main",
        [
            FileChange(path="app/cart.py", content="CART = []\n"),
            FileChange(path="bin/run", content=b"\x00\x01binary", executable=True),
            FileChange(path="old.txt", delete=True),
        ],
        "S-1: cart",
        author=GitIdentity(name="Builder Bot", email="bot@example.test"),
        trailers={"Build-Key": "k1", "Story-Id": "S-1"},
        date=date,
    )
    order = [(e.method, e.path) for e in api.requests()]
    base_sha = example(api, "GET", rf"{REPO}/git/ref/heads%2Fmain")["object"]["sha"]

    blobs = api.requests("POST", rf"{REPO}/git/blobs")
    assert [base64.b64decode(b.json()["content"]) for b in blobs] == [b"CART = []\n", b"\x00\x01binary"]
    assert {b.json()["encoding"] for b in blobs} == {"base64"}

    tree = api.requests("POST", rf"{REPO}/git/trees")[0].json()
    base_commit = example(api, "GET", rf"{REPO}/git/commits/{base_sha}")
    base_tree = base_commit["tree"]["sha"]
    blob_sha = blobs[0].response_json()["sha"]
    assert tree["base_tree"] == base_tree
    assert tree["tree"] == [
        {"path": "app/cart.py", "mode": "100644", "type": "blob", "sha": blob_sha},
        {"path": "bin/run", "mode": "100755", "type": "blob", "sha": blob_sha},
        {"path": "old.txt", "mode": "100644", "type": "blob", "sha": None},
    ]

    sent = api.requests("POST", rf"{REPO}/git/commits")[0]
    signature = {"name": "Builder Bot", "email": "bot@example.test", "date": "2026-03-01T12:00:00Z"}
    assert sent.json() == {
        "message": "S-1: cart\n\nBuild-Key: k1\nStory-Id: S-1\n",
        "tree": api.requests("POST", rf"{REPO}/git/trees")[0].response_json()["sha"],
        "parents": [base_commit["sha"]],
        "author": signature,
        "committer": signature,
    }
    created_ref = api.requests("POST", rf"{REPO}/git/refs")
    assert [r.json() for r in created_ref] == [
        {"ref": "refs/heads/story/s-1", "sha": sent.response_json()["sha"]}
    ]
    assert commit.sha == sent.response_json()["sha"] and commit.trailers["Build-Key"] == "k1"
    assert commit.parents == [base_commit["sha"]]
    # The branch is written last, after every object it points at exists.
    assert order.index(("POST", f"{REPO}/git/refs")) == len(order) - 1
    assert not api.requests("PATCH")


def test_commit_files_moves_an_existing_branch(forge: GitHubForge, api: PrismProxy) -> None:
    commit = forge.commit_files("shop", "story/s-1", "main", [FileChange(path="a", content=b"1")], "redo")
    moved = api.requests("PATCH", rf"{REPO}/git/refs/heads%2Fstory%2Fs-1")
    assert [m.json() for m in moved] == [{"sha": commit.sha, "force": True}]
    assert not api.requests("POST", rf"{REPO}/git/refs")


def test_a_failure_before_the_ref_update_leaves_the_branch_alone(
    forge: GitHubForge,
    api: PrismProxy,
) -> None:
    api.override("POST", rf"{REPO}/git/commits", status=500, body={"message": "Server Error"})
    with pytest.raises(ForgeError, match="500"):
        forge.commit_files("shop", "story/s-1", "main", [FileChange(path="a", content=b"1")], "S-1")
    assert len(api.requests("POST", rf"{REPO}/git/commits")) == 3  # first try + 2 retries
    assert not api.requests("POST", rf"{REPO}/git/refs")
    assert not api.requests("PATCH")


def test_find_commit_with_trailer_trusts_only_a_matching_head(
    forge: GitHubForge,
    api: PrismProxy,
) -> None:
    assert forge.find_commit_with_trailer("shop", "story/s-1", "Build-Key", "k1") is None  # example has none
    answer = example(api, "GET", rf"{REPO}/git/commits/[0-9a-f]+")
    answer["message"] = "S-1: cart\n\nBuild-Key: k1\nStory-Id: S-1\n"
    api.override("GET", rf"{REPO}/git/commits/[0-9a-f]+", body=answer)
    found = forge.find_commit_with_trailer("shop", "story/s-1", "Build-Key", "k1")
    assert found is not None and found.branch == "story/s-1" and found.trailers["Story-Id"] == "S-1"
    assert forge.find_commit_with_trailer("shop", "story/s-1", "Build-Key", "other") is None
    api.override("GET", rf"{REPO}/git/ref/heads%2Fstory%2Fgone", status=404)
    assert forge.find_commit_with_trailer("shop", "story/gone", "Build-Key", "k1") is None


def test_read_tree_returns_every_blob(forge: GitHubForge, api: PrismProxy) -> None:
    files = forge.read_tree("shop", "main")
    tree = example(api, "GET", rf"{REPO}/git/trees/[0-9a-f]+")
    assert api.requests("GET", rf"{REPO}/git/trees/[0-9a-f]+")[0].path.endswith("?recursive=1")
    blob = example(api, "GET", rf"{REPO}/git/blobs/[0-9a-f]+")
    expected_paths = [e["path"] for e in tree["tree"] if e["type"] == "blob"]
    assert sorted(files) == sorted(expected_paths) and expected_paths
    assert set(files.values()) == {base64.b64decode(blob["content"])}


# --- pull requests and reviews -------------------------------------------------------------------


def test_open_pull_request_creates_one_with_the_story_marker(forge: GitHubForge, api: PrismProxy) -> None:
    pull = forge.open_pull_request("shop", "story/s-1", "main", "S-1: cart", "Adds a cart.", story_id="S-1")
    listed = api.requests("GET", rf"{REPO}/pulls")
    assert "head=octocat%3Astory%2Fs-1" in listed[0].path and "state=open" in listed[0].path
    sent = api.requests("POST", rf"{REPO}/pulls")
    assert len(sent) == 1
    body = sent[0].json()
    assert (body["head"], body["base"], body["title"]) == ("story/s-1", "main", "S-1: cart")
    assert body["body"].startswith("Adds a cart.") and "story-id=S-1" in body["body"]
    assert pull.number == sent[0].response_json()["number"]


def test_open_pull_request_returns_the_open_one_for_the_branch(
    forge: GitHubForge,
    api: PrismProxy,
) -> None:
    # "new-topic" is the head branch of the document's example pull request.
    listed = forge.list_pull_requests("shop")[0]
    pull = forge.open_pull_request("shop", "new-topic", listed.base, listed.title)
    assert pull.branch == "new-topic"
    assert not api.requests("POST", rf"{REPO}/pulls")
    assert not api.requests("PATCH"), "nothing changed: no write"


def test_a_rebuilt_storys_pull_request_gets_its_new_base_title_and_body(
    forge: GitHubForge, api: PrismProxy
) -> None:
    pull = forge.open_pull_request(
        "shop", "new-topic", "story/s-0", "S-1: cart with totals", "Covered by tests: AC1", story_id="S-1"
    )
    assert not api.requests("POST", rf"{REPO}/pulls")
    [sent] = api.requests("PATCH", rf"{REPO}/pulls/\d+$")
    body = sent.json()
    assert (body["base"], body["title"]) == ("story/s-0", "S-1: cart with totals")
    assert body["body"].startswith("Covered by tests: AC1") and "story-id=S-1" in body["body"]
    assert pull.branch == "new-topic"
    # The listing no longer filters by base: an open pull request on the old base is found.
    listed = api.requests("GET", rf"{REPO}/pulls")[0]
    assert "base=" not in listed.path and "head=octocat%3Anew-topic" in listed.path


def test_open_pull_request_survives_a_duplicate_race(forge: GitHubForge, api: PrismProxy) -> None:
    api.override("GET", rf"{REPO}/pulls", body=[], times=1)
    api.override("POST", rf"{REPO}/pulls", status=422, body={"message": "A pull request already exists"})
    pull = forge.open_pull_request("shop", "new-topic", "master", "again")
    assert pull.branch == "new-topic"
    assert len(api.requests("GET", rf"{REPO}/pulls")) == 2


def test_list_pull_requests_maps_states_and_story_ids(forge: GitHubForge, api: PrismProxy) -> None:
    merged = forge.list_pull_requests("shop")
    assert merged and merged[0].state == "merged"  # the example has merged_at set
    answer = example(api, "GET", rf"{REPO}/pulls")
    open_one = answer[0] | {
        "merged_at": None,
        "state": "open",
        "body": "Cart.\n\n<!-- ai-pipeline:story-id=S-9 -->",
    }
    closed = answer[0] | {"merged_at": None, "state": "closed", "number": 2}
    api.override("GET", rf"{REPO}/pulls", body=[open_one, closed])
    pulls = forge.list_pull_requests("shop")
    assert [(p.state, p.story_id) for p in pulls] == [("open", "S-9"), ("closed", None)]
    assert pulls[0].head_sha == answer[0]["head"]["sha"]


def test_reviews_are_read_and_written(forge: GitHubForge, api: PrismProxy) -> None:
    reviews = forge.get_reviews("shop", 7)
    answer = example(api, "GET", rf"{REPO}/pulls/7/reviews")
    assert [(r.author, r.body) for r in reviews] == [(a["user"]["login"], a["body"]) for a in answer]
    api.override(
        "GET",
        rf"{REPO}/pulls/7/reviews",
        body=[
            answer[0] | {"state": s}
            for s in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
        ],
    )
    assert [r.state for r in forge.get_reviews("shop", 7)] == ["approved", "changes_requested", "commented"]

    forge.add_review("shop", 7, "approved", "Looks good.")
    forge.add_review("shop", 7, "changes_requested", "Rename the module.")
    forge.add_review("shop", 7, "commented", "A thought.")
    with pytest.raises(ValueError):
        forge.add_review("shop", 7, "changes_requested", "")
    sent = [e.json() for e in api.requests("POST", rf"{REPO}/pulls/7/reviews")]
    assert [(s["event"], s["body"]) for s in sent] == [
        ("APPROVE", "Looks good."),
        ("REQUEST_CHANGES", "Rename the module."),
        ("COMMENT", "A thought."),
    ]


def test_comments_are_written_to_the_conversation_and_read_with_the_diff_ones(
    forge: GitHubForge, api: PrismProxy
) -> None:
    written = forge.comment_on_pull_request("shop", 7, "The offline provider cannot act on this.")
    (sent,) = api.requests("POST", rf"{REPO}/issues/7/comments")
    assert sent.json() == {"body": "The offline provider cannot act on this."}
    answer = example(api, "POST", rf"{REPO}/issues/7/comments")
    assert (written.id, written.author) == (str(answer["id"]), answer["user"]["login"])

    comments = forge.list_comments("shop", 7)
    conversation = example(api, "GET", rf"{REPO}/issues/7/comments")
    on_diff = example(api, "GET", rf"{REPO}/pulls/7/comments")
    assert sorted((c.id, c.path) for c in comments) == sorted(
        [(str(c["id"]), None) for c in conversation] + [(str(c["id"]), c["path"]) for c in on_diff]
    )
    with pytest.raises(ValueError):
        forge.comment_on_pull_request("shop", 7, "")

    # The pipeline's own comment is found by its key and not written twice; a person's is not its.
    mine = conversation[0] | {"body": "Noted.\n\n<!-- ai-pipeline:comment=note-1 -->\n"}
    api.override("GET", rf"{REPO}/issues/7/comments", body=[conversation[0], mine])
    api.override("GET", rf"{REPO}/pulls/7/comments", body=[])
    found = forge.comment_once("shop", 7, "Noted.", "note-1")
    assert found.pipeline_key == "note-1" and len(api.requests("POST", rf"{REPO}/issues/7/comments")) == 1
    assert [c.pipeline_key for c in forge.list_comments("shop", 7)] == [None, "note-1"]


def test_review_feedback_is_read_from_github_reviews_and_comments(
    forge: GitHubForge, api: PrismProxy
) -> None:
    forge.list_pull_requests("shop")
    [pull, *_] = example(api, "GET", rf"{REPO}/pulls")
    marker = "<!-- ai-pipeline:story-id=S-1 -->"
    api.override(
        "GET",
        rf"{REPO}/pulls",
        body=[pull | {"number": 7, "merged_at": None, "state": "open", "body": marker}],
    )
    forge.get_reviews("shop", 7)
    forge.list_comments("shop", 7)
    review = example(api, "GET", rf"{REPO}/pulls/7/reviews")[0]
    said = example(api, "GET", rf"{REPO}/issues/7/comments")[0]
    on_diff = example(api, "GET", rf"{REPO}/pulls/7/comments")[0]
    api.override(
        "GET",
        rf"{REPO}/pulls/7/reviews",
        body=[
            review
            | {
                "state": "CHANGES_REQUESTED",
                "body": "Rename the module.",
                "submitted_at": "2026-01-01T10:00:00Z",
            },
            review | {"state": "APPROVED", "body": "", "submitted_at": "2026-01-01T12:00:00Z"},
        ],
    )
    api.override(
        "GET",
        rf"{REPO}/issues/7/comments",
        body=[
            said
            | {
                "body": "Given a cart, when I pay, then I get a receipt",
                "created_at": "2026-01-01T11:00:00Z",
            },
            said | {"body": "Noted.\n\n<!-- ai-pipeline:comment=k -->", "created_at": "2026-01-01T11:30:00Z"},
        ],
    )
    api.override(
        "GET",
        rf"{REPO}/pulls/7/comments",
        body=[on_diff | {"body": "typo", "created_at": "2026-01-01T11:15:00Z"}],
        times=2,
    )
    feedback = read_project_feedback(forge, "shop")
    [story] = feedback.stories
    assert story.story_id == "S-1" and story.pull_requests == [7]
    assert [(item.kind, item.body, item.path) for item in story.items] == [
        ("changes_requested", "Rename the module.", None),
        ("comment", "Given a cart, when I pay, then I get a receipt", None),
        ("comment", "typo", on_diff["path"]),
    ]
    assert [approval.author for approval in story.approvals] == [review["user"]["login"]]
    # Read again, the same feedback has the same version; a diff comment taken back changes it.
    assert read_project_feedback(forge, "shop").data_version() == feedback.data_version()
    api.override("GET", rf"{REPO}/pulls/7/comments", body=[])
    assert read_project_feedback(forge, "shop").data_version() != feedback.data_version()


def test_a_merge_github_refuses_is_a_conflict_never_forced(forge: GitHubForge, api: PrismProxy) -> None:
    forge.get_pull_request("shop", 7)
    pull = example(api, "GET", rf"{REPO}/pulls/7")
    api.override("GET", rf"{REPO}/pulls/7", body=pull | {"merged_at": None, "state": "open"})
    api.override(
        "PUT", rf"{REPO}/pulls/7/merge", status=405, body={"message": "Pull Request is not mergeable"}
    )
    with pytest.raises(MergeConflictError, match="not mergeable"):
        forge.merge_pull_request("shop", 7)
    assert len(api.requests("PUT", rf"{REPO}/pulls/7/merge")) == 1  # asked once, never forced


def test_merge_sends_the_reviewed_head(forge: GitHubForge, api: PrismProxy) -> None:
    assert forge.merge_pull_request("shop", 7).state == "merged"  # the example is already merged
    assert not api.requests("PUT")
    answer = example(api, "GET", rf"{REPO}/pulls/7")
    api.override(
        "GET", rf"{REPO}/pulls/7", body=answer | {"merged": False, "merged_at": None, "state": "open"}
    )
    merged = forge.merge_pull_request("shop", 7)
    put = api.requests("PUT", rf"{REPO}/pulls/7/merge")
    assert [p.json() for p in put] == [{"merge_method": "merge", "sha": answer["head"]["sha"]}]
    assert merged.state == "merged" and merged.merge_sha == put[0].response_json()["sha"]


# --- bringing a story branch up to date with main -------------------------------------------------

MAIN_SHA = "b" * 40


def _main_elsewhere(
    forge: GitHubForge, api: PrismProxy, head_message: str | None = None, main_branch: str = "main"
) -> str:
    """`main_branch` at MAIN_SHA (Prism's examples put every ref at one commit, whatever sha is asked
    for), the branch head's commit answered as itself (with `head_message`, if given); returns the head."""
    head = forge.branch_head("shop", "story/s-1") or ""
    ref = example(api, "GET", rf"{REPO}/git/ref/heads%2Fstory%2Fs-1")
    main = ref | {"ref": f"refs/heads/{main_branch}", "object": ref["object"] | {"sha": MAIN_SHA}}
    api.override("GET", rf"{REPO}/git/ref/heads%2F{main_branch}", body=main)
    forge.get_commit("shop", head)
    commit = example(api, "GET", rf"{REPO}/git/commits/{head}")
    api.override("GET", rf"{REPO}/git/commits/{MAIN_SHA}", body=commit | {"sha": MAIN_SHA})
    itself = commit | {"sha": head} | ({"message": head_message} if head_message else {})
    api.override("GET", rf"{REPO}/git/commits/{head}", body=itself)
    return head


def test_commit_merge_writes_a_commit_with_both_parents_and_moves_the_branch_unforced(
    forge: GitHubForge, api: PrismProxy
) -> None:
    head = _main_elsewhere(forge, api)
    api.exchanges.clear()
    update = forge.commit_merge(
        "shop",
        "story/s-1",
        head,
        "main",
        [FileChange(path="README.md", content="both\n"), FileChange(path="old.txt", delete=True)],
        "Bring story/s-1 up to date with main",
        trailers={"Story-Id": "S-1", "Build-Key": "k1"},
        date=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )
    head_commit = example(api, "GET", rf"{REPO}/git/commits/{head}")
    [tree] = api.requests("POST", rf"{REPO}/git/trees")
    assert tree.json()["base_tree"] == head_commit["tree"]["sha"]  # the branch head's tree, changed
    assert [(e["path"], e["sha"] is None) for e in tree.json()["tree"]] == [
        ("README.md", False),
        ("old.txt", True),
    ]
    [sent] = api.requests("POST", rf"{REPO}/git/commits")
    assert sent.json()["parents"] == [head, MAIN_SHA]
    assert sent.json()["message"] == "Bring story/s-1 up to date with main\n\nStory-Id: S-1\nBuild-Key: k1\n"
    assert sent.json()["tree"] == tree.response_json()["sha"]
    # The branch moves to it without force (GitHub refuses anything but a fast-forward), last.
    [moved] = api.requests("PATCH", rf"{REPO}/git/refs/heads%2Fstory%2Fs-1")
    assert moved.json() == {"sha": sent.response_json()["sha"], "force": False}
    assert api.requests()[-1] is moved and not api.requests("POST", rf"{REPO}/git/refs")
    assert update.sha == sent.response_json()["sha"] and update.parents == [head, MAIN_SHA]


def test_commit_merge_leaves_a_branch_that_moved_alone(forge: GitHubForge, api: PrismProxy) -> None:
    head = forge.branch_head("shop", "story/s-1") or ""
    with pytest.raises(ForgeError, match="not " + "c" * 40):
        forge.commit_merge("shop", "story/s-1", "c" * 40, "main", [FileChange(path="a", content="1")], "up")
    assert head != "c" * 40
    assert not api.requests("POST") and not api.requests("PATCH")


def test_an_approved_conflicting_pull_request_is_brought_up_to_date_and_merged_on_github(
    forge: GitHubForge, api: PrismProxy
) -> None:
    requirements, architecture = notes_design()
    story = requirements.stories[0].id
    main = forge.default_branch("shop")  # the example repository's
    # The branch head is the pipeline's build of the story.
    head = _main_elsewhere(forge, api, f"{story}: build\n\nStory-Id: {story}\nBuild-Key: k1\n", main)
    forge.list_pull_requests("shop")
    listed = example(api, "GET", rf"{REPO}/pulls")[0]
    number = listed["number"]
    pull = listed | {
        "merged_at": None,
        "state": "open",
        "body": f"Notes.\n\n<!-- ai-pipeline:story-id={story} -->",
        "head": listed["head"] | {"ref": "story/s-1", "sha": head},
        "base": listed["base"] | {"ref": main},
    }
    api.override("GET", rf"{REPO}/pulls", body=[pull])
    api.override("GET", rf"{REPO}/pulls/{number}", body=pull)
    forge.get_reviews("shop", number)
    review = example(api, "GET", rf"{REPO}/pulls/{number}/reviews")[0]
    api.override("GET", rf"{REPO}/pulls/{number}/reviews", body=[review | {"state": "APPROVED"}])
    api.override(
        "PUT", rf"{REPO}/pulls/{number}/merge", status=405, body={"message": "not mergeable"}, times=1
    )
    api.exchanges.clear()

    regenerator = StoryRegenerator(
        generator=offline_generator(architecture, requirements), feedback={}, build_keys={story: "k1"}
    )
    report = review_and_merge(
        forge, "shop", requirements, regenerator=lambda: regenerator, merge_retry_seconds=()
    )

    [record] = report.pulls
    assert record.state == "merged" and record.merged_in_this_run and not record.conflict, record.problem
    [sent] = api.requests("POST", rf"{REPO}/git/commits")
    assert sent.json()["parents"] == [head, MAIN_SHA]
    assert (
        f"up to date with {main}" in sent.json()["message"] and f"Story-Id: {story}" in sent.json()["message"]
    )
    assert record.updated_with_main == sent.response_json()["sha"]
    # The story regenerated on main's tree: its manifest and README among the files written.
    written = {e["path"] for e in api.requests("POST", rf"{REPO}/git/trees")[0].json()["tree"]}
    assert {".ai-pipeline/manifest.json", "README.md"} <= written
    assert ".ai-pipeline/manifest.json" in record.files_regenerated
    [moved] = api.requests("PATCH", rf"{REPO}/git/refs/heads%2Fstory%2Fs-1")
    assert moved.json()["force"] is False
    merges = api.requests("PUT", rf"{REPO}/pulls/{number}/merge")
    assert [m.status for m in merges] == [405, 200]
    order = api.requests()
    assert order.index(merges[0]) < order.index(moved) < order.index(merges[1])


# --- secrets -------------------------------------------------------------------------------------


def test_secrets_are_sealed_for_the_repository_key(forge: GitHubForge, api: PrismProxy) -> None:
    # The document's example key is 33 bytes, which no sealed box accepts: serve a real one instead.
    private = PrivateKey.generate()
    key = {"key_id": "568250167242549743", "key": base64.b64encode(bytes(private.public_key)).decode()}
    api.override("GET", rf"{REPO}/actions/secrets/public-key", body=key)
    forge.set_actions_secret("shop", "DEPLOY_TOKEN", "s3cr3t-deploy-value")
    put = api.requests("PUT", rf"{REPO}/actions/secrets/DEPLOY_TOKEN")
    assert len(put) == 1 and put[0].json()["key_id"] == key["key_id"]
    sealed = base64.b64decode(put[0].json()["encrypted_value"])
    assert SealedBox(private).decrypt(sealed) == b"s3cr3t-deploy-value"
    assert b"s3cr3t-deploy-value" not in put[0].request_body


def test_the_example_key_is_refused_before_anything_is_sent(forge: GitHubForge, api: PrismProxy) -> None:
    with pytest.raises(ValueError, match="33 bytes"):
        forge.set_actions_secret("shop", "DEPLOY_TOKEN", "value")
    assert not api.requests("PUT")
    with pytest.raises(ValueError):
        forge.set_actions_secret("shop", "GITHUB_TOKEN", "value")


# --- retries and rate limits (a tiny local server, not Prism) ------------------------------------


class Script:
    """Canned answers per request, in order; the last one repeats. Records what arrived."""

    def __init__(self, answers: list[tuple[int, dict[str, str], Any]]) -> None:
        self.answers = answers
        self.seen: list[tuple[str, str, dict[str, str]]] = []


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, Script]]:
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            script.seen.append((self.command, self.path, dict(self.headers.items())))
            index = min(len(script.seen), len(script.answers)) - 1
            status, headers, body = script.answers[index]
            payload = json.dumps(body).encode()
            self.send_response(status)
            for key, value in (headers | {"Content-Type": "application/json"}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()


REF_OK = (200, {}, {"ref": "refs/heads/main", "object": {"sha": "a" * 40, "type": "commit"}})
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


@pytest.mark.parametrize(
    "first",
    [
        (403, {}, {"message": SECONDARY}),
        (403, {"Retry-After": "0"}, {"message": "abuse detection"}),
        (
            403,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000"},
            {"message": "API rate limit exceeded for x"},
        ),
        (429, {"Retry-After": "0"}, {"message": "Too many requests"}),
        (502, {}, {"message": "Bad gateway"}),
    ],
    ids=["secondary-403", "retry-after-403", "primary-403", "429", "502"],
)
def test_rate_limits_and_server_errors_are_retried(flaky_server: tuple[str, Script], first: Any) -> None:
    url, script = flaky_server
    script.answers = [first, (503, {"Retry-After": "0"}, {"message": "unavailable"}), REF_OK]
    forge = make_forge(url, max_retries=3)
    assert forge.branch_head("shop", "main") == "a" * 40
    assert [path for _, path, _ in script.seen] == ["/repos/octocat/shop/git/ref/heads%2Fmain"] * 3


def test_a_plain_403_is_not_retried_and_the_token_never_leaks(
    flaky_server: tuple[str, Script], caplog: pytest.LogCaptureFixture
) -> None:
    url, script = flaky_server
    script.answers = [(403, {}, {"message": "Resource not accessible by integration"})]
    forge = make_forge(url)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ForgeError, match="403") as caught:
        forge.branch_head("shop", "main")
    assert len(script.seen) == 1
    assert re.search(
        re.escape(TOKEN), script.seen[0][2].get("Authorization", "")
    )  # it is sent, to GitHub only
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value.__cause__)
    assert TOKEN not in repr(forge) and TOKEN not in str(forge)
    assert TOKEN not in caplog.text


def test_a_long_primary_rate_limit_fails_instead_of_sleeping(flaky_server: tuple[str, Script]) -> None:
    url, script = flaky_server
    reset = str(int(datetime.now(UTC).timestamp()) + 3600)
    script.answers = [
        (
            403,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
            {"message": "API rate limit exceeded"},
        )
    ]
    forge = make_forge(url, max_rate_limit_wait_seconds=5.0)
    with pytest.raises(ForgeError, match="403"):
        forge.branch_head("shop", "main")
    assert len(script.seen) == 1


def test_persistent_server_errors_give_up_after_the_retries(flaky_server: tuple[str, Script]) -> None:
    url, script = flaky_server
    script.answers = [(500, {}, {"message": "boom"})]
    with pytest.raises(ForgeError, match="500"):
        make_forge(url, max_retries=2).branch_head("shop", "main")
    assert len(script.seen) == 3


def test_web_urls_follow_the_api_url() -> None:
    assert web_url_for("https://api.github.com") == "https://github.com"
    assert web_url_for("https://ghe.example.com/api/v3/") == "https://ghe.example.com"
    assert make_forge("https://api.github.com").repository_url("shop") == "https://github.com/octocat/shop"
