"""A real JupyterLab in a real browser: the server, the browser and the report.

The browser is Debian's Chromium (`apt-get install chromium`), driven by
Playwright; `playwright install` is never needed. Where Chromium is missing the
browser tests are skipped with a loud note at the end of the run, except in CI
(`CI=true`) and under `make test-browser` (`REQUIRE_BROWSER=1`), where they fail.

JupyterLab starts from `make lab`'s own command line (read with `make -n lab`),
so the test sees what a learner sees: the repository served from its root, the
first notebook as the landing page, the environment's settings (no news pop-up).
The test adds only what a test needs: its own port and token, no browser window,
autosave off. The test never saves, so the stored notebooks stay as they are; the
test checks that too. Everything else JupyterLab keeps (user settings,
workspaces, runtime files) goes to a temporary folder.

Under pytest-xdist every worker starts its own JupyterLab and Chromium.
"""

import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 120  # seconds; two shared cores can be slow to import jupyterlab

# The test's own user settings: no autosave (nothing to save in a test). The news
# pop-up stays off through the environment's overrides, as for a learner.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

MISSING_BROWSER_BANNER = (
    f"Browser tests were NOT run: Chromium not found at {CHROMIUM}. "
    "Install it (apt-get install chromium) and run `make test-browser`."
)


class BrowserReport:
    """What the terminal summary tells after the run."""

    def __init__(self):
        self.chromium_missing = False
        self.notebooks = []  # (name, screenshot path, {"opened": s, "ran": s})

    def screenshot_path(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return ARTIFACTS / f"{name}.png"

    def add(self, name, screenshot, seconds):
        self.notebooks.append((name, screenshot, seconds))

    def lines(self):
        for name, screenshot, seconds in self.notebooks:
            steps = [f"{step} in {time:.1f} s" for step, time in seconds.items()]
            if "ran" not in seconds:
                steps.append("did not finish")
            if screenshot.exists():
                steps.append(f"screenshot {screenshot.relative_to(REPO_ROOT)}")
            yield f"{name}: " + ", ".join(steps)


REPORT = BrowserReport()


def browser_required():
    """CI and `make test-browser` must not pass without a browser."""
    return (
        os.environ.get("CI", "").lower() in {"1", "true", "yes"}
        or os.environ.get("REQUIRE_BROWSER", "") == "1"
    )


@pytest.fixture(scope="session")
def chromium_path():
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    REPORT.chromium_missing = True
    if browser_required():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}, and this run requires the browser tests "
            "(CI=true or REQUIRE_BROWSER=1). Install it with "
            "`apt-get install -y --no-install-recommends chromium`, "
            "or point $CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_lab_settings(settings_dir):
    for name, values in LAB_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class LabServer:
    """A running `jupyter lab` on 127.0.0.1, with token authentication on."""

    def __init__(self, port, token, log_path):
        self.port = port
        self.token = token
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{port}"

    def url(self, path, query=""):
        return f"{self.base_url}/{path}?{query}token={self.token}"

    def api(self, path, method="GET"):
        request = urllib.request.Request(
            f"{self.base_url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_idle(self, notebook_name):
        """Whether the server has a kernel for the notebook, started and idle."""
        return any(
            session["path"].endswith(notebook_name)
            and (session.get("kernel") or {}).get("execution_state") == "idle"
            for session in self.api("sessions")
        )

    def shut_down_kernels(self):
        """Each notebook starts a kernel: stop them so that they don't pile up."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def log_tail(self, lines=40):
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, chromium_path):
    """JupyterLab from this environment, serving the repository as `make lab` does."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    _write_lab_settings(tmp / "settings")

    # Every Jupyter directory points into tmp, so a user's own settings,
    # workspaces and kernels can neither leak into the test nor be changed by it.
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        IPYTHONDIR=str(tmp / "ipython"),
    )
    port = _free_port()
    token = secrets.token_hex(24)
    server = LabServer(port, token, tmp / "jupyterlab.log")
    command = make_lab_command(port) + [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.runtime_dir={tmp / 'runtime'}",
        # JupyterLab copies each notebook it opens to a checkpoint: keep those out of the repo.
        f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip

    with open(server.log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_serving(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_lab_command(port):
    """The command `make lab PORT=port` runs, as make prints it without running it."""
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "lab", f"PORT={port}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert dry_run.returncode == 0, f"`make -n lab` failed:\n{dry_run.stderr}"
    # Backslash-newlines join the recipe's lines; the last command is the server.
    lines = dry_run.stdout.replace("\\\n", " ").splitlines()
    command = shlex.split(lines[-1])
    assert Path(command[0]).name == "jupyter" and command[1] == "lab", (
        f"`make -n lab` ends with {lines[-1]!r}, not a `jupyter lab` command"
    )
    return command


def _wait_until_serving(server, process):
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"jupyter lab exited with code {process.returncode} before serving:\n"
                f"{server.log_tail()}",
                pytrace=False,
            )
        try:
            server.api("status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(
        f"jupyter lab did not answer within {SERVER_START_TIMEOUT} s:\n{server.log_tail()}",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser_context(chromium_path, tmp_path_factory):
    """Chromium with a fresh profile: no cookies or settings from earlier runs."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium_path),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def browser_report():
    return REPORT


def pytest_terminal_summary(terminalreporter):
    # Under pytest-xdist the tests ran in workers: the controller looks for itself.
    skipped_here = not CHROMIUM.is_file() and any(
        "browser" in report.nodeid for report in terminalreporter.stats.get("skipped", [])
    )
    if REPORT.chromium_missing or skipped_here:
        terminalreporter.write_sep("!", "browser tests not run", red=True, bold=True)
        terminalreporter.write_line(MISSING_BROWSER_BANNER, red=True, bold=True)
        terminalreporter.write_sep("!", red=True, bold=True)
    if REPORT.notebooks:
        terminalreporter.write_sep("-", "notebooks in JupyterLab (Chromium)")
        for line in REPORT.lines():
            terminalreporter.write_line(line)
