"""Feedback for learners: is my layers.py right, is my answer right?

The notebooks call these functions; none of them raises for a learner's
mistake. Each prints a short report and returns it, so a notebook cell shows
at a glance what passes, what is not implemented yet, and what is wrong.

    check_layer(layers.ReLULayer)            # forward, gradient, backward
    check_layer(layers.BatchNormLayer)       # Part 2 too: its (K, N, N) Jacobian across the batch
    check_objective(layers.CrossEntropy)     # eval, gradient
    check_numerical_jacobian(layers.numerical_jacobian)
    check_answer(answer, expected, ...)      # a number worked out by hand

Expected values come from SymPy (a layer's formula, differentiated
symbolically) or from the defining formula, never from the learner's
layers.py. Values agree when they differ by at most RTOL = 1e-6 relative
(plus ATOL = 1e-12 for entries that should be 0): far below a 1% error,
far above float64 round-off.

``import checks`` imports whatever ``import layers`` finds, so the checks
always test the learner's own layers.py.
"""

import functools
import re
import warnings

import numpy as np
import sympy as sp

import homework
import layers

#: Relative tolerance of check_layer and check_objective.
RTOL = 1e-6
#: Absolute floor, for entries whose expected value is 0 (off-diagonal, ReLU below 0).
ATOL = 1e-12
#: Finite differences are accurate to about 1e-9 here; a 1% error is far larger.
FD_RTOL, FD_ATOL = 1e-6, 1e-8
#: Step of the finite differences printed beside a wrong Jacobian.
FD_STEP = 1e-6


class Report:
    """What a check found.

    Attributes:
    - title: str, what was checked, e.g. "ReLULayer".
    - results: list of (part, status, message) with status one of
      "passes", "not implemented yet", "wrong", "error", "needs forward first",
      "not answered yet".
    - passed: bool, True when every part passes.
    """

    def __init__(self, title, results):
        self.title = title
        self.results = list(results)

    @property
    def passed(self):
        return bool(self.results) and all(status == "passes" for _, status, _ in self.results)

    def __str__(self):
        lines = [self.title]
        for part, status, message in self.results:
            text = status + (f": {message}" if message else "")
            first, *rest = text.split("\n")
            lines.append(f"  {part:<18}{first}")
            lines.extend(" " * 20 + line for line in rest)
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def check_answer(answer, expected, *, rtol=1e-3, atol=0.0, hint=""):
    """Check a number (or array) the learner worked out, without revealing `expected`.

    Inputs:
    - answer: the learner's value; None means not answered yet.
    - expected: the right value (a number or array-like).
    - rtol, atol: the tolerance, as in np.isclose; 1e-3 relative suits hand work.
    - hint: str, shown when the answer is wrong (it must not give the answer away).

    Returns:
    - report: Report with one part, "answer", printed as it is returned.
    """
    if answer is None:
        status, message = "not answered yet", "replace None with your answer and run the cell again"
    else:
        try:
            got = np.asarray(answer, dtype=np.float64)
            want = np.asarray(expected, dtype=np.float64)
            right = got.shape == want.shape or got.size == want.size == 1
            right = right and bool(np.allclose(got.reshape(want.shape), want, rtol=rtol, atol=atol))
        except (TypeError, ValueError):
            right = False
        status = "passes" if right else "wrong"
        message = "correct" if right else ("not yet. " + hint if hint else "not yet; try again")
    report = Report("Your answer", [("answer", status, message)])
    print(report)
    return report


# --------------------------------------------------------------------------
# Reference formulas, from SymPy
# --------------------------------------------------------------------------

X_SYMBOL = sp.Symbol("x", real=True)
Y_SYMBOL, YHAT_SYMBOL = sp.symbols("y yhat", real=True)

#: The elementwise layers of layers.py as SymPy expressions in x.
#: ReLU is a Piecewise so that its derivative at 0 is the course's 1 ("1 if x >= 0").
ELEMENTWISE_FORMULAS = {
    "LinearLayer": X_SYMBOL,
    "ReLULayer": sp.Piecewise((X_SYMBOL, X_SYMBOL >= 0), (0, True)),
    "LogisticSigmoidLayer": 1 / (1 + sp.exp(-X_SYMBOL)),
    "TanhLayer": sp.tanh(X_SYMBOL),
}


ALPHA_SYMBOL = sp.Symbol("alpha", nonnegative=True)
#: GELU's tanh form: u = sqrt(2/pi) (x + 0.044715 x^3), out = x/2 (1 + tanh u).
_GELU_U = sp.sqrt(2 / sp.pi) * (X_SYMBOL + sp.Rational(44715, 1000000) * X_SYMBOL ** 3)

#: Part 2's elementwise layers as SymPy expressions in x and their setting alpha.
#: Leaky ReLU's derivative at 0 is 1 (as ReLU's), ELU's is alpha (x > 0 for the identity branch).
PART2_ELEMENTWISE_FORMULAS = {
    "LeakyReLULayer": sp.Piecewise((X_SYMBOL, X_SYMBOL >= 0), (ALPHA_SYMBOL * X_SYMBOL, True)),
    "SoftplusLayer": sp.log(1 + sp.exp(X_SYMBOL)),
    "ELULayer": sp.Piecewise((X_SYMBOL, X_SYMBOL > 0), (ALPHA_SYMBOL * (sp.exp(X_SYMBOL) - 1), True)),
    "GELULayer": X_SYMBOL / 2 * (1 + sp.tanh(_GELU_U)),
}


def _loss_formulas(eps):
    """Per-entry loss and its gradient (before the 1/N of the mean), as SymPy expressions.

    LogLoss's gradient is the course's formula -(y - yhat) / (yhat (1 - yhat) + eps):
    the exact derivative of the loss with eps = 0, then eps added to its
    denominator (_assert_log_loss_convention proves the first half).
    """
    y, yhat = Y_SYMBOL, YHAT_SYMBOL
    squared = (y - yhat) ** 2
    log_loss = -(y * sp.log(yhat + eps) + (1 - y) * sp.log(1 - yhat + eps))
    log_loss_gradient = -(y - yhat) / (yhat * (1 - yhat) + eps)
    cross_entropy = -y * sp.log(yhat + eps)
    return {
        "SquaredError": (squared, sp.diff(squared, yhat)),
        "LogLoss": (log_loss, log_loss_gradient),
        "CrossEntropy": (cross_entropy, sp.diff(cross_entropy, yhat)),
    }


@functools.lru_cache(maxsize=None)
def _assert_log_loss_convention():
    """With eps = 0 the course's log-loss gradient is SymPy's derivative of the loss."""
    eps = sp.Symbol("epsilon", positive=True)
    loss, gradient = _loss_formulas(eps)["LogLoss"]
    exact = sp.diff(loss.subs(eps, 0), YHAT_SYMBOL)
    assert sp.simplify(gradient.subs(eps, 0) - exact) == 0
    return True


@functools.lru_cache(maxsize=None)
def _lambdified(arguments, expression):
    return sp.lambdify(arguments, expression, "numpy")


def _evaluate(arguments, expression, *values):
    """Evaluate a SymPy expression entrywise on arrays; constants are broadcast."""
    function = _lambdified(arguments, expression)
    with np.errstate(all="ignore"):
        result = function(*values)
    return np.array(np.broadcast_to(np.asarray(result, dtype=np.float64), np.shape(values[0])))


