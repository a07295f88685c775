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
  ``weights.T`` of shape (size_out, size_in). Batch normalisation couples
  the rows of a batch instead of the features, so its Jacobian is one (N, N)
  matrix per feature, shape (K, N, N): ``J[k, n, m] = d out[n, k] / d x[m, k]``.
* ``grad_in`` is always the upstream gradient dL/d(out): the gradient of a
  scalar loss L with respect to this layer's output, shape (N, K_out).
  ``backward(grad_in)`` returns dL/d(in), shape (N, K_in). It equals
  ``np.einsum('ni,nij->nj', grad_in, gradient())`` but never builds the
  Jacobian: a diagonal Jacobian is an elementwise product, softmax has an
  O(NK) formula, and the fully connected layer is ``grad_in @ weights.T``.
* Sigmoid and tanh add eps = 1e-7 to the diagonal of their Jacobian (the
  source homework's convention, not calculus); ``eps=0`` gives the exact
  derivative. ReLU's derivative at 0 is 1 (the homework's "1 if x >= 0").
* An objective's ``eval(y, yhat)`` is the per-observation loss (summed over
  the row's outputs) averaged over the N rows, and ``gradient(y, yhat)`` is
  d eval / d yhat, so it carries the 1/N of that mean. A term y ln(p) with
  y = 0 counts as 0 even where p = 0 (PyTorch's xlogy convention).

Inputs are validated (a clear exception names the layer and the fix) and are
never modified in place. All arithmetic is float64. Where a true result lies
beyond float64's range (about 1.8e308) the answer is +-inf, without a warning.

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
    "LeakyReLULayer",
    "SoftplusLayer",
    "ELULayer",
    "GELULayer",
    "LogSoftmaxLayer",
    "CrossEntropyWithLogits",
    "LayerNormLayer",
    "BatchNormLayer",
    "DropoutLayer",
]

#: Half of float64's largest number: sums and differences of two numbers
#: below it cannot overflow.
_HALF_MAX = np.finfo(np.float64).max / 2


# --------------------------------------------------------------------------
# Input validation, shared by every layer, objective and helper
# --------------------------------------------------------------------------

def _shown(value):
    """A short text for a value in an error message (a 400-digit int is cut)."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}...({len(text)} characters)"


def _as_real_array(x, where, what):
    """Return `x` as a numpy array of real numbers, any shape, not yet float64.

    Inputs:
    - x: array-like of any shape.
    - where: str, the caller named in error messages, e.g. "ReLULayer.forward".
    - what: str, the argument's name in error messages, e.g. "x".

    Returns:
    - array: ndarray of x's shape with an integer or floating dtype (no copy
      when x already is one).
    """
    if isinstance(x, np.ma.MaskedArray):
        if np.ma.getmaskarray(x).any():
            raise ValueError(
                f"{where}: {what} is a masked array with masked entries, which would be read "
                f"as numbers; fill them first ({what}.filled(value)) or drop those rows."
            )
        x = x.data
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as error:
        raise TypeError(
            f"{where}: {what} could not be turned into an array ({error}); "
            f"pass a 2-D numeric array of shape (N, K)."
        ) from None
    if array.dtype.kind in "mM":
        raise TypeError(
            f"{where}: {what} has dtype {array.dtype} (times or durations), expected real "
            f"numbers; convert to a unit first, e.g. {what} / np.timedelta64(1, 's')."
        )
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{where}: {what} has dtype {array.dtype}, expected real numbers; "
            f"convert it with np.asarray({what}, dtype=float)."
        )
    return array


def _check_finite(array, where, what):
    """Raise a ValueError if the float64 `array` holds NaN or +-inf."""
    # One read-only pass: a sum is finite only if every entry is. A finite
    # sum that overflows (1e308 + 1e308) falls back to the entrywise test.
    with np.errstate(over="ignore", invalid="ignore"):
        total = array.sum()
    if not np.isfinite(total) and not np.isfinite(array).all():
        raise ValueError(
            f"{where}: {what} contains NaN or infinity (or a number beyond float64's range); "
            f"clean or clip the data first (np.isfinite({what}) shows where)."
        )


def _as_batch(x, where, what="x", copy=False):
    """Return `x` as a finite float64 array of shape (N, K) with N, K >= 1.

    Inputs:
    - x: array-like, meant to be of shape (N, K).
    - where: str, the caller named in error messages, e.g. "ReLULayer.forward".
    - what: str, the argument's name in error messages.
    - copy: bool; True returns an array that never shares memory with x, so
      it can be stored without the caller's later edits leaking in.

    Returns:
    - array: float64 array of shape (N, K).
    """
    array = _as_real_array(x, where, what)
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
    # A longdouble beyond float64's range becomes inf here, refused just below.
    with np.errstate(over="ignore"):
        array = np.array(array, dtype=np.float64, copy=copy or None)
    _check_finite(array, where, what)
    return array


def _check_width(array, expected, where, what="x"):
    """Raise a ValueError unless `array` (N, K) has K == expected columns."""
    if array.shape[1] != expected:
        raise ValueError(
            f"{where}: {what} has {array.shape[1]} columns but this layer expects "
            f"{expected}; pass an array of shape (N, {expected})."
        )


def _check_number(value, where, name, meaning, positive=False, below=None, most=None):
    """A finite real number within bounds, as a Python float.

    The one checker of every scalar setting: eps, eta, h, alpha, p, momentum.

    Inputs:
    - value: the number to check (int, float or a numpy scalar; not bool).
    - where: str, the caller named in error messages.
    - name: str, the setting's name, e.g. "eps".
    - meaning: str, what it is, e.g. "the learning rate", shown in messages.
    - positive: bool; True asks value > 0, False value >= 0.
    - below: float or None; if given, value must also be < below.
    - most: float or None; if given, value must also be <= most.

    Returns:
    - number: float.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{where}: {name} ({meaning}) must be a real number, got {type(value).__name__}."
        )
    try:
        with np.errstate(over="ignore"):  # a longdouble 1e400 becomes inf, refused below
            number = float(value)
    except OverflowError:  # a Python int beyond float64's range, e.g. 10**400
        number = float("inf")
    bounds = "> 0" if positive else ">= 0"
    if below is not None:
        bounds += f" and < {below:g}"
    if most is not None:
        bounds += f" and <= {most:g}"
    if not np.isfinite(number) or number < 0 or (positive and number == 0) or (
        below is not None and number >= below
    ) or (most is not None and number > most):
        raise ValueError(
            f"{where}: {name} ({meaning}) must be finite and {bounds}, got {_shown(value)}."
        )
    return number


class _EpsSetting:
    """Mixin for a layer or objective with an eps >= 0 setting (default 1e-7).

    Checks eps once, for all four owners, and shows it in repr. A subclass
    says what its eps does in ``_eps_meaning``.
    """

    _eps_meaning = "a small number >= 0"

    def __init__(self, eps=1e-7):
        super().__init__()
        self.eps = _check_number(eps, self.name, "eps", self._eps_meaning)

    def __repr__(self):
        return f"{self.name}(eps={self.eps!r})"


def _check_rng(rng, where):
    """A numpy Generator for `rng`: a fresh unseeded one for None.

    Inputs:
    - rng: numpy.random.Generator or None.
    - where: str, the caller named in error messages.

    Returns:
    - rng: numpy.random.Generator.
    """
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{where}: rng must be a numpy.random.Generator or None, got "
            f"{type(rng).__name__}; use np.random.default_rng(seed)."
        )
    return rng


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

