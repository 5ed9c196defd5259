"""Object store: the watched inbox and the artifact store, as a local folder or an S3 bucket.

Keys are always relative to the store's root (folder or bucket prefix) and use `/` separators.
Listings are sorted by key the way AWS S3 sorts them (by UTF-8 bytes), so a cursor (`start_after`)
means the same thing for both implementations. Some S3-compatible servers walk a directory tree
instead: SeaweedFS lists `a/x` before `a-b/x` (AWS and the local folder: `a-b/x` first). Code that
pages through a listing may therefore rely only on two things that hold everywhere: `start_after`
set to a key of the listing continues right after that key, and the keys under one folder are
contiguous.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import os
import re
import stat as stat_module
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

import dagster as dg
from pydantic import BaseModel, PrivateAttr


class UnsafeKeyError(ValueError):
    """A key that would escape the store's root or names a hidden or empty segment."""


_CONTROL_CHARACTERS = frozenset(chr(code) for code in (*range(32), 127))


# A safe key in one match: segments that are not empty and do not start with '.', no backslash, no
# control character (what the checks below say one by one, with the reason, for any other key).
_SAFE_SEGMENT = r"[^/\\.\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*"
_SAFE_KEY = re.compile(rf"(?:{_SAFE_SEGMENT}/)*{_SAFE_SEGMENT}")


