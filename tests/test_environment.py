"""The pins: one source for a learner's machine, for CI and for Binder.

Stored notebook outputs are only reproducible with the versions that made
them. requirements.txt pins the runtime (what a learner needs), and is the
file Binder installs too (binder/requirements.txt only points at it);
requirements-test.txt adds the test tools for `make test`.
"""

import json
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO_ROOT / "requirements.txt"
TEST_REQUIREMENTS = REPO_ROOT / "requirements-test.txt"
BINDER = REPO_ROOT / "binder"

# What the notebooks import, and what runs them.
# notebook: Binder's base image ships it, so it is pinned to the release that matches jupyterlab.
COURSE_PACKAGES = ["numpy", "sympy", "matplotlib", "jupyterlab", "notebook", "ipykernel", "scikit-learn", "nbconvert"]
# Tools of the test suite only: a learner and Binder don't need them.
TEST_PACKAGES = ["pytest", "hypothesis", "nbval", "playwright", "pytest-xdist"]

PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)")


def normalise(name):
    """PyPI's spelling-blind name: Jinja2 = jinja2, typing_extensions = typing-extensions."""
    return canonicalize_name(name)


def read_pins(path):
    """{normalised name: version} of a requirements file, and its other lines."""
    pins, others = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.fullmatch(line)
        if match:
            name = normalise(match["name"])
            assert name not in pins, f"{path.name}: {name} is pinned twice"
            pins[name] = match["version"]
        else:
            others.append(line)
    return pins, others


@pytest.fixture(scope="module")
def pins():
    return read_pins(REQUIREMENTS)[0]


@pytest.fixture(scope="module")
def test_pins():
    return read_pins(TEST_REQUIREMENTS)[0]


@pytest.mark.parametrize(
    "path, allowed",
    [(REQUIREMENTS, ["-e ."]), (TEST_REQUIREMENTS, ["-r requirements.txt"])],
    ids=["requirements.txt", "requirements-test.txt"],
)
def test_only_exact_pins(path, allowed):
    _, others = read_pins(path)
    assert others == allowed, (
        f"{path.name}: every line must be `name==version` or one of {allowed}; found {others}"
    )


def test_binder_installs_the_same_file():
    """One source of pins: Binder reads requirements.txt through a nested -r."""
    pins, others = read_pins(BINDER / "requirements.txt")
    assert pins == {} and others == ["-r ../requirements.txt"]


def test_no_package_is_pinned_in_both_files(pins, test_pins):
    assert not set(pins) & set(test_pins)


@pytest.mark.parametrize("package", COURSE_PACKAGES)
def test_course_packages_are_runtime_pins(package, pins):
    assert normalise(package) in pins, f"{package} is not pinned in requirements.txt"


@pytest.mark.parametrize("package", TEST_PACKAGES)
def test_test_tools_are_test_pins(package, pins, test_pins):
    assert normalise(package) in test_pins, f"{package} is not pinned in requirements-test.txt"
    assert normalise(package) not in pins, f"{package}: a learner does not need it in requirements.txt"


def dependencies(name, extras=()):
    """What installing `name[extras]` installs too, on this platform."""
    for spec in metadata.requires(name) or []:
        requirement = Requirement(spec)
        wanted = requirement.marker is None or any(
            requirement.marker.evaluate({"extra": extra}) for extra in ("", *extras)
        )
        if wanted:
            yield normalise(requirement.name), tuple(sorted(requirement.extras))


def closure(packages, exclude=()):
    """Every package that installing `packages` installs, with extras followed."""
    seen, todo = set(), [(normalise(name), ()) for name in packages]
    while todo:
        item = todo.pop()
        if item not in seen and item[0] not in exclude:
            seen.add(item)
            todo.extend(dependencies(*item))
    return {name for name, _ in seen}


@pytest.mark.parametrize(
    "path, roots",
    [(REQUIREMENTS, COURSE_PACKAGES), (TEST_REQUIREMENTS, TEST_PACKAGES)],
    ids=["runtime", "test"],
)
def test_pins_exactly_what_is_pulled_in(path, roots, pins):
    """Every dependency pinned, so pip picks no version itself; nothing more."""
    pinned = read_pins(path)[0]
    needed = closure(roots, exclude=set(pins) if path == TEST_REQUIREMENTS else ())
    unpinned = sorted(needed - set(pinned) - (set(pins) if path == TEST_REQUIREMENTS else set()))
    assert not unpinned, f"{path.name} does not pin {unpinned}"
    unneeded = sorted(set(pinned) - needed)
    assert not unneeded, f"{path.name} pins what nothing uses: {unneeded}"


def test_binder_python_is_the_one_that_made_the_outputs():
    running = f"python-{sys.version_info.major}.{sys.version_info.minor}"
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == running, (
        f"binder/runtime.txt should read {running}, the Python running the tests"
    )


@pytest.mark.parametrize("package", COURSE_PACKAGES)
def test_installed_course_packages_match_the_pins(package, pins):
    assert metadata.version(package) == pins[package], (
        f"{package} {metadata.version(package)} is installed, requirements.txt pins "
        f"{pins[package]}: rebuild it with `rm -rf .venv && make venv`"
    )


def test_every_pinned_package_is_installed_at_its_pin(pins, test_pins):
    wrong = {}
    for name, version in {**pins, **test_pins}.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = f"pinned {version}, installed {installed}"
    assert not wrong, f"the environment differs from the requirements files: {wrong}"


def test_jupyterlab_asks_no_news_locally_or_on_binder():
    """The news pop-up would cover the first notebook and fetch from the internet.

    `make venv` and Binder's postBuild install the same overrides.json into the
    environment, where JupyterLab reads its defaults.
    """
    overrides = BINDER / "overrides.json"
    settings = json.loads(overrides.read_text(encoding="utf-8"))
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.read_text(encoding="utf-8") == overrides.read_text(encoding="utf-8"), (
        "the environment's JupyterLab overrides differ from binder/overrides.json: run `make venv`"
    )
    post_build = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert "cp binder/overrides.json" in post_build and "share/jupyter/lab/settings" in post_build