class Layer:
    """Base class: validation and bookkeeping shared by every layer.

    A subclass implements the three template methods below side by side (the
    base versions raise NotImplementedError):

    * ``_forward(x)``: the formula, x (N, K_in) float64 -> new array (N, K_out)
    * ``_gradient()``: the Jacobian at ``prev_in``/``prev_out``
    * ``_backward(grad_in)``: dL/d(in) from grad_in, without the Jacobian

    and may override ``_check_input(x, where)`` to add checks (e.g. width).
    """

    #: What a subclass must provide, named by NotImplementedError.
    _template = "_forward(x), _gradient() and _backward(grad_in)"
    #: Whether forward keeps its result as prev_out (and so returns a copy).
    #: Layers whose backward does not read prev_out set it False: their
    #: prev_out is computed from prev_in when first read, and forward returns
    #: its result itself, copying nothing but its input.
    _keeps_output = True

    def __init__(self):
        self.prev_in = None
        self._prev_out = None
        self._out_shape = None

    @property
    def name(self):
        """The class's name, used in every message: str."""
        return type(self).__name__

    @property
    def prev_out(self):
        """Output of the last forward pass: array (N, K_out), or None before the first."""
        if self._prev_out is None and self.prev_in is not None:
            self._prev_out = self._forward(self.prev_in)
        return self._prev_out

    @prev_out.setter
    def prev_out(self, value):
        self._prev_out = value
        self._out_shape = None if value is None else np.shape(value)

    def forward(self, x):
        """Apply the layer to a batch and remember it for the derivatives.

        Inputs:
        - x: array-like of shape (N, K_in); integers are cast to float64.

        Returns:
        - out: float64 array of shape (N, K_out), a new array. prev_in and
          prev_out are stored.
        """
        where = f"{self.name}.forward"
        # The one copy of the input: prev_in must not change when the caller
        # later edits x.
        x = _as_batch(x, where, copy=True)
        self._check_input(x, where)
        out = self._forward(x)
        self.prev_in, self._out_shape = x, out.shape
        if self._keeps_output:
            # Editing the returned array must not change what backward reads.
            self._prev_out = out
            return out.copy()
        self._prev_out = None
        return out

    def gradient(self):
        """The Jacobian at the last forward pass.

        Returns:
        - jacobian: array of shape (N, K_out, K_in), rows = outputs,
          jacobian[n, i, j] = d out[n, i] / d in[n, j].
        """
        self._require_forward("gradient")
        return self._gradient()

    def backward(self, grad_in):
        """The chain rule, without building the Jacobian.

        Inputs:
        - grad_in: upstream gradient dL/d(out), array-like of shape (N, K_out).

        Returns:
        - grad_out: dL/d(in), array of shape (N, K_in); equals
          einsum('ni,nij->nj', grad_in, gradient()).
        """
        return self._backward(self._upstream(grad_in, "backward"))

    # Template methods: each subclass provides these.

    def _forward(self, x):
        """The layer's formula.

        Inputs:
        - x: validated float64 array of shape (N, K_in), never modified.

        Returns:
        - out: a new array of shape (N, K_out).
        """
        raise NotImplementedError(self._missing("_forward(x)"))

    def _gradient(self):
        """The Jacobian at prev_in / prev_out: array (N, K_out, K_in)."""
        raise NotImplementedError(self._missing("_gradient()"))

    def _backward(self, grad_in):
        """dL/d(in) without the Jacobian.

        Inputs:
        - grad_in: upstream gradient dL/d(out), validated float64 (N, K_out).

        Returns:
        - grad_out: a new array of shape (N, K_in).
        """
        raise NotImplementedError(self._missing("_backward(grad_in)"))

    def _check_input(self, x, where):
        """Extra checks of a validated x (N, K_in); raise ValueError to refuse it."""

    # Shared helpers.

    def _missing(self, method):
        return (
            f"{self.name} does not implement {method}: {self.name} is a base class (or "
            f"an unfinished subclass); a layer must provide {self._template}."
        )

    def _require_forward(self, method):
        if self.prev_in is None:
            raise RuntimeError(
                f"{self.name}.{method}() was called before forward(); call forward(x) "
                f"first: the derivative is taken at the last input."
            )

    def _upstream(self, grad_in, method):
        """Validate an upstream gradient for `method` (backward, weight_gradients).

        Inputs:
        - grad_in: upstream gradient dL/d(out), array-like (N, K_out).
        - method: str, the caller's name for messages.

        Returns:
        - grad_in: upstream gradient dL/d(out), a float64 array of the last forward
          output's shape (N, K_out).
        """
        self._require_forward(method)
        where = f"{self.name}.{method}"
        grad_in = _as_batch(grad_in, where, what="grad_in")
        if grad_in.shape != self._out_shape:
            raise ValueError(
                f"{where}: grad_in must have the shape of the last forward's output "
                f"{self._out_shape} (one gradient per output), got {grad_in.shape}."
            )
        return grad_in

    def __repr__(self):
        return f"{self.name}()"


class ElementwiseLayer(Layer):
    """A layer that acts on each entry on its own: out[n, k] = f(x[n, k]).

    Its Jacobian is diagonal, J[n] = diag(f'(x[n])), so it is fully described
    by the (N, K) array of derivatives that a subclass returns from
    ``_derivative()``; backward is the elementwise product grad_in * f'(x).
    A subclass provides ``_forward(x)`` and ``_derivative()``.
    """

    _template = "_forward(x) and _derivative()"

    def _derivative(self):
        """f'(x) at the last forward pass, entrywise: array (N, K)."""
        raise NotImplementedError(self._missing("_derivative()"))

    def _gradient(self):
        derivative = self._derivative()
        n, k = derivative.shape
        jacobian = np.zeros((n, k, k))
        diagonal = np.arange(k)
        jacobian[:, diagonal, diagonal] = derivative
        return jacobian

    def _backward(self, grad_in):
        derivative = self._derivative()
        if derivative.flags.owndata and derivative.flags.writeable and not any(
                derivative is stored for stored in (self.prev_in, self._prev_out)):
            # A new array made for this call: multiply in place, saving one.
            derivative *= grad_in
            return derivative
        return grad_in * derivative


