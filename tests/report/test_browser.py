"""The demo report in a real browser: Debian's headless Chromium opens the written file, builds every chart, draws
the page, and asks the network for nothing.

"Nothing" is read from the browser's own network log: the report may not add a single http(s) address to what
Chromium asks for by itself with a blank page (its update and time checks, which the flags do not all silence). A
control page with one image from a CDN shows the check catches what it should."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fairdun.adapters.report import write_report
from tests.report.test_html import report

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:  # make test installs it; a missing browser is a failure, never a skip
        pytest.fail("Debian's chromium is not installed (make test installs it: apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(report(), tmp_path_factory.mktemp("report"))


def browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def addresses(chromium: str, profile: Path, page: Path) -> set[str]:
    """The http(s) addresses (scheme, host, path) Chromium asked for while drawing ``page``, from its net log."""
    log = profile.with_suffix(".netlog.json")
    done = browse(chromium, profile, f"--log-net-log={log}", f"--screenshot={profile}.png", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            url = node.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                parts = urlsplit(url)
                found.add(f"{parts.scheme}://{parts.hostname}{parts.path}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    text = log.read_text(encoding="utf-8").rstrip().rstrip(",")
    walk(json.loads(text if text.endswith("}") else text + "]}"))
    return found


def test_the_report_asks_the_network_for_nothing(chromium: str, page: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    control = tmp_path / "control.html"
    control.write_text(
        page.read_text(encoding="utf-8").replace("</body>", '<img src="http://cdn.example.com/logo.png"></body>'),
        encoding="utf-8",
    )
    baseline = addresses(chromium, tmp_path / "blank", blank)
    assert addresses(chromium, tmp_path / "control", control) - baseline == {"http://cdn.example.com/logo.png"}
    assert addresses(chromium, tmp_path / "report", page) - baseline == set()


def test_the_browser_builds_every_chart_of_the_report(chromium: str, page: Path, tmp_path: Path) -> None:
    done = browse(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    source = page.read_text(encoding="utf-8")
    dom = done.stdout
    assert source.count("<svg") >= 8
    assert dom.count("<svg") == source.count("<svg")  # every inline chart became a node
    assert dom.count("<figure") == source.count("<figure")
    assert "fairdun 演示报告" in dom


def test_the_browser_draws_the_page_without_the_network(chromium: str, page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = browse(chromium, tmp_path / "profile", "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 3000)
    assert len(data) > 30_000  # charts, tables and text, not a blank page
