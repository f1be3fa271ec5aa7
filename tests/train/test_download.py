"""`harlite data download`: safe extraction, --from, and downloads that resume."""

from __future__ import annotations

import io
import json
import stat
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.errors import DataError
from harlite.train.archive import safe_extract
from harlite.train.datasets import load_windows
from harlite.train.download import DownloadError, fetch, install_dataset
from tests.builders import write_hapt, write_uci_har


def zip_folder(folder: Path, prefix: str = "") -> bytes:
    """Zip every file under ``folder``, names prefixed with ``prefix``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


@pytest.fixture
def hapt_zip(tmp_path) -> Path:
    """A zip in the layout of UCI's HAPT download (RawData/ at the top, beside other files)."""
    root = write_hapt(
        tmp_path / "src", {(1, 1): 600, (2, 3): 500}, [(1, 1, 1, 0, 599), (2, 3, 4, 10, 400)]
    )
    (root / "activity_labels.txt").write_text("1 WALKING\n")
    (root / "README.txt").write_text("HAPT\n")
    path = tmp_path / "hapt.zip"
    path.write_bytes(zip_folder(root))
    return path


@pytest.fixture
def uci_zip(tmp_path) -> Path:
    """A zip in the layout of UCI's HAR download: a zip wrapping 'UCI HAR Dataset.zip'."""
    rng = np.random.default_rng(0)
    root = write_uci_har(
        tmp_path / "src",
        {
            "train": (
                rng.standard_normal((4, 128, 9)),
                np.array([1, 2, 3, 4]),
                np.array([1, 1, 3, 3]),
            )
        },
    )
    inner = zip_folder(root)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("UCI HAR Dataset.zip", inner)
        zf.writestr("UCI HAR Dataset.names", "names\n")
        zf.writestr("__MACOSX/._UCI HAR Dataset.zip", "resource fork")
    path = tmp_path / "uci.zip"
    path.write_bytes(buffer.getvalue())
    return path


def malicious_zip(path: Path, kind: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("RawData/labels.txt", "1 1 1 0 10\n")
        if kind == "dotdot":
            zf.writestr("RawData/../../evil.txt", "x")
        elif kind == "absolute":
            zf.writestr("/tmp/evil.txt", "x")
        elif kind == "symlink":
            info = zipfile.ZipInfo("RawData/link")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
        elif kind == "device":
            info = zipfile.ZipInfo("RawData/fifo")
            info.external_attr = (stat.S_IFIFO | 0o644) << 16
            zf.writestr(info, "")
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("dotdot", r"\.\."),
        ("absolute", "absolute"),
        ("symlink", "symbolic link"),
        ("device", "not a plain file"),
    ],
)
def test_malicious_archives_are_refused_before_anything_is_written(tmp_path, kind, message):
    archive = malicious_zip(tmp_path / f"{kind}.zip", kind)
    with pytest.raises(DataError, match=message):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match=message):
        install_dataset("hapt", dest, source=archive)
    assert not dest.exists()


def test_corrupt_and_truncated_archives(tmp_path, hapt_zip):
    data = bytearray(hapt_zip.read_bytes())
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(DataError, match="not a valid zip"):
        install_dataset("hapt", tmp_path / "a", source=truncated)
    flipped = tmp_path / "flipped.zip"
    data[200] ^= 0xFF  # inside the first member's compressed data
    flipped.write_bytes(bytes(data))
    with pytest.raises(DataError):
        install_dataset("hapt", tmp_path / "b", source=flipped)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_install_hapt_from_zip(tmp_path, hapt_zip):
    dest = install_dataset("hapt", tmp_path / "data" / "hapt", source=hapt_zip)
    assert (dest / "RawData" / "labels.txt").is_file()
    record = json.loads((dest / "harlite-source.json").read_text())
    assert record["dataset"] == "hapt" and len(record["sha256"]) == 64
    assert len(load_windows(dest, cache_dir=None)) > 0
    assert hapt_zip.exists()  # the user's own zip is kept


def test_install_uci_har_from_nested_zip(tmp_path, uci_zip):
    dest = install_dataset("uci-har", tmp_path / "uci", source=uci_zip)
    ws = load_windows(dest, cache_dir=None)
    assert list(ws.y) == [0, 1, 2, 3]


def test_install_from_folder_and_wrong_data_set(tmp_path, hapt_zip, uci_zip):
    src = install_dataset("hapt", tmp_path / "first", source=hapt_zip)
    copy = install_dataset("hapt", tmp_path / "copy", source=src)
    assert (copy / "RawData" / "labels.txt").is_file()
    with pytest.raises(DataError, match="expected uci-har layout"):
        install_dataset("uci-har", tmp_path / "wrong", source=hapt_zip)
    assert not (tmp_path / "wrong").exists()