def _diagonal_jacobians(derivatives):
    n, k = derivatives.shape
    jacobians = np.zeros((n, k, k))
    jacobians[:, np.arange(k), np.arange(k)] = derivatives
    return jacobians


@functools.lru_cache(maxsize=None)
def _softmax_formulas(k):
    h = sp.symbols(f"h1:{k + 1}", real=True)
    total = sum(sp.exp(hk) for hk in h)
    s = sp.Matrix([sp.exp(hk) / total for hk in h])
    return sp.lambdify(h, s, "numpy"), sp.lambdify(h, s.jacobian(h), "numpy")


@functools.lru_cache(maxsize=None)
def _fully_connected_formulas(size_in, size_out):
    """out = x W + b for one row, its Jacobian d out / d x, and d (g . out) / d(W, b)."""
    x = sp.Matrix(1, size_in, sp.symbols(f"x0:{size_in}"))
    w = sp.Matrix(size_in, size_out, sp.symbols(f"w0:{size_in * size_out}"))
    b = sp.Matrix(1, size_out, sp.symbols(f"b0:{size_out}"))
    g = sp.Matrix(1, size_out, sp.symbols(f"g0:{size_out}"))
    out = x * w + b
    loss = (g * out.T)[0, 0]
    arguments = (list(x), list(w), list(b), list(g))
    return (
        sp.lambdify(arguments, out, "numpy"),
        sp.lambdify(arguments, out.jacobian(list(x)), "numpy"),
        sp.lambdify(arguments, sp.Matrix(size_in, size_out, lambda i, j: sp.diff(loss, w[i, j])), "numpy"),
        sp.lambdify(arguments, sp.Matrix(1, size_out, lambda i, j: sp.diff(loss, b[0, j])), "numpy"),
    )


@functools.lru_cache(maxsize=None)
def _log_softmax_formulas(k):
    """out_i = h_i - ln sum_j e^(h_j) for one row of k, and its (k, k) Jacobian."""
    h = sp.symbols(f"h1:{k + 1}", real=True)
    log_total = sp.log(sum(sp.exp(hk) for hk in h))
    out = sp.Matrix([hk - log_total for hk in h])
    return sp.lambdify(h, out, "numpy"), sp.lambdify(h, out.jacobian(h), "numpy")


@functools.lru_cache(maxsize=None)
def _normalisation_formulas(k):
    """(h - mean) / sqrt(var + eps), var with ddof=0, for one vector of k, and its Jacobian.

    LayerNorm applies it to each row; BatchNorm in training to each column.
    Both lambdified functions take (h_1, ..., h_k, eps).
    """
    h = sp.symbols(f"h1:{k + 1}", real=True)
    eps = sp.Symbol("epsilon", positive=True)
    mean = sum(h) / k
    variance = sum((hk - mean) ** 2 for hk in h) / k
    out = sp.Matrix([(hk - mean) / sp.sqrt(variance + eps) for hk in h])
    arguments = (*h, eps)
    return sp.lambdify(arguments, out, "numpy"), sp.lambdify(arguments, out.jacobian(h), "numpy")


class _LayerReference:
    """Expected values for one layer instance.

    forward(X) -> (N, K_out); jacobian(X) -> (N, K_out, K_in) or, for the fully
    connected layer, (K_out, K_in), or for batch normalisation (K, N, N);
    weight_gradients(X, G) -> (dW, db) or None; after_forward(instance, X) ->
    None or what is wrong with the state the first forward pass left (the
    running statistics).
    """

    weight_gradients = None
    after_forward = None

    def __init__(self, forward, jacobian, source="SymPy", tolerance=(RTOL, ATOL), layout="rows"):
        self.forward, self.jacobian, self.source = forward, jacobian, source
        # (rtol, atol) for the Jacobian and backward: looser when the Jacobian is itself
        # a finite difference.
        self.tolerance = tolerance
        # "rows": one (K_out, K_in) matrix per row; "shared": one matrix for every row;
        # "batch": one (N, N) matrix per feature, the rows of a column coupled.
        self.layout = layout


def _elementwise_reference(expression, symbol, eps=0.0):
    derivative = sp.diff(expression, symbol)
    return _LayerReference(
        lambda x: _evaluate(symbol, expression, x),
        lambda x: _diagonal_jacobians(_evaluate(symbol, derivative, x) + eps),
    )


def _softmax_reference():
    def rows(x, which):
        function = _softmax_formulas(x.shape[1])[which]
        return np.array([np.asarray(function(*row), dtype=np.float64) for row in x])

    return _LayerReference(lambda x: rows(x, 0)[:, :, 0], lambda x: rows(x, 1))


def _rowwise_reference(formulas, *extra):
    """A reference from per-row SymPy functions (values, Jacobian) taking (*row, *extra)."""
    def rows(x, which):
        function = formulas(x.shape[1])[which]
        return np.array([np.asarray(function(*row, *extra), dtype=np.float64) for row in x])

    return _LayerReference(lambda x: rows(x, 0)[:, :, 0], lambda x: rows(x, 1))


def _log_softmax_reference():
    # log-softmax and its Jacobian do not change when a row is shifted by a constant:
    # shifted by its maximum, no exponential overflows.
    reference = _rowwise_reference(_log_softmax_formulas)
    forward, jacobian = reference.forward, reference.jacobian
    reference.forward = lambda x: forward(x - x.max(axis=1, keepdims=True))
    reference.jacobian = lambda x: jacobian(x - x.max(axis=1, keepdims=True))
    return reference


