"""The wheel, installed outside the checkout, holds every packaged file and runs analyze, run and serve.

Offline and quick: the wheel is built without build isolation, installed with ``--no-deps``
into a fresh virtualenv whose ``.pth`` file points at this interpreter's site-packages (so
the dependencies resolve without a download), and every command runs from a temporary
working directory, so nothing can be found through the source tree by accident.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import REPO

pytestmark = [pytest.mark.slow, pytest.mark.models]

#: Folders of the checkout whose every file must ship: the package, and models/ as tracker.models.
PACKAGED = {"tracker": "tracker", "models": "tracker/models"}
SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass
class Install:
    wheel: Path
    venv: Path
    python: Path
    tracker: Path
    env: dict[str, str]


def source_files() -> list[str]:
    """Files of the checkout (tracked or new, not ignored), relative paths."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True,
                             capture_output=True, text=True).stdout
        files = [line for line in out.splitlines() if line and (REPO / line).is_file()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an sdist)
        files = [str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file() and ".venv" not in p.parts
                 and ".git" not in p.parts]
    return [f for f in files if not SKIP_PARTS & set(Path(f).parts) and not f.endswith(".pyc")]


def expected_in_wheel(files: list[str]) -> set[str]:
    """Where each file of tracker/ and models/ must sit in the wheel."""
    expected = set()
    for name in files:
        top, _, rest = name.partition("/")
        if top in PACKAGED and rest:
            expected.add(f"{PACKAGED[top]}/{rest}")
    return expected


def clean_env() -> dict[str, str]:
    """This environment without anything that could point back into the checkout."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("TRACKER_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    root = tmp_path_factory.mktemp("packaging")
    # Build from a copy of the source files, so the build leaves nothing in the checkout.
    src = root / "src"
    src.mkdir()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in source_files():
            tar.add(REPO / name, arcname=name)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        tar.extractall(src, filter="data")
    dist = root / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(dist), str(src)], check=True, capture_output=True, text=True)
    [wheel] = dist.glob("narrative_tracker-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies come from this interpreter's site-packages (appended after the venv's own).
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (Path(site) / "_test_dependencies.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "-q", str(wheel)], check=True, capture_output=True, text=True)
    return Install(wheel=wheel, venv=venv, python=python, tracker=venv / "bin" / "tracker", env=clean_env())


def test_the_wheel_holds_every_packaged_file(install: Install) -> None:
    with zipfile.ZipFile(install.wheel) as wheel:
        names = set(wheel.namelist())
    expected = expected_in_wheel(source_files())
    assert {"tracker/models/narratives.yaml", "tracker/models/gazetteer.yaml", "tracker/models/heads/narratives.json",
            "tracker/serve/datasette/metadata.yml", "tracker/sample_feeds/feeds.yaml",
            "tracker/report/templates/report.html.j2"} <= expected
    missing = sorted(expected - names)
    assert not missing, f"in the source tree but not in the wheel (add them to package-data): {missing}"


def test_the_installed_package_reads_its_data_from_the_install(install: Install, tmp_path: Path) -> None:
    code = ("import tracker, tracker.models; from tracker.base.resources import packaged_models_dir, sample_feeds, "
            "packaged; print(tracker.__file__); print(packaged_models_dir()); print(sample_feeds()); "
            "print(packaged('serve', 'datasette', 'metadata.yml'))")
    out = subprocess.run([str(install.python), "-c", code], cwd=tmp_path, env=install.env, check=True,
                         capture_output=True, text=True).stdout.split()
    for path in map(Path, out):
        assert path.exists() and install.venv in path.parents, f"{path} is not inside the install"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_analyze_run_and_serve_from_the_wheel(install: Install, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()

    def tracker(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(install.tracker), *args], cwd=work, env=install.env, capture_output=True,
                              text=True, timeout=900, **kwargs)  # type: ignore[call-overload]

    analysed = tracker("analyze", "-", "--json", input="Goldman Sachs sees the stablecoin market at $1.2 trillion.")
    assert analysed.returncode == 0, analysed.stderr
    assert '"goldman_sachs"' in analysed.stdout and '"narratives"' in analysed.stdout

    feeds = subprocess.run([str(install.python), "-c", "from tracker.base.resources import sample_feeds; "
                            "print(sample_feeds())"], cwd=work, env=install.env, check=True, capture_output=True,
                           text=True).stdout.strip()
    assert install.venv in Path(feeds).parents
    ran = tracker("run", "--feeds", feeds, "--json")
    assert ran.returncode == 0, ran.stderr
    assert (work / "db" / "tracker.db").is_file()  # user data relative to the working directory

    port = free_port()
    server = subprocess.Popen([str(install.tracker), "serve", "--port", str(port), "--no-sql"], cwd=work,
                              env=install.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/tracker", timeout=5) as response:
                    page = response.read().decode()
                    status = response.status
                break
            except OSError:
                assert time.monotonic() < deadline, "tracker serve never answered"
                time.sleep(0.5)
        assert status == 200 and "narrative_index" in page
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
    shutil.rmtree(work / "db", ignore_errors=True)
