"""Copy the published MP3s to an S3-compatible bucket (AWS S3, Cloudflare R2, Aliyun OSS, MinIO).

The feed and the pages stay small enough for a static host such as GitHub Pages; the audio, a few
MB more every day, goes to the bucket and is served from ``[show] media_base_url``. An object's key
is ``[upload] prefix`` + ``Layout.media_path``, the same path the MP3 has under the project root
and under the media URL, so the three can never disagree.

Only what is new or changed is sent. An object is unchanged when its size matches and either its
ETag is the file's MD5 (every upload here is a single PUT, whose ETag is the MD5 on S3, R2 and
OSS) or, where the store computes ETags otherwise (encryption with KMS, a multipart copy), its
``sha256`` metadata matches. Nothing is deleted unless asked, and then only objects under the
prefix that no published episode names: an MP3 that is not on this disk but whose ``episode.json``
is (a checkout that keeps no audio) stays in the bucket.

boto3 is the optional ``s3`` extra and is imported only when a bucket is opened.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, SetupError, UploadError
from .project import Layout, Project

# A day rebuilt after a fix keeps its file name (and so its enclosure URL and the copies apps
# already downloaded), so an MP3 is not "immutable": a day's cache lets a CDN absorb the morning's
# downloads, and a corrected episode reaches every cache by the next day.
MP3_CACHE_CONTROL = "public, max-age=86400"
CONTENT_TYPE = "audio/mpeg"
CHUNK = 1 << 20
INSTALL_HINT = "uv sync --extra s3 (or: pip install 'podcast[s3]')"
KEY_VARIABLES = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"

Progress = Callable[[str], None]


def _quiet(_line: str) -> None:
    pass


@dataclass(frozen=True)
class LocalFile:
    """A published MP3 on this disk, with the digests the bucket's copy is compared with."""

    key: str
    path: Path
    size: int
    md5: bytes
    sha256: str

    @classmethod
    def read(cls, key: str, path: Path) -> LocalFile:
        md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                md5.update(chunk)
                sha.update(chunk)
                size += len(chunk)
        return cls(key, path, size, md5.digest(), sha.hexdigest())


@dataclass
class UploadReport:
    """What a run sent, found unchanged, deleted (or, in a dry run, would have)."""

    bucket: str
    prefix: str
    dry_run: bool
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    not_here: list[str] = field(default_factory=list)  # published, MP3 not on this disk: kept remotely
    bytes_sent: int = 0


def published_media(layout: Layout, prefix: str) -> tuple[list[tuple[str, Path]], list[str]]:
    """(key, path) of every published episode's MP3, and the one-line reasons of unreadable manifests."""
    unreadable: list[str] = []
    found = [(prefix + layout.media_path(e.date, e.audio), layout.root / layout.media_path(e.date, e.audio))
             for e in layout.published(unreadable)]
    return sorted(found), unreadable


