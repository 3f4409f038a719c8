"""`podcast upload` against a real S3 server on 127.0.0.1 (moto's server mode), as a client sees it:
the objects' headers and bytes, their versions (every PUT makes one), and the feed's enclosures
fetched from the bucket with the exact length the feed states."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from podcast.cli import SAMPLE, main

from .conftest import FAST_BUILD
from .test_build import parse_with_podcastparser

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

DATE = "2026-11-20"
OTHER = "2026-11-19"
PREFIX = "show/"
MP3_CACHE = "public, max-age=86400"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Test keys in the environment, and nothing of this machine's own AWS setup."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probe off EC2


@pytest.fixture
def bucket(endpoint: str) -> tuple[Any, str]:
    """A fresh versioned bucket whose objects anyone may read, as a podcast's media bucket is."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    # moto checks anonymous HEAD requests against the action s3:HeadObject (AWS uses s3:GetObject)
    client.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:HeadObject"],
        "Resource": f"arn:aws:s3:::{name}/*"}]}))
    return client, name


def configure(root: Path, endpoint: str, name: str, **upload: str) -> str:
    """podcast.toml with the bucket and the media URL it is served at (path style); the media URL."""
    media = f"{endpoint}/{name}/{PREFIX}"
    table = {"bucket": name, "endpoint_url": endpoint, "region": "us-east-1", "prefix": PREFIX,
             "addressing_style": "path", **upload}
    body = "".join(f'{k} = "{v}"\n' for k, v in table.items())
    (root / "podcast.toml").write_text(f'[show]\nmedia_base_url = "{media}"\n\n[upload]\n{body}retries = 0\n',
                                       "utf-8")
    return media