def _batch_norm_reference(instance):
    """Training: each column normalised by its own statistics, J (K, N, N); eval: the
    running statistics (0 and 1 before any training batch), J[k] = r_k I.

    after_forward checks the running statistics a forward pass leaves: in training
    (1 - momentum) old + momentum batch, the batch variance with ddof=1 (PyTorch's
    BatchNorm1d); in eval, unchanged.
    """
    eps = float(instance.eps)
    momentum = float(getattr(instance, "momentum", 0.1))
    training = bool(getattr(instance, "training", True))

    # The running statistics as the layer was made (None: 0 and 1, set by the first forward);
    # eval mode's expected values use these, whatever a forward later stores.
    stored = {label: getattr(instance, label, None) for label in ("running_mean", "running_var")}
    stored = {label: None if value is None else np.array(value, dtype=np.float64)
              for label, value in stored.items()}

    def running(k):
        mean, var = stored["running_mean"], stored["running_var"]
        mean = np.zeros((1, k)) if mean is None else np.array(mean, dtype=np.float64).reshape(1, k)
        var = np.ones((1, k)) if var is None else np.array(var, dtype=np.float64).reshape(1, k)
        return mean, var

    if training:
        columns = _rowwise_reference(_normalisation_formulas, eps)
        reference = _LayerReference(lambda x: columns.forward(x.T).T, lambda x: columns.jacobian(x.T),
                                    layout="batch")
    else:
        mu, var = sp.symbols("mu v", real=True)
        expression = (X_SYMBOL - mu) / sp.sqrt(var + eps)
        derivative = sp.diff(expression, X_SYMBOL)
        arguments = (X_SYMBOL, mu, var)

        def forward(x):
            return _evaluate(arguments, expression, x, *running(x.shape[1]))

        def jacobian(x):
            n, k = x.shape
            slopes = _evaluate(arguments, derivative, x, *running(k))   # (N, K), r_k in column k
            return slopes.T[:, :, None] * np.eye(n)

        reference = _LayerReference(forward, jacobian, layout="batch")

    def after_forward(layer, x):
        old_mean, old_var = running(x.shape[1])
        if training:
            want_mean = (1 - momentum) * old_mean + momentum * x.mean(axis=0, keepdims=True)
            want_var = (1 - momentum) * old_var + momentum * x.var(axis=0, ddof=1, keepdims=True)
            how = (f"(1 - momentum) times the old value plus momentum = {momentum:g} times the batch's "
                   f"{{}}; the batch variance with ddof=1, as PyTorch's BatchNorm1d")
        else:
            want_mean, want_var = old_mean, old_var
            how = "unchanged: eval mode uses the running statistics and leaves them alone{}"
        for label, want, what in (("running_mean", want_mean, "mean"), ("running_var", want_var, "variance")):
            got = getattr(layer, label, None)
            try:
                got = np.array(got, dtype=np.float64).reshape(want.shape)
            except (TypeError, ValueError):
                return f"{label} after forward is {type(got).__name__}, expected an array of shape {want.shape}"
            index = _first_mismatch(got, want)
            if index is not None:
                return (f"{label}{list(index)} after forward expected {_number(want[index])} "
                        f"({how.format(what) if training else how.format('')}), got {_number(got[index])}")
        return None

    reference.after_forward = after_forward
    reference.source = "SymPy" if training else "SymPy, with the running statistics"
    return reference


def _input_reference(instance, data=None):
    """z-scores with the mean and std (ddof=1; 1 for a constant column) of `data`.

    Without `data` (a layer made by a function of the learner's), the statistics
    the layer's constructor stored are used.
    """
    if data is None:
        mean = np.asarray(instance.mean_x, dtype=np.float64)
        std = np.asarray(instance.std_x, dtype=np.float64)
    else:
        constant = data.max(axis=0, keepdims=True) == data.min(axis=0, keepdims=True)
        mean = data.mean(axis=0, keepdims=True)
        std = np.where(constant, 1.0, data.std(axis=0, ddof=1, keepdims=True))
    mu, sigma = sp.symbols("mu sigma", real=True)
    expression = (X_SYMBOL - mu) / sigma
    derivative = sp.diff(expression, X_SYMBOL)
    arguments = (X_SYMBOL, mu, sigma)
    return _LayerReference(
        lambda x: _evaluate(arguments, expression, x, mean, std),
        lambda x: _diagonal_jacobians(_evaluate(arguments, derivative, x, mean, std)),
    )


def _fully_connected_reference(instance):
    weights = np.array(instance.weights, dtype=np.float64)
    biases = np.array(instance.biases, dtype=np.float64)
    size_in, size_out = weights.shape
    out, jacobian, d_weights, d_biases = _fully_connected_formulas(size_in, size_out)
    flat_w, flat_b = list(weights.ravel()), list(biases.ravel())

    def per_row(function, x, g=None):
        g = np.zeros((x.shape[0], size_out)) if g is None else g
        return np.array([np.asarray(function(list(xr), flat_w, flat_b, list(gr)), dtype=np.float64)
                         for xr, gr in zip(x, g)])

    reference = _LayerReference(lambda x: per_row(out, x)[:, 0, :], lambda x: per_row(jacobian, x[:1])[0])
    reference.weight_gradients = lambda x, g: (per_row(d_weights, x, g).sum(axis=0),
                                               per_row(d_biases, x, g).sum(axis=0))
    return reference


def _builtin_layer_reference(name, instance, data=None):
    if name in ELEMENTWISE_FORMULAS:
        eps = float(getattr(instance, "eps", 0.0))  # set by the constructor: 1e-7 by default
        return _elementwise_reference(ELEMENTWISE_FORMULAS[name], X_SYMBOL, eps)
    if name == "SoftmaxLayer":
        return _softmax_reference()
    if name == "InputLayer":
        return _input_reference(instance, data)
    if name == "FullyConnectedLayer":
        return _fully_connected_reference(instance)
    if name in PART2_ELEMENTWISE_FORMULAS:
        expression = PART2_ELEMENTWISE_FORMULAS[name]
        if ALPHA_SYMBOL in expression.free_symbols:
            expression = expression.subs(ALPHA_SYMBOL, sp.Float(float(instance.alpha), 30))
        return _elementwise_reference(expression, X_SYMBOL)
    if name == "LogSoftmaxLayer":
        return _log_softmax_reference()
    if name == "LayerNormLayer":
        return _rowwise_reference(_normalisation_formulas, float(instance.eps))
    if name == "BatchNormLayer":
        return _batch_norm_reference(instance)
    return None


#: The homework's layers and objectives (Part 1), then the layers after it (Part 2).
PART1_LAYERS = ("InputLayer", "FullyConnectedLayer", "LinearLayer", "ReLULayer",
                "LogisticSigmoidLayer", "TanhLayer", "SoftmaxLayer")
PART2_LAYERS = ("LeakyReLULayer", "SoftplusLayer", "ELULayer", "GELULayer", "LogSoftmaxLayer",
                "LayerNormLayer", "BatchNormLayer", "DropoutLayer")
PART1_OBJECTIVES = ("SquaredError", "LogLoss", "CrossEntropy")
PART2_OBJECTIVES = ("CrossEntropyWithLogits",)
BUILTIN_LAYERS = PART1_LAYERS + PART2_LAYERS
BUILTIN_OBJECTIVES = PART1_OBJECTIVES + PART2_OBJECTIVES


def _builtin_ancestor(cls, names):
    """The nearest class in cls's MRO that is one of layers.py's classes `names`."""
    for ancestor in getattr(cls, "__mro__", ()):
        if ancestor.__name__ in names and ancestor.__module__ == layers.__name__:
            return ancestor.__name__
    return None


def _default_instance(cls, name):
    """An instance of one of layers.py's classes, with the homework's numbers where it has them."""
    if name == "FullyConnectedLayer":
        layer = cls(homework.W.shape[0], homework.W.shape[1], rng=np.random.default_rng(0))
        layer.weights = homework.W                       # the homework's (4, 2) weights
        layer.biases = [[0.5, -1.5]]
        return layer
    if name == "InputLayer":
        return cls(input_layer_data())
    if name == "DropoutLayer":
        # p = 1/4, not 1/2: a mask drawn the wrong way round (keeping with probability p)
        # then keeps the wrong share of entries.
        return cls(p=DROPOUT_P, rng=np.random.default_rng(0))
    return cls()


#: The dropout probability of check_layer(layers.DropoutLayer).
DROPOUT_P = 0.25


def input_layer_data():
    """The seeded training data of the InputLayer check, (6, 4): columns of different scales."""
    return np.random.default_rng(0).normal([0.0, 5.0, -3.0, 100.0], [1.0, 2.0, 0.5, 30.0], (6, 4))


# --------------------------------------------------------------------------
# Inputs: the homework's h and a seeded batch
# --------------------------------------------------------------------------

