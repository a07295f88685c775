"""Shared test settings for the layers.py suite.

Hypothesis runs derandomized: the same examples on every machine and every
run, so a failure in CI is a failure on a laptop too. A modest example count
keeps the whole suite fast; raise it locally for a deeper search with
``HYPOTHESIS_PROFILE=thorough pytest tests``.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import layers

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

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root():
    """The project root, which holds layers.py."""
    return REPO_ROOT


# One of each layer, each accepting (N, 3) input.
LAYER_FACTORIES = {
    "input": lambda: layers.InputLayer([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]),
    "fully-connected": lambda: layers.FullyConnectedLayer(3, 3, rng=np.random.default_rng(0)),
    "linear": layers.LinearLayer,
    "relu": layers.ReLULayer,
    "sigmoid": layers.LogisticSigmoidLayer,
    "sigmoid-eps0": lambda: layers.LogisticSigmoidLayer(eps=0),
    "tanh": layers.TanhLayer,
    "tanh-eps0": lambda: layers.TanhLayer(eps=0),
    "softmax": layers.SoftmaxLayer,
}


@pytest.fixture(params=list(LAYER_FACTORIES.values()), ids=list(LAYER_FACTORIES))
def make_layer(request):
    """A factory of one layer kind (every kind in turn) taking (N, 3) input."""
    return request.param