def add_day(root: Path, day: str) -> Path:
    """A second published day, cloned from the sample's folder under its own date, GUID and MP3."""
    folder = root / "episodes" / day
    shutil.copytree(root / "episodes" / DATE, folder)
    manifest = json.loads((folder / "episode.json").read_text("utf-8"))
    old = folder / manifest["audio"]
    mp3 = old.with_name(old.name.replace(DATE, day))
    data = bytearray(old.read_bytes())
    data[-200:-100] = bytes(100)  # other content, same length
    old.unlink()
    mp3.write_bytes(bytes(data))
    manifest.update(date=day, guid=str(uuid.uuid4()), audio=mp3.name)
    (folder / "episode.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return mp3


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--root", str(root)])


def key_of(mp3: Path) -> str:
    return f"{PREFIX}episodes/{mp3.parent.name}/{mp3.name}"


def versions(client: Any, name: str, key: str) -> int:
    return len([v for v in client.list_object_versions(Bucket=name, Prefix=key).get("Versions", [])
                if v["Key"] == key])


@pytest.fixture
def sample_mp3(built_copy: Path) -> Path:
    return next((built_copy / "episodes" / DATE).glob("*.mp3"))


# ---------------------------------------------------------------- new, unchanged, changed


def test_upload_sends_each_mp3_once_with_its_type_and_cache(built_copy: Path, sample_mp3: Path, endpoint: str,
                                                            bucket: tuple[Any, str]) -> None:
    client, name = bucket
    configure(built_copy, endpoint, name)
    key = key_of(sample_mp3)
    dry = run(built_copy, "upload", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would upload {key} (" in dry.output and "new)" in dry.output
    assert client.list_objects_v2(Bucket=name).get("KeyCount") == 0

    first = run(built_copy, "upload")
    assert first.exit_code == 0, first.output
    size = sample_mp3.stat().st_size
    assert f"upload   {key} ({size / 1e6:.1f} MB, new)" in first.output
    assert f"uploaded 1 ({size / 1e6:.1f} MB), 0 unchanged, 0 deleted in s3://{name}/{PREFIX}" in first.output
    head = client.head_object(Bucket=name, Key=key)
    assert head["ContentLength"] == size
    assert head["ContentType"] == "audio/mpeg" and head["CacheControl"] == MP3_CACHE
    modified = head["LastModified"]

    again = run(built_copy, "upload")
    assert again.exit_code == 0, again.output
    assert f"same     {key}" in again.output and "uploaded 0 (0.0 MB), 1 unchanged" in again.output
    assert versions(client, name, key) == 1  # every PUT makes a version: the second run made none
    assert client.head_object(Bucket=name, Key=key)["LastModified"] == modified


def test_a_changed_mp3_replaces_the_object(built_copy: Path, sample_mp3: Path, endpoint: str,
                                           bucket: tuple[Any, str]) -> None:
    client, name = bucket
    configure(built_copy, endpoint, name)
    key = key_of(sample_mp3)
    assert run(built_copy, "upload").exit_code == 0
    data = bytearray(sample_mp3.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)  # a rebuilt day: same name and length
    sample_mp3.write_bytes(bytes(data))
    result = run(built_copy, "upload")
    assert result.exit_code == 0 and f"upload   {key} ({len(data) / 1e6:.1f} MB, changed)" in result.output
    assert versions(client, name, key) == 2
    assert client.get_object(Bucket=name, Key=key)["Body"].read() == bytes(data)


def test_an_object_whose_etag_is_no_md5_is_compared_by_its_sha256(
        built_copy: Path, sample_mp3: Path, endpoint: str, bucket: tuple[Any, str]) -> None:
    """A multipart upload's ETag is not the file's MD5; the sha256 metadata decides instead."""
    client, name = bucket
    configure(built_copy, endpoint, name)
    key = key_of(sample_mp3)
    data = sample_mp3.read_bytes()
    for sha, expected in (("0" * 64, "changed"), (hashlib.sha256(data).hexdigest(), "same")):
        upload_id = client.create_multipart_upload(Bucket=name, Key=key, Metadata={"sha256": sha})["UploadId"]
        part = client.upload_part(Bucket=name, Key=key, UploadId=upload_id, PartNumber=1, Body=data)
        client.complete_multipart_upload(Bucket=name, Key=key, UploadId=upload_id, MultipartUpload={
            "Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
        assert "-" in client.head_object(Bucket=name, Key=key)["ETag"]
        result = run(built_copy, "upload", "--dry-run")
        assert result.exit_code == 0, result.output
        assert (f"same     {key}" in result.output) == (expected == "same"), result.output
        assert (f"would upload {key} ({len(data) / 1e6:.1f} MB, changed)" in result.output) == (
            expected == "changed")


# ---------------------------------------------------------------- what a listener's app fetches


def test_the_bucket_serves_the_local_bytes_with_head_and_ranges(
        built_copy: Path, sample_mp3: Path, endpoint: str, bucket: tuple[Any, str]) -> None:
    _, name = bucket
    media = configure(built_copy, endpoint, name)
    assert run(built_copy, "upload").exit_code == 0
    url = f"{media}episodes/{DATE}/{sample_mp3.name}"
    local = sample_mp3.read_bytes()
    head = httpx.head(url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(local) and head.headers["content-type"] == "audio/mpeg"
    part = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.headers["content-range"] == f"bytes 1000-1999/{len(local)}"
    assert part.content == local[1000:2000]


def test_every_enclosure_of_the_feed_resolves_on_the_bucket_with_its_length(
        built_copy: Path, endpoint: str, bucket: tuple[Any, str]) -> None:
    _, name = bucket
    media = configure(built_copy, endpoint, name)
    mp3s = [add_day(built_copy, OTHER), *(built_copy / "episodes" / DATE).glob("*.mp3")]
    result = run(built_copy, "publish", "--upload")
    assert result.exit_code == 0, result.output
    assert f"uploaded 2 ({sum(p.stat().st_size for p in mp3s) / 1e6:.1f} MB), 0 unchanged" in result.output
    feed = parse_with_podcastparser(built_copy / "feed" / "feed.xml")
    enclosures = [e for item in feed["episodes"] for e in item["enclosures"]]
    assert len(enclosures) == 2
    for enclosure in enclosures:
        assert enclosure["url"].startswith(f"{media}episodes/")
        got = httpx.get(enclosure["url"])
        assert got.status_code == 200 and len(got.content) == enclosure["file_size"]
        assert got.content == (built_copy / enclosure["url"].removeprefix(media)).read_bytes()


# ---------------------------------------------------------------- deleting, only when asked


def test_delete_removes_only_what_no_published_episode_names(
        built_copy: Path, sample_mp3: Path, endpoint: str, bucket: tuple[Any, str]) -> None:
    client, name = bucket
    configure(built_copy, endpoint, name)
    other = add_day(built_copy, OTHER)
    assert run(built_copy, "upload").exit_code == 0
    stray = f"{PREFIX}episodes/2020-01-01/old.mp3"
    for key in (stray, "elsewhere/keep.mp3"):
        client.put_object(Bucket=name, Key=key, Body=b"old")
    other.unlink()  # a checkout that keeps no MP3: its episode.json still names the object
    shutil.rmtree(sample_mp3.parent)  # a day taken down: its object goes with --delete
    gone = key_of(sample_mp3)

    def keys() -> set[str]:
        return {o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])}

    before = keys()
    plain = run(built_copy, "upload")
    assert plain.exit_code == 0 and "0 deleted" in plain.output and keys() == before
    assert "note: 1 published MP3(s) are not on this disk; their copies in the bucket are kept" in (
        plain.output)
    dry = run(built_copy, "upload", "--delete", "--dry-run")
    assert dry.exit_code == 0 and "2 to delete" in dry.output
    assert f"would delete {stray}" in dry.output and f"would delete {gone}" in dry.output
    assert keys() == before
    done = run(built_copy, "upload", "--delete")
    assert done.exit_code == 0, done.output
    assert "2 deleted" in done.output
    assert keys() == {key_of(other), "elsewhere/keep.mp3"}


def test_delete_refuses_when_nothing_is_published(tmp_path: Path, endpoint: str,
                                                   bucket: tuple[Any, str]) -> None:
    client, name = bucket
    configure(tmp_path, endpoint, name)
    client.put_object(Bucket=name, Key=f"{PREFIX}episodes/{DATE}/x.mp3", Body=b"x")
    result = run(tmp_path, "upload", "--delete")
    assert result.exit_code == 1 and "not deleting every object under" in result.output
    assert client.list_objects_v2(Bucket=name)["KeyCount"] == 1


# ---------------------------------------------------------------- one line for each thing that is wrong


def error_line(result: Result) -> str:
    """The one error line, last (after any progress line)."""
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.output.strip().endswith(errors[0]), result.output
    return errors[0]


def test_without_a_bucket_setting_nothing_is_built(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", *FAST_BUILD, str(SAMPLE), "--upload",
                                       "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert error_line(result).startswith(f"error: {tmp_path / 'podcast.toml'}: upload.bucket: not set")
    assert not (tmp_path / "episodes").exists() and not (tmp_path / "feed").exists()


def test_missing_keys_name_the_variables(built_copy: Path, endpoint: str, bucket: tuple[Any, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    configure(built_copy, endpoint, bucket[1])
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = run(built_copy, "upload")
    assert result.exit_code == 1
    assert "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in error_line(result)
    monkeypatch.setenv("AWS_PROFILE", "nope")
    result = run(built_copy, "upload")
    assert result.exit_code == 1
    assert error_line(result) == ("error: cannot read the S3 credentials: "
                                  "The config profile (nope) could not be found")


def test_an_unreachable_endpoint_and_a_missing_bucket_are_named(built_copy: Path, endpoint: str,
                                                                bucket: tuple[Any, str]) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    configure(built_copy, closed, bucket[1])
    result = run(built_copy, "upload")
    assert result.exit_code == 1
    assert error_line(result) == (f"error: {closed}: cannot list s3://{bucket[1]}/{PREFIX}: cannot connect "
                                  "(check [upload] endpoint_url and the network: EndpointConnectionError)")
    configure(built_copy, endpoint, "no-such-bucket")
    result = run(built_copy, "upload")
    assert result.exit_code == 1
    assert ("cannot list s3://no-such-bucket/show/: bucket 'no-such-bucket' does not exist there"
            in error_line(result))


def test_without_boto3_help_works_and_upload_says_how_to_install(built_copy: Path) -> None:
    (built_copy / "podcast.toml").write_text('[upload]\nbucket = "media"\n', "utf-8")
    code = ("import sys; sys.modules['boto3'] = None\n"  # as if the s3 extra were not installed
            "from click.testing import CliRunner\nfrom podcast.cli import main\n"
            "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
            "assert CliRunner().invoke(main, ['upload', '--help']).exit_code == 0\n"
            "assert 'botocore' not in sys.modules\n"
            "main(['upload', '--root', sys.argv[1]])\n")
    done = subprocess.run([sys.executable, "-c", code, str(built_copy)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stderr
    assert "uploading needs boto3, the optional 's3' extra: uv sync --extra s3" in done.stderr
