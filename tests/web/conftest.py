"""The workbench's fixtures: a copy of the default policy folder, an app over it, an ASGI
client on loopback, and a real uvicorn server on a free loopback port.

Every web test skips, saying why, when the ``web`` extra (Starlette, uvicorn) is missing.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.testclient import TestClient

#: Why the web tests skip: each test module skips with it when the extra is missing (a
#: conftest cannot skip, so this one imports Starlette only inside its fixtures).
NO_WEB = 'the web extra is not installed (pip install "triage[web]"; .ci/run installs it)'


def need_web() -> None:
    """Skip the calling test module, saying why, without Starlette and uvicorn."""
    pytest.importorskip("starlette", reason=NO_WEB)
    pytest.importorskip("uvicorn", reason=NO_WEB)

ROOT = Path(__file__).resolve().parents[2]
#: Where browser tests keep screenshots unless $TRIAGE_ARTIFACTS names a folder.
ROOT_ARTIFACTS = ROOT / "tests" / "artifacts"
LOOPBACK = "http://127.0.0.1:8080"
#: A complaint of the default policy's smoke case.
COMPLAINT = {"id": "W-1", "channel": "phone",
             "text": "变速箱顿挫已经修了三次还是没修好，再不解决我就打12315",
             "product": {"domain": "auto_dealer"},
             "received_at": "2026-11-23T17:20:00+08:00"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A fresh copy of the repository's rules/ (policy, templates, cases)."""
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def draft_of(folder: Path) -> Path:
    """The workbench's draft of ``folder`` (made when the app starts): where authors'
    saves go until they publish."""
    return folder / ".workbench" / "draft" / folder.name


Make = Callable[..., "TestClient"]


@pytest.fixture
def make_client(folder: Path) -> Make:
    """Build an app over ``folder`` with the given options and a loopback client to it."""
    from starlette.testclient import TestClient  # noqa: PLC0415

    from triage.web import ServeOptions, create_app  # noqa: PLC0415

    def make(**options: Any) -> TestClient:
        return TestClient(create_app(folder, ServeOptions(**options)), base_url=LOOPBACK)

    return make


@pytest.fixture
def client(make_client: Make) -> TestClient:
    """A loopback client of a workbench with the default options."""
    return make_client()


def csrf_of(client: TestClient) -> str:
    """The CSRF token a page of the workbench carries."""
    page = client.get("/try").text
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@contextmanager
def running(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, in a thread; its base URL."""
    import uvicorn  # noqa: PLC0415

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off",
                                           backlog=512, timeout_keep_alive=30))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()