def safe_key(key: str) -> bool:
    """Whether `check_key` accepts `key`, in one match (for hot loops over listings)."""
    return _SAFE_KEY.fullmatch(key) is not None


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative key, else raise UnsafeKeyError with the reason."""
    if _SAFE_KEY.fullmatch(key):
        return key
    if not key:
        raise UnsafeKeyError("empty key")
    if key.startswith("/") or "\\" in key:
        raise UnsafeKeyError(f"key {key!r} is absolute or contains a backslash")
    if not _CONTROL_CHARACTERS.isdisjoint(key):
        raise UnsafeKeyError(f"key {key!r} contains a control character")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise UnsafeKeyError(f"key {key!r} has an empty, '.' or '..' segment")
        if segment.startswith("."):
            raise UnsafeKeyError(f"key {key!r} has a hidden segment {segment!r}")
    return key


class ObjectInfo(BaseModel):
    """One object as a listing shows it."""

    key: str
    etag: str
    size: int
    # When the object last changed (Unix seconds, the store's clock), or None if the store does not say.
    modified: float | None = None
    # A local folder can hold what is not a file; it is listed (so it can be refused with a reason)
    # but never read or followed.
    kind: Literal["file", "symlink", "special"] = "file"


# (key, ETag, modification time or None): one listed object, as `ObjectStore.scan_page` gives it.
ListedKey = tuple[str, str, float | None]


class NotARegularFileError(OSError):
    """The key names a symbolic link, a special file, or a path through a linked folder."""


def s3_time(value: object) -> float | None:
    """LastModified as S3 returns it (ISO string unparsed, or a datetime) in Unix seconds."""
    if isinstance(value, str):  # first: what every entry of a listing gives
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            try:
                return parsedate_to_datetime(value).timestamp()  # a HEAD answer's HTTP date
            except (TypeError, ValueError):
                return None
    if isinstance(value, datetime):
        return value.timestamp()
    return None


class ObjectStore(dg.ConfigurableResource, ABC):
    """A flat namespace of byte objects under one root."""

    @abstractmethod
    def url(self) -> str:
        """Where this store lives, for people (file:///... or s3://bucket/prefix)."""

    @abstractmethod
    def list_page(self, prefix: str = "", start_after: str = "", max_keys: int = 1000) -> list[ObjectInfo]:
        """Up to `max_keys` objects whose key starts with `prefix` and sorts after `start_after`."""

    def scan_page(self, start_after: str = "", max_keys: int = 1000) -> list[ListedKey]:
        """`list_page` as (key, ETag, modification time) tuples: what the bucket sensor reads of tens
        of thousands of objects a tick, without a model per object (a store may list it faster)."""
        return [(info.key, info.etag, info.modified) for info in self.list_page("", start_after, max_keys)]

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """The object's listing entry, or None if it does not exist."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The object's content; raises FileNotFoundError if it does not exist."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write the object atomically (readers never see a half-written object)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object if it exists."""

    def iter_objects(
        self, prefix: str = "", start_after: str = "", page_size: int = 1000
    ) -> Iterator[ObjectInfo]:
        """Every object under `prefix`, page by page."""
        while True:
            page = self.list_page(prefix=prefix, start_after=start_after, max_keys=page_size)
            yield from page
            if len(page) < page_size:
                return
            start_after = page[-1].key

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def get_text(self, key: str) -> str:
        return self.get_bytes(key).decode("utf-8")

    def put_text(self, key: str, text: str, content_type: str = "application/json") -> None:
        self.put_bytes(key, text.encode("utf-8"), content_type=content_type)


# MD5 of each local file, remembered by (path, inode, size, mtime) so a listing hashes only new or
# touched files: re-saving identical content keeps the ETag, as S3's content MD5 does.
_ETAG_CACHE: dict[tuple[str, int, int, int], str] = {}
_ETAG_CACHE_LIMIT = 500_000


def _local_etag(path: str, stat: os.stat_result) -> str:
    cache_key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    etag = _ETAG_CACHE.get(cache_key)
    if etag is None:
        digest = hashlib.md5(usedforsecurity=False)
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            return f"{stat.st_size:x}-{stat.st_mtime_ns:x}"  # unreadable now; the reader reports why
        etag = digest.hexdigest()
        if len(_ETAG_CACHE) >= _ETAG_CACHE_LIMIT:
            _ETAG_CACHE.clear()
        _ETAG_CACHE[cache_key] = etag
    return etag


class LocalObjectStore(ObjectStore):
    """A folder on disk. The ETag is the content's MD5, as on S3 (cached by size and mtime)."""

    root: str

    def url(self) -> str:
        return self._root().as_uri()

    def _root(self) -> Path:
        return Path(self.root).resolve()

    def _path(self, key: str) -> Path:
        return self._root().joinpath(*check_key(key).split("/"))

    @staticmethod
    def _info(key: str, path: str, stat: os.stat_result) -> ObjectInfo:
        if not stat_module.S_ISREG(stat.st_mode):
            kind = "symlink" if stat_module.S_ISLNK(stat.st_mode) else "special"
            # Identified by its own metadata, never by what it points at (nothing is read through it).
            etag = f"{kind}-{stat.st_ino:x}-{stat.st_mtime_ns:x}"
            return ObjectInfo(key=key, etag=etag, size=0, modified=stat.st_mtime, kind=kind)
        # ctime as well as mtime: a file copied with its times kept (cp -p, tar) or moved in has an
        # old mtime, but its ctime says when it arrived.
        modified = max(stat.st_mtime, stat.st_ctime)
        return ObjectInfo(key=key, etag=_local_etag(path, stat), size=stat.st_size, modified=modified)

    def list_page(self, prefix: str = "", start_after: str = "", max_keys: int = 1000) -> list[ObjectInfo]:
        out: list[ObjectInfo] = []
        for info in self._walk(self._root(), "", prefix, start_after):
            out.append(info)
            if len(out) >= max_keys:
                break
        return out

    def _walk(self, folder: Path, base: str, prefix: str, start_after: str) -> Iterator[ObjectInfo]:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        # Sort as S3 does: a folder sorts as its name followed by "/".
        keyed = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name.endswith(".partial"):
                continue  # hidden files and in-flight writes are not objects
            is_dir = entry.is_dir(follow_symlinks=False)  # a linked folder is listed as one symlink
            keyed.append((base + entry.name + ("/" if is_dir else ""), is_dir, entry))
        keyed.sort(key=lambda item: item[0].encode("utf-8"))
        for key, is_dir, entry in keyed:
            if is_dir:
                # Skip folders that cannot hold a key matching the prefix or sorting after the cursor.
                if not (key.startswith(prefix) or prefix.startswith(key)):
                    continue
                if start_after and key < start_after and not start_after.startswith(key):
                    continue
                yield from self._walk(Path(entry.path), key, prefix, start_after)
            elif key.startswith(prefix) and key > start_after:
                try:
                    yield self._info(key, entry.path, entry.stat(follow_symlinks=False))
                except FileNotFoundError:
                    continue

    def head(self, key: str) -> ObjectInfo | None:
        try:
            path = self._path(key)
            return self._info(key, str(path), path.lstat())
        except (FileNotFoundError, NotADirectoryError):
            return None

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        if os.path.realpath(path.parent) != str(path.parent):
            raise NotARegularFileError(f"{key!r} lies in a linked folder; links are not followed")
        # O_NOFOLLOW: a link swapped in after the listing is refused, not read; O_NONBLOCK: opening a
        # FIFO does not wait for a writer.
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise NotARegularFileError(f"{key!r} is a symbolic link; links are not followed") from None
            raise
        with os.fdopen(fd, "rb") as handle:
            if not stat_module.S_ISREG(os.fstat(fd).st_mode):
                raise NotARegularFileError(f"{key!r} is not a regular file")
            return handle.read()

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


_READ_AHEAD_SECONDS = 1.0
# What a listing entry (an S3 `Object`) is read for; the rest of it (Owner, checksums) is skipped.
_LISTED_FIELDS = frozenset({"Key", "ETag", "Size", "LastModified", "StorageClass"})


# The last listing body the 200-error check parsed, per thread, so the parser does not parse it again.
_PARSED_LISTING = threading.local()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a listing page's thousands of objects are made
    (the XML tree, then the entries): none of them is garbage yet, and the collector walking them
    again and again as they were made took about half of a listing's CPU. Resumed if it was on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_200_error_once(operation_model: Any, response_dict: Any, **kwargs: Any) -> None:
    """botocore's check for an error inside a 200 answer (it parses the body), which for a listing
    also keeps the parsed tree for the parser: a listing's XML is parsed once instead of twice."""
    from botocore import handlers

    if operation_model.name != "ListObjectsV2":
        handlers._handle_200_error(operation_model=operation_model, response_dict=response_dict, **kwargs)
        return
    _PARSED_LISTING.entry = None
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not body:
        return
    from xml.etree import ElementTree

    try:
        with _collector_paused():
            parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(), encoding="utf-8")
            parser.feed(body)
            root = parser.close()
    except ElementTree.ParseError:
        root = None
    if root is None or root.tag == "Error":
        response_dict["status_code"] = 500  # what botocore does: retried as a server error
        return
    _PARSED_LISTING.entry = (body, root)