def layer_inputs(width=4):
    """The batch every layer check uses, (4, width).

    Row 0 is the homework's h = [1, 2, 3, 4] (when width is 4); the other rows
    are seeded normal numbers with an exact 0 (ReLU's convention: derivative 1
    there) and moderately large values (12 and -9: there sigmoid's and tanh's
    derivatives are so small that their eps = 1e-7 shows).
    """
    rng = np.random.default_rng(0)
    batch = rng.normal(0.0, 2.0, size=(3, width))
    batch[0, 1 % width] = 0.0
    batch[1, (width - 1)] = 12.0
    batch[2, 0] = -9.0
    first = homework.H if homework.H.shape[1] == width else rng.normal(0.0, 1.0, size=(1, width))
    return np.vstack([first, batch])


def upstream_gradient(shape):
    """A seeded upstream gradient dL/d(output) for backward checks."""
    return np.random.default_rng(1).normal(size=shape)


def objective_inputs(name):
    """(y, yhat) cases of an objective: the homework's numbers, then a seeded batch of 4 rows."""
    rng = np.random.default_rng(0)
    if name == "CrossEntropyWithLogits":
        # Logits: ln of the homework's probabilities (softmax gives them back), then soft
        # targets whose rows do not sum to 1 (the gradient's s * sum(y) - y), and logits
        # 1000 apart with the true class far behind (no overflow, no eps).
        y = rng.dirichlet(np.ones(3), size=4) * np.array([[1.0], [0.5], [1.0], [1.0]])
        z = rng.normal(0.0, 2.0, size=(4, 3))
        y[3], z[3] = [0.0, 1.0, 0.0], [1000.0, -1000.0, 3.0]
        return [(homework.Y_ONE_HOT, np.log(homework.YHAT_THREE)), (y, z)]
    if name == "CrossEntropy":
        y = np.eye(3)[[0, 2, 1, 2]]
        yhat = rng.dirichlet(np.ones(3), size=4)
        yhat[0] = [1e-4, 0.4, 0.5999]        # the right class nearly missed: eps matters
        return [(homework.Y_ONE_HOT, homework.YHAT_THREE), (y, yhat)]
    if name == "LogLoss":
        y = rng.integers(0, 2, size=(4, 3)).astype(np.float64)
        yhat = rng.uniform(0.05, 0.95, size=(4, 3))
        y[0, 0], yhat[0, 0] = 1.0, 1e-4      # confidently wrong both ways: eps matters
        y[1, 1], yhat[1, 1] = 0.0, 1.0 - 1e-4
        return [(homework.Y_BINARY, homework.YHAT_BINARY), (y, yhat)]
    y, yhat = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    return [(homework.Y_BINARY, homework.YHAT_BINARY), (y, yhat)]


# --------------------------------------------------------------------------
# Comparing and describing
# --------------------------------------------------------------------------

class _Stop(Exception):
    """A learner's method raised: carries the status and message for the report."""

    def __init__(self, status, message=""):
        super().__init__(status)
        self.status, self.message = status, message


