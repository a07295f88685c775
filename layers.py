"""Neural-network layers, their forward passes and their Jacobians.

The one implementation module of the course pack. Every layer keeps its
derivative right next to its forward pass, so the calculus can be read off
the code.

Conventions (the same in every notebook):

* Every array is 2-D with shape (N, K): rows are observations, columns are
  features. A single observation is a (1, K) array: ``x.reshape(1, -1)``.
* ``forward(x)`` stores ``prev_in`` (a float64 copy of x) and ``prev_out``.
* ``gradient()`` returns the Jacobian at the last forward pass, one matrix per
  observation, shape (N, K_out, K_in): rows are outputs, columns are inputs,
  ``J[n, i, j] = d out[n, i] / d in[n, j]``. The fully connected layer's
  Jacobian is the same for every row, so it returns the single matrix
  ``weights.T`` of shape (size_out, size_in).
* ``backward(grad_in)`` takes dL/d(output), shape (N, K_out), and returns
  dL/d(input), shape (N, K_in). It equals
  ``np.einsum('ni,nij->nj', grad_in, gradient())`` but never builds the
  Jacobian: a diagonal Jacobian is an elementwise product, softmax has an
  O(NK) formula, and the fully connected layer is ``grad_in @ weights.T``.
* Sigmoid and tanh add eps = 1e-7 to the diagonal of their Jacobian (the
  source homework's convention, not calculus); ``eps=0`` gives the exact
  derivative. ReLU's derivative at 0 is 1 (the homework's "1 if x >= 0").
* An objective's ``eval(y, yhat)`` is the per-observation loss (summed over
  the row's outputs) averaged over the N rows, and ``gradient(y, yhat)`` is
  d eval / d yhat, so it carries the 1/N of that mean.

Inputs are validated (a clear exception names the layer and the fix) and are
never modified in place. All arithmetic is float64.

Run ``python layers.py`` for the answer key of the source homework (homework.py).
"""

import numpy as np

__all__ = [
    "Layer",
    "ElementwiseLayer",
    "InputLayer",
    "FullyConnectedLayer",
    "LinearLayer",
    "ReLULayer",
    "LogisticSigmoidLayer",
    "TanhLayer",
    "SoftmaxLayer",
    "Objective",
    "SquaredError",
    "LogLoss",
    "CrossEntropy",
    "numerical_jacobian",
    "numerical_gradient",
    "relative_error",
]


# --------------------------------------------------------------------------
# Input validation, shared by every layer and objective
# --------------------------------------------------------------------------

def _as_batch(x, where, what="x", copy=False):
    """Return `x` as a finite float64 array of shape (N, K) with N, K >= 1.

    `where` names the caller in error messages, e.g. "ReLULayer.forward".
    With copy=True the result never shares memory with `x`, so it can be
    stored without the caller's later edits leaking in.
    """
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as error:
        raise TypeError(
            f"{where}: {what} could not be turned into an array ({error}); "
            f"pass a 2-D numeric array of shape (N, K)."
        ) from None
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(
            f"{where}: {what} has dtype {array.dtype}, expected real numbers; "
            f"convert it with np.asarray({what}, dtype=float)."
        )
    if array.ndim != 2:
        hint = (
            f"for one observation use {what}.reshape(1, -1)"
            if array.ndim < 2
            else "stack observations as rows of one 2-D array"
        )
        raise ValueError(
            f"{where}: {what} must be 2-D with shape (N, K) (rows are observations), "
            f"got {array.ndim}-D shape {array.shape}; {hint}."
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            f"{where}: {what} is empty (shape {array.shape}); it needs at least one row "
            f"(observation) and one column (feature)."
        )
    array = np.array(array, dtype=np.float64, copy=copy or None)
    if not np.isfinite(array).all():
        raise ValueError(
            f"{where}: {what} contains NaN or infinity; clean or clip the data first "
            f"(np.isfinite({what}) shows where)."
        )
    return array


