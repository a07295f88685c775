"""Shared parameter lists of the layers.py tests, imported by the test modules.

A plain module rather than conftest.py: tests/browser has a conftest.py of its
own, and `from conftest import ...` would find whichever was imported first.
"""

from pathlib import Path

import numpy as np
import pytest

import layers

REPO_ROOT = Path(__file__).resolve().parents[1]

#: A (2, 3) batch that every layer of LAYER_FACTORIES accepts.
GOOD_X = np.array([[0.5, -1.5, 2.0], [3.0, 0.0, -4.0]])

OBJECTIVE_CLASSES = [
    pytest.param(layers.SquaredError, id="squared-error"),
    pytest.param(layers.LogLoss, id="log-loss"),
    pytest.param(layers.CrossEntropy, id="cross-entropy"),
]
#: The objectives for probabilities: y and yhat in [0, 1], logs inside.
LOG_LOSS_CLASSES = OBJECTIVE_CLASSES[1:]

#: The layers with eps on their Jacobian's diagonal, each with its exact
#: derivative written without its output g: sigma' = 1 / (4 cosh^2(x / 2)),
#: tanh' = 1 / cosh^2(x).
EPS_LAYERS = [
    pytest.param(layers.LogisticSigmoidLayer, lambda x: 1.0 / (4.0 * np.cosh(x / 2.0) ** 2), id="sigmoid"),
    pytest.param(layers.TanhLayer, lambda x: 1.0 / np.cosh(x) ** 2, id="tanh"),
]
#: Everything that takes an eps.
EPS_OWNERS = [pytest.param(param.values[0], id=param.id) for param in EPS_LAYERS] + LOG_LOSS_CLASSES

#: Smooth layers with their exact derivative (eps=0; eps is tested on its own).
SMOOTH_LAYERS = [
    pytest.param(layers.LinearLayer, id="linear"),
    pytest.param(lambda: layers.LogisticSigmoidLayer(eps=0), id="sigmoid"),
    pytest.param(lambda: layers.TanhLayer(eps=0), id="tanh"),
    pytest.param(layers.SoftmaxLayer, id="softmax"),
    pytest.param(layers.SoftplusLayer, id="softplus"),
    pytest.param(layers.GELULayer, id="gelu"),
    pytest.param(layers.LogSoftmaxLayer, id="log-softmax"),
]
#: Every activation, with and without eps.
ALL_ACTIVATIONS = SMOOTH_LAYERS + [
    pytest.param(layers.ReLULayer, id="relu"),
    pytest.param(layers.LogisticSigmoidLayer, id="sigmoid-eps"),
    pytest.param(layers.TanhLayer, id="tanh-eps"),
    pytest.param(layers.LeakyReLULayer, id="leaky-relu"),
    pytest.param(layers.ELULayer, id="elu"),
]


def _in_eval_mode(layer):
    """The layer (BatchNorm or dropout) switched to eval mode."""
    layer.training = False
    return layer


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
    "leaky-relu": layers.LeakyReLULayer,
    "softplus": layers.SoftplusLayer,
    "elu": layers.ELULayer,
    "gelu": layers.GELULayer,
    "log-softmax": layers.LogSoftmaxLayer,
    "layer-norm": layers.LayerNormLayer,
    "batch-norm": layers.BatchNormLayer,
    "batch-norm-eval": lambda: _in_eval_mode(layers.BatchNormLayer()),
    "dropout": lambda: layers.DropoutLayer(rng=np.random.default_rng(0)),
    "dropout-eval": lambda: _in_eval_mode(layers.DropoutLayer(rng=np.random.default_rng(0))),
}
