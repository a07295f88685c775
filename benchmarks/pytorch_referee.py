"""PyTorch as the referee of the layers after the homework (and of softmax and log-softmax).

    /tmp/torchref/bin/python benchmarks/pytorch_referee.py

Needs an environment with torch (it is not a dependency of the course):

    python3 -m venv /tmp/torchref && /tmp/torchref/bin/pip install torch==2.13.0 numpy==2.4.6

For every layer it prints the largest relative difference from PyTorch's
functional form in float64, at seeded random inputs and at inputs of size
1000, of

* forward: the output;
* Jacobian: ``gradient()`` spread out to the full (N, K, N, K) Jacobian of the
  batch (zero between rows, or between features for BatchNorm), against
  ``torch.autograd.functional.jacobian``: so a coupling the layer leaves out
  counts too;
* backward: ``backward(g)`` against autograd's vector-Jacobian product;

for the objective: eval, gradient (against autograd's Jacobian of the loss)
and autograd's backward; for BatchNorm also the running statistics after
three training steps. It exits with status 1 when any difference exceeds
1e-10.

The relative difference is max |ours - torch| / max |torch| over the array:
the error relative to the array's scale. Entrywise ratios would measure
PyTorch's own round-off in the tiny entries: its tanh-GELU computes
1 + tanh(u), which cancels for x below about -3 (at x = -12 it returns 0,
the true value is -1.7e-62), where layers.GELULayer computes the same
function as x sigma(2u) and stays exact (tests/test_part2_layers.py checks it
against mpmath).

Two settings make PyTorch's float64 the exact function, as layers.py is:
softplus's ``threshold`` (above it F.softplus returns x itself) is 40, not the
default 20, which is meant for float32 and is off by e^-20 = 2e-9 in float64;
dropout's mask is random in both libraries, so PyTorch is given the layer's
own mask (and its eval mode is checked to be the identity).
"""

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import layers  # noqa: E402  (the repository's layers.py, not an installed copy)

TOLERANCE = 1e-10
torch.set_default_dtype(torch.float64)


def relative_difference(ours, theirs):
    """max |ours - theirs| / max |theirs|: the difference relative to the array's scale.

    Inputs:
    - ours, theirs: array-like of one shape.

    Returns:
    - difference: float (0 when both are all zeros).
    """
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    scale = np.max(np.abs(theirs))
    difference = np.max(np.abs(ours - theirs))
    return float(difference / scale) if scale > 0 else float(difference)


def full_jacobian(jacobian, shape, batch_norm=False):
    """The layer's Jacobian spread out to the batch's (N, K, N, K): d out[n, i] / d x[m, j].

    Inputs:
    - jacobian: array (N, K, K) per row, or (K, N, N) per feature for BatchNorm.
    - shape: tuple (N, K), the input's shape.
    - batch_norm: bool, True for the (K, N, N) layout.

    Returns:
    - full: array of shape (N, K, N, K), zero where the layer says two entries do not interact.
    """
    n, k = shape
    full = np.zeros((n, k, n, k))
    if batch_norm:
        for feature in range(k):
            full[:, feature, :, feature] = jacobian[feature]
    else:
        for row in range(n):
            full[row, :, row, :] = jacobian[row]
    return full


def torch_side(function, x, g):
    """PyTorch's output, full Jacobian and vector-Jacobian product at x.

    Inputs:
    - function: callable mapping a float64 tensor (N, K) to a tensor (N, K).
    - x, g: arrays of shape (N, K); g is the upstream gradient.

    Returns:
    - out: array (N, K); jacobian: array (N, K, N, K); back: array (N, K).
    """
    tensor = torch.tensor(x, requires_grad=True)
    out = function(tensor)
    out.backward(torch.tensor(g))
    jacobian = torch.autograd.functional.jacobian(function, torch.tensor(x))
    return out.detach().numpy(), jacobian.numpy(), tensor.grad.numpy()


