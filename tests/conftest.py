"""Shared test settings for the layers.py suite.

Hypothesis runs derandomized: the same examples on every machine and every
run, so a failure in CI is a failure on a laptop too. A modest example count
keeps the whole suite fast; raise it locally for a deeper search with
``HYPOTHESIS_PROFILE=thorough pytest tests``.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from layer_cases import LAYER_FACTORIES, LOG_LOSS_CLASSES, OBJECTIVE_CLASSES, REPO_ROOT

settings.register_profile(
    "layers",
    derandomize=True,  # reproducible examples, no flaky property tests
    deadline=None,  # timings on shared CI machines vary too much to assert on
    max_examples=40,
    database=None,  # derandomized runs need no example database (.hypothesis/)
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    parent=settings.get_profile("layers"),
    derandomize=False,
    max_examples=1000,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "layers"))


@pytest.fixture(scope="session")
def repo_root():
    """The project root, which holds layers.py."""
    return REPO_ROOT


@pytest.fixture(scope="session", params=OBJECTIVE_CLASSES)
def objective_class(request):
    """Each objective class in turn (a class: stateless, so one per session)."""
    return request.param


@pytest.fixture(scope="session", params=LOG_LOSS_CLASSES)
def log_loss_class(request):
    """LogLoss, then CrossEntropy."""
    return request.param


@pytest.fixture(params=list(LAYER_FACTORIES.values()), ids=list(LAYER_FACTORIES))
def make_layer(request):
    """A factory of one layer kind (every kind in turn) taking (N, 3) input."""
    return request.param
