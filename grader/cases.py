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
from .rubric import ATOL, NUMERICAL_ATOL, PARTS, RUBRIC


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


# Batch normalisation at |x| = 1000: five rows, so that a column's Jacobian is
# not the near-zero one of a two-row batch (whose outputs are +-1 whatever x is).
BATCH_NORM_LARGE = np.array([
    [1000.0, -1000.0, 1.5, -998.0],
    [-1000.0, 1000.0, 999.0, -0.5],
    [500.0, 999.0, -1000.0, 3.0],
    [0.25, -750.0, 2.0, 1000.0],
    [-999.0, 2.5, -3.0, -1000.0],
])
# Layer normalisation with eps = 1e-3: rows whose variance is near eps, where eps shows.
LAYER_NORM_EPS = np.array([
    [0.01, -0.02, 0.03, 0.0],
    [1.0, 1.05, 0.98, 1.01],
    [-0.5, 0.5, 0.25, -0.25],
])

#: Part 2's elementwise activations: no state beyond prev_in.
PART2_ELEMENTWISE = ("LeakyReLULayer", "SoftplusLayer", "ELULayer", "GELULayer")


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
    report: tuple = ()  # attributes the forward part returns too (BatchNorm's running statistics)


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
    if cls_name == "BatchNormLayer":
        return _batch_norm_scenarios(homework)
    if cls_name == "DropoutLayer":
        return _dropout_scenarios(homework)
    scenarios = [
        Scenario("h", True, "homework h = [[1, 2, 3, 4]]", h),
        Scenario("batch", True, "a 3 x 4 batch", SMALL_BATCH),
    ]
    seed = 100 + sum(map(ord, cls_name))
    x_random = _random_batch(seed)
    n, k = x_random.shape
    scenarios.append(Scenario("random", False, f"random {n} x {k} batch", x_random))
    if cls_name in ("SoftmaxLayer", "LogSoftmaxLayer"):
        scenarios.append(Scenario("large", False, "|x| = 1000 (no overflow: shift by the row maximum)",
                                  SOFTMAX_LARGE))
    else:
        scenarios.append(Scenario("large", False, "|x| = 1000 (no overflow, no NaN)", LARGE))
    if cls_name == "ReLULayer":
        scenarios.append(Scenario("zeros", False, "x with exact zeros (the course's derivative at 0 is 1)",
                                  RELU_ZEROS))
    if cls_name == "LeakyReLULayer":
        scenarios.append(Scenario("zeros", False, "x with exact zeros (the derivative at 0 is 1, as ReLU's)",
                                  RELU_ZEROS))
        scenarios.append(Scenario("alpha", False, "the layer's own alpha = 0.2", _random_batch(seed + 1),
                                  init={"alpha": 0.2}))
    if cls_name == "ELULayer":
        scenarios.append(Scenario("zeros", False, "alpha = 0.5 and x with exact zeros (the derivative at 0 "
                                  "is alpha)", RELU_ZEROS, init={"alpha": 0.5}))
    if cls_name == "LayerNormLayer":
        scenarios.append(Scenario("eps", False, "the layer's own eps = 1e-3, rows of variance near eps",
                                  LAYER_NORM_EPS, init={"eps": 1e-3}))
    if cls_name in ("LogisticSigmoidLayer", "TanhLayer"):
        scenarios[-1].derivative_note = "with the default eps = 1e-7, only eps is left on the saturated diagonal"
        scenarios.append(Scenario("eps", False, "the layer's own eps = 1e-3 on the diagonal",
                                  _random_batch(seed + 1), init={"eps": 1e-3}))
    return scenarios


def _batch_norm_scenarios(homework):
    """Training mode with batches of 2 to 8 rows (a batch of one has no variance), the
    running statistics after a training batch, and eval mode with set running statistics."""
    h = homework.H
    rng = np.random.default_rng(500)
    running = {"training": False, "running_mean": rng.normal(0, 1, (1, 4)),
               "running_var": rng.uniform(0.5, 3.0, (1, 4))}
    random_running = {"training": False, "running_mean": rng.normal(0, 1, (1, 5)),
                      "running_var": rng.uniform(0.5, 3.0, (1, 5))}
    statistics = ("running_mean", "running_var")
    return [
        Scenario("batch", True, "training, a 3 x 4 batch", SMALL_BATCH),
        Scenario("two", True, "training, homework h and -h/2: a batch of 2 rows", np.vstack([h, -h / 2])),
        Scenario("eval", True, "eval mode, a 3 x 4 batch, running statistics set", SMALL_BATCH, attrs=running),
        Scenario("random2", False, "training, random 2 x 5 batch", _random_batch(501, n=2, k=5), report=statistics),
        Scenario("random5", False, "training, random 5 x 3 batch, momentum 0.3", _random_batch(502, n=5, k=3),
                 init={"momentum": 0.3}, report=statistics),
        Scenario("random8", False, "training, random 8 x 6 batch, eps = 1e-3", _random_batch(503, n=8, k=6),
                 init={"eps": 1e-3}, report=statistics),
        Scenario("large", False, "training, |x| = 1000 in a 5 x 4 batch", BATCH_NORM_LARGE, report=statistics),
        Scenario("eval_h", False, "eval mode, homework h alone (one row is enough in eval)", h, attrs=running),
        Scenario("eval_random", False, "eval mode, random 6 x 5 batch", _random_batch(504, n=6, k=5),
                 attrs=random_running),
    ]