def compare_layer(make_layer, function, x, g, batch_norm=False):
    """forward, Jacobian and backward differences of one layer at x.

    Inputs:
    - make_layer: callable returning a fresh layer.
    - function: PyTorch's form, tensor (N, K) -> tensor (N, K).
    - x, g: arrays (N, K).
    - batch_norm: bool, True for the (K, N, N) Jacobian.

    Returns:
    - differences: list of 3 floats.
    """
    layer = make_layer()
    out = layer.forward(x)
    jacobian = full_jacobian(layer.gradient(), x.shape, batch_norm)
    back = layer.backward(g)
    torch_out, torch_jacobian, torch_back = torch_side(function, x, g)
    return [relative_difference(out, torch_out), relative_difference(jacobian, torch_jacobian),
            relative_difference(back, torch_back)]


def batch_norm_function(running_mean, running_var, training):
    """F.batch_norm with copies of the running statistics (autograd calls it many times)."""
    def function(tensor):
        return F.batch_norm(tensor, torch.tensor(running_mean).clone(), torch.tensor(running_var).clone(),
                            training=training, momentum=0.1, eps=1e-5)
    return function


def layer_cases(rng):
    """(name, make_layer, PyTorch function, batch_norm) for every layer compared."""
    def eval_batch_norm():
        # Running statistics away from 0 and 1, so that eval mode uses real ones.
        layer = layers.BatchNormLayer()
        for _ in range(3):
            layer.forward(rng.normal(2.0, 3.0, (8, 5)))
        layer.training = False
        return layer

    frozen = eval_batch_norm()
    return [
        ("SoftmaxLayer", layers.SoftmaxLayer, lambda t: torch.softmax(t, dim=1), False),
        ("LogSoftmaxLayer", layers.LogSoftmaxLayer, lambda t: F.log_softmax(t, dim=1), False),
        ("LeakyReLULayer", layers.LeakyReLULayer, lambda t: F.leaky_relu(t, 0.01), False),
        ("LeakyReLULayer(alpha=0.2)", lambda: layers.LeakyReLULayer(alpha=0.2),
         lambda t: F.leaky_relu(t, 0.2), False),
        ("SoftplusLayer", layers.SoftplusLayer, lambda t: F.softplus(t, beta=1.0, threshold=40.0), False),
        ("ELULayer", layers.ELULayer, lambda t: F.elu(t, alpha=1.0), False),
        ("ELULayer(alpha=0.5)", lambda: layers.ELULayer(alpha=0.5), lambda t: F.elu(t, alpha=0.5), False),
        ("GELULayer", layers.GELULayer, lambda t: F.gelu(t, approximate="tanh"), False),
        ("LayerNormLayer", layers.LayerNormLayer, lambda t: F.layer_norm(t, (t.shape[1],), eps=1e-5), False),
        ("BatchNormLayer (training)", layers.BatchNormLayer,
         batch_norm_function(np.zeros(5), np.ones(5), training=True), True),
        ("BatchNormLayer (eval)", lambda: frozen,
         batch_norm_function(frozen.running_mean[0], frozen.running_var[0], training=False), True),
    ]


def inputs(rng):
    """(label, x, g): seeded random inputs, and inputs of size 1000. Each (8, 5)."""
    random = rng.normal(0.0, 3.0, (8, 5))
    large = rng.choice([-1000.0, 1000.0], (8, 5)) * rng.uniform(0.5, 1.0, (8, 5))
    large[0] = [1000.0, -1000.0, 0.5, 1000.0, -3.0]           # a row with one huge gap
    g = rng.normal(0.0, 1.0, (8, 5))
    return [("random", random, g), ("|x| = 1000", large, g)]


def dropout_rows(x, g):
    """Dropout with the layer's own mask handed to PyTorch; eval mode against F.dropout."""
    rows = []
    for p in (0.0, 0.3, 0.5):
        def make_layer(p=p):
            return layers.DropoutLayer(p=p, rng=np.random.default_rng(0))

        # The same seed and shape give the same mask: read it off a first layer.
        first = make_layer()
        first.forward(x)
        scale = torch.tensor(first.scale)
        rows.append((f"DropoutLayer(p={p}) (training)",
                     compare_layer(make_layer, lambda t, scale=scale: t * scale, x, g)))

    def evaluation():
        layer = layers.DropoutLayer(p=0.5, rng=np.random.default_rng(0))
        layer.training = False
        return layer

    rows.append(("DropoutLayer(p=0.5) (eval)",
                 compare_layer(evaluation, lambda t: F.dropout(t, p=0.5, training=False), x, g)))
    return rows


