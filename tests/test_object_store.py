"""ObjectStore behaviour, the local folder against real S3 servers (SeaweedFS, and moto for AWS order)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from resources.object_store import (
    LocalObjectStore,
    ObjectStore,
    S3ObjectStore,
    UnsafeKeyError,
    check_key,
    object_store_from_url,
)
from tests.support.seaweedfs import S3Bucket

# Keys whose UTF-8 byte order differs from a folder-by-folder walk: '-' and '.' sort before '/'.
KEYS = [
    "a/x",
    "a-b/x",
    "a.txt",
    "a/x.pdf",
    "a/y/z",
    "a/y-z",
    "a0/q",
    "B/x",
    "b/é.txt",
    "b/\uff61",
    "b/\U0001f600",
    "p/a b.pdf",
]
BYTE_ORDER = sorted(KEYS, key=lambda key: key.encode("utf-8"))
# Keys for which every S3 server agrees on the order.
PLAIN_KEYS = ["B/x", "a/x", "a/x.pdf", "a/y/z", "a0/q", "b/é.txt", "b/\uff61", "b/\U0001f600", "p/a b.pdf"]

UNSAFE_KEYS = [
    "",
    "/abs",
    "a\\b",
    "..",
    "../x",
    "proj/../../etc",
    "./x",
    "a//b",
    "a/",
    ".hidden/x",
    "proj/.git/x",
    "a\nb",
    "a\x00b",
    "a\x7fb",
]


def fill(store: ObjectStore, keys: list[str]) -> None:
    for key in keys:
        store.put_bytes(key, key.encode("utf-8"))


def listed(store: ObjectStore, **kwargs: str | int) -> list[str]:
    return [info.key for info in store.list_page(**kwargs)]  # type: ignore[arg-type]


StoreFactory = Callable[[], ObjectStore]


@pytest.fixture(params=["local", "seaweedfs", "seaweedfs-prefix", "aws", "aws-prefix"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A fresh empty store of each kind (S3 ones with and without a bucket prefix)."""
    kind: str = request.param
    if kind == "local":
        return lambda: LocalObjectStore(root=str(tmp_path / "store"))
    bucket: S3Bucket = request.getfixturevalue("s3_bucket" if kind.startswith("seaweedfs") else "aws_bucket")
    return lambda: bucket.store(prefix="inbox/sub" if kind.endswith("prefix") else "")


@pytest.fixture
def store(store_factory: StoreFactory) -> ObjectStore:
    return store_factory()


def test_listing_is_in_byte_order_on_local_and_aws(tmp_path: Path, aws_bucket: S3Bucket) -> None:
    local = LocalObjectStore(root=str(tmp_path / "store"))
    aws = aws_bucket.store()
    fill(local, KEYS)
    fill(aws, KEYS)
    assert listed(local) == BYTE_ORDER
    assert listed(aws) == BYTE_ORDER
    # Any start_after, a key or not, means the same for both: keys sorting after it.
    probes = sorted({key[:cut] for key in KEYS for cut in range(len(key) + 1)} | {"a/", "a/y/", "a-", "~"})
    for start_after in probes:
        expected = [key for key in BYTE_ORDER if key.encode() > start_after.encode()]
        assert listed(local, start_after=start_after) == expected, start_after
        assert listed(aws, start_after=start_after) == expected, start_after
    for prefix in ["a", "a/", "a-", "a/y", "b/", "zzz"]:
        expected = [key for key in BYTE_ORDER if key.startswith(prefix)]
        assert listed(local, prefix=prefix) == expected
        assert listed(aws, prefix=prefix) == expected
        assert listed(local, prefix=prefix, start_after="a/x") == listed(
            aws, prefix=prefix, start_after="a/x"
        )