def _check_width(array, expected, where, what="x"):
    if array.shape[1] != expected:
        raise ValueError(
            f"{where}: {what} has {array.shape[1]} columns but this layer expects "
            f"{expected}; pass an array of shape (N, {expected})."
        )


def _check_eps(eps, owner):
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: eps must be a number, got {type(eps).__name__}.")
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"{owner}: eps must be finite and >= 0 (0 gives the exact derivative), got {eps}.")
    return float(eps)


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

class Layer:
    """Base class: validation and bookkeeping shared by every layer.

    A subclass implements three methods side by side:

    * ``_forward(x)``: x (N, K_in) float64 -> output (N, K_out)
    * ``_gradient()``: the Jacobian at ``prev_in``/``prev_out``
    * ``_backward(grad_in)``: grad_in (N, K_out) -> (N, K_in), without the Jacobian

    and may override ``_check_input(x, where)`` to add checks (e.g. width).
    """

    def __init__(self):
        self.prev_in = None
        self.prev_out = None

    @property
    def name(self):
        return type(self).__name__

    def forward(self, x):
        """Apply the layer to a batch.

        Input:  x, array-like (N, K_in); integers are cast to float64.
        Output: array (N, K_out), float64. Stores prev_in and prev_out.
        """
        where = f"{self.name}.forward"
        x = _as_batch(x, where, copy=True)
        self._check_input(x, where)
        out = self._forward(x)
        self.prev_in, self.prev_out = x, out
        # A copy, so that editing the returned array cannot change the stored
        # prev_out that gradient() and backward() read.
        return out.copy()

    def gradient(self):
        """Jacobian at the last forward pass: (N, K_out, K_in), rows = outputs."""
        self._require_forward("gradient")
        return self._gradient()

    def backward(self, grad_in):
        """Chain rule without the Jacobian.

        Input:  grad_in = dL/d(output), array-like (N, K_out).
        Output: dL/d(input), array (N, K_in); equals
                einsum('ni,nij->nj', grad_in, gradient()).
        """
        self._require_forward("backward")
        where = f"{self.name}.backward"
        grad_in = _as_batch(grad_in, where, what="grad_in")
        if grad_in.shape != self.prev_out.shape:
            raise ValueError(
                f"{where}: grad_in must have the shape of the last forward's output "
                f"{self.prev_out.shape} (one gradient per output), got {grad_in.shape}."
            )
        return self._backward(grad_in)

    def _check_input(self, x, where):
        pass

    def _require_forward(self, method):
        if self.prev_in is None:
            raise RuntimeError(
                f"{self.name}.{method}() was called before forward(); call forward(x) "
                f"first: the derivative is taken at the last input."
            )

    def __repr__(self):
        return f"{self.name}()"


class ElementwiseLayer(Layer):
    """A layer that acts on each entry on its own: out[n, k] = f(x[n, k]).

    Its Jacobian is diagonal, J[n] = diag(f'(x[n])), so it is fully described
    by the (N, K) array of derivatives that a subclass returns from
    ``_derivative()``. backward is the elementwise product grad_in * f'(x).
    """

    def _derivative(self):
        raise NotImplementedError

    def _gradient(self):
        derivative = self._derivative()
        n, k = derivative.shape
        jacobian = np.zeros((n, k, k))
        diagonal = np.arange(k)
        jacobian[:, diagonal, diagonal] = derivative
        return jacobian

    def _backward(self, grad_in):
        return grad_in * self._derivative()


