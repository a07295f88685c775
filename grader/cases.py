"""The graded cases: inputs for the child, expected values for the parent only.

Every expected value comes from the reference layers.py (loaded by path in
the parent). Building the cases asserts that each one tells right from 1% off:
the expected outputs scaled by 1.01 must fail the comparison (a softmax row at
|x| = 1000 with a one-hot output has an all-zero Jacobian and would let a
1%-off submission pass, so such a row never stands alone in a case).
"""

from dataclasses import dataclass, field

import numpy as np

from . import harness, reference
from .compare import compare
from .rubric import ATOL, NUMERICAL_ATOL, RUBRIC


class CaseError(RuntimeError):
    """A case that cannot discriminate, or a reference that fails its own case."""


@dataclass
class Case:
    id: str
    visible: bool
    description: str
    request: dict  # sent to the child: JSON-ready, arrays as nested lists
    expected: list  # parent only: one array per output
    inputs: dict  # name -> the array sent, for the in-place check and feedback
    row_input: str  # the input whose row is quoted next to a wrong entry
    output_names: list
    atol: float = ATOL


@dataclass
class Part:
    name: str
    kind: str
    cls: str
    visible_points: int
    hidden_points: int
    what: str
    cases: list = field(default_factory=list)

    @property
    def points(self):
        return self.visible_points + self.hidden_points


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------

#: A small batch in the notebooks' style: no zeros (ReLU at 0 is a hidden case).
SMALL_BATCH = np.array([
    [0.5, -1.0, 2.0, -0.25],
    [1.5, 0.3, -2.0, 3.0],
    [-0.75, 1.25, 0.1, -3.5],
])
LARGE = np.array([
    [1000.0, -1000.0, 1.5, -998.0],
    [-1000.0, 1000.0, 999.0, -0.5],
])
RELU_ZEROS = np.array([
    [0.0, -1.0, 2.0, -0.0],
    [3.0, 0.0, -2.5, 0.0],
])
# Softmax at |x| = 1000: the first row keeps three entries within 2 of its
# maximum (a Jacobian far from zero); the second row is all near -1000, where
# exp without the max shift underflows to 0 / 0.
SOFTMAX_LARGE = np.array([
    [1000.0, 999.0, -1000.0, 998.5],
    [-1000.0, -999.0, -1000.5, -1001.0],
])


def _random_batch(seed, scale=2.0, n=None, k=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(2, 7))
    k = k or int(rng.integers(2, 8))
    return rng.normal(0.0, scale, (n, k))


def _grad_for(shape, seed):
    return np.round(np.random.default_rng(seed).normal(0.0, 1.0, shape), 3)


def _lists(arrays):
    return {name: np.asarray(value, dtype=np.float64).tolist() for name, value in arrays.items()}


# --------------------------------------------------------------------------
# Layers: one scenario feeds that layer's forward, gradient, backward parts
# --------------------------------------------------------------------------

@dataclass
class Scenario:
    key: str
    visible: bool
    description: str
    x: np.ndarray
    init: dict = field(default_factory=dict)  # JSON-ready constructor keywords
    init_arrays: dict = field(default_factory=dict)  # array constructor keywords (InputLayer's data)
    attrs: dict = field(default_factory=dict)  # attributes set after construction (weights, biases)
    rng_seed: int = None
    derivative_note: str = ""  # added to the description for the gradient and backward parts