def _listing_parser_factory() -> Any:
    """botocore's response parsers, with a fast path for S3 listings.

    botocore parses each entry of a ListObjectsV2 page by walking its shape member by member, about
    0.1 ms an object, most of a sensor tick's CPU. The page's entries (`Contents`) are read straight
    from their XML elements instead (the same values: strings, `Size` as int, `LastModified` through
    the timestamp parser); the page's other members, and every other shape, errors included, go
    through botocore's own code. The body's tree is the one `_check_200_error_once` built.
    """
    from xml.etree import ElementTree

    from botocore.parsers import PROTOCOL_PARSERS, ResponseParserFactory, RestXMLParser

    field_names: dict[str, str] = {}  # element tag (with its namespace) -> entry field, "" if not read

    def field_of(tag: str) -> str:
        name = field_names.get(tag)
        if name is None:
            local = tag.rpartition("}")[2]
            name = field_names[tag] = local if local in _LISTED_FIELDS else ""
        return name

    class ListingParser(RestXMLParser):
        def _initial_body_parse(self, xml_string: Any) -> Any:
            entry = getattr(_PARSED_LISTING, "entry", None)
            if entry is not None and entry[0] is xml_string:
                _PARSED_LISTING.entry = None
                return entry[1]
            return super()._initial_body_parse(xml_string)

        def _handle_structure(self, shape: Any, node: Any) -> Any:
            if shape.name != "ListObjectsV2Output" or isinstance(node, list):
                return super()._handle_structure(shape, node)
            contents_tag = node.tag.rpartition("}")[0] + "}Contents" if "}" in node.tag else "Contents"
            entries, rest = [], ElementTree.Element(node.tag, node.attrib)
            with _collector_paused():
                for child in node:
                    if child.tag != contents_tag:
                        rest.append(child)
                        continue
                    entry: dict[str, Any] = {}
                    for item in child:
                        name = field_of(item.tag)
                        if name:
                            text = item.text or ""
                            if name == "Size":
                                entry[name] = int(text)
                            elif name == "LastModified":
                                entry[name] = self._timestamp_parser(text)
                            else:
                                entry[name] = text
                    entries.append(entry)
            parsed = super()._handle_structure(shape, rest)
            if entries:
                parsed["Contents"] = entries
            return parsed

    class ListingParserFactory(ResponseParserFactory):
        def create_parser(self, protocol_name: str) -> Any:
            parser_cls = ListingParser if protocol_name == "rest-xml" else PROTOCOL_PARSERS[protocol_name]
            return parser_cls(**self._defaults)

    return ListingParserFactory()