class InputLayer(ElementwiseLayer):
    """Z-score the features with the statistics of a training set.

    Formula:  out = (x - mean) / std, mean and std per column of `data`
              (std with ddof=1; a constant column is divided by 1).
    Jacobian: diag(1 / std), the same for every row; shape (N, K, K).

    Input:  data (M, K) with M >= 2 rows, at construction.
            x (N, K) at forward.
    Output: (N, K).
    """

    def __init__(self, data):
        super().__init__()
        data = _as_batch(data, "InputLayer(data)", what="data")
        if data.shape[0] < 2:
            raise ValueError(
                "InputLayer(data): data needs at least 2 rows to estimate a standard "
                f"deviation (ddof=1), got shape {data.shape}."
            )
        self.mean_x = data.mean(axis=0, keepdims=True)
        std = data.std(axis=0, ddof=1, keepdims=True)
        # Not just std == 0: a constant column of 0.1 has a rounded mean and so a
        # tiny nonzero std (~1e-17) that would blow the column up.
        constant = data.max(axis=0, keepdims=True) == data.min(axis=0, keepdims=True)
        self.std_x = np.where(constant | (std == 0), 1.0, std)

    def _check_input(self, x, where):
        _check_width(x, self.mean_x.shape[1], where)

    def _forward(self, x):
        return (x - self.mean_x) / self.std_x

    def _derivative(self):
        return np.broadcast_to(1.0 / self.std_x, self.prev_in.shape)