def _scenarios(cls_name, homework):
    h = homework.H
    if cls_name == "FullyConnectedLayer":
        fc = homework.fully_connected()
        homework_attrs = {"weights": fc.weights, "biases": fc.biases}
        rng = np.random.default_rng(11)
        n_in, n_out = 5, 3
        random_attrs = {"weights": rng.normal(0, 1, (n_in, n_out)), "biases": rng.normal(0, 1, (1, n_out))}
        large_attrs = {"weights": rng.normal(0, 1, (4, 2)), "biases": rng.normal(0, 1, (1, 2))}
        return [
            Scenario("h", True, "homework h = [[1, 2, 3, 4]], the homework's weights", h,
                     {"size_in": 4, "size_out": 2}, attrs=homework_attrs, rng_seed=0),
            Scenario("batch", True, "a 3 x 4 batch, the homework's weights", SMALL_BATCH,
                     {"size_in": 4, "size_out": 2}, attrs=homework_attrs, rng_seed=0),
            Scenario("random", False, "random 6 x 5 batch, 5 -> 3 layer", _random_batch(12, n=6, k=n_in),
                     {"size_in": n_in, "size_out": n_out}, attrs=random_attrs, rng_seed=1),
            Scenario("large", False, "|x| = 1000", LARGE,
                     {"size_in": 4, "size_out": 2}, attrs=large_attrs, rng_seed=2),
        ]
    if cls_name == "InputLayer":
        data = np.vstack([SMALL_BATCH, h, -2.0 * h])
        random_data = _random_batch(21, scale=3.0, n=7, k=5) + 4.0
        return [
            Scenario("h", True, "homework h = [[1, 2, 3, 4]], statistics of a 5-row data set", h,
                     init_arrays={"data": data}),
            Scenario("batch", True, "a 3 x 4 batch, statistics of a 5-row data set", SMALL_BATCH,
                     init_arrays={"data": data}),
            Scenario("random", False, "random 4 x 5 batch, statistics of random data",
                     _random_batch(22, scale=3.0, n=4, k=5), init_arrays={"data": random_data}),
            Scenario("large", False, "|x| = 1000, data on the same scale", LARGE,
                     init_arrays={"data": 1000.0 * np.vstack([SMALL_BATCH, h / 4.0])}),
        ]
    scenarios = [
        Scenario("h", True, "homework h = [[1, 2, 3, 4]]", h),
        Scenario("batch", True, "a 3 x 4 batch", SMALL_BATCH),
    ]
    seed = 100 + sum(map(ord, cls_name))
    x_random = _random_batch(seed)
    n, k = x_random.shape
    scenarios.append(Scenario("random", False, f"random {n} x {k} batch", x_random))
    if cls_name == "SoftmaxLayer":
        scenarios.append(Scenario("large", False, "|x| = 1000 (no overflow: shift by the row maximum)",
                                  SOFTMAX_LARGE))
    else:
        scenarios.append(Scenario("large", False, "|x| = 1000 (no overflow, no NaN)", LARGE))
    if cls_name == "ReLULayer":
        scenarios.append(Scenario("zeros", False, "x with exact zeros (the course's derivative at 0 is 1)",
                                  RELU_ZEROS))
    if cls_name in ("LogisticSigmoidLayer", "TanhLayer"):
        scenarios[-1].derivative_note = "with the default eps = 1e-7, only eps is left on the saturated diagonal"
        scenarios.append(Scenario("eps", False, "the layer's own eps = 1e-3 on the diagonal",
                                  _random_batch(seed + 1), init={"eps": 1e-3}))
    return scenarios


def _reference_layer(ref_layers, cls_name, scenario):
    init = dict(scenario.init)
    if scenario.rng_seed is not None:
        init["rng"] = np.random.default_rng(scenario.rng_seed)
    init.update(scenario.init_arrays)
    layer = getattr(ref_layers, cls_name)(**init)
    for name, value in scenario.attrs.items():
        setattr(layer, name, value)
    return layer