class Bucket:
    """An opened bucket: settings checked, boto3 imported, credentials found, client made.

    Opening touches no network, so ``build --upload`` checks all of this before building."""

    def __init__(self, project: Project) -> None:
        settings = project.settings.upload
        if not settings.bucket:
            raise ConfigError(project.config_file, "upload.bucket: not set; name the bucket to upload to "
                              "in [upload] (or PODCAST_UPLOAD_BUCKET)")
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise SetupError(f"uploading needs boto3, the optional 's3' extra: {INSTALL_HINT}") from exc
        from botocore.exceptions import BotoCoreError

        try:  # a named AWS_PROFILE that does not exist, an unreadable ~/.aws/config
            session = boto3.session.Session()
            credentials = session.get_credentials()
        except BotoCoreError as exc:
            raise UploadError(f"cannot read the S3 credentials: {exc}") from exc
        if credentials is None:
            raise UploadError(f"no S3 credentials: set {KEY_VARIABLES} in the environment "
                              "(or AWS_PROFILE for a profile of ~/.aws/credentials)")
        config = Config(
            connect_timeout=min(10.0, settings.timeout), read_timeout=settings.timeout,
            retries={"mode": "standard", "total_max_attempts": settings.retries + 1},
            s3={"addressing_style": settings.addressing_style},
            # boto3 1.36 began sending CRC checksums that several S3-compatible stores refuse;
            # each PUT carries Content-MD5 instead, which all of them verify
            request_checksum_calculation="when_required", response_checksum_validation="when_required")
        self.layout = project.layout
        self.name: str = settings.bucket
        self.prefix = settings.prefix
        self.timeout = settings.timeout
        self.client: Any = session.client("s3", endpoint_url=settings.endpoint_url,
                                          region_name=settings.region, config=config)
        self.endpoint: str = self.client.meta.endpoint_url

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{self.prefix}"

    def _call(self, what: str, operation: str, **params: Any) -> Any:
        """One request; every failure becomes one line naming the endpoint, the bucket and what failed."""
        from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
        from botocore.exceptions import ConnectionError as NoConnection

        try:
            return getattr(self.client, operation)(Bucket=self.name, **params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "?"))
            if code in ("NoSuchBucket",):
                reason = f"bucket {self.name!r} does not exist there"
            elif code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken"):
                reason = f"the keys were refused ({code}; check {KEY_VARIABLES})"
            elif code in ("AccessDenied", "403", "Forbidden"):
                reason = f"access denied to bucket {self.name!r} (check the keys' permissions)"
            else:
                reason = f"{code}: {error.get('Message') or exc}"
            raise UploadError(f"{self.endpoint}: cannot {what}: {reason}") from exc
        except NoConnection as exc:
            raise UploadError(f"{self.endpoint}: cannot {what}: cannot connect (check [upload] "
                              f"endpoint_url and the network: {type(exc).__name__})") from exc
        except ReadTimeoutError as exc:
            raise UploadError(f"{self.endpoint}: cannot {what}: no answer in {self.timeout:g} s") from exc
        except BotoCoreError as exc:
            raise UploadError(f"{self.endpoint}: cannot {what}: {exc}") from exc

    def remote(self) -> dict[str, tuple[int, str]]:
        """Every object under the prefix: key -> (size, ETag without quotes)."""
        found: dict[str, tuple[int, str]] = {}
        token: dict[str, str] = {}
        while True:
            page = self._call(f"list {self.url}", "list_objects_v2", Prefix=self.prefix, **token)
            for obj in page.get("Contents", []):
                found[obj["Key"]] = (int(obj["Size"]), str(obj.get("ETag", "")).strip('"'))
            if not page.get("IsTruncated"):
                return found
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def _same(self, local: LocalFile, remote: tuple[int, str] | None) -> bool:
        if remote is None or remote[0] != local.size:
            return False
        if remote[1] == local.md5.hex():
            return True
        head = self._call(f"read {local.key}", "head_object", Key=local.key)
        return bool(head.get("Metadata", {}).get("sha256") == local.sha256)

    def _put(self, local: LocalFile) -> None:
        with local.path.open("rb") as body:
            self._call(f"upload {local.key}", "put_object", Key=local.key, Body=body,
                       ContentLength=local.size, ContentType=CONTENT_TYPE, CacheControl=MP3_CACHE_CONTROL,
                       ContentMD5=base64.b64encode(local.md5).decode("ascii"),
                       Metadata={"sha256": local.sha256})

    def sync(self, *, dry_run: bool = False, delete: bool = False,
             progress: Progress = _quiet) -> UploadReport:
        """Send every published MP3 that is new or changed; with ``delete``, remove the objects under
        the prefix no published episode names. A dry run reads the bucket and changes nothing."""
        report = UploadReport(self.name, self.prefix, dry_run)
        wanted, unreadable = published_media(self.layout, self.prefix)
        if delete and unreadable:
            raise UploadError(f"not deleting anything while an episode cannot be read: {unreadable[0]}")
        if delete and not wanted:
            raise UploadError(f"no episode is published under {self.layout.episodes}; not deleting "
                              f"every object under {self.url}")
        remote = self.remote()
        verb = "would upload" if dry_run else "upload  "
        for key, path in wanted:
            if not path.is_file():
                report.not_here.append(key)
                continue
            local = LocalFile.read(key, path)
            if self._same(local, remote.get(key)):
                report.unchanged.append(key)
                progress(f"same     {key}")
                continue
            state = "new" if key not in remote else "changed"
            progress(f"{verb} {key} ({local.size / 1e6:.1f} MB, {state})")
            if not dry_run:
                self._put(local)
            report.uploaded.append(key)
            report.bytes_sent += local.size
        if delete:
            names = {key for key, _ in wanted}
            for key in sorted(set(remote) - names):
                progress(f"{'would delete' if dry_run else 'delete  '} {key}")
                if not dry_run:
                    self._call(f"delete {key}", "delete_object", Key=key)
                report.deleted.append(key)
        return report


def summary(report: UploadReport) -> list[str]:
    """The closing lines of a run, for the CLI."""
    done = "would upload" if report.dry_run else "uploaded"
    lines = [f"{done} {len(report.uploaded)} ({report.bytes_sent / 1e6:.1f} MB), "
             f"{len(report.unchanged)} unchanged, {len(report.deleted)} "
             f"{'to delete' if report.dry_run else 'deleted'} in s3://{report.bucket}/{report.prefix}"]
    if report.not_here:
        lines.append(f"note: {len(report.not_here)} published MP3(s) are not on this disk; "
                     "their copies in the bucket are kept")
    return lines