class FullyConnectedLayer(Layer):
    """Affine map: out = x @ weights + biases.

    Shapes:   x (N, size_in), weights (size_in, size_out),
              biases (1, size_out), out (N, size_out).
    Jacobian: d out[n, i] / d x[n, j] = weights[j, i], i.e. weights.T of shape
              (size_out, size_in), the same for every row, so gradient()
              returns that one matrix.
    backward: grad_in (N, size_out) -> grad_in @ weights.T (N, size_in).
    Parameter gradients (weight_gradients): dW = x.T @ grad_in (size_in, size_out),
              db = sum of grad_in over rows (1, size_out).

    weights and biases start uniform in [-1e-4, 1e-4) drawn from `rng`
    (a numpy.random.Generator; pass np.random.default_rng(seed) for
    reproducible numbers). Both can be assigned; the shape is checked.
    """

    init_scale = 1e-4

    def __init__(self, size_in, size_out, rng=None):
        super().__init__()
        for label, size in (("size_in", size_in), ("size_out", size_out)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                raise TypeError(
                    f"FullyConnectedLayer: {label} must be an int, got {type(size).__name__}."
                )
            if size < 1:
                raise ValueError(f"FullyConnectedLayer: {label} must be at least 1, got {size}.")
        if rng is None:
            rng = np.random.default_rng()
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(
                "FullyConnectedLayer: rng must be a numpy.random.Generator or None, got "
                f"{type(rng).__name__}; use np.random.default_rng(seed)."
            )
        self.size_in, self.size_out = int(size_in), int(size_out)
        scale = self.init_scale
        self.weights = rng.uniform(-scale, scale, (self.size_in, self.size_out))
        self.biases = rng.uniform(-scale, scale, (1, self.size_out))

    @property
    def weights(self):
        """Weight matrix, (size_in, size_out)."""
        return self._weights

    @weights.setter
    def weights(self, value):
        self._weights = self._checked_parameter(value, "weights", (self.size_in, self.size_out))

    @property
    def biases(self):
        """Bias row, (1, size_out)."""
        return self._biases

    @biases.setter
    def biases(self, value):
        self._biases = self._checked_parameter(value, "biases", (1, self.size_out))

    def _checked_parameter(self, value, label, shape):
        array = _as_batch(value, f"FullyConnectedLayer.{label}", what=label, copy=True)
        if array.shape != shape:
            raise ValueError(
                f"FullyConnectedLayer.{label}: expected shape {shape} for a layer with "
                f"size_in={self.size_in}, size_out={self.size_out}, got {array.shape}"
                + ("; use b.reshape(1, -1)." if label == "biases" else ".")
            )
        return array

    def _check_input(self, x, where):
        _check_width(x, self.size_in, where)

    def _forward(self, x):
        return x @ self.weights + self.biases

    def _gradient(self):
        return self.weights.T.copy()

    def _backward(self, grad_in):
        return grad_in @ self.weights.T

    def weight_gradients(self, grad_in):
        """Gradients of the loss with respect to the parameters.

        Input:  grad_in = dL/d(output), (N, size_out), at the last forward.
        Output: (dW, db) with dW = prev_in.T @ grad_in, (size_in, size_out),
                and db = grad_in summed over rows, (1, size_out).
        The objective's gradient already carries the batch mean's 1/N, so no
        further division by N happens here.
        """
        self._require_forward("weight_gradients")
        where = f"{self.name}.weight_gradients"
        grad_in = _as_batch(grad_in, where, what="grad_in")
        if grad_in.shape != self.prev_out.shape:
            raise ValueError(
                f"{where}: grad_in must have the shape of the last forward's output "
                f"{self.prev_out.shape}, got {grad_in.shape}."
            )
        return self.prev_in.T @ grad_in, grad_in.sum(axis=0, keepdims=True)

    def update_weights(self, grad_in, eta):
        """One gradient-descent step: weights -= eta * dW, biases -= eta * db.

        Input: grad_in (N, size_out) as for weight_gradients; eta > 0, the
               learning rate.
        """
        if isinstance(eta, bool) or not isinstance(eta, (int, float, np.integer, np.floating)):
            raise TypeError(f"{self.name}.update_weights: eta must be a number, got {type(eta).__name__}.")
        if not np.isfinite(eta) or eta <= 0:
            raise ValueError(f"{self.name}.update_weights: eta (learning rate) must be finite and > 0, got {eta}.")
        d_weights, d_biases = self.weight_gradients(grad_in)
        self._weights = self.weights - eta * d_weights
        self._biases = self.biases - eta * d_biases

    def __repr__(self):
        return f"FullyConnectedLayer(size_in={self.size_in}, size_out={self.size_out})"


class LinearLayer(ElementwiseLayer):
    """Identity: out = x.

    Jacobian: the identity, (N, K, K). backward returns grad_in unchanged.
    """

    def _forward(self, x):
        return x.copy()

    def _derivative(self):
        return np.ones_like(self.prev_in)


class ReLULayer(ElementwiseLayer):
    """Rectified linear unit: out = max(0, x), entrywise.

    Jacobian: diag(1 if x >= 0 else 0), (N, K, K). The derivative at exactly
    0 does not exist; this layer uses 1 there (the source homework's
    convention; PyTorch uses 0).
    """

    def _forward(self, x):
        return np.maximum(x, 0.0)

    def _derivative(self):
        return (self.prev_in >= 0).astype(np.float64)


class LogisticSigmoidLayer(ElementwiseLayer):
    """Logistic sigmoid: g(x) = 1 / (1 + exp(-x)), entrywise, in (0, 1).

    Jacobian: diag(g(1 - g) + eps), (N, K, K). eps = 1e-7 is the course
    convention (it keeps the gradient from reaching exactly 0 when the unit
    saturates); eps=0 gives the exact derivative.
    Computed as exp(-|x|) so that no exponent overflows for large |x|.
    """

    def __init__(self, eps=1e-7):
        super().__init__()
        self.eps = _check_eps(eps, "LogisticSigmoidLayer")

    def _forward(self, x):
        decay = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0, decay) / (1.0 + decay)

    def _derivative(self):
        g = self.prev_out
        return g * (1.0 - g) + self.eps

    def __repr__(self):
        return f"LogisticSigmoidLayer(eps={self.eps!r})"


class TanhLayer(ElementwiseLayer):
    """Hyperbolic tangent: g(x) = (e^x - e^-x) / (e^x + e^-x), entrywise, in (-1, 1).

    Jacobian: diag(1 - g^2 + eps), (N, K, K). eps = 1e-7 is the course
    convention; eps=0 gives the exact derivative.
    """

    def __init__(self, eps=1e-7):
        super().__init__()
        self.eps = _check_eps(eps, "TanhLayer")

    def _forward(self, x):
        return np.tanh(x)

    def _derivative(self):
        return 1.0 - self.prev_out ** 2 + self.eps

    def __repr__(self):
        return f"TanhLayer(eps={self.eps!r})"