def _layer_cases(ref_layers, cls_name, kind, scenarios):
    cases = []
    for index, scenario in enumerate(scenarios):
        layer = _reference_layer(ref_layers, cls_name, scenario)
        x = np.array(scenario.x, dtype=np.float64)
        out = layer.forward(x)
        jacobian = layer.gradient()
        arrays = dict(scenario.init_arrays)
        arrays.update(scenario.attrs)
        request = {"init": dict(scenario.init), "attrs": list(scenario.attrs)}
        if scenario.rng_seed is not None:
            request["rng_seed"] = scenario.rng_seed
        if kind == "layer_forward":
            arrays["x"] = x
            expected, names, unchanged, row_input = [out], ["out"], ["x"], "x"
        else:
            arrays["prev_in"], arrays["prev_out"] = x, out
            request["state"] = True
            if cls_name == "InputLayer":
                # The statistics of the data from the reference too, so that a
                # bug in _statistics loses the forward part only.
                values = {}
                for name in getattr(type(layer), "_statistics_names", ("mean_x", "std_x")):
                    value = getattr(layer, name)
                    if isinstance(value, np.ndarray):
                        arrays[name] = value
                    else:
                        values[name] = value.item() if isinstance(value, np.generic) else value
                    request["attrs"].append(name)
                request["values"] = values
            unchanged, row_input = ["prev_in", "prev_out"], "prev_in"
            if kind == "layer_gradient":
                expected, names = [jacobian], ["J"]
            else:
                grad_in = _grad_for(out.shape, 1000 + index)
                arrays["grad_in"] = grad_in
                unchanged = ["grad_in"] + unchanged
                if kind == "layer_backward":
                    if jacobian.ndim == 2:  # the fully connected layer: one matrix for every row
                        expected = [np.einsum("ni,ij->nj", grad_in, jacobian)]
                    else:
                        expected = [np.einsum("ni,nij->nj", grad_in, jacobian)]
                    names = ["grad_out"]
                else:
                    expected, names = list(layer.weight_gradients(grad_in)), ["dW", "db"]
        request["arrays"] = _lists(arrays)
        request["unchanged"] = unchanged
        description = scenario.description
        if scenario.derivative_note and kind != "layer_forward":
            description += f"; {scenario.derivative_note}"
        cases.append(Case(
            id=scenario.key, visible=scenario.visible, description=description,
            request=request, expected=[np.asarray(e, dtype=np.float64) for e in expected],
            inputs={name: np.asarray(arrays[name], dtype=np.float64) for name in unchanged},
            row_input=row_input, output_names=names,
        ))
    return cases


# --------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------

def _objective_inputs(cls_name, homework):
    rng = np.random.default_rng(300 + sum(map(ord, cls_name)))
    if cls_name == "SquaredError":
        n, k = 5, 3
        return [
            ("h", True, "the homework's y = 0, yhat = 0.2", homework.Y_BINARY, homework.YHAT_BINARY),
            ("three", True, "the homework's one-hot y and yhat = [0.2, 0.2, 0.6]",
             homework.Y_ONE_HOT, homework.YHAT_THREE),
            ("random", False, f"random {n} x {k} batch (the 1/N of the mean)",
             rng.normal(0, 1, (n, k)), rng.normal(0, 1, (n, k))),
            ("large", False, "|yhat| = 1000", rng.normal(0, 1, LARGE.shape), LARGE),
        ]
    if cls_name == "LogLoss":
        n, k = 6, 2
        edge_y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        edge_yhat = np.array([[0.0, 1.0], [1e-5, 1.0 - 1e-5], [1e-5, 1.0 - 1e-5], [0.3, 1.0]])
        return [
            ("h", True, "the homework's y = 0, yhat = 0.2", homework.Y_BINARY, homework.YHAT_BINARY),
            ("random", False, f"random {n} x {k} batch (the 1/N of the mean)",
             rng.integers(0, 2, (n, k)).astype(float), rng.uniform(0.05, 0.95, (n, k))),
            ("edges", False, "yhat at and near 0 and 1 (the eps inside the log and the denominator)",
             edge_y, edge_yhat),
        ]
    n, k = 5, 4
    one_hot = np.eye(k)[rng.integers(0, k, n)]
    logits = rng.normal(0, 1.5, (n, k))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return [
        ("h", True, "the homework's one-hot y and yhat = [0.2, 0.2, 0.6]", homework.Y_ONE_HOT, homework.YHAT_THREE),
        ("random", False, f"random {n} x {k} batch, one-hot targets (the 1/N of the mean)", one_hot, probabilities),
        ("edges", False, "yhat = 0 at the true class (the eps inside the log and the denominator)",
         np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), np.array([[0.5, 0.0, 0.5], [0.9, 0.1, 0.0]])),
    ]