def _call(function, *args):
    """Call a learner's method; turn any exception into a _Stop with a short report line."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return function(*args)
    except NotImplementedError as error:
        raise _Stop("not implemented yet", _what_is_missing(error)) from None
    except Exception as error:  # a learner's bug of any kind is feedback, never a crash
        raise _Stop("error", f"{type(error).__name__}: {_first_line(error)}") from None


def _what_is_missing(error):
    """ "ReLULayer.forward (see 02_linear_and_relu, section 1)" from a stub's NotImplementedError.

    The stub that raised may be another method than the one called (forward
    calls InputLayer's statistics), so its name is worth showing.
    """
    text = _first_line(error)
    stub = re.fullmatch(r"(\S+): not implemented yet(?: \((see .+)\))?", text)
    if stub is None:
        return text
    return stub[1] + (f" ({stub[2]})" if stub[2] else "")


def _first_line(error):
    text = (str(error).strip().split("\n") or [""])[0]
    return text if len(text) <= 160 else text[:157] + "..."


def _number(value):
    return f"{value:.8g}"


def _row(values):
    return "[" + ", ".join(f"{v:.6g}" for v in np.ravel(values)) + "]"


def _as_result(got, shape, what):
    """The learner's result as a float64 array of `shape`, or a _Stop saying what is wrong."""
    if got is None:
        raise _Stop("wrong", f"{what} returned None; return an array of shape {shape}")
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Stop("wrong", f"{what} returned a {type(got).__name__}, not an array of numbers "
                             f"of shape {shape}") from None
    if array.shape != tuple(shape):
        raise _Stop("wrong", f"{what} returned shape {array.shape}, expected {tuple(shape)}")
    if not np.isfinite(array).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise _Stop("wrong", f"{what} returned {array[index]} at index {list(index)}; "
                             f"expected finite numbers")
    return array


def _first_mismatch(got, expected, rtol=RTOL, atol=ATOL):
    """Index of the first entry outside the tolerance, or None."""
    bad = np.abs(got - expected) > atol + rtol * np.abs(expected)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _unchanged(original, now, method, what):
    if not np.array_equal(original, now):
        raise _Stop("wrong", f"{method} changed its input {what} in place; "
                             f"compute the result in a new array instead")


def _central_differences(function, x, step=FD_STEP):
    """Per-row Jacobian of `function` by central differences, (N, K_out, K_in).

    The checks keep their own finite differences, so that a numerical_jacobian
    still being written (notebook 07) cannot mislead their messages.
    """
    columns = []
    for j in range(x.shape[1]):
        shift = np.zeros_like(x)
        shift[:, j] = step
        columns.append((np.asarray(function(x + shift), dtype=np.float64)
                        - np.asarray(function(x - shift), dtype=np.float64)) / (2 * step))
    return np.stack(columns, axis=2)


def _batch_central_differences(function, x, step=FD_STEP):
    """Batch normalisation's Jacobian by central differences, (K, N, N):
    J[k, n, m] = d out[n, k] / d x[m, k] (a column's rows are coupled, columns are not)."""
    n, k = x.shape
    jacobian = np.zeros((k, n, n))
    for m in range(n):
        for j in range(k):
            shift = np.zeros_like(x)
            shift[m, j] = step
            column = (np.asarray(function(x + shift), dtype=np.float64)[:, j]
                      - np.asarray(function(x - shift), dtype=np.float64)[:, j]) / (2 * step)
            jacobian[j, :, m] = column
    return jacobian


# --------------------------------------------------------------------------
# check_layer
# --------------------------------------------------------------------------

def _make_instance(layer):
    """An instance of `layer` (a class, a function returning one, or an instance itself)."""
    if isinstance(layer, type):
        return _default_instance(layer, _builtin_ancestor(layer, BUILTIN_LAYERS))
    return layer() if callable(layer) else layer


def _methods(builtin):
    methods = ["forward", "gradient", "backward"]
    return methods + ["weight_gradients"] if builtin == "FullyConnectedLayer" else methods


def _constructor_failed(title, methods, error):
    """The report when the layer cannot even be made: every method waits for the constructor."""
    if isinstance(error, NotImplementedError):
        first = str(error) or "not implemented yet"
    else:
        first = f"{type(error).__name__}: {_first_line(error)}"
    return _print(Report(title, [(method, "needs the constructor first", first if n == 0 else "")
                                 for n, method in enumerate(methods)]))


def _user_layer_reference(reference):
    if isinstance(reference, sp.Basic):
        symbols = sorted(reference.free_symbols, key=str)
        if len(symbols) != 1:
            raise TypeError(
                "check_layer: reference must be a SymPy expression in one symbol (x), got one in "
                f"{[str(s) for s in symbols]}; substitute numbers for the others."
            )
        return _elementwise_reference(reference, symbols[0])
    if callable(reference):
        reference_forward = reference

        def forward(x):
            return np.asarray(reference_forward(x), dtype=np.float64)

        return _LayerReference(forward, lambda x: _central_differences(forward, x),
                               source="finite differences of the reference",
                               tolerance=(FD_RTOL, FD_ATOL))
    raise TypeError(
        "check_layer: reference must be a SymPy expression in x (an elementwise layer) or a "
        f"function mapping an (N, K) array to the (N, K) output, got {type(reference).__name__}."
    )


def _layer_width(instance):
    if hasattr(instance, "weights"):
        return int(np.shape(instance.weights)[0])
    if hasattr(instance, "mean_x"):
        return int(np.shape(instance.mean_x)[1])
    return 4


def check_layer(layer, reference=None):
    """Check a layer's forward, gradient and backward (and weight_gradients) against SymPy.

    Inputs:
    - layer: a layer class of layers.py (e.g. layers.ReLULayer), a class
      written in a notebook, or a function that returns a layer instance
      (e.g. lambda: layers.TanhLayer(eps=0)).
    - reference: None for layers.py's classes (their formulas are built in);
      for a new layer, a SymPy expression in one symbol x (elementwise layer,
      differentiated by SymPy) or a function mapping an (N, K) array to the
      expected (N, K) output (its Jacobian then comes from finite differences).

    The layer runs on layer_inputs(): the homework's h and three seeded rows
    with an exact 0 and large entries. Values pass when within RTOL = 1e-6
    relative (ATOL = 1e-12 absolute) of the reference. backward(g) is compared
    with einsum('ni,nij->nj', g, J) for SymPy's J and a seeded g.

    Two layers of Part 2 differ. BatchNormLayer couples the rows of a batch:
    its gradient is checked as the (K, N, N) Jacobian J[k, n, m] =
    d out[n, k] / d x[m, k] (SymPy per column; finite differences across the
    batch beside a wrong entry), backward against einsum('nk,knm->mk', g, J),
    and forward also by the running statistics it leaves (training: PyTorch's
    momentum update, the batch variance with ddof=1; eval: unchanged). A
    factory that sets training = False and running_mean / running_var checks
    eval mode. DropoutLayer's mask is random, so its properties are checked
    (see _check_dropout): every entry 0 or x / (1 - p), the share kept, a new
    mask each pass, the identity in eval, and gradient and backward against
    the mask of the layer's own last forward; layers.DropoutLayer is checked
    with p = DROPOUT_P and a seeded rng.

    Returns:
    - report: Report, printed as it is returned; report.passed is True when
      every method passes. Never raises for a mistake in the layer.
    """
    cls = layer if isinstance(layer, type) else None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            instance = _make_instance(layer)
    except Exception as error:   # the constructor is the learner's code too (InputLayer's statistics)
        builtin = _builtin_ancestor(cls, BUILTIN_LAYERS) if cls else None
        return _constructor_failed(_title(layer), _methods(None if reference is not None else builtin), error)
    name = type(instance).__name__
    builtin = _builtin_ancestor(type(instance), BUILTIN_LAYERS)
    methods = _methods(None if reference is not None else builtin)
    if reference is not None:
        expected = _user_layer_reference(reference)
        title = name
    elif builtin is not None:
        title = name if name == builtin else f"{name} (checked against {builtin})"
    else:
        raise TypeError(
            f"check_layer: {name} is not one of layers.py's layers, so it needs a reference: "
            "check_layer(YourLayer, reference=<a SymPy expression in x>)."
        )
    try:
        # Reads what the constructor set up (the width; weights, statistics), which may be
        # the learner's code too, and computed on first use.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if reference is None:
                data = input_layer_data() if cls is not None and builtin == "InputLayer" else None
                expected = _builtin_layer_reference(builtin, instance, data)
            x = layer_inputs(4 if cls is not None and builtin == "InputLayer" else _layer_width(instance))
    except Exception as error:
        return _constructor_failed(title, methods, error)
    if reference is None and builtin == "DropoutLayer":
        # A class: made here by _default_instance with np.random.default_rng(0).
        return _check_dropout(instance, title, seed=0 if cls is not None else None)
    want_out = expected.forward(x)
    results = []

    # forward
    forward_status = _part(results, "forward", lambda: _check_forward(instance, x, want_out, expected))
    if forward_status in ("not implemented yet", "error"):
        # The other methods read what forward stores, so they cannot run yet.
        results.extend((method, "needs forward first", "") for method in methods[1:])
        return _print(Report(title, results))
    fd = None
    if forward_status == "passes":
        differences = _batch_central_differences if expected.layout == "batch" else _central_differences
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                fd = differences(instance.forward, x)
        except Exception:
            fd = None
    # The derivatives are taken at x: forward(x) last (a wrong forward's state is the learner's).
    try:
        _call(instance.forward, x.copy())
    except _Stop:
        pass

    want_jacobian = expected.jacobian(x)
    _part(results, "gradient", lambda: _check_gradient(instance, x, want_jacobian, fd, expected))
    g = upstream_gradient(want_out.shape)
    if want_jacobian.ndim == 2:
        want_backward = g @ want_jacobian
    elif expected.layout == "batch":       # J[k, n, m] = d out[n, k] / d x[m, k]
        want_backward = np.einsum("nk,knm->mk", g, want_jacobian)
    else:
        want_backward = np.einsum("ni,nij->nj", g, want_jacobian)
    _part(results, "backward", lambda: _check_backward(instance, x, g, want_backward, expected))
    if expected.weight_gradients is not None:
        want_dw, want_db = expected.weight_gradients(x, g)
        _part(results, "weight_gradients", lambda: _check_weight_gradients(instance, g, want_dw, want_db))
    return _print(Report(title, results))


def dropout_inputs():
    """layer_inputs() without its exact 0: a dropped entry must tell from a kept 0."""
    x = layer_inputs()
    return np.where(x == 0, 0.5, x)


def _check_dropout(instance, title, seed=None):
    """Dropout's mask is random, so its properties are checked, not one draw.

    forward: each entry dropped (0) or kept and scaled, x / (1 - p); on a
    10000-entry batch the share kept is 1 - p within 5 standard errors; a new
    mask on every forward; eval mode (training = False) is the identity.
    gradient: diag(mask / (1 - p)) with the mask of the layer's own last
    forward (read off its output: x has no zeros), the identity in eval.
    backward: grad_in * mask / (1 - p), grad_in in eval.

    With `seed` (the layer was made here with np.random.default_rng(seed)), the
    first mask must also be the course's drawing, rng.random(x.shape) >= p (the
    stub's hint; the autograder compares masks drawn so from the same seed).
    """
    p = float(getattr(instance, "p", 0.5))
    scale = 1.0 / (1.0 - p)
    x = dropout_inputs()
    g = upstream_gradient(x.shape)
    starts_training = bool(getattr(instance, "training", True))
    results = []

    def forward(mode, data):
        instance.training = mode
        given = data.copy()
        out = _as_result(_call(instance.forward, given), data.shape, "forward")
        _unchanged(data, given, "forward", "x")
        return out

    def check_forward():
        if starts_training:
            out = forward(True, x)
            kept = np.abs(out - x * scale) <= ATOL + RTOL * np.abs(x * scale)
            dropped = np.abs(out) <= ATOL
            bad = ~(kept | dropped)
            if bad.any():
                n, k = (int(i) for i in np.argwhere(bad)[0])
                raise _Stop("wrong", f"row {n}, x = {_row(x[n])}:\nout[{n}, {k}] expected 0 (dropped) or "
                                     f"x / (1 - p) = {_number(x[n, k] * scale)} (kept, scaled by "
                                     f"1 / (1 - p) with p = {p:g}), got {_number(out[n, k])}")
            if seed is not None:
                want_kept = np.random.default_rng(seed).random(x.shape) >= p
                differs = want_kept != (out != 0)
                if differs.any():
                    n, k = (int(i) for i in np.argwhere(differs)[0])
                    raise _Stop("wrong", f"the first mask of a layer made with rng = np.random.default_rng("
                                         f"{seed}): entry [{n}, {k}] expected "
                                         f"{'kept' if want_kept[n, k] else 'dropped'}, got "
                                         f"{'kept' if out[n, k] != 0 else 'dropped'}; draw the mask as "
                                         f"rng.random(x.shape) >= p, one draw per forward pass, as the "
                                         f"grader does")
            ones = np.ones((200, 50))
            first, second = forward(True, ones), forward(True, ones)
            share = float(np.mean(first != 0))
            spread = 5 * np.sqrt(p * (1 - p) / ones.size)
            if abs(share - (1 - p)) > spread + 1e-12:
                raise _Stop("wrong", f"the share of entries kept by a forward pass on {ones.size} entries: "
                                     f"expected {1 - p:.3f} +- {spread:.3f} (each entry is kept with "
                                     f"probability 1 - p = {1 - p:g}), got {share:.3f}")
            if p > 0 and np.array_equal(first, second):
                raise _Stop("wrong", "two forward passes in training dropped the same entries; "
                                     "draw a new mask on every forward pass")
        out = forward(False, x)
        index = _first_mismatch(out, x)
        if index is not None:
            n, k = index
            raise _Stop("wrong", f"eval mode (training = False), row {n}, x = {_row(x[n])}:\n"
                                 f"out[{n}, {k}] expected x itself, {_number(x[index])}, got {_number(out[index])}")

    def check_derivative(method):
        for mode in ([True, False] if starts_training else [False]):
            # The derivative belongs to the layer's own last forward pass (its mask).
            try:
                out = forward(mode, x)
            except _Stop:
                out = x.copy()
            # The mask of that pass, read off its output (x has no zeros): 1 / (1 - p) where kept.
            slopes = np.where(out != 0, scale, 0.0) if mode else np.ones_like(x)
            words = (f"1 / (1 - p) = {_number(scale)} where your last forward kept the entry, 0 where "
                     f"it dropped it" if mode
                     else "eval mode: the identity")
            if method == "gradient":
                got = _as_result(_call(instance.gradient), x.shape + x.shape[1:], "gradient")
                want = _diagonal_jacobians(slopes)
                index = _first_mismatch(got, want)
                if index is not None:
                    n, i, j = index
                    raise _Stop("wrong", f"row {n}, x = {_row(x[n])}, out = {_row(out[n])}:\n"
                                         f"J[{n}, {i}, {j}] = d out[{n}, {i}] / d x[{n}, {j}]: expected "
                                         f"{_number(want[index])} ({words}), got {_number(got[index])}")
            else:
                given = g.copy()
                got = _as_result(_call(instance.backward, given), x.shape, "backward")
                _unchanged(g, given, "backward", "grad_in")
                want = g * slopes
                index = _first_mismatch(got, want)
                if index is not None:
                    n, k = index
                    raise _Stop("wrong", f"row {n}, x = {_row(x[n])}, out = {_row(out[n])}, "
                                         f"grad_in = {_row(g[n])}:\nentry [{n}, {k}] expected "
                                         f"{_number(want[index])} (grad_in times {words}), "
                                         f"got {_number(got[index])}")

    try:
        status = _part(results, "forward", check_forward)
        if status in ("not implemented yet", "error"):
            results.extend((method, "needs forward first", "") for method in ("gradient", "backward"))
        else:
            _part(results, "gradient", lambda: check_derivative("gradient"))
            _part(results, "backward", lambda: check_derivative("backward"))
    finally:
        try:
            instance.training = starts_training
        except Exception:
            pass
    return _print(Report(title, results))


def _title(thing):
    return getattr(thing, "__name__", type(thing).__name__)


def _print(report):
    print(report)
    return report


def _part(results, method, run):
    """Run one method's check and append (method, status, message); return the status."""
    try:
        run()
        status, message = "passes", ""
    except _Stop as stop:
        status, message = stop.status, stop.message
    results.append((method, status, message))
    return status


def _check_forward(instance, x, want_out, expected):
    given = x.copy()
    got = _as_result(_call(instance.forward, given), want_out.shape, "forward")
    _unchanged(x, given, "forward", "x")
    stored = getattr(instance, "prev_in", None)
    if isinstance(stored, np.ndarray) and stored.shape == x.shape and not np.array_equal(stored, x):
        raise _Stop("wrong", "forward changed its input in place (prev_in no longer holds x); "
                             "compute the output in a new array instead")
    index = _first_mismatch(got, want_out)
    if index is not None:
        n, i = index
        source = expected.source if expected.source.startswith("SymPy") else "the reference"
        if expected.layout == "batch":
            raise _Stop("wrong", f"column {i} of the input, x[:, {i}] = {_row(x[:, i])}:\n"
                                 f"out[{n}, {i}] expected {_number(want_out[index])} ({source}), "
                                 f"got {_number(got[index])}")
        raise _Stop("wrong", f"row {n} of the input, x = {_row(x[n])}:\n"
                             f"out[{n}, {i}] expected {_number(want_out[index])} ({source}), "
                             f"got {_number(got[index])}")
    if expected.after_forward is not None:
        problem = expected.after_forward(instance, x)
        if problem:
            raise _Stop("wrong", problem)


def _check_gradient(instance, x, want, fd, expected):
    got = _as_result(_call(instance.gradient), want.shape, "gradient")
    index = _first_mismatch(got, want, *expected.tolerance)
    if index is None:
        return
    if want.ndim == 2:       # the fully connected layer: one matrix for every row
        i, j = index
        n, where = 0, f"J[{i}, {j}] = d out[:, {i}] / d x[:, {j}] (the same for every row)"
    elif expected.layout == "batch":     # batch normalisation: one (N, N) matrix per feature
        k, n, m = index
        where = (f"column {k}, x[:, {k}] = {_row(x[:, k])}:\n"
                 f"J[{k}, {n}, {m}] = d out[{n}, {k}] / d x[{m}, {k}]")
        text = f"{where}: expected {_number(want[index])} ({expected.source}), got {_number(got[index])}"
        if fd is not None:
            text += f", finite differences of your forward {_number(fd[index])}"
        raise _Stop("wrong", text)
    else:
        n, i, j = index
        where = f"row {n}, x = {_row(x[n])}:\nJ[{n}, {i}, {j}] = d out[{n}, {i}] / d x[{n}, {j}]"
    text = f"{where}: expected {_number(want[index])} ({expected.source}), got {_number(got[index])}"
    if fd is not None:
        text += f", finite differences of your forward {_number(fd[n, i, j])}"
    raise _Stop("wrong", text)


def _check_backward(instance, x, g, want, expected):
    given = g.copy()
    got = _as_result(_call(instance.backward, given), want.shape, "backward")
    _unchanged(g, given, "backward", "grad_in")
    index = _first_mismatch(got, want, *expected.tolerance)
    if index is not None and expected.layout == "batch":
        m, k = index
        raise _Stop("wrong", f"column {k}, x[:, {k}] = {_row(x[:, k])}, grad_in[:, {k}] = {_row(g[:, k])}:\n"
                             f"entry [{m}, {k}] expected {_number(want[index])} "
                             f"(einsum('nk,knm->mk', grad_in, J) with J from {expected.source}), "
                             f"got {_number(got[index])}")
    if index is not None:
        n, j = index
        raise _Stop("wrong", f"row {n}, x = {_row(x[n])}, grad_in = {_row(g[n])}:\n"
                             f"entry [{n}, {j}] expected {_number(want[index])} "
                             f"(grad_in times the Jacobian from {expected.source}), "
                             f"got {_number(got[index])}")


def _check_weight_gradients(instance, g, want_dw, want_db):
    given = g.copy()
    got = _call(instance.weight_gradients, given)
    if not isinstance(got, tuple) or len(got) != 2:
        raise _Stop("wrong", "weight_gradients must return a pair (dW, db)")
    got_dw = _as_result(got[0], want_dw.shape, "weight_gradients' dW")
    got_db = _as_result(got[1], want_db.shape, "weight_gradients' db")
    _unchanged(g, given, "weight_gradients", "grad_in")
    for label, have, want in (("dW", got_dw, want_dw), ("db", got_db, want_db)):
        index = _first_mismatch(have, want)
        if index is not None:
            raise _Stop("wrong", f"{label}{list(index)} expected {_number(want[index])} "
                                 f"(SymPy, summed over the rows), got {_number(have[index])}")


# --------------------------------------------------------------------------
# check_objective
# --------------------------------------------------------------------------

def _objective_reference(name, instance, reference):
    """(loss, gradient) SymPy expressions in y, yhat for one entry; gradient without the 1/N."""
    if reference is not None:
        if not isinstance(reference, sp.Basic):
            raise TypeError("check_objective: reference must be a SymPy expression in the "
                            f"symbols y and yhat (one entry's loss), got {type(reference).__name__}.")
        by_name = {str(s): s for s in reference.free_symbols}
        unknown = set(by_name) - {"y", "yhat"}
        if unknown:
            raise TypeError("check_objective: reference may use only the symbols y and yhat, "
                            f"it also uses {sorted(unknown)}.")
        y, yhat = by_name.get("y", Y_SYMBOL), by_name.get("yhat", YHAT_SYMBOL)
        expression = reference.subs({y: Y_SYMBOL, yhat: YHAT_SYMBOL})
        return expression, sp.diff(expression, YHAT_SYMBOL)
    eps = float(getattr(instance, "eps", 0.0))
    _assert_log_loss_convention()
    return _loss_formulas(eps)[name]


@functools.lru_cache(maxsize=None)
def _logits_formulas(k):
    """Cross entropy from logits for one row of k: -sum_i y_i (z_i - ln sum_j e^(z_j)),
    and its gradient by z; both lambdified in (y_1..y_k, z_1..z_k)."""
    y = sp.symbols(f"y1:{k + 1}", real=True)
    z = sp.symbols(f"z1:{k + 1}", real=True)
    log_total = sp.log(sum(sp.exp(zj) for zj in z))
    loss = -sum(yi * (zi - log_total) for yi, zi in zip(y, z))
    gradient = sp.Matrix([sp.diff(loss, zi) for zi in z])
    return sp.lambdify((*y, *z), loss, "numpy"), sp.lambdify((*y, *z), gradient, "numpy")


def _logits_expected(y, z):
    """(row losses (N,), per-row gradients (N, K) before the 1/N) from SymPy.

    Both are unchanged when a row of z is shifted by a constant: evaluated at
    z minus its row maximum, nothing overflows at |z| = 1000.
    """
    loss, gradient = _logits_formulas(y.shape[1])
    shifted = z - z.max(axis=1, keepdims=True)
    losses = np.array([float(loss(*yr, *zr)) for yr, zr in zip(y, shifted)])
    gradients = np.array([np.asarray(gradient(*yr, *zr), dtype=np.float64)[:, 0] for yr, zr in zip(y, shifted)])
    return losses, gradients


def check_objective(objective, reference=None):
    """Check an objective's eval and gradient against SymPy.

    Inputs:
    - objective: an objective class of layers.py (e.g. layers.CrossEntropy),
      a class written in a notebook, or a function that returns an instance.
    - reference: None for layers.py's objectives; otherwise a SymPy expression
      in the symbols y and yhat: the loss of one entry. eval must be that loss
      summed over a row's entries and averaged over the rows; gradient its
      derivative by yhat divided by N.

    Cases: the homework's numbers, then a seeded batch of 4 rows (with
    predictions within 1e-4 of 0 and 1, where eps = 1e-7 shows). Values pass
    within RTOL = 1e-6 relative. CrossEntropyWithLogits takes logits z: its
    cases are ln of the homework's probabilities, then soft targets and
    logits 1000 apart; its reference is SymPy's loss of a whole row (the
    log-softmax couples a row's entries) and its gradient by z.

    Returns:
    - report: Report, printed as it is returned. Never raises for a mistake in
      the objective.
    """
    try:
        instance = objective() if callable(objective) else objective
    except Exception as error:
        return _constructor_failed(_title(objective), ["eval", "gradient"], error)
    name = type(instance).__name__
    builtin = _builtin_ancestor(type(instance), BUILTIN_OBJECTIVES)
    if reference is None and builtin is None:
        raise TypeError(
            f"check_objective: {name} is not one of layers.py's objectives, so it needs a "
            "reference: check_objective(YourLoss, reference=<a SymPy expression in y and yhat>)."
        )
    title = name if reference is not None or name == builtin else f"{name} (checked against {builtin})"
    arguments = (Y_SYMBOL, YHAT_SYMBOL)
    if reference is None and builtin == "CrossEntropyWithLogits":
        # The loss of an entry depends on its whole row (the log-softmax): SymPy row by row.
        def row_losses(y, yhat):
            return _logits_expected(y, yhat)[0]

        def entry_gradients(y, yhat):
            return _logits_expected(y, yhat)[1]
    else:
        loss, gradient = _objective_reference(builtin, instance, reference)

        def row_losses(y, yhat):
            return _evaluate(arguments, loss, y, yhat).sum(axis=1)

        def entry_gradients(y, yhat):
            return _evaluate(arguments, gradient, y, yhat)
    if reference is None:
        cases = objective_inputs(builtin)
    else:   # probabilities (as for the log loss) when the objective asks for them, else any numbers
        cases = objective_inputs("LogLoss" if getattr(instance, "needs_probabilities", False) else "SquaredError")
    results = []
    label = str(getattr(instance, "prediction_name", "yhat"))   # "z" for logits

    def check_eval():
        for y, yhat in cases:
            want = float(row_losses(y, yhat).mean())
            given_y, given_yhat = y.copy(), yhat.copy()
            got = _as_result(_call(instance.eval, given_y, given_yhat), (), "eval")
            _unchanged(y, given_y, "eval", "y")
            _unchanged(yhat, given_yhat, "eval", "yhat")
            if _first_mismatch(got, np.float64(want)) is not None:
                raise _Stop("wrong", f"{_pair(y, yhat, label)}:\nexpected {_number(want)} (SymPy: the loss "
                                     f"summed over each row, averaged over the {len(y)} rows), "
                                     f"got {_number(float(got))}")

    def check_gradient():
        for y, yhat in cases:
            want = entry_gradients(y, yhat) / len(y)
            given_y, given_yhat = y.copy(), yhat.copy()
            got = _as_result(_call(instance.gradient, given_y, given_yhat), want.shape, "gradient")
            _unchanged(y, given_y, "gradient", "y")
            _unchanged(yhat, given_yhat, "gradient", "yhat")
            index = _first_mismatch(got, want)
            if index is not None:
                n, k = index
                raise _Stop("wrong", f"{_pair(y, yhat, label)}:\nentry [{n}, {k}] (y = {_number(y[index])}, "
                                     f"{label} = {_number(yhat[index])}) expected {_number(want[index])} "
                                     f"(SymPy, with the 1/N of the mean, N = {len(y)}), "
                                     f"got {_number(got[index])}")

    _part(results, "eval", check_eval)
    _part(results, "gradient", check_gradient)
    return _print(Report(title, results))


def _pair(y, yhat, label="yhat"):
    if y.size <= 4:
        return f"y = {_row(y)}, {label} = {_row(yhat)}"
    return f"a batch of {y.shape[0]} rows of {y.shape[1]}"


# --------------------------------------------------------------------------
# check_numerical_jacobian
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _jacobian_test_function():
    """f: (N, 3) -> (N, 2), row by row, not elementwise, with its SymPy Jacobian."""
    x = sp.symbols("x1:4", real=True)
    f = sp.Matrix([x[0] * x[1] + sp.sin(x[2]), sp.exp(x[0] / 2) - x[1] * x[2] ** 2])
    return sp.lambdify(x, f, "numpy"), sp.lambdify(x, f.jacobian(x), "numpy")


def _row_function(formula, width, label):
    def f(x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != width:
            raise ValueError(f"{label} takes an (N, {width}) array, got shape {x.shape}")
        return np.array([np.asarray(formula(*row), dtype=np.float64)[:, 0] for row in x])
    return f


def check_numerical_jacobian(function):
    """Check a finite-difference helper numerical_jacobian(f, x) -> (N, K_out, K_in).

    Inputs:
    - function: the helper, called as function(f, x) with f mapping an
      (N, K_in) array to an (N, K_out) array row by row.

    Two cases: softmax at the homework's h (K = 4), and a 3 -> 2 function on a
    seeded batch of 3 rows. The result must match SymPy's Jacobian within
    FD_RTOL = 1e-6 relative plus FD_ATOL = 1e-8 (central differences with
    h = 1e-6 are accurate to about 1e-9 here), and x must not change.

    Returns:
    - report: Report, printed as it is returned. Never raises for a mistake in
      the helper.
    """
    softmax_values, softmax_jacobian = _softmax_formulas(4)
    f_values, f_jacobian = _jacobian_test_function()
    batch = np.random.default_rng(0).normal(size=(3, 3))
    cases = [
        ("softmax at h", _row_function(softmax_values, 4, "softmax"), homework.H,
         np.array([softmax_jacobian(*row) for row in homework.H])),
        ("3 -> 2, 3 rows", _row_function(f_values, 3, "f"), batch,
         np.array([f_jacobian(*row) for row in batch])),
    ]
    results = []
    for part, f, x, want in cases:
        def run(f=f, x=x, want=want):
            given = x.copy()
            got = _as_result(_call(function, f, given), want.shape, "numerical_jacobian")
            _unchanged(x, given, "numerical_jacobian", "x")
            index = _first_mismatch(got, want, FD_RTOL, FD_ATOL)
            if index is not None:
                n, i, j = index
                raise _Stop("wrong", f"row {n}, x = {_row(x[n])}:\nJ[{n}, {i}, {j}] expected "
                                     f"{_number(want[index])} (SymPy), got {_number(got[index])}; "
                                     f"central differences with h about 1e-6 agree to 1e-8")
        _part(results, part, run)
    return _print(Report(_title(function), results))


# --------------------------------------------------------------------------
# `python checks.py`: the progress table of `make check`
# --------------------------------------------------------------------------

def progress():
    """Check every method of layers.py and print one table: method, status; then the count.

    Part 1 (the homework's layers, objectives and finite differences) comes
    first, then Part 2 (the layers after it); each part ends with its own
    count, so that a course that stops at the homework reads its line alone.

    Returns:
    - (passing, total): ints, over both parts.
    """
    import contextlib
    import io

    def groups_of(layer_names, objective_names, helper):
        groups = []                                    # (class name or None, [(method, status, message)])
        with contextlib.redirect_stdout(io.StringIO()):    # the table replaces the single reports
            for name in layer_names:
                groups.append((name, check_layer(getattr(layers, name)).results))
            for name in objective_names:
                groups.append((name, check_objective(getattr(layers, name)).results))
            if helper:
                results = check_numerical_jacobian(layers.numerical_jacobian).results
                # The helper is one function: it passes when both of its cases do.
                failing = [result for result in results if result[1] != "passes"]
                groups.append((None, [("numerical_jacobian",) + (failing[0][1:] if failing else ("passes", ""))]))
        return groups

    width = 22
    print(f"Checking {layers.__file__}")
    passing = total = 0
    for heading, groups in (
        ("Part 1: the homework's layers", groups_of(PART1_LAYERS, PART1_OBJECTIVES, True)),
        ("Part 2: the layers after the homework", groups_of(PART2_LAYERS, PART2_OBJECTIVES, False)),
    ):
        print(f"\n{heading}\n")
        print(f"{'method':<{width}}status")
        part_passing = part_total = 0
        for owner, results in groups:
            if owner:
                print(owner)
            for method, status, message in results:
                label = f"  {method}" if owner else method
                text = status + (f": {message}" if message else "")
                first, *rest = text.split("\n")
                print(f"{label:<{width}}{first}")
                for line in rest:
                    print(" " * width + line)
                part_passing += status == "passes"
                part_total += 1
        print(f"{heading.split(':')[0]}: {part_passing} of {part_total} methods pass")
        passing, total = passing + part_passing, total + part_total
    print(f"\n{passing} of {total} methods pass")
    return passing, total


if __name__ == "__main__":
    progress()