class SoftmaxLayer(Layer):
    """Softmax over each row: s[n, i] = exp(x[n, i]) / sum_j exp(x[n, j]).

    Each row of the output is positive and sums to 1. The row maximum is
    subtracted first (softmax does not change), so no exponent overflows.
    Jacobian: per row, diag(s) - s s^T, i.e. J[i, j] = s_i (delta_ij - s_j);
              shape (N, K, K), symmetric, every column sums to 0.
    backward: g (N, K) -> s * (g - sum_i g_i s_i), O(NK) instead of the
              O(NK^2) product with the Jacobian.
    """

    def _forward(self, x):
        shifted = x - x.max(axis=1, keepdims=True)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=1, keepdims=True)
        return shifted

    def _gradient(self):
        s = self.prev_out
        jacobian = -s[:, :, None] * s[:, None, :]
        diagonal = np.arange(s.shape[1])
        jacobian[:, diagonal, diagonal] += s
        return jacobian

    def _backward(self, grad_in):
        s = self.prev_out
        grad_dot_s = (grad_in * s).sum(axis=1, keepdims=True)
        grad_out = grad_in - grad_dot_s
        grad_out *= s
        return grad_out


# --------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------

class Objective:
    """Base class of the loss functions.

    eval(y, yhat):     y, yhat (N, K) -> Python float, the per-row loss
                       (summed over the K outputs) averaged over the N rows.
    gradient(y, yhat): (N, K), exactly d eval / d yhat up to eps; it carries
                       the 1/N of the mean.
    """

    #: Whether y and yhat must lie in [0, 1] (probabilities).
    needs_probabilities = False

    def __init__(self):
        pass

    @property
    def name(self):
        return type(self).__name__

    def eval(self, y, yhat):
        """Mean loss over the batch, a Python float."""
        y, yhat = self._check(y, yhat, "eval")
        return float(self._row_losses(y, yhat).mean())

    def gradient(self, y, yhat):
        """d eval / d yhat, shape (N, K)."""
        y, yhat = self._check(y, yhat, "gradient")
        return self._gradient(y, yhat) / y.shape[0]

    def _check(self, y, yhat, method):
        where = f"{self.name}.{method}"
        y = _as_batch(y, where, what="y")
        yhat = _as_batch(yhat, where, what="yhat")
        if y.shape != yhat.shape:
            raise ValueError(
                f"{where}: y has shape {y.shape} but yhat has shape {yhat.shape}; they must "
                f"match, one target per prediction (for one observation use shape (1, K))."
            )
        if self.needs_probabilities:
            for label, array in (("y", y), ("yhat", yhat)):
                if array.min() < 0 or array.max() > 1:
                    raise ValueError(
                        f"{where}: {label} must lie in [0, 1] (probabilities), got values in "
                        f"[{array.min():.6g}, {array.max():.6g}]; put a sigmoid or softmax "
                        f"layer before this objective."
                    )
        return y, yhat

    def __repr__(self):
        return f"{self.name}()"


class SquaredError(Objective):
    """Squared error: J = mean_n sum_k (y - yhat)^2.

    Gradient: -2 (y - yhat) / N, shape (N, K).
    """

    def _row_losses(self, y, yhat):
        return ((y - yhat) ** 2).sum(axis=1)

    def _gradient(self, y, yhat):
        return -2.0 * (y - yhat)


class LogLoss(Objective):
    """Log loss (binary cross entropy), for targets and predictions in [0, 1]:

        J = -mean_n sum_k [y ln(yhat + eps) + (1 - y) ln(1 - yhat + eps)]

    Gradient: -(y - yhat) / (yhat (1 - yhat) + eps) / N, shape (N, K).
    eps = 1e-7 keeps both finite at yhat = 0 and yhat = 1. This gradient (the
    homework's formula) differs from the exact derivative of eval by terms of
    order eps / (yhat (1 - yhat)): negligible unless yhat is within ~1e-5 of 0
    or 1. Behind a LogisticSigmoidLayer it backpropagates exactly (yhat - y) / N.
    """

    needs_probabilities = True

    def __init__(self, eps=1e-7):
        super().__init__()
        self.eps = _check_eps(eps, "LogLoss")

    def _row_losses(self, y, yhat):
        eps = self.eps
        return -(y * np.log(yhat + eps) + (1.0 - y) * np.log(1.0 - yhat + eps)).sum(axis=1)

    def _gradient(self, y, yhat):
        return -(y - yhat) / (yhat * (1.0 - yhat) + self.eps)

    def __repr__(self):
        return f"LogLoss(eps={self.eps!r})"


