"""The pins: requirements.txt (local and CI) and binder/ (Binder) must agree.

Stored notebook outputs are only reproducible with the versions that made
them, so a learner on Binder must get exactly the versions we test with.
"""

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO_ROOT / "requirements.txt"
BINDER_REQUIREMENTS = REPO_ROOT / "binder" / "requirements.txt"
BINDER_RUNTIME = REPO_ROOT / "binder" / "runtime.txt"

# What the notebooks import, and what runs them.
# notebook: Binder's base image ships it, so it is pinned to the release that matches jupyterlab.
COURSE_PACKAGES = ["numpy", "sympy", "matplotlib", "jupyterlab", "notebook", "ipykernel", "scikit-learn"]
# Tools of the test suite only: Binder doesn't need them.
TEST_ONLY_PACKAGES = ["pytest", "hypothesis", "nbval", "playwright"]

PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)")
# Both files install the pack itself, from the folder pip runs in: the
# repository root, for `make` and for repo2docker alike.
LOCAL_INSTALL = "-e ."


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
def binder_pins():
    return read_pins(BINDER_REQUIREMENTS)[0]


@pytest.mark.parametrize(
    "path", [REQUIREMENTS, BINDER_REQUIREMENTS], ids=["requirements.txt", "binder"]
)
def test_only_exact_pins_and_the_pack_itself(path):
    _, others = read_pins(path)
    assert others == [LOCAL_INSTALL], (
        f"{path.relative_to(REPO_ROOT)}: every line must be `name==version` or `{LOCAL_INSTALL}`; "
        f"found {others}"
    )


def test_binder_pins_the_same_versions(pins, binder_pins):
    missing = sorted(set(binder_pins) - set(pins))
    assert not missing, f"pinned in binder/requirements.txt but not in requirements.txt: {missing}"
    different = {
        name: (version, pins[name])
        for name, version in binder_pins.items()
        if version != pins[name]
    }
    assert not different, f"binder/requirements.txt vs requirements.txt: {different}"


@pytest.mark.parametrize("package", COURSE_PACKAGES)
def test_course_packages_are_pinned_in_both(package, pins, binder_pins):
    assert package in pins, f"{package} is not pinned in requirements.txt"
    assert package in binder_pins, f"{package} is not pinned in binder/requirements.txt"


def test_binder_leaves_out_the_test_tools(binder_pins):
    extra = [name for name in TEST_ONLY_PACKAGES if name in binder_pins]
    assert not extra, f"binder/requirements.txt needs no test tools: {extra}"


def dependencies(name, extras=()):
    """What installing `name[extras]` installs too, on this platform."""
    for spec in metadata.requires(name) or []:
        requirement = Requirement(spec)
        wanted = requirement.marker is None or any(
            requirement.marker.evaluate({"extra": extra}) for extra in ("", *extras)
        )
        if wanted:
            yield normalise(requirement.name), tuple(sorted(requirement.extras))


def test_binder_pins_exactly_what_the_course_pulls_in(binder_pins):
    """Every dependency pinned, so pip picks no version itself; nothing more."""
    seen, todo = set(), [(name, ()) for name in COURSE_PACKAGES]
    while todo:
        item = todo.pop()
        if item not in seen:
            seen.add(item)
            todo.extend(dependencies(*item))
    needed = {name for name, _ in seen}
    unpinned = sorted(needed - set(binder_pins))
    assert not unpinned, f"binder/requirements.txt does not pin {unpinned}"
    unneeded = sorted(set(binder_pins) - needed)
    assert not unneeded, f"binder/requirements.txt pins what the course doesn't use: {unneeded}"


def test_binder_python_is_the_one_that_made_the_outputs():
    running = f"python-{sys.version_info.major}.{sys.version_info.minor}"
    assert BINDER_RUNTIME.read_text(encoding="utf-8").strip() == running, (
        f"binder/runtime.txt should read {running}, the Python running the tests"
    )


@pytest.mark.parametrize("package", COURSE_PACKAGES)
def test_installed_course_packages_match_the_pins(package, pins):
    assert metadata.version(package) == pins[package], (
        f"{package} {metadata.version(package)} is installed, requirements.txt pins "
        f"{pins[package]}: rebuild it with `rm -rf .venv && make venv`"
    )


def test_every_pinned_package_is_installed_at_its_pin(pins):
    wrong = {}
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = f"pinned {version}, installed {installed}"
    assert not wrong, f"the environment differs from requirements.txt: {wrong}"