def objective_rows(rng):
    """CrossEntropyWithLogits against F.cross_entropy with probability targets."""
    rows = []
    n, k = 6, 4
    one_hot = np.eye(k)[rng.integers(0, k, n)]
    soft = rng.dirichlet(np.ones(k), n)
    unnormalised = rng.uniform(0.0, 1.0, (n, k))   # sum_k y != 1: the gradient's s * sum_k y
    random = rng.normal(0.0, 3.0, (n, k))
    large = rng.choice([-1000.0, 1000.0], (n, k)) * rng.uniform(0.5, 1.0, (n, k))
    for target_label, y in (("one-hot", one_hot), ("soft", soft), ("rows not summing to 1", unnormalised)):
        for input_label, z in (("random", random), ("|z| = 1000", large)):
            objective = layers.CrossEntropyWithLogits()
            target = torch.tensor(y)

            def loss(tensor, target=target):
                return F.cross_entropy(tensor, target)

            tensor = torch.tensor(z, requires_grad=True)
            value = loss(tensor)
            value.backward()
            jacobian = torch.autograd.functional.jacobian(loss, torch.tensor(z)).numpy()
            rows.append((f"CrossEntropyWithLogits, {target_label}", input_label, [
                relative_difference(objective.eval(y, z), value.item()),
                relative_difference(objective.gradient(y, z), jacobian),
                relative_difference(objective.gradient(y, z), tensor.grad.numpy()),
            ]))
    return rows


def running_statistics_row(rng):
    """BatchNorm's running mean and variance after three training steps, against PyTorch's."""
    layer = layers.BatchNormLayer(momentum=0.1)
    running_mean, running_var = torch.zeros(5), torch.ones(5)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, (7, 5))
        layer.forward(x)
        F.batch_norm(torch.tensor(x), running_mean, running_var, training=True, momentum=0.1, eps=1e-5)
    return [relative_difference(layer.running_mean[0], running_mean.numpy()),
            relative_difference(layer.running_var[0], running_var.numpy())]


def main():
    rng = np.random.default_rng(0)
    table = []                         # (layer, input, [differences]) with None for "not applicable"
    cases = inputs(rng)
    for name, make_layer, function, batch_norm in layer_cases(rng):
        for label, x, g in cases:
            table.append((name, label, compare_layer(make_layer, function, x, g, batch_norm)))
    for label, x, g in cases:
        for name, differences in dropout_rows(x, g):
            table.append((name, label, differences))
    table.extend(objective_rows(rng))
    mean_difference, var_difference = running_statistics_row(rng)
    table.append(("BatchNormLayer running mean, 3 steps", "random", [mean_difference, None, None]))
    table.append(("BatchNormLayer running var, 3 steps", "random", [var_difference, None, None]))

    print(f"torch {torch.__version__}, numpy {np.__version__}, float64; relative difference = "
          f"max |ours - torch| / max |torch|, tolerance {TOLERANCE:g}\n")
    headers = ("layer", "input", "forward / eval", "Jacobian / gradient", "backward", "")
    rows = []
    worst, failed = 0.0, False
    for name, label, differences in table:
        shown = [("-" if value is None else f"{value:.1e}") for value in differences]
        measured = [value for value in differences if value is not None]
        passes = all(value <= TOLERANCE for value in measured)  # False for NaN too
        failed = failed or not passes
        worst = max([worst] + measured)
        rows.append((name, label, *shown, "ok" if passes else "FAIL"))
    widths = [max(len(str(row[column])) for row in [headers] + rows) for column in range(len(headers))]
    for row in [headers] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(f"\nlargest difference {worst:.1e}: "
          + (f"ABOVE {TOLERANCE:g} (or not a number)." if failed else "PyTorch agrees."))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