def _objective_cases(ref_layers, cls_name, kind, homework):
    objective = getattr(ref_layers, cls_name)()
    cases = []
    for key, visible, description, y, yhat in _objective_inputs(cls_name, homework):
        y, yhat = np.array(y, dtype=np.float64), np.array(yhat, dtype=np.float64)
        if kind == "objective_eval":
            expected, names = [np.float64(objective.eval(y, yhat))], ["loss"]
        else:
            expected, names = [objective.gradient(y, yhat)], ["gradient"]
        arrays = {"y": y, "yhat": yhat}
        cases.append(Case(
            id=key, visible=visible, description=description,
            request={"arrays": _lists(arrays), "unchanged": ["y", "yhat"]},
            expected=[np.asarray(e, dtype=np.float64) for e in expected],
            inputs=arrays, row_input="yhat", output_names=names,
        ))
    return cases


# --------------------------------------------------------------------------
# numerical_jacobian
# --------------------------------------------------------------------------

def _numerical_cases(ref_layers, homework):
    specs = [
        ("h", True, "f(x) = x^3/3 + x * reversed(x) at homework h, default step", "poly_mix", homework.H, None),
        ("batch", True, "f(x) = x^3/3 + x * reversed(x) on a 3 x 4 batch, default step",
         "poly_mix", SMALL_BATCH, None),
        ("step", False, "a 4 x 5 -> 4 x 6 function with the step h = 1e-3 passed (central differences)",
         "cumulative", _random_batch(41, scale=1.0, n=4, k=5), 1e-3),
        ("random", False, "random 3 x 6 batch, default step", "poly_mix", _random_batch(42, n=3, k=6), None),
    ]
    cases = []
    for key, visible, description, function_name, x, h in specs:
        x = np.array(x, dtype=np.float64)
        function = harness.TEST_FUNCTIONS[function_name]
        expected = ref_layers.numerical_jacobian(function, x) if h is None else \
            ref_layers.numerical_jacobian(function, x, h=h)
        request = {"arrays": _lists({"x": x}), "unchanged": ["x"], "function": function_name}
        if h is not None:
            request["h"] = h
        cases.append(Case(
            id=key, visible=visible, description=description, request=request,
            expected=[expected], inputs={"x": x}, row_input="x", output_names=["J"],
            atol=NUMERICAL_ATOL,
        ))
    return cases


# --------------------------------------------------------------------------
# All parts
# --------------------------------------------------------------------------

def _check_discriminates(part, case):
    """The reference passes its own case and expected x 1.01 fails it, output by output."""
    for index, (name, expected) in enumerate(zip(case.output_names, case.expected)):
        if not np.isfinite(expected).all():
            raise CaseError(f"{part.name} case {case.id}: expected {name} is not finite")
        if compare(expected.copy(), expected, case.atol) is not None:
            raise CaseError(f"{part.name} case {case.id}: the reference fails its own {name}")
        if compare(expected * 1.01, expected, case.atol) is None:
            raise CaseError(
                f"{part.name} case {case.id}: {name} x 1.01 passes; the case cannot tell a 1% error"
            )


def build_parts(visible_only=False):
    """Every part of the rubric with its cases (expected values checked to discriminate)."""
    ref_layers, homework = reference.load()
    scenario_cache = {}
    parts = []
    for name, visible_points, hidden_points, what in RUBRIC:
        cls_name, _, method = name.partition(".")
        if name == "numerical_jacobian":
            part = Part(name, "numerical_jacobian", None, visible_points, hidden_points, what)
            part.cases = _numerical_cases(ref_layers, homework)
        elif method in ("eval", "gradient") and cls_name in ("SquaredError", "LogLoss", "CrossEntropy"):
            kind = f"objective_{method}"
            part = Part(name, kind, cls_name, visible_points, hidden_points, what)
            part.cases = _objective_cases(ref_layers, cls_name, kind, homework)
        else:
            kind = {"forward": "layer_forward", "gradient": "layer_gradient",
                    "backward": "layer_backward", "weight_gradients": "weight_gradients"}[method]
            part = Part(name, kind, cls_name, visible_points, hidden_points, what)
            if cls_name not in scenario_cache:
                scenario_cache[cls_name] = _scenarios(cls_name, homework)
            part.cases = _layer_cases(ref_layers, cls_name, kind, scenario_cache[cls_name])
        for case in part.cases:
            _check_discriminates(part, case)
        if visible_only:
            part.cases = [case for case in part.cases if case.visible]
        parts.append(part)
    return parts