class S3ObjectStore(ObjectStore):
    """An S3 bucket (AWS or any S3 server; boto3 reads AWS_ENDPOINT_URL_S3 itself)."""

    bucket: str
    prefix: str = ""
    region_name: str | None = None
    endpoint_url: str | None = None

    _client: Any = PrivateAttr(default=None)
    # The next listing page, requested in the background as soon as the one before it arrived: the
    # server prepares it while this process parses and consumes the current one (a sweep reads pages
    # back to back). Keyed by (prefix, start_after); used only by the very next call, and only within
    # a second of asking (a listing is no snapshot either, but a later tick must see a fresh page).
    _read_ahead: tuple[str, str, float, Future[Any]] | None = PrivateAttr(default=None)
    _pool: ThreadPoolExecutor | None = PrivateAttr(default=None)

    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.strip('/')}".rstrip("/")

    @property
    def client(self) -> Any:
        """The boto3 S3 client. Timestamps in its responses (LastModified) stay unparsed strings."""
        if self._client is None:
            import boto3
            import botocore.session
            from botocore.config import Config

            # A session of its own: boto3's shared default session would keep the credentials it
            # resolved first for every later store in the process.
            session = botocore.session.get_session()
            # Parsing every listed object's LastModified with dateutil is half the CPU of a listing,
            # and nothing here reads it; the listing's entries are read by a fast path (see there).
            factory = _listing_parser_factory()
            factory.set_parser_defaults(timestamp_parser=str)
            session.register_component("response_parser_factory", factory)
            client = boto3.session.Session(botocore_session=session).client(
                "s3",
                region_name=self.region_name,
                endpoint_url=self.endpoint_url,
                config=Config(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=32),
            )
            from botocore import handlers

            # The same check, parsing a listing's body once for both itself and the parser.
            client.meta.events.unregister("before-parse.s3.*", handlers._handle_200_error)
            client.meta.events.register_first("before-parse.s3.*", _check_200_error_once)
            self._client = client
        return self._client

    def _full(self, key: str) -> str:
        root = self.prefix.strip("/")
        return f"{root}/{key}" if root else key

    def _relative(self, full_key: str) -> str:
        root = self.prefix.strip("/")
        return full_key[len(root) + 1 :] if root else full_key

    def _list(self, prefix: str, start_after: str, max_keys: int) -> Any:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._full(prefix), "MaxKeys": max_keys}
        if start_after:
            kwargs["StartAfter"] = self._full(start_after)
        return self.client.list_objects_v2(**kwargs)

    def _page(self, prefix: str, start_after: str, max_keys: int) -> Any:
        """One ListObjectsV2 answer: the read-ahead one if it is this page, else a request now."""
        ahead, self._read_ahead = self._read_ahead, None
        if ahead is not None and ahead[:2] == (prefix, start_after):
            try:
                response = ahead[3].result()
            except Exception:  # noqa: BLE001 - asked again below, where an error is raised as usual
                response = None
            fresh = time.monotonic() - ahead[2] < _READ_AHEAD_SECONDS
            if (
                response is not None
                and fresh
                and (len(response.get("Contents", [])) >= max_keys or not response.get("IsTruncated"))
            ):
                return response
        return self._list(prefix, start_after, max_keys)

    def _ask_ahead(self, prefix: str, start_after: str) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3-read-ahead")
        future = self._pool.submit(self._list, prefix, start_after, 1000)
        self._read_ahead = (prefix, start_after, time.monotonic(), future)

    def _listed(self, prefix: str, start_after: str, max_keys: int) -> Iterator[tuple[str, str, int, Any]]:
        """(key, ETag, size, LastModified as listed) of up to `max_keys` objects (folder markers are
        none), page by page."""
        root = self.prefix.strip("/")
        cut = len(root) + 1 if root else 0  # what `_relative` cuts, once for every key
        listed = 0
        after = start_after
        while listed < max_keys:
            response = self._page(prefix, after, min(1000, max_keys - listed))
            everything = response.get("Contents", [])
            contents = everything[: max_keys - listed]
            truncated = bool(response.get("IsTruncated")) or len(contents) < len(everything)
            if contents:
                after = self._relative(contents[-1]["Key"])
            if truncated:
                self._ask_ahead(prefix, after)  # the caller (or this loop) most likely wants it next
            page = [
                (item["Key"][cut:], item["ETag"].strip('"'), item["Size"], item.get("LastModified"))
                for item in contents
                if not item["Key"].endswith("/")  # a folder marker (the console's "Create folder")
            ]
            listed += len(page)
            yield from page
            if not truncated:
                break

    def list_page(self, prefix: str = "", start_after: str = "", max_keys: int = 1000) -> list[ObjectInfo]:
        return [
            ObjectInfo.model_construct(key=key, etag=etag, size=size, modified=s3_time(modified), kind="file")
            for key, etag, size, modified in self._listed(prefix, start_after, max_keys)
        ]

    def scan_page(self, start_after: str = "", max_keys: int = 1000) -> list[ListedKey]:
        return [
            (key, etag, s3_time(modified))
            for key, etag, _, modified in self._listed("", start_after, max_keys)
        ]

    def head(self, key: str) -> ObjectInfo | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.head_object(Bucket=self.bucket, Key=self._full(check_key(key)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(
            key=key,
            etag=response["ETag"].strip('"'),
            size=response["ContentLength"],
            modified=s3_time(response.get("LastModified")),
        )

    def get_bytes(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._full(check_key(key)))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"{self.url()}/{key}") from None
            raise

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._full(check_key(key)), Body=data, ContentType=content_type
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._full(check_key(key)))


def object_store_from_url(url: str, region_name: str | None = None) -> ObjectStore:
    """The one place that maps a store URL (file:// or s3://) to its implementation."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"S3 URL {url!r} names no bucket; use s3://bucket/prefix")
        return S3ObjectStore(bucket=parsed.netloc, prefix=parsed.path.strip("/"), region_name=region_name)
    if parsed.scheme == "file":
        return LocalObjectStore(root=unquote(parsed.path))
    if parsed.scheme == "" and url:
        return LocalObjectStore(root=url)
    raise ValueError(f"unsupported store URL {url!r}: use file:///folder or s3://bucket/prefix")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