def test_sha256_mismatch(tmp_path, hapt_zip):
    with pytest.raises(DataError, match="SHA-256"):
        install_dataset("hapt", tmp_path / "d", source=hapt_zip, sha256="0" * 64)


def test_existing_installation_is_kept_until_a_new_one_is_complete(tmp_path, hapt_zip):
    dest = install_dataset("hapt", tmp_path / "d", source=hapt_zip)
    marker = dest / "mine.txt"
    marker.write_text("keep")
    install_dataset("hapt", dest, source=hapt_zip)  # already there: nothing happens
    assert marker.exists()
    bad = malicious_zip(tmp_path / "bad.zip", "dotdot")
    with pytest.raises(DataError):
        install_dataset("hapt", dest, source=bad, force=True)
    assert marker.exists()  # a failed replacement leaves the old installation whole
    install_dataset("hapt", dest, source=hapt_zip, force=True)
    assert not marker.exists() and (dest / "RawData" / "labels.txt").is_file()
    leftovers = [p.name for p in dest.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no staging or temporary folders stay behind


# --- HTTP: a local server on 127.0.0.1 that honours Range, and one that drops connections ---


class _Server:
    def __init__(self, payload: bytes, drop_first: int = 0, honour_range: bool = True):
        self.payload, self.drop_first, self.honour_range = payload, drop_first, honour_range
        self.requests: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.headers.get("Range"))
                if self.path != "/data.zip":
                    self.send_error(404)
                    return
                start = 0
                if server.honour_range and self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                body = server.payload[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                if start:
                    self.send_header(
                        "Content-Range",
                        f"bytes {start}-{len(server.payload) - 1}/{len(server.payload)}",
                    )
                self.end_headers()
                if server.drop_first > 0:
                    server.drop_first -= 1
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(*args, **kwargs):
        servers.append(_Server(*args, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_download_resumes_after_dropped_connections(tmp_path, serve, hapt_zip):
    payload = hapt_zip.read_bytes()
    server = serve(payload, drop_first=2)
    seen = []
    path = fetch(
        f"{server.url}/data.zip",
        tmp_path / "x.zip",
        backoff=0.01,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path.read_bytes() == payload
    assert server.requests[0] is None and server.requests[1].startswith("bytes=")
    assert int(server.requests[2][6:-1]) > int(server.requests[1][6:-1]) > 0  # each try resumes
    assert seen[-1] == (len(payload), len(payload))
    assert not (tmp_path / "x.zip.part").exists()


def test_download_restarts_when_the_server_ignores_range(tmp_path, serve, hapt_zip):
    payload = hapt_zip.read_bytes()
    server = serve(payload, drop_first=1, honour_range=False)
    path = fetch(f"{server.url}/data.zip", tmp_path / "x.zip", backoff=0.01)
    assert path.read_bytes() == payload


def test_download_gives_up_with_a_clear_error(tmp_path, serve):
    server = serve(b"never", drop_first=100)
    with pytest.raises(DownloadError, match="failed after 3 attempts"):
        fetch(f"{server.url}/data.zip", tmp_path / "x.zip", retries=2, backoff=0.01)
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(f"{server.url}/missing.zip", tmp_path / "y.zip", backoff=0.01)
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "y.zip").exists()


def test_cli_download_from_url_and_from_file(tmp_path, serve, hapt_zip):
    server = serve(hapt_zip.read_bytes())
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "data",
            "download",
            "hapt",
            "--dest",
            str(tmp_path / "h"),
            "--url",
            f"{server.url}/data.zip",
            "--retries",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "h" / "RawData" / "labels.txt").is_file()
    assert not list((tmp_path / ".harlite-downloads").glob("*.zip*"))

    result = runner.invoke(
        cli, ["data", "download", "hapt", "--dest", str(tmp_path / "g"), "--from", str(hapt_zip)]
    )
    assert result.exit_code == 0, result.output
    info = runner.invoke(cli, ["data", "info", str(tmp_path / "g"), "--json"])
    assert json.loads(info.output)["subjects"] == [1, 3]

    bad = malicious_zip(tmp_path / "bad.zip", "symlink")
    result = runner.invoke(
        cli, ["data", "download", "hapt", "--dest", str(tmp_path / "b"), "--from", str(bad)]
    )
    assert result.exit_code == 1
    assert "Error:" in result.output and "symbolic link" in result.output
    assert "Traceback" not in result.output