def test_local_and_seaweedfs_agree_where_s3_servers_agree(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    local = LocalObjectStore(root=str(tmp_path / "store"))
    s3 = s3_bucket.store()
    fill(local, PLAIN_KEYS)
    fill(s3, PLAIN_KEYS)
    expected = sorted(PLAIN_KEYS, key=str.encode)
    assert listed(local) == listed(s3) == expected
    for start_after in expected:
        assert listed(local, start_after=start_after) == listed(s3, start_after=start_after)
    assert [info.key for info in s3.iter_objects(page_size=2)] == expected


@pytest.mark.xfail(
    strict=True, reason="SeaweedFS 4.48 lists folder by folder (a/x before a-b/x), AWS S3 by UTF-8 bytes"
)
def test_seaweedfs_lists_in_byte_order(s3_bucket: S3Bucket) -> None:
    s3 = s3_bucket.store()
    fill(s3, KEYS)
    assert listed(s3) == BYTE_ORDER


def test_paging_from_any_listed_key_continues_right_after_it(store: ObjectStore) -> None:
    """What listing code may rely on with every server: start_after=<listed key>, folders contiguous."""
    fill(store, KEYS)
    full = listed(store)
    assert sorted(full) == sorted(KEYS)
    for index, key in enumerate(full):
        assert listed(store, start_after=key) == full[index + 1 :], key
        assert listed(store, start_after=key, max_keys=2) == full[index + 1 : index + 3]
    assert [info.key for info in store.iter_objects(page_size=3)] == full
    for folder in {key.split("/")[0] for key in KEYS if "/" in key}:
        positions = [index for index, key in enumerate(full) if key.startswith(folder + "/")]
        assert positions == list(range(positions[0], positions[-1] + 1)), folder
        assert listed(store, prefix=folder + "/") == [full[index] for index in positions]


def test_put_get_head_delete(store: ObjectStore) -> None:
    assert store.head("p/missing.txt") is None
    assert not store.exists("p/missing.txt")
    with pytest.raises(FileNotFoundError):
        store.get_bytes("p/missing.txt")
    store.delete("p/missing.txt")  # deleting what is not there is not an error

    store.put_bytes("p/doc.md", b"# Title\n")
    store.put_text("p/notes/é.json", '{"a": "é"}')
    assert store.get_bytes("p/doc.md") == b"# Title\n"
    assert store.get_text("p/notes/é.json") == '{"a": "é"}'
    head = store.head("p/doc.md")
    assert head is not None and head.key == "p/doc.md" and head.size == 8
    listing = {info.key: info for info in store.list_page(prefix="p/")}
    assert set(listing) == {"p/doc.md", "p/notes/é.json"}
    assert listing["p/doc.md"].etag == head.etag
    assert listing["p/notes/é.json"].size == len('{"a": "é"}'.encode())

    store.delete("p/doc.md")
    assert store.head("p/doc.md") is None
    assert listed(store) == ["p/notes/é.json"]


def test_etag_changes_on_overwrite(store: ObjectStore) -> None:
    store.put_bytes("p/a.txt", b"version 1")
    first = store.head("p/a.txt")
    store.put_bytes("p/a.txt", b"version 2")  # same size, other bytes
    second = store.head("p/a.txt")
    assert first is not None and second is not None
    assert first.etag != second.etag
    assert [info.etag for info in store.list_page()] == [second.etag]


def test_etag_is_the_content_md5_so_identical_bytes_keep_it(store: ObjectStore) -> None:
    """Re-saving identical content must not look like a change (it would start a second run)."""
    import hashlib

    store.put_bytes("p/a.txt", b"same bytes")
    first = store.head("p/a.txt")
    store.put_bytes("p/a.txt", b"same bytes")
    assert first is not None and first.etag == hashlib.md5(b"same bytes").hexdigest()
    again = store.head("p/a.txt")
    assert again is not None and (again.key, again.etag, again.size) == (first.key, first.etag, first.size)
    assert [info.etag for info in store.list_page()] == [first.etag]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_check_key_rejects_unsafe_keys(key: str) -> None:
    with pytest.raises(UnsafeKeyError):
        check_key(key)


@pytest.mark.parametrize("key", ["p/a b.pdf", "p/é/x.txt", "p/x.y.z", "p/x..y", "p/x.", "p/-x", "a"])
def test_check_key_accepts_ordinary_keys(key: str) -> None:
    assert check_key(key) == key


def test_stores_refuse_unsafe_keys_and_write_nothing(store: ObjectStore) -> None:
    for key in UNSAFE_KEYS:
        with pytest.raises(UnsafeKeyError):
            store.put_bytes(key, b"x")
        with pytest.raises(UnsafeKeyError):
            store.get_bytes(key)
        with pytest.raises(UnsafeKeyError):
            store.head(key)
        with pytest.raises(UnsafeKeyError):
            store.delete(key)
    assert listed(store) == []


def test_local_store_never_escapes_its_root(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path / "root"))
    with pytest.raises(UnsafeKeyError):
        store.put_bytes("../outside.txt", b"x")
    assert not (tmp_path / "outside.txt").exists()