class InputLayer(ElementwiseLayer):
    """Z-score the features with the statistics of a training set.

    Formula:  out = (x - mean) / std, mean and std per column of `data`
              (std with ddof=1; a constant column is divided by 1).
    Jacobian: diag(1 / std), the same for every row; shape (N, K, K).

    Each column is measured in a unit of its own, ``scale_x``: a power of two
    at or above its largest |value|. In that unit the statistics neither
    overflow nor underflow, and dividing by a power of two is exact, so
    data * 1e170, data * 1e-170 or subnormal data give the z-scores of data
    itself.

    Inputs:
    - data: array-like of shape (M, K) with M >= 2 rows, at construction.

    Attributes (computed from data on first use):
    - scale_x: array (1, K), each column's unit (1 for a constant column).
    - mean_x, std_x: arrays (1, K), each column's mean and std in the data's
      own units (std 1 for a constant column, inf where it lies beyond
      float64's range).
    """

    _keeps_output = False  # the derivative is the same everywhere
    #: What _statistics sets: each column's unit, and its mean and std in that unit.
    _statistics_names = ("scale_x", "_scaled_mean", "_scaled_std")

    def __init__(self, data):
        super().__init__()
        where = f"{self.name}(data)"
        data = _as_batch(data, where, what="data", copy=True)
        if data.shape[0] < 2:
            raise ValueError(
                f"{where}: data needs at least 2 rows to estimate a standard "
                f"deviation (ddof=1), got shape {data.shape}."
            )
        self._data, self._width = data, data.shape[1]

    def __getattr__(self, name):
        # Called only for attributes not set yet. The statistics are computed
        # on first use rather than in the constructor, so that a layer can be
        # made, and each of its methods tried, before _statistics is written.
        if name not in InputLayer._statistics_names or "_data" not in vars(self):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        expected = ", ".join(InputLayer._statistics_names)
        try:
            self._statistics(self._data)
        except AttributeError as error:
            # Re-raised as another type: Python would read an AttributeError
            # here as "no such attribute" and show that instead.
            raise RuntimeError(
                f"{self.name}._statistics raised AttributeError: {error}. It sets {expected}; "
                f"mean_x and std_x follow from them."
            ) from error
        missing = [label for label in InputLayer._statistics_names if label not in vars(self)]
        if missing:
            raise RuntimeError(
                f"{self.name}._statistics did not set {', '.join(missing)}; it must set "
                f"{expected}, arrays of shape (1, K)."
            )
        return vars(self)[name]

    @property
    def mean_x(self):
        """Each column's mean in the data's units: array (1, K)."""
        with np.errstate(over="ignore"):  # beyond float64: +-inf
            return self._scaled_mean * self.scale_x

    @property
    def std_x(self):
        """Each column's std (ddof=1) in the data's units: array (1, K)."""
        with np.errstate(over="ignore"):  # beyond float64: inf
            return self._scaled_std * self.scale_x

    def _statistics(self, data):
        """Set the statistics of the training data: every name in _statistics_names.

        Inputs:
        - data: validated float64 array of shape (M, K), M >= 2.

        Returns:
        - None. Sets three arrays of shape (1, K): scale_x, each column's unit
          (a power of two, 1 for a constant column); _scaled_mean and
          _scaled_std, its mean and std (ddof=1) in that unit (a constant
          column: its value and 1).
        """
        ### BEGIN SOLUTION
        # each column's unit, a power of two at or above its largest |value|, then its mean and std (ddof=1) in that unit -- 09_backprop_network, section 1
        # A constant column keeps unit 1, its value as mean and std 1, and takes
        # no part in the sums: its rounded mean would leave a tiny std (~1e-17
        # for a column of 0.1) that blows the column up, and a column of 1e308
        # would overflow its own sum.
        constant = data.max(axis=0, keepdims=True) == data.min(axis=0, keepdims=True)
        # 2^1023 at most (2^1024 is beyond float64; entries then reach 2, harmless).
        _, exponent = np.frexp(np.abs(data).max(axis=0, keepdims=True))
        self.scale_x = np.ldexp(1.0, np.where(constant, 0, np.minimum(exponent, 1023)))
        scaled = np.where(constant, 0.0, data / self.scale_x)
        self._scaled_mean = np.where(constant, data[:1], scaled.mean(axis=0, keepdims=True))
        self._scaled_std = np.where(constant, 1.0, scaled.std(axis=0, ddof=1, keepdims=True))
        ### END SOLUTION

    def _check_input(self, x, where):
        _check_width(x, self._width, where)

    def _forward(self, x):
        ### BEGIN SOLUTION
        # (x - mean) / std per column, with x, mean and std in the column's unit scale_x -- 09_backprop_network, section 1
        with np.errstate(over="ignore"):  # a z-score beyond float64 is +-inf
            out = x / self.scale_x
            out -= self._scaled_mean
            out /= self._scaled_std
        return out
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # 1 / std for every entry, the same in every row -- 09_backprop_network, section 1
        # (1 / std in the column's unit, then back to the data's: inf where
        # 1 / std lies beyond float64, as for subnormal data)
        with np.errstate(over="ignore"):
            inverse_std = 1.0 / self._scaled_std / self.scale_x
        return np.broadcast_to(inverse_std, self.prev_in.shape)
        ### END SOLUTION

    def _backward(self, grad_in):
        ### BEGIN SOLUTION
        # grad_in / std, column by column, without the Jacobian -- 09_backprop_network, section 1
        # (two divisions rather than a product with 1 / std, which may be inf:
        # a zero gradient must stay 0, not become 0 * inf = NaN)
        with np.errstate(over="ignore"):  # a quotient beyond float64 is +-inf
            out = grad_in / self.scale_x
            out /= self._scaled_std
        return out
        ### END SOLUTION


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

    weights and biases start uniform in [-1e-4, 1e-4) drawn from `rng`.
    Both can be assigned (the shape is checked, the array copied) but not
    edited in place: they are read-only. gradient() and backward() use the
    weights of the last forward pass, even after update_weights or an
    assignment: forward keeps a reference to them (no copy is needed, since
    a change always replaces the array).

    Inputs:
    - size_in, size_out: int >= 1.
    - rng: numpy.random.Generator or None; np.random.default_rng(seed) gives
      reproducible numbers.
    """

    init_scale = 1e-4

    def __init__(self, size_in, size_out, rng=None):
        super().__init__()
        for label, size in (("size_in", size_in), ("size_out", size_out)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
                raise TypeError(f"{self.name}: {label} must be an int, got {type(size).__name__}.")
            if size < 1:
                raise ValueError(f"{self.name}: {label} must be at least 1, got {size}.")
        rng = _check_rng(rng, self.name)
        self.size_in, self.size_out = int(size_in), int(size_out)
        scale = self.init_scale
        self.weights = rng.uniform(-scale, scale, (self.size_in, self.size_out))
        self.biases = rng.uniform(-scale, scale, (1, self.size_out))
        self._forward_weights = None

    @property
    def weights(self):
        """Weight matrix: read-only array (size_in, size_out)."""
        return self._weights

    @weights.setter
    def weights(self, value):
        self._weights = self._checked_parameter(value, "weights", (self.size_in, self.size_out))

    @property
    def biases(self):
        """Bias row: read-only array (1, size_out)."""
        return self._biases

    @biases.setter
    def biases(self, value):
        self._biases = self._checked_parameter(value, "biases", (1, self.size_out))

    def _checked_parameter(self, value, label, shape):
        where = f"{self.name}.{label}"
        array = _as_real_array(value, where, label)
        if array.shape != shape:
            if array.size == shape[1] and shape[0] == 1:
                hint = f"; use {label}.reshape(1, -1)"
            elif array.shape == shape[::-1]:
                hint = f"; did you mean its transpose, {label}.T?"
            else:
                hint = ""
            raise ValueError(
                f"{where}: expected shape {shape} for a layer with size_in={self.size_in}, "
                f"size_out={self.size_out}, got {array.shape}{hint}."
            )
        array = _as_batch(array, where, what=label, copy=True)
        array.flags.writeable = False
        return array

    def _check_input(self, x, where):
        _check_width(x, self.size_in, where)

    def forward(self, x):
        """Apply the layer to a batch; see Layer.forward.

        Inputs:
        - x: array-like of shape (N, size_in).

        Returns:
        - out: float64 array of shape (N, size_out), a new array.
        """
        out = super().forward(x)
        # A reference, not a copy: assignment and update_weights replace the
        # (read-only) arrays, so these stay the weights this output came from.
        self._forward_weights = self._weights
        return out

    def _forward(self, x):
        ### BEGIN SOLUTION
        # x @ weights + biases -- 01_fully_connected, section 1
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float64: +-inf (or NaN for inf - inf)
            out = x @ self._weights
            out += self._biases
        return out
        ### END SOLUTION

    def _gradient(self):
        ### BEGIN SOLUTION
        # weights.T of the forward pass, one (size_out, size_in) matrix for every row -- 01_fully_connected, section 2
        return self._forward_weights.T.copy()
        ### END SOLUTION

    def _backward(self, grad_in):
        ### BEGIN SOLUTION
        # grad_in @ weights.T, with the forward pass's weights -- 01_fully_connected, section 4
        with np.errstate(over="ignore", invalid="ignore"):
            return grad_in @ self._forward_weights.T
        ### END SOLUTION

    def weight_gradients(self, grad_in):
        """Gradients of the loss with respect to the parameters.

        The objective's gradient already carries the batch mean's 1/N, so no
        further division by N happens here.

        Inputs:
        - grad_in: upstream gradient dL/d(out), array-like (N, size_out), at
          the last forward pass.

        Returns:
        - d_weights: prev_in.T @ grad_in, array (size_in, size_out).
        - d_biases: grad_in summed over rows, array (1, size_out).
        """
        grad_in = self._upstream(grad_in, "weight_gradients")
        ### BEGIN SOLUTION
        # dW = prev_in.T @ grad_in and db = grad_in summed over the rows -- 01_fully_connected, section 2
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float64: +-inf
            return self.prev_in.T @ grad_in, grad_in.sum(axis=0, keepdims=True)
        ### END SOLUTION

    def update_weights(self, grad_in, eta):
        """One gradient-descent step: weights -= eta * dW, biases -= eta * db.

        Inputs:
        - grad_in: upstream gradient dL/d(out), array-like (N, size_out), as
          for weight_gradients.
        - eta: float > 0, the learning rate.

        Returns:
        - None; weights and biases are replaced by new arrays.
        """
        eta = _check_number(eta, f"{self.name}.update_weights", "eta", "the learning rate",
                            positive=True)
        d_weights, d_biases = self.weight_gradients(grad_in)
        with np.errstate(over="ignore", invalid="ignore"):
            weights = self._weights - eta * d_weights
            biases = self._biases - eta * d_biases
        if not (np.isfinite(weights).all() and np.isfinite(biases).all()):
            raise ValueError(
                f"{self.name}.update_weights: the step eta * dW overflows float64 (eta = "
                f"{eta:g}); use a smaller learning rate. The parameters are unchanged."
            )
        weights.flags.writeable = biases.flags.writeable = False
        self._weights, self._biases = weights, biases

    def __repr__(self):
        return f"{self.name}(size_in={self.size_in}, size_out={self.size_out})"


class LinearLayer(ElementwiseLayer):
    """Identity: out = x.

    Jacobian: the identity, (N, K, K). backward returns a copy of grad_in.
    """

    _keeps_output = False  # prev_out is prev_in's values

    def _forward(self, x):
        ### BEGIN SOLUTION
        # the identity, as a new array -- 02_linear_and_relu, section 1
        return x.copy()
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # 1 for every entry -- 02_linear_and_relu, section 2
        return np.ones_like(self.prev_in)
        ### END SOLUTION

    def _backward(self, grad_in):
        ### BEGIN SOLUTION
        # grad_in unchanged, as a new array -- 02_linear_and_relu, section 4
        return grad_in.copy()
        ### END SOLUTION


class ReLULayer(ElementwiseLayer):
    """Rectified linear unit: out = max(0, x), entrywise.

    Jacobian: diag(1 if x >= 0 else 0), (N, K, K). The derivative at exactly
    0 does not exist; this layer uses 1 there (the source homework's
    convention). The value at 0 is a choice: PyTorch's relu takes 0, its
    clamp(min=0) 1 and its maximum(x, 0) 1/2.
    """

    _keeps_output = False  # the derivative is read off prev_in

    def _forward(self, x):
        ### BEGIN SOLUTION
        # max(0, x) entrywise -- 02_linear_and_relu, section 1
        return np.maximum(x, 0.0)
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # 1 where x >= 0 (the homework's convention at 0), else 0 -- 02_linear_and_relu, section 2
        return (self.prev_in >= 0).astype(np.float64)
        ### END SOLUTION

    def _backward(self, grad_in):
        ### BEGIN SOLUTION
        # grad_in where x >= 0, else 0, without the Jacobian -- 02_linear_and_relu, section 4
        # (the mask as booleans: one pass fewer than a float derivative)
        return grad_in * (self.prev_in >= 0)
        ### END SOLUTION


class LogisticSigmoidLayer(_EpsSetting, ElementwiseLayer):
    """Logistic sigmoid: g(x) = 1 / (1 + exp(-x)), entrywise, in (0, 1).

    Jacobian: diag(g(1 - g) + eps), (N, K, K). eps = 1e-7 is the course
    convention (it keeps the gradient from reaching exactly 0 when the unit
    saturates); eps=0 gives the exact derivative.

    Inputs:
    - eps: float >= 0, added to the derivative.
    """

    _eps_meaning = "added to the derivative; 0 gives the exact derivative"

    def _forward(self, x):
        ### BEGIN SOLUTION
        # 1 / (1 + e^-x) entrywise; where e^-x overflows to inf the answer 0 is right -- 03_sigmoid, section 1
        # Four passes over one array. For x < -709, exp(-x) overflows to inf
        # and 1 / inf = 0: the right answer in float64 (the true value is below
        # 1e-308), so that overflow is expected.
        out = np.negative(x)
        with np.errstate(over="ignore"):
            np.exp(out, out=out)
        out += 1.0
        # 1 / out as a division: the same numbers as np.reciprocal, which
        # took twice as long here.
        np.divide(1.0, out, out=out)
        return out
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # g (1 - g) + eps from the stored output g -- 03_sigmoid, section 2
        g = self.prev_out
        derivative = 1.0 - g
        derivative *= g
        derivative += self.eps
        return derivative
        ### END SOLUTION


class TanhLayer(_EpsSetting, ElementwiseLayer):
    """Hyperbolic tangent: g(x) = (e^x - e^-x) / (e^x + e^-x), entrywise, in (-1, 1).

    Jacobian: diag(1 - g^2 + eps), (N, K, K). eps = 1e-7 is the course
    convention; eps=0 gives the exact derivative.

    Inputs:
    - eps: float >= 0, added to the derivative.
    """

    _eps_meaning = "added to the derivative; 0 gives the exact derivative"

    def _forward(self, x):
        ### BEGIN SOLUTION
        # tanh(x) entrywise -- 04_tanh, section 1
        return np.tanh(x)
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # 1 - g^2 + eps from the stored output g -- 04_tanh, section 2
        g = self.prev_out
        derivative = g * g
        np.subtract(1.0, derivative, out=derivative)
        derivative += self.eps
        return derivative
        ### END SOLUTION


class SoftmaxLayer(Layer):
    """Softmax over each row: s[n, i] = exp(x[n, i]) / sum_j exp(x[n, j]).

    Each row of the output is positive and sums to 1. The row maximum is
    subtracted first (softmax does not change), so no exponent overflows.
    Jacobian: per row, diag(s) - s s^T, i.e. J[i, j] = s_i (delta_ij - s_j);
              shape (N, K, K), symmetric, every column sums to 0.
    backward: grad_in (N, K) -> s * (grad_in - sum_i grad_in_i s_i), O(NK)
              instead of the O(NK^2) product with the Jacobian.
    """

    def _forward(self, x):
        ### BEGIN SOLUTION
        # exp(x - row max) / its row sum, row by row -- 05_softmax, section 1
        # x - max overflows only where the difference is below -1.8e308, and
        # there exp gives 0, the right answer.
        with np.errstate(over="ignore"):
            shifted = x - x.max(axis=1, keepdims=True)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=1, keepdims=True)
        return shifted
        ### END SOLUTION

    def _gradient(self):
        ### BEGIN SOLUTION
        # diag(s) - s s^T for each row's output s -- 05_softmax, section 2
        s = self.prev_out
        jacobian = -s[:, :, None] * s[:, None, :]
        diagonal = np.arange(s.shape[1])
        jacobian[:, diagonal, diagonal] += s
        return jacobian
        ### END SOLUTION

    def _backward(self, grad_in):
        if max(grad_in.max(), -grad_in.min()) > _HALF_MAX:
            # grad_in - dot could overflow; the answer is at most max|grad_in| / 2,
            # so work with grad_in / 2 (exact) and double the result.
            return 2.0 * self._backward(grad_in * 0.5)
        ### BEGIN SOLUTION
        # s * (g - sum_i g_i s_i), row by row, without the Jacobian -- 05_softmax, section 4
        s = self.prev_out
        dot = (grad_in * s).sum(axis=1, keepdims=True)  # sum_i grad_in_i s_i per row
        grad_out = grad_in - dot
        grad_out *= s
        return grad_out
        ### END SOLUTION


# --------------------------------------------------------------------------
# Layers after the homework: more activations, log-softmax, normalisation, dropout
# --------------------------------------------------------------------------

def _sigmoid(x):
    """The logistic sigmoid 1 / (1 + e^-x), entrywise, exact in both tails.

    e^-x overflows for x < -709; e^-|x| never does: sigma(x) = 1 / (1 + e^-|x|)
    for x >= 0 and e^-|x| / (1 + e^-|x|) for x < 0 (relative accuracy near
    1e-16 also where sigma(x) is tiny).

    Inputs:
    - x: float64 array of any shape.

    Returns:
    - sigma: array of x's shape, in [0, 1].
    """
    ### BEGIN SOLUTION
    # 1 / (1 + e^-x) with e^-|x|, so that nothing overflows: e^-|x| / (1 + e^-|x|) where x < 0 -- 10_more_activations, section 2
    small = np.abs(x)
    np.negative(small, out=small)
    np.exp(small, out=small)  # e^-|x|, in [0, 1]
    sigma = np.where(x >= 0, 1.0, small)
    small += 1.0
    sigma /= small
    return sigma
    ### END SOLUTION


class LeakyReLULayer(ElementwiseLayer):
    """Leaky rectified linear unit: out = x if x >= 0 else alpha x, entrywise.

    Jacobian: diag(1 if x >= 0 else alpha), (N, K, K). At exactly 0 the
    derivative is 1, as ReLULayer's (PyTorch's leaky_relu takes alpha there). A small slope
    below 0 keeps a unit's gradient alive where ReLU's would be 0 for good.

    Inputs:
    - alpha: float >= 0, the slope for x < 0 (0 gives ReLULayer).
    """

    _keeps_output = False  # the derivative is read off prev_in

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = _check_number(alpha, self.name, "alpha", "the slope for x < 0")

    def _forward(self, x):
        ### BEGIN SOLUTION
        # x where x >= 0, alpha * x elsewhere -- 10_more_activations, section 1
        with np.errstate(over="ignore"):  # alpha * x beyond float64's range is -inf
            return np.where(x >= 0, x, self.alpha * x)
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # 1 where x >= 0, alpha elsewhere -- 10_more_activations, section 2
        return np.where(self.prev_in >= 0, 1.0, self.alpha)
        ### END SOLUTION

    def __repr__(self):
        return f"{self.name}(alpha={self.alpha!r})"


class SoftplusLayer(ElementwiseLayer):
    """Softplus, the smooth ReLU: out = ln(1 + e^x), entrywise, in (0, inf).

    Computed as np.logaddexp(0, x), which neither overflows (x = 1000 gives
    1000) nor loses the small values (x = -1000 gives e^-1000 = 0 in float64,
    x = -30 gives 9.4e-14, not 0).
    Jacobian: diag(sigma(x)), (N, K, K): the derivative of softplus is the
    logistic sigmoid, computed here without overflow and without eps.
    """

    _keeps_output = False  # the derivative is read off prev_in

    def _forward(self, x):
        ### BEGIN SOLUTION
        # ln(1 + e^x) as np.logaddexp(0, x) -- 10_more_activations, section 1
        return np.logaddexp(0.0, x)
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # sigma(x), the logistic sigmoid -- 10_more_activations, section 2
        return _sigmoid(self.prev_in)
        ### END SOLUTION


class ELULayer(ElementwiseLayer):
    """Exponential linear unit: out = x if x > 0 else alpha (e^x - 1), entrywise.

    e^x - 1 is computed with np.expm1, exact to round-off even for tiny |x|
    (where e^x - 1 would cancel). The output tends to -alpha as x -> -inf.
    Jacobian: diag(1 if x > 0 else alpha e^x), (N, K, K); at 0 it is alpha
    (1 for the default alpha = 1, where ELU is smooth), as in PyTorch.

    Inputs:
    - alpha: float >= 0, the value -alpha that the output approaches for x -> -inf.
    """

    _keeps_output = False  # the derivative is read off prev_in

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = _check_number(alpha, self.name, "alpha", "the limit -alpha for x -> -inf")

    def _forward(self, x):
        ### BEGIN SOLUTION
        # x where x > 0, alpha * expm1(x) elsewhere -- 10_more_activations, section 1
        # expm1 of min(x, 0): the branch not taken must not overflow either.
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0)))
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # 1 where x > 0, alpha * e^x elsewhere -- 10_more_activations, section 2
        x = self.prev_in
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0.0)))
        ### END SOLUTION

    def __repr__(self):
        return f"{self.name}(alpha={self.alpha!r})"


class GELULayer(ElementwiseLayer):
    """Gaussian error linear unit, tanh form (PyTorch's gelu(approximate="tanh")):

        out = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)

    Since (1 + tanh(u)) / 2 = sigma(2u), the logistic sigmoid, this is computed
    as x sigma(2u): the same function, without the cancellation of 1 + tanh(u)
    where tanh(u) is near -1 (at x = -12 it gives -1.7e-62 where
    x/2 (1 + tanh(u)) in float64 gives 0).
    Jacobian: diag(s + 2 x s (1 - s) u'), (N, K, K), with s = sigma(2u) and
              u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    #: The tanh form's constants: u = sqrt_2_over_pi (x + cubic x^3).
    sqrt_2_over_pi = float(np.sqrt(2.0 / np.pi))
    cubic = 0.044715
    #: Beyond |x| = 1e6, sigma(2u) is exactly 0 or 1 in float64 and its slope
    #: 0: x is clipped there, before x^3 could overflow.
    _saturated = 1e6

    _keeps_output = False  # the derivative is read off prev_in

    def _forward(self, x):
        ### BEGIN SOLUTION
        # x sigma(2u), u = sqrt(2/pi) (x + 0.044715 x^3), i.e. x/2 (1 + tanh u) -- 10_more_activations, section 1
        z = np.clip(x, -self._saturated, self._saturated)
        two_u = z * z
        two_u *= self.cubic
        two_u += 1.0
        two_u *= z
        two_u *= 2.0 * self.sqrt_2_over_pi  # 2u = 2 sqrt(2/pi) z (1 + 0.044715 z^2)
        out = _sigmoid(two_u)
        out *= x
        return out
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # s + 2 x s (1 - s) u', s = sigma(2u), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2) -- 10_more_activations, section 2
        x = np.clip(self.prev_in, -self._saturated, self._saturated)
        x_squared = x * x
        two_u = x_squared * self.cubic
        two_u += 1.0
        two_u *= x
        two_u *= 2.0 * self.sqrt_2_over_pi
        s = _sigmoid(two_u)
        du = x_squared  # u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2), in x_squared's place
        du *= 3.0 * self.cubic
        du += 1.0
        du *= self.sqrt_2_over_pi
        derivative = np.subtract(1.0, s, out=two_u)  # 1 - s, in two_u's place
        derivative *= s
        derivative *= x
        derivative *= du
        derivative *= 2.0
        derivative += s
        return derivative
        ### END SOLUTION


class LogSoftmaxLayer(Layer):
    """Log-softmax over each row: out[n, i] = x[n, i] - ln sum_j exp(x[n, j]).

    Computed as x - m - ln sum_j exp(x_j - m) with m the row maximum
    (LogSumExp), so nothing overflows and a row with one huge entry stays
    exact: [1000, 0] gives [0, -1000], where ln(softmax) gives [0, -inf].
    exp(out) is the softmax s.
    Jacobian: per row, I - 1 s^T, i.e. J[i, j] = delta_ij - s_j; (N, K, K).
    backward: grad_in (N, K) -> grad_in - s * sum_i grad_in_i, O(NK).
    """

    def _forward(self, x):
        ### BEGIN SOLUTION
        # x - max - ln sum exp(x - max), row by row -- 11_logits_and_log_softmax, section 1
        # x - max overflows only where the difference is below -1.8e308: there
        # the answer is -inf, and exp gives the right 0.
        with np.errstate(over="ignore"):
            shifted = x - x.max(axis=1, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return shifted
        ### END SOLUTION

    def _gradient(self):
        ### BEGIN SOLUTION
        # I - 1 s^T per row, s = exp(out) -- 11_logits_and_log_softmax, section 2
        s = np.exp(self.prev_out)
        n, k = s.shape
        return np.broadcast_to(np.eye(k), (n, k, k)) - s[:, None, :]
        ### END SOLUTION

    def _backward(self, grad_in):
        ### BEGIN SOLUTION
        # grad_in - s * sum_i grad_in_i, row by row, without the Jacobian -- 11_logits_and_log_softmax, section 4
        s = np.exp(self.prev_out)
        with np.errstate(over="ignore"):  # a sum beyond float64's range is +-inf
            return grad_in - s * grad_in.sum(axis=1, keepdims=True)
        ### END SOLUTION


class LayerNormLayer(Layer):
    """Layer normalisation: each row to mean 0 and variance 1 (no affine parameters).

        out = (x - mean_row) / sqrt(var_row + eps),  var with ddof=0

    as PyTorch's layer_norm without weight and bias. eps keeps a constant
    row finite (it becomes 0). A row is first divided by a power of two near
    its largest |value| (exact), so rows up to float64's largest numbers
    work without overflow.
    Jacobian: per row, r (I - 1/K - out out^T / K) with r = 1 / sqrt(var + eps),
              shape (N, K, K), symmetric.
    backward: grad_in (N, K) -> r (grad_in - mean(grad_in) - out mean(grad_in * out)),
              row by row, O(NK).

    Inputs:
    - eps: float > 0, added to the variance.

    Attributes:
    - inverse_std: array (N, 1), 1 / sqrt(var_row + eps) of the last forward.
    """

    def __init__(self, eps=1e-5):
        super().__init__()
        self.eps = _check_number(eps, self.name, "eps", "added to the variance", positive=True)
        self.inverse_std = None

    def _forward(self, x):
        ### BEGIN SOLUTION
        # (x - mean_row) / sqrt(var_row + eps), var with ddof=0; keep r = 1 / sqrt(var_row + eps) as inverse_std -- 12_normalisation, section 1
        # A row beyond |x| = 1 is first divided by a power of two near its
        # largest |value| (exact), so that its squares cannot overflow; eps
        # is divided by its square (to 0 where that overflows: eps is then
        # far below the variance anyway).
        largest = np.abs(x).max(axis=1, keepdims=True)
        scale = np.ldexp(1.0, np.maximum(np.frexp(largest)[1] - 1, 0))  # |x / scale| < 2
        centred = x / scale
        centred -= centred.mean(axis=1, keepdims=True)
        variance = (centred * centred).mean(axis=1, keepdims=True)
        with np.errstate(over="ignore"):
            scaled_eps = self.eps / (scale * scale)
        inverse_std = 1.0 / np.sqrt(variance + scaled_eps)  # in units of scale
        centred *= inverse_std
        self.inverse_std = inverse_std / scale
        return centred
        ### END SOLUTION

    def _gradient(self):
        ### BEGIN SOLUTION
        # r (I - 1/K - out out^T / K) per row -- 12_normalisation, section 2
        out, r = self.prev_out, self.inverse_std
        k = out.shape[1]
        jacobian = -out[:, :, None] * out[:, None, :]
        jacobian += np.eye(k) * k - 1.0
        jacobian *= (r / k)[:, :, None]
        return jacobian
        ### END SOLUTION

    def _backward(self, grad_in):
        ### BEGIN SOLUTION
        # r (grad_in - mean(grad_in) - out mean(grad_in * out)), row by row, without the Jacobian -- 12_normalisation, section 4
        out = self.prev_out
        grad_out = grad_in - grad_in.mean(axis=1, keepdims=True)
        grad_out -= out * (grad_in * out).mean(axis=1, keepdims=True)
        grad_out *= self.inverse_std
        return grad_out
        ### END SOLUTION

    def __repr__(self):
        return f"{self.name}(eps={self.eps!r})"


class BatchNormLayer(Layer):
    """Batch normalisation: each column to mean 0 and variance 1 (no affine parameters).

    Training mode (``training = True``, the default) uses the batch's own
    statistics, column by column:

        out = (x - mean_col) / sqrt(var_col + eps),  var with ddof=0

    which is LayerNormLayer applied to x^T, and updates the running
    statistics as PyTorch's BatchNorm1d does:

        running_mean <- (1 - momentum) running_mean + momentum mean_col
        running_var  <- (1 - momentum) running_var  + momentum var_col (ddof=1)

    Eval mode (``training = False``) uses the running statistics instead:
    out = (x - running_mean) / sqrt(running_var + eps), row by row.

    The batch mean couples the rows: in training, out[n, k] depends on every
    x[m, k] of its column, and on no other column. So the Jacobian is one
    (N, N) matrix per feature, not one (K, K) matrix per row:
    gradient() has shape (K, N, N), J[k, n, m] = d out[n, k] / d x[m, k],
        training: J[k] = r_k (I - 1/N - out[:, k] out[:, k]^T / N),
        eval:     J[k] = r_k I (diagonal: the rows no longer interact),
    r_k = 1 / sqrt(var_k + eps) of the statistics used. backward(grad_in)
    equals np.einsum('nk,knm->mk', grad_in, gradient()) and is O(NK):
        training: r (grad_in - mean_col(grad_in) - out mean_col(grad_in * out)),
        eval:     r grad_in.
    gradient() and backward() use the mode and statistics of the last forward.

    Inputs:
    - eps: float > 0, added to the variance.
    - momentum: float in [0, 1], the weight of the new batch in the running statistics.

    Attributes:
    - training: bool, True for batch statistics (and running updates), False for running ones.
    - running_mean, running_var: arrays (1, K), 0 and 1 until the first
      training forward; None before the first forward, which fixes K.
    - inverse_std: array (1, K), r = 1 / sqrt(var + eps) of the last forward.
    """

    def __init__(self, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = _check_number(eps, self.name, "eps", "added to the variance", positive=True)
        self.momentum = _check_number(momentum, self.name, "momentum",
                                      "the new batch's weight in the running statistics",
                                      most=1.0)
        self.training = True
        self.running_mean = self.running_var = None
        self.inverse_std = None
        # Training mode normalises the columns: the rows of x^T.
        self._columns = LayerNormLayer(self.eps)
        self._forward_training = None

    def _check_input(self, x, where):
        if self.running_mean is not None:
            _check_width(x, self.running_mean.shape[1], where)
        if self.training and x.shape[0] < 2:
            raise ValueError(
                f"{where}: training mode needs a batch of at least 2 rows to estimate each "
                f"column's mean and variance, got shape {x.shape}; pass more rows, or set "
                f"training = False to use the running statistics."
            )

    def _forward(self, x):
        if self.running_mean is None:  # the first batch fixes the number of features
            self.running_mean = np.zeros((1, x.shape[1]))
            self.running_var = np.ones((1, x.shape[1]))
        self._forward_training = self.training
        ### BEGIN SOLUTION
        # training: LayerNorm of x^T, then running <- (1 - momentum) running + momentum batch (var with ddof=1); eval: (x - running_mean) / sqrt(running_var + eps) -- 12_normalisation, section 1
        if self.training:
            out = self._columns.forward(x.T).T
            self.inverse_std = self._columns.inverse_std.T
            keep, new = 1.0 - self.momentum, self.momentum
            with np.errstate(over="ignore", invalid="ignore"):  # beyond float64: inf
                self.running_mean = keep * self.running_mean + new * x.mean(axis=0, keepdims=True)
                self.running_var = keep * self.running_var + new * x.var(axis=0, ddof=1, keepdims=True)
            return out
        self.inverse_std = 1.0 / np.sqrt(self.running_var + self.eps)
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float64: +-inf
            return (x - self.running_mean) * self.inverse_std
        ### END SOLUTION

    def _gradient(self):
        ### BEGIN SOLUTION
        # training: the LayerNorm Jacobian of x^T, (K, N, N); eval: r_k I for each feature k -- 12_normalisation, section 2
        if self._forward_training:
            return self._columns.gradient()
        n, k = self.prev_in.shape
        return self.inverse_std.reshape(k, 1, 1) * np.eye(n)
        ### END SOLUTION

    def _backward(self, grad_in):
        ### BEGIN SOLUTION
        # training: LayerNorm's backward of grad_in^T, transposed back; eval: r * grad_in -- 12_normalisation, section 4
        if self._forward_training:
            return self._columns.backward(grad_in.T).T
        return grad_in * self.inverse_std
        ### END SOLUTION

    def __repr__(self):
        return f"{self.name}(eps={self.eps!r}, momentum={self.momentum!r})"


class DropoutLayer(ElementwiseLayer):
    """Inverted dropout: in training, each entry is zeroed with probability p.

        training: out = x * mask / (1 - p), mask ~ Bernoulli(1 - p) per entry
        eval:     out = x

    Dividing by 1 - p keeps the expectation: E[out] = x, so the next layer
    sees inputs of the same size in training and in eval. A new mask is drawn
    on every forward pass in training.
    Jacobian: diag(mask / (1 - p)), (N, K, K), with the mask of the last
    forward; the identity after a forward in eval mode.

    Inputs:
    - p: float, 0 <= p < 1, the probability of dropping an entry.
    - rng: numpy.random.Generator or None; np.random.default_rng(seed) gives
      reproducible masks.

    Attributes:
    - training: bool, True to drop entries, False for the identity.
    - scale: read-only array (N, K), mask / (1 - p) of the last forward (ones
      after a forward in eval mode); None before the first forward.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = _check_number(p, self.name, "p", "the probability of dropping an entry",
                               below=1.0)
        self.rng = _check_rng(rng, self.name)
        self.training = True
        self.scale = None

    @property
    def scale(self):
        """mask / (1 - p) of the last forward: read-only array (N, K), or None."""
        return self._scale

    @scale.setter
    def scale(self, value):
        # Read-only, so that backward (which may multiply a derivative it was
        # given in place) can never change the mask of the forward pass.
        if value is not None:
            value = np.asarray(value, dtype=np.float64)
            value.flags.writeable = False
        self._scale = value

    def _forward(self, x):
        ### BEGIN SOLUTION
        # training: scale = (rng.random(x.shape) >= p) / (1 - p), kept with probability 1 - p; eval: scale = 1; out = x * scale -- 13_dropout, section 1
        if self.training:
            self.scale = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        else:
            self.scale = np.ones_like(x)
        with np.errstate(over="ignore"):  # x / (1 - p) beyond float64's range is +-inf
            return x * self.scale
        ### END SOLUTION

    def _derivative(self):
        ### BEGIN SOLUTION
        # mask / (1 - p), i.e. the scale of the last forward (ones in eval) -- 13_dropout, section 2
        return self.scale
        ### END SOLUTION

    def __repr__(self):
        return f"{self.name}(p={self.p!r})"


# --------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------

class Objective:
    """Base class of the loss functions.

    eval(y, yhat) is the per-row loss (summed over the K outputs) averaged
    over the N rows; gradient(y, yhat) is d eval / d yhat, so it carries the
    1/N of the mean. A subclass provides the two template methods below
    (the base versions raise NotImplementedError).
    """

    #: Whether y and yhat must lie in [0, 1] (probabilities).
    needs_probabilities = False
    #: Whether y alone must lie in [0, 1] (targets for predictions that are not probabilities).
    needs_probability_targets = False
    #: What the predictions are called in messages ("z" for logits).
    prediction_name = "yhat"

    @property
    def name(self):
        """The class's name, used in every message: str."""
        return type(self).__name__

    def eval(self, y, yhat):
        """The mean loss over the batch.

        Inputs:
        - y: targets, array-like of shape (N, K).
        - yhat: predictions, array-like of shape (N, K).

        Returns:
        - loss: Python float (+inf for a sure and wrong prediction with eps=0).
        """
        y, yhat = self._check(y, yhat, "eval")
        with np.errstate(over="ignore"):  # a mean beyond float64's range is +inf
            return float(self._row_losses(y, yhat).mean())

    def gradient(self, y, yhat):
        """d eval / d yhat.

        Inputs:
        - y: targets, array-like of shape (N, K).
        - yhat: predictions, array-like of shape (N, K).

        Returns:
        - gradient: array of shape (N, K), including the 1/N of the mean.
        """
        y, yhat = self._check(y, yhat, "gradient")
        return self._gradient(y, yhat) / y.shape[0]

    # Template methods: each subclass provides these.

    def _row_losses(self, y, yhat):
        """Each row's loss, summed over its K outputs.

        Inputs:
        - y, yhat: validated float64 arrays of shape (N, K).

        Returns:
        - losses: array of shape (N,).
        """
        raise NotImplementedError(self._missing("_row_losses(y, yhat)"))

    def _gradient(self, y, yhat):
        """N times d eval / d yhat (the base class divides by N).

        Inputs:
        - y, yhat: validated float64 arrays of shape (N, K).

        Returns:
        - gradient: array of shape (N, K).
        """
        raise NotImplementedError(self._missing("_gradient(y, yhat)"))

    # Shared helpers.

    def _missing(self, method):
        return (
            f"{self.name} does not implement {method}: {self.name} is a base class (or "
            f"an unfinished subclass); an objective must provide _row_losses(y, yhat) "
            f"and _gradient(y, yhat)."
        )

    def _check(self, y, yhat, method):
        where = f"{self.name}.{method}"
        prediction = self.prediction_name
        y = _as_batch(y, where, what="y")
        yhat = _as_batch(yhat, where, what=prediction)
        if y.shape != yhat.shape:
            raise ValueError(
                f"{where}: y has shape {y.shape} but {prediction} has shape {yhat.shape}; they "
                f"must match, one target per prediction (for one observation use shape (1, K))."
            )
        bounded = []
        if self.needs_probabilities or self.needs_probability_targets:
            bounded.append(("y", y, "targets are probabilities, e.g. one-hot rows"))
        if self.needs_probabilities:
            bounded.append((prediction, yhat, "put a sigmoid or softmax layer before this objective"))
        for label, array, fix in bounded:
            if array.min() < 0 or array.max() > 1:
                raise ValueError(
                    f"{where}: {label} must lie in [0, 1] (probabilities), got values in "
                    f"[{array.min():.6g}, {array.max():.6g}]; {fix}."
                )
        return y, yhat

    def __repr__(self):
        return f"{self.name}()"


class SquaredError(Objective):
    """Squared error: J = mean_n sum_k (y - yhat)^2.

    Gradient: -2 (y - yhat) / N, shape (N, K). Beyond float64's range
    (|y - yhat| above about 1e154) the loss is +inf.
    """

    def _row_losses(self, y, yhat):
        ### BEGIN SOLUTION
        # sum_k (y - yhat)^2 for each row -- 06_objectives, section 1
        with np.errstate(over="ignore"):  # beyond float64: +inf
            return ((y - yhat) ** 2).sum(axis=1)
        ### END SOLUTION

    def _gradient(self, y, yhat):
        ### BEGIN SOLUTION
        # -2 (y - yhat), before the base class divides by N -- 06_objectives, section 2
        with np.errstate(over="ignore"):
            return -2.0 * (y - yhat)
        ### END SOLUTION


class LogLoss(_EpsSetting, Objective):
    """Log loss (binary cross entropy), for targets and predictions in [0, 1]:

        J = -mean_n sum_k [y ln(yhat + eps) + (1 - y) ln(1 - yhat + eps)]

    Gradient: -(y - yhat) / (yhat (1 - yhat) + eps) / N, shape (N, K).
    eps = 1e-7 keeps both finite at yhat = 0 and yhat = 1. This gradient (the
    homework's formula) differs from the exact derivative of eval by terms of
    order eps / (yhat (1 - yhat)): negligible unless yhat is within ~1e-5 of 0
    or 1. Behind a LogisticSigmoidLayer it backpropagates exactly (yhat - y) / N.

    With eps=0: a term with weight 0 counts 0 (y = yhat = 0 costs nothing),
    a sure and wrong prediction costs +inf (gradient +-inf), and at y = yhat
    = 0 or 1 the gradient is the one-sided derivative, +1 or -1.

    Inputs:
    - eps: float >= 0, added inside the logs and to the gradient's denominator.
    """

    needs_probabilities = True

    _eps_meaning = "added inside the logs; 0 gives the exact loss"

    def _row_losses(self, y, yhat):
        ### BEGIN SOLUTION
        # -sum_k [y ln(yhat + eps) + (1 - y) ln(1 - yhat + eps)] per row; a term with weight 0 counts 0 -- 06_objectives, section 1
        eps = self.eps
        # ln(1 - yhat + eps) as log1p(eps - yhat): exact to round-off near
        # yhat = 0, where 1 - yhat + eps would round away yhat's last digits.
        # ln 0 = -inf is right (the loss is then +inf), but 0 * -inf is NaN:
        # the xlogy convention counts a term with weight 0 as 0 instead.
        with np.errstate(divide="ignore", invalid="ignore"):
            hits = y * np.log(yhat + eps)
            misses = (1.0 - y) * np.log1p(eps - yhat)
        hits = np.where(y == 0, 0.0, hits)
        misses = np.where(y == 1, 0.0, misses)
        return -(hits + misses).sum(axis=1)
        ### END SOLUTION

    def _gradient(self, y, yhat):
        ### BEGIN SOLUTION
        # -(y - yhat) / (yhat (1 - yhat) + eps), before the base class divides by N -- 06_objectives, section 2
        denominator = yhat * (1.0 - yhat) + self.eps
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            gradient = (yhat - y) / denominator
        if self.eps == 0:
            # At yhat = y = 0 (or 1) the formula is 0/0; the derivative of eval
            # there (xlogy convention) is (1 - y) / (1 - yhat) = 1 (or -y / yhat = -1).
            gradient = np.where((denominator == 0) & (y == yhat), 1.0 - 2.0 * yhat, gradient)
        return gradient
        ### END SOLUTION


class CrossEntropy(_EpsSetting, Objective):
    """Cross entropy, for one-hot (or probability) targets y:

        J = -mean_n sum_k y ln(yhat + eps)

    Gradient: -y / (yhat + eps) / N, shape (N, K); 0 where y = 0.

    Behind a SoftmaxLayer the two together backpropagate (s - y) / N times
    s_c / (s_c + eps), for a one-hot y on class c: so (s - y) / N to within
    a relative error eps / (s_c + eps). That is 1% at s_c = 1e-5 (with the
    default eps = 1e-7), one half at s_c = eps, and nearly everything once
    the true class is far out of favour (a logit gap of 20 gives
    s_c = 2e-9: 0.02 instead of 1 in the true class's entry). With eps=0 it
    is exactly (s - y) / N wherever s_c > 0.

    Inputs:
    - eps: float >= 0, added inside the log and to the gradient's denominator.
    """

    needs_probabilities = True

    _eps_meaning = "added inside the log; 0 gives the exact loss"

    def _row_losses(self, y, yhat):
        ### BEGIN SOLUTION
        # -sum_k y ln(yhat + eps) per row; a term with y = 0 counts 0 -- 06_objectives, section 1
        # ln 0 = -inf is right (the loss is then +inf), but 0 * -inf is NaN:
        # the xlogy convention counts a term with y = 0 as 0 instead.
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = y * np.log(yhat + self.eps)
        return -np.where(y == 0, 0.0, terms).sum(axis=1)
        ### END SOLUTION

    def _gradient(self, y, yhat):
        ### BEGIN SOLUTION
        # -y / (yhat + eps), 0 where y = 0, before the base class divides by N -- 06_objectives, section 2
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            gradient = -y / (yhat + self.eps)
        # Where y = 0 the term y ln(yhat) is 0 (xlogy), so is its derivative;
        # the formula gives -0.0 there unless yhat + eps = 0 (0/0).
        return np.where(y == 0, -0.0, gradient)
        ### END SOLUTION


class CrossEntropyWithLogits(Objective):
    """Cross entropy from logits: softmax and cross entropy in one step.

        J = -mean_n sum_k y[n, k] log_softmax(z)[n, k]

    z are logits (any real numbers, e.g. a fully connected layer's output),
    not probabilities; y are targets in [0, 1] (one-hot or soft), shape of z.
    Working with log_softmax (LogSumExp) keeps J exact and finite for any
    finite z, with no eps: a logit gap of 1000 costs 1000, where
    CrossEntropy on softmax(z) would need ln(0).
    Gradient: (softmax(z) sum_k y[n, k] - y) / N, shape (N, K);
              (s - y) / N for one-hot (or any row-sum-1) y.
    """

    needs_probabilities = False  # z are logits, any real numbers
    needs_probability_targets = True
    prediction_name = "z"

    def eval(self, y, z):
        """The mean loss over the batch.

        Inputs:
        - y: targets in [0, 1], array-like of shape (N, K).
        - z: logits, array-like of shape (N, K).

        Returns:
        - loss: Python float.
        """
        return super().eval(y, z)

    def gradient(self, y, z):
        """d eval / d z.

        Inputs:
        - y: targets in [0, 1], array-like of shape (N, K).
        - z: logits, array-like of shape (N, K).

        Returns:
        - gradient: array of shape (N, K), including the 1/N of the mean.
        """
        return super().gradient(y, z)

    def _row_losses(self, y, yhat):
        ### BEGIN SOLUTION
        # -sum_k y log_softmax(z), with z = yhat, the logits -- 11_logits_and_log_softmax, section 1
        log_s = LogSoftmaxLayer().forward(yhat)
        with np.errstate(invalid="ignore"):  # y = 0 at log_s = -inf: the term is 0
            return -np.where(y == 0, 0.0, y * log_s).sum(axis=1)
        ### END SOLUTION

    def _gradient(self, y, yhat):
        ### BEGIN SOLUTION
        # softmax(z) * sum_k y - y (the base class divides by N), with z = yhat -- 11_logits_and_log_softmax, section 2
        s = np.exp(LogSoftmaxLayer().forward(yhat))
        return s * y.sum(axis=1, keepdims=True) - y
        ### END SOLUTION


# --------------------------------------------------------------------------
# Finite differences
# --------------------------------------------------------------------------

def _function_name(f):
    return getattr(f, "__qualname__", None) or repr(f)


def _rows_of(f, value, n, k_out=None):
    """f's result as a float64 (N, K_out) array, or a clear error naming f."""
    where = f"numerical_jacobian: f = {_function_name(f)}"
    expected = f"({n}, {'K_out' if k_out is None else k_out})"
    if value is None:
        raise TypeError(
            f"{where} returned None; f must return an array of shape {expected}, "
            f"one row per row of x (e.g. a layer's forward)."
        )
    array = _as_real_array(value, where, "f(x)")
    if array.ndim != 2 or array.shape[0] != n or (k_out is not None and array.shape[1] != k_out):
        raise ValueError(
            f"{where} returned shape {array.shape}; it must return shape {expected}, "
            f"one row per row of x (e.g. a layer's forward)."
        )
    return np.asarray(array, dtype=np.float64)


def numerical_jacobian(f, x, h=1e-6):
    """Per-row Jacobian of f by central differences.

    Column j is perturbed in all rows at once (rows do not interact), so f is
    called 2 K_in + 1 times. The last call is f(x), so a layer's stored
    prev_in/prev_out are left at x. Error O(h^2) plus round-off O(1e-16 / h).
    Where f gives +-inf the difference is inf or NaN: there is no slope to measure.

    Inputs:
    - f: function mapping an (N, K_in) array to an (N, K_out) array, row by
      row (e.g. a layer's forward).
    - x: array-like of shape (N, K_in), finite.
    - h: float > 0, the step.

    Returns:
    - jacobian: array of shape (N, K_out, K_in),
      jacobian[n, i, j] ~ (f(x + h e_j) - f(x - h e_j))[n, i] / 2h.
    """
    x = _as_batch(x, "numerical_jacobian", copy=True)
    h = _check_number(h, "numerical_jacobian", "h", "the finite-difference step", positive=True)
    n, k_in = x.shape
    ### BEGIN SOLUTION
    # column j of every row's Jacobian: (f(x + h e_j) - f(x - h e_j)) / 2h, all rows at once; end with f(x) -- 07_gradient_checking, section 1
    columns, k_out = [], None
    for j in range(k_in):
        step = np.zeros_like(x)
        step[:, j] = h
        plus = _rows_of(f, f(x + step), n, k_out)
        k_out = plus.shape[1]
        minus = _rows_of(f, f(x - step), n, k_out)
        with np.errstate(over="ignore", invalid="ignore"):  # where f is +-inf: inf or NaN
            columns.append((plus - minus) / (2 * h))
    _rows_of(f, f(x), n, k_out)
    return np.stack(columns, axis=2)
    ### END SOLUTION


def _number_of(f, value):
    """f's result as a Python float, or a clear error naming f."""
    where = f"numerical_gradient: f = {_function_name(f)}"
    if value is None:
        raise TypeError(f"{where} returned None; f must return a number (e.g. a loss).")
    array = _as_real_array(value, where, "f(x)")
    if array.size != 1:
        raise ValueError(
            f"{where} returned an array of shape {array.shape}; f must return a number "
            f"(e.g. an objective's eval), or an array holding exactly one."
        )
    return float(array.reshape(()))


def numerical_gradient(f, x, h=1e-6):
    """Gradient of a scalar function by central differences.

    f is called 2 x.size + 1 times; the last call is f(x), so anything f
    stores (e.g. weights it assigns to a layer) is left at x.

    Inputs:
    - f: function mapping an array shaped like x to a number (e.g. an
      objective's eval with y fixed); an array holding one number counts.
    - x: array-like of any shape, finite real numbers.
    - h: float > 0, the step.

    Returns:
    - grad: array shaped like x, d f / d x[idx] ~ (f(x + h e) - f(x - h e)) / 2h.
    """
    x = np.array(_as_real_array(x, "numerical_gradient", "x"), dtype=np.float64)
    _check_finite(x, "numerical_gradient", "x")
    h = _check_number(h, "numerical_gradient", "h", "the finite-difference step", positive=True)
    ### BEGIN SOLUTION
    # d f / d x[idx] = (f(x + h e_idx) - f(x - h e_idx)) / 2h for every entry; end with f(x) -- 07_gradient_checking, section 1
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + h
        plus = _number_of(f, f(x))
        x[idx] = saved - h
        minus = _number_of(f, f(x))
        x[idx] = saved
        grad[idx] = (plus - minus) / (2 * h)
    _number_of(f, f(x))
    return grad
    ### END SOLUTION


def relative_error(a, b):
    """Largest entrywise relative error, max |a - b| / max(|a| + |b|, 1e-8).

    A scale-free measure for gradient checks: about 1e-7 or less means the
    two agree to float64 finite-difference accuracy; 1e-2 or more means a bug.
    The 1e-8 floor keeps entries where both are ~0 from dividing by zero.
    Equal entries (infinities included) count 0; an infinite entry against a
    different one counts 1, the largest value; NaN gives NaN.

    Inputs:
    - a, b: array-like real numbers of one shape (any, not empty).

    Returns:
    - error: float.
    """
    a = np.asarray(_as_real_array(a, "relative_error", "a"), dtype=np.float64)
    b = np.asarray(_as_real_array(b, "relative_error", "b"), dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes {a.shape} and {b.shape} differ; compare "
                         f"arrays of one shape.")
    if a.size == 0:
        raise ValueError("relative_error: a and b are empty; there is nothing to compare.")
    # Halved (exactly), so that |a - b| and |a| + |b| stay finite even for
    # 1e308 against -1e308 (which gives 1, not inf / inf).
    half_a, half_b = 0.5 * a, 0.5 * b
    with np.errstate(invalid="ignore"):  # inf - inf and inf / inf: replaced below
        ratio = np.abs(half_a - half_b) / np.maximum(np.abs(half_a) + np.abs(half_b), 0.5e-8)
    ratio = np.where(a == b, 0.0, ratio)
    ratio = np.where((np.isinf(a) | np.isinf(b)) & (a != b), 1.0, ratio)
    return float(np.max(ratio))


# --------------------------------------------------------------------------
# `python layers.py` prints the homework's answer key, which lives in homework.py
# --------------------------------------------------------------------------

if __name__ == "__main__":
    import sys

    import homework

    sys.exit(homework.main(prog="python layers.py"))