class CrossEntropy(Objective):
    """Cross entropy, for one-hot (or probability) targets y:

        J = -mean_n sum_k y ln(yhat + eps)

    Gradient: -y / (yhat + eps) / N, shape (N, K). Usually follows a
    SoftmaxLayer; the two together backpropagate (s - y) / N.
    """

    needs_probabilities = True

    def __init__(self, eps=1e-7):
        super().__init__()
        self.eps = _check_eps(eps, "CrossEntropy")

    def _row_losses(self, y, yhat):
        return -(y * np.log(yhat + self.eps)).sum(axis=1)

    def _gradient(self, y, yhat):
        return -y / (yhat + self.eps)

    def __repr__(self):
        return f"CrossEntropy(eps={self.eps!r})"


# --------------------------------------------------------------------------
# Finite differences
# --------------------------------------------------------------------------

def numerical_jacobian(f, x, h=1e-6):
    """Per-row Jacobian of f by central differences.

    Input:  f maps an (N, K_in) array to an (N, K_out) array, row by row
            (e.g. a layer's forward); x (N, K_in); step h > 0.
    Output: (N, K_out, K_in), J[n, i, j] ~ (f(x + h e_j) - f(x - h e_j))[n, i] / 2h.
    Column j is perturbed in all rows at once (rows do not interact), so f is
    called 2 K_in + 1 times. The last call is f(x), so a layer's stored
    prev_in/prev_out are left at x. Error O(h^2) plus round-off O(1e-16 / h).
    """
    x = _as_batch(x, "numerical_jacobian", copy=True)
    if not h > 0:
        raise ValueError(f"numerical_jacobian: step h must be > 0, got {h}.")
    columns = []
    for j in range(x.shape[1]):
        step = np.zeros_like(x)
        step[:, j] = h
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h))
    f(x)
    return np.stack(columns, axis=2)


def numerical_gradient(f, x, h=1e-6):
    """Gradient of a scalar function by central differences.

    Input:  f maps an array shaped like x to a number (e.g. an objective's
            eval with y fixed); x array of any shape; step h > 0.
    Output: array shaped like x, d f / d x[idx] ~ (f(x + h e) - f(x - h e)) / 2h.
    f is called 2 x.size + 1 times; the last call is f(x), so anything f
    stores (e.g. weights it assigns to a layer) is left at x.
    """
    x = np.array(x, dtype=np.float64)
    if not h > 0:
        raise ValueError(f"numerical_gradient: step h must be > 0, got {h}.")
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + h
        plus = float(f(x))
        x[idx] = saved - h
        minus = float(f(x))
        x[idx] = saved
        grad[idx] = (plus - minus) / (2 * h)
    f(x)
    return grad


def relative_error(a, b):
    """Largest entrywise relative error, max |a - b| / max(|a| + |b|, 1e-8).

    A scale-free measure for gradient checks: about 1e-7 or less means the
    two agree to float64 finite-difference accuracy; 1e-2 or more means a bug.
    The 1e-8 floor keeps entries where both are ~0 from dividing by zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes {a.shape} and {b.shape} differ.")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


# --------------------------------------------------------------------------
# `python layers.py` prints the homework's answer key, which lives in homework.py
# --------------------------------------------------------------------------

if __name__ == "__main__":
    import sys

    import homework

    sys.exit(homework.main(prog="python layers.py"))