def _dropout_scenarios(homework):
    """The child builds the layer with np.random.default_rng(seed); the expected values
    come from the reference with a generator of the same seed."""
    return [
        Scenario("batch", True, "training, p = 0.5, a 3 x 4 batch, rng seed 0", SMALL_BATCH,
                 {"p": 0.5}, rng_seed=0),
        Scenario("h", True, "training, p = 0.25, homework h, rng seed 1", homework.H, {"p": 0.25}, rng_seed=1),
        Scenario("random", False, "training, p = 0.3, random 7 x 6 batch, rng seed 2",
                 _random_batch(601, n=7, k=6), {"p": 0.3}, rng_seed=2),
        Scenario("large", False, "training, p = 0.5, |x| = 1000, rng seed 3", LARGE, {"p": 0.5}, rng_seed=3),
        Scenario("p0", False, "p = 0: the identity", _random_batch(602, n=3, k=5), {"p": 0.0}, rng_seed=4),
        Scenario("eval", False, "eval mode (training = False): the identity", _random_batch(603, n=4, k=3),
                 {"p": 0.5}, attrs={"training": False}, rng_seed=5),
    ]


def _derivative_state(layer, cls_name):
    """What a stateful layer's gradient and backward read besides prev_in and prev_out,
    from the reference's forward pass: (arrays, values), set in the child after the state.

    Its documented attributes (LayerNorm's and BatchNorm's inverse_std, Dropout's scale),
    the mode of the last forward, and the column normaliser that BatchNorm's skeleton
    keeps (`_columns`, a LayerNormLayer of x^T) where training used it.
    """
    arrays, values = {}, {}
    if cls_name == "LayerNormLayer":
        arrays["inverse_std"] = layer.inverse_std
    elif cls_name == "DropoutLayer":
        arrays["scale"] = layer.scale
    elif cls_name == "BatchNormLayer":
        arrays["inverse_std"] = layer.inverse_std
        values["_forward_training"] = bool(layer._forward_training)
        if layer._forward_training:
            columns = layer._columns
            arrays["_columns.prev_in"] = columns.prev_in
            arrays["_columns.prev_out"] = columns.prev_out
            arrays["_columns.inverse_std"] = columns.inverse_std
    return arrays, values


def _attribute_values(attrs):
    """Scenario attributes split into arrays and JSON-ready plain values (training = False)."""
    arrays, values = {}, {}
    for name, value in attrs.items():
        if isinstance(value, (bool, int, float)):
            values[name] = value
        else:
            arrays[name] = value
    return arrays, values


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
        attr_arrays, attr_values = _attribute_values(scenario.attrs)
        arrays.update(attr_arrays)
        request = {"init": dict(scenario.init), "attrs": list(scenario.attrs)}
        if attr_values:
            request["values"] = dict(attr_values)
        if scenario.rng_seed is not None:
            request["rng_seed"] = scenario.rng_seed
        if kind == "layer_forward":
            arrays["x"] = x
            expected, names, unchanged, row_input = [out], ["out"], ["x"], "x"
            if scenario.report:
                request["report"] = list(scenario.report)
                expected += [getattr(layer, name) for name in scenario.report]
                names += list(scenario.report)
        else:
            arrays["prev_in"], arrays["prev_out"] = x, out
            request["state"] = True
            state_arrays, state_values = _derivative_state(layer, cls_name)
            if state_arrays or state_values:
                # The learner's own forward runs first (its private state is its own), then
                # prev_in, prev_out and these are set from the reference: no cascade.
                request["own_forward"] = True
                request["state_attrs"] = list(state_arrays) + list(state_values)
                request["state_values"] = state_values
                arrays.update(state_arrays)
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
                request.setdefault("values", {}).update(values)
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
                    elif cls_name == "BatchNormLayer":  # J[k, n, m] = d out[n, k] / d x[m, k]
                        expected = [np.einsum("nk,knm->mk", grad_in, jacobian)]
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
    if cls_name == "CrossEntropyWithLogits":
        n, k = 5, 4
        soft = rng.dirichlet(np.ones(k), n) * rng.uniform(0.3, 1.0, (n, 1))  # rows sum below 1
        large_y = np.array([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
        large_z = np.array([[1000.0, -1000.0, 3.0, 998.0], [1000.0, 999.0, -1000.0, 0.0],
                            [-1000.0, 1000.0, -999.0, 1000.0]])
        return [
            ("h", True, "the homework's one-hot y, logits z = ln([0.2, 0.2, 0.6])",
             homework.Y_ONE_HOT, np.log(homework.YHAT_THREE)),
            ("random", False, f"random {n} x {k} logits, one-hot targets (the 1/N of the mean)",
             np.eye(k)[rng.integers(0, k, n)], rng.normal(0, 2.0, (n, k))),
            ("soft", False, f"soft targets whose rows do not sum to 1: softmax(z) sum(y) - y",
             soft, rng.normal(0, 2.0, (n, k))),
            ("large", False, "|z| = 1000: log-softmax without overflow, no eps", large_y, large_z),
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


OBJECTIVES = ("SquaredError", "LogLoss", "CrossEntropy", "CrossEntropyWithLogits")


def build_parts(visible_only=False, course_part=None):
    """Every part of the rubric with its cases (expected values checked to discriminate).

    course_part: None for the whole rubric, 1 or 2 for Part 1's or Part 2's parts only.
    """
    ref_layers, homework = reference.load()
    scenario_cache = {}
    parts = []
    rubric = RUBRIC if course_part is None else PARTS[course_part]
    for name, visible_points, hidden_points, what in rubric:
        cls_name, _, method = name.partition(".")
        if name == "numerical_jacobian":
            part = Part(name, "numerical_jacobian", None, visible_points, hidden_points, what)
            part.cases = _numerical_cases(ref_layers, homework)
        elif method in ("eval", "gradient") and cls_name in OBJECTIVES:
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