def test_local_listing_hides_in_flight_and_hidden_files(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    store.put_bytes("p/a.txt", b"a")
    (tmp_path / "p" / ".a.txt.123.partial").write_bytes(b"half")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x").write_bytes(b"x")
    assert listed(store) == ["p/a.txt"]


@pytest.mark.parametrize("root", ["", "inbox", "/inbox/sub/"])
def test_s3_prefix_scopes_every_operation(s3_bucket: S3Bucket, root: str) -> None:
    client = s3_bucket.client
    outside = ["inboxes/x.txt", "other/y.txt", "inbox.txt"]
    for key in outside:
        client.put_object(Bucket=s3_bucket.name, Key=key, Body=b"outside")
    store = s3_bucket.store(prefix=root)
    base = root.strip("/")
    full = f"{base}/p/doc.md" if base else "p/doc.md"

    store.put_bytes("p/doc.md", b"doc")
    assert client.get_object(Bucket=s3_bucket.name, Key=full)["Body"].read() == b"doc"
    assert store.url() == f"s3://{s3_bucket.name}/{base}".rstrip("/")
    assert store.get_bytes("p/doc.md") == b"doc"
    assert store.head("p/doc.md") is not None
    # A folder marker (what the S3 console's "Create folder" makes) is not an object.
    marker = f"{base}/p/empty/" if base else "p/empty/"
    client.put_object(Bucket=s3_bucket.name, Key=marker, Body=b"")
    if base:
        assert listed(store) == ["p/doc.md"]
    else:
        assert listed(store) == ["inbox.txt", "inboxes/x.txt", "other/y.txt", "p/doc.md"]
    assert listed(store, prefix="p/") == ["p/doc.md"]
    store.delete("p/doc.md")
    assert client.list_objects_v2(Bucket=s3_bucket.name, Prefix=full).get("KeyCount") == 0
    remaining = client.list_objects_v2(Bucket=s3_bucket.name)["Contents"]
    assert sorted(item["Key"] for item in remaining) == sorted([*outside, marker])


def test_store_urls_map_to_their_implementation(tmp_path: Path) -> None:
    s3 = object_store_from_url("s3://bucket/inbox/sub/")
    assert isinstance(s3, S3ObjectStore) and (s3.bucket, s3.prefix) == ("bucket", "inbox/sub")
    local = object_store_from_url((tmp_path / "inbox").as_uri())
    assert isinstance(local, LocalObjectStore) and Path(local.root) == tmp_path / "inbox"
    with pytest.raises(ValueError, match="names no bucket"):
        object_store_from_url("s3:///inbox")


def test_the_fast_listing_path_reads_what_botocore_reads_and_scan_page_what_list_page_lists(
    store: ObjectStore,
) -> None:
    keys = [*KEYS, "q/&amp; <odd> 'quoted' \"key\".md", "q/ünïcode ✓.md"]
    fill(store, keys)
    listing = store.list_page()
    assert store.scan_page() == [(info.key, info.etag, info.modified) for info in listing]
    assert store.scan_page(start_after=listing[2].key, max_keys=3) == [
        (info.key, info.etag, info.modified) for info in listing[3:6]
    ]
    if not isinstance(store, S3ObjectStore):
        return
    import botocore.session

    # The same answer through botocore's own parser: every field the fast path reads is equal.
    session = botocore.session.get_session()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    plain = session.create_client(
        "s3", region_name=store.client.meta.region_name, endpoint_url=store.client.meta.endpoint_url
    )
    reference_page = plain.list_objects_v2(Bucket=store.bucket, Prefix=store._full(""), MaxKeys=5)
    fast_page = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store._full(""), MaxKeys=5)
    rest = {name: value for name, value in fast_page.items() if name not in ("Contents", "ResponseMetadata")}
    assert rest == {
        name: value for name, value in reference_page.items() if name not in ("Contents", "ResponseMetadata")
    }
    assert rest["IsTruncated"] and rest["KeyCount"] == 5  # the page's other members, through botocore
    reference = plain.list_objects_v2(Bucket=store.bucket, Prefix=store._full(""))["Contents"]
    fast = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store._full(""))["Contents"]
    fields = ("Key", "ETag", "Size", "LastModified", "StorageClass")
    assert [{f: e.get(f) for f in fields} for e in fast] == [{f: e.get(f) for f in fields} for e in reference]
    assert {e["Key"] for e in fast} >= {store._full(key) for key in keys}


LISTING = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    "<Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
    "<Contents><Key>p/a.md</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>"
    "<ETag>&quot;abc&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "</ListBucketResult>"
)


def test_a_listing_answered_200_with_an_error_or_cut_short_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """S3 may answer 200 with an <Error> body, or a body cut short by the network: botocore retries
    both as server errors, and so does the store's listing path (which parses the body only once)."""
    import http.server
    import threading

    answers = [
        "<Error><Code>InternalError</Code><Message>try again</Message></Error>",
        LISTING[: len(LISTING) // 2],
        LISTING,
    ]
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = answers[min(len(asked), len(answers)) - 1].encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        store = S3ObjectStore(bucket="b", endpoint_url=endpoint, region_name="us-east-1")
        assert store.scan_page() == [("p/a.md", "abc", 1767323045.0)]
        assert len(asked) == 3 and all("list-type=2" in path for path in asked)
    finally:
        server.shutdown()
        server.server_close()
