"""The learner's feedback (checks.py) and the student edition (tools/build_student.py).

checks.py must tell a right layer from one that is 1% off or breaks a course
convention, name the method that is wrong, and never raise for a learner's
mistake.
"""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import checks
import layers

# --------------------------------------------------------------------------
# checks.py: the reference implementations pass
# --------------------------------------------------------------------------

LAYER_CLASSES = [
    layers.InputLayer,
    layers.FullyConnectedLayer,
    layers.LinearLayer,
    layers.ReLULayer,
    layers.LogisticSigmoidLayer,
    layers.TanhLayer,
    layers.SoftmaxLayer,
]
# Part 2: the layers after the homework.
PART2_LAYER_CLASSES = [
    layers.LeakyReLULayer,
    layers.SoftplusLayer,
    layers.ELULayer,
    layers.GELULayer,
    layers.LogSoftmaxLayer,
    layers.LayerNormLayer,
    layers.BatchNormLayer,
    layers.DropoutLayer,
]
LAYER_CLASSES += PART2_LAYER_CLASSES
OBJECTIVE_CLASSES = [layers.SquaredError, layers.LogLoss, layers.CrossEntropy, layers.CrossEntropyWithLogits]


def parts(report):
    return {part: (status, message) for part, status, message in report.results}


@pytest.mark.parametrize("layer_class", LAYER_CLASSES, ids=lambda c: c.__name__)
def test_every_reference_layer_passes(layer_class, capsys):
    report = checks.check_layer(layer_class)
    assert report.passed, str(report)
    expected_parts = ["forward", "gradient", "backward"]
    if layer_class is layers.FullyConnectedLayer:
        expected_parts.append("weight_gradients")
    assert [part for part, _, _ in report.results] == expected_parts
    assert capsys.readouterr().out == str(report) + "\n"


@pytest.mark.parametrize("factory", [
    lambda: layers.TanhLayer(eps=0),
    lambda: layers.LogisticSigmoidLayer(eps=0),
    lambda: layers.FullyConnectedLayer(3, 5, rng=np.random.default_rng(3)),
    lambda: layers.InputLayer([[0.0, 1.0, 2.0], [3.0, 5.0, 4.0], [1.0, 1.0, 1.0]]),
], ids=["tanh-eps0", "sigmoid-eps0", "fully-connected-3-5", "input-3"])
def test_factories_with_other_settings_pass(factory):
    assert checks.check_layer(factory).passed


@pytest.mark.parametrize("objective_class", OBJECTIVE_CLASSES, ids=lambda c: c.__name__)
def test_every_reference_objective_passes(objective_class):
    report = checks.check_objective(objective_class)
    assert report.passed, str(report)
    assert [part for part, _, _ in report.results] == ["eval", "gradient"]


def test_reference_numerical_jacobian_passes():
    assert checks.check_numerical_jacobian(layers.numerical_jacobian).passed


def test_report_is_short_and_deterministic(capsys):
    checks.check_layer(layers.ReLULayer)
    first = capsys.readouterr().out
    checks.check_layer(layers.ReLULayer)
    assert capsys.readouterr().out == first == (
        "ReLULayer\n"
        "  forward           passes\n"
        "  gradient          passes\n"
        "  backward          passes\n"
    )


def test_checks_use_the_layers_module_that_import_finds():
    import sys

    assert checks.layers is sys.modules["layers"]
    # No layer is defined in checks.py: its expected values are formulas, not classes.
    assert not any(isinstance(value, type) and issubclass(value, layers.Layer)
                   for value in vars(checks).values())


# --------------------------------------------------------------------------
# checks.py: stubs, errors and planted bugs
# --------------------------------------------------------------------------

def test_stubbed_forward_is_not_implemented_and_the_rest_waits():
    class StubReLU(layers.ReLULayer):
        def _forward(self, x):
            raise NotImplementedError("ReLULayer.forward: not implemented yet")

    report = checks.check_layer(StubReLU)
    assert not report.passed
    assert parts(report) == {
        "forward": ("not implemented yet", "ReLULayer.forward"),
        "gradient": ("needs forward first", ""),
        "backward": ("needs forward first", ""),
    }


def test_not_implemented_names_the_stub_that_raised_and_where_to_look():
    class LazyInput(layers.InputLayer):
        def _forward(self, x):
            raise NotImplementedError("InputLayer.statistics: not implemented yet (see 09_backprop_network, section 1)")

    status, message = parts(checks.check_layer(LazyInput))["forward"]
    assert (status, message) == ("not implemented yet", "InputLayer.statistics (see 09_backprop_network, section 1)")


def test_stubbed_backward_only_fails_backward():
    class StubSoftmax(layers.SoftmaxLayer):
        def _backward(self, grad_in):
            raise NotImplementedError

    statuses = {part: status for part, (status, _) in parts(checks.check_layer(StubSoftmax)).items()}
    assert statuses == {"forward": "passes", "gradient": "passes", "backward": "not implemented yet"}


def test_a_stubbed_constructor_holds_up_every_method():
    class StubInput(layers.InputLayer):
        def __init__(self, data):
            raise NotImplementedError("InputLayer.__init__: not implemented yet (see 09_backprop_network, section 1)")

    report = checks.check_layer(StubInput)
    assert report.results == [
        ("forward", "needs the constructor first",
         "InputLayer.__init__: not implemented yet (see 09_backprop_network, section 1)"),
        ("gradient", "needs the constructor first", ""),
        ("backward", "needs the constructor first", ""),
    ]


def test_input_layer_statistics_are_checked_against_the_data_not_the_layer():
    class WrongStd(layers.InputLayer):
        def __init__(self, data):
            super().__init__(data)
            self.own_std = self.std_x * 1.01    # what a learner's constructor might store

        def _forward(self, x):
            return (x - self.mean_x) / self.own_std

        def _derivative(self):
            return np.broadcast_to(1.0 / self.own_std, self.prev_in.shape)

        def _backward(self, grad_in):
            return grad_in / self.own_std

    statuses = [status for _, status, _ in checks.check_layer(WrongStd).results]
    assert statuses == ["wrong", "wrong", "wrong"]


def test_other_exceptions_are_reported_with_their_type():
    class Broken(layers.TanhLayer):
        def _derivative(self):
            return self.prev_out @ np.ones((2, 2))

    report = checks.check_layer(Broken)
    status, message = parts(report)["gradient"]
    assert status == "error"
    assert message.startswith("ValueError: ")
    assert parts(report)["forward"][0] == "passes"


def one_percent_off(base, method):
    """A subclass of `base` whose public `method` returns 1.01 times the right value."""
    def wrong(self, *args):
        result = getattr(base, method)(self, *args)
        if isinstance(result, tuple):
            return tuple(1.01 * np.asarray(r) for r in result)
        return 1.01 * np.asarray(result)

    return type(f"OnePercentOff{base.__name__}", (base,), {method: wrong})


LAYER_METHODS = [(cls, method) for cls in LAYER_CLASSES for method in ("forward", "gradient", "backward")]
LAYER_METHODS.append((layers.FullyConnectedLayer, "weight_gradients"))


@pytest.mark.parametrize("base, method", LAYER_METHODS,
                         ids=[f"{c.__name__}.{m}" for c, m in LAYER_METHODS])
def test_a_one_percent_error_is_wrong_in_that_method_only(base, method):
    report = checks.check_layer(one_percent_off(base, method))
    for part, (status, message) in parts(report).items():
        if part == method:
            assert status == "wrong" and "expected" in message and "got" in message, str(report)
        else:
            assert status == "passes", str(report)


OBJECTIVE_METHODS = [(cls, method) for cls in OBJECTIVE_CLASSES for method in ("eval", "gradient")]


@pytest.mark.parametrize("base, method", OBJECTIVE_METHODS,
                         ids=[f"{c.__name__}.{m}" for c, m in OBJECTIVE_METHODS])
def test_a_one_percent_error_in_an_objective_is_wrong(base, method):
    def wrong(self, y, yhat):
        return 1.01 * getattr(base, method)(self, y, yhat)

    report = checks.check_objective(type("OnePercentOff", (base,), {method: wrong}))
    statuses = {part: status for part, (status, _) in parts(report).items()}
    assert statuses == {"eval": "passes", "gradient": "passes", method: "wrong"}


def test_relu_with_derivative_0_at_0_is_wrong_and_says_where():
    class PyTorchReLU(layers.ReLULayer):
        def _derivative(self):
            return (self.prev_in > 0).astype(np.float64)

    report = checks.check_layer(PyTorchReLU)
    status, message = parts(report)["gradient"]
    assert status == "wrong"
    # The input row with its exact 0, SymPy's 1, the learner's 0 and the central difference 0.5.
    assert "x = [0.25146, 0, 1.28085, 0.2098]" in message
    assert "expected 1 (SymPy), got 0, finite differences of your forward 0.5" in message
    assert parts(report)["forward"][0] == "passes"


@pytest.mark.parametrize("base, exact", [
    (layers.LogisticSigmoidLayer, lambda g: g * (1 - g)),
    (layers.TanhLayer, lambda g: 1 - g ** 2),
], ids=["sigmoid", "tanh"])
def test_a_missing_eps_on_the_diagonal_is_wrong(base, exact):
    report = checks.check_layer(type("NoEps", (base,), {"_derivative": lambda self: exact(self.prev_out)}))
    assert parts(report)["gradient"][0] == "wrong"
    assert parts(report)["backward"][0] == "wrong"


def test_an_objective_gradient_without_the_1_over_n_is_wrong():
    class Unaveraged(layers.SquaredError):
        def gradient(self, y, yhat):
            return layers.SquaredError.gradient(self, y, yhat) * np.shape(y)[0]

    status, message = parts(checks.check_objective(Unaveraged))["gradient"]
    assert status == "wrong" and "1/N" in message


@pytest.mark.parametrize("base, method, formula", [
    (layers.LogLoss, "_row_losses",
     lambda self, y, yhat: -(y * np.log(yhat) + (1 - y) * np.log(1 - yhat)).sum(axis=1)),
    (layers.LogLoss, "_gradient", lambda self, y, yhat: -(y - yhat) / (yhat * (1 - yhat))),
    # The exact derivative of the eps-loss is not the course's LogLoss gradient.
    (layers.LogLoss, "_gradient", lambda self, y, yhat: -y / (yhat + 1e-7) + (1 - y) / (1 - yhat + 1e-7)),
    (layers.CrossEntropy, "_row_losses", lambda self, y, yhat: -(y * np.log(yhat)).sum(axis=1)),
    (layers.CrossEntropy, "_gradient", lambda self, y, yhat: -y / yhat),
], ids=["logloss-eval-no-eps", "logloss-gradient-no-eps", "logloss-gradient-exact",
        "crossentropy-eval-no-eps", "crossentropy-gradient-no-eps"])
def test_a_wrong_eps_convention_in_an_objective_is_wrong(base, method, formula):
    report = checks.check_objective(type("Planted", (base,), {method: formula}))
    failing = "eval" if method == "_row_losses" else "gradient"
    assert parts(report)[failing][0] == "wrong", str(report)


def test_changing_the_input_in_place_is_wrong():
    class InPlaceSoftmax(layers.SoftmaxLayer):
        def _backward(self, grad_in):
            grad_in -= (grad_in * self.prev_out).sum(axis=1, keepdims=True)
            grad_in *= self.prev_out
            return grad_in

    status, message = parts(checks.check_layer(InPlaceSoftmax))["backward"]
    assert status == "wrong" and "in place" in message


@pytest.mark.parametrize("returned, words", [
    (None, "returned None"),
    ("text", "not an array of numbers"),
    (np.zeros((4, 5)), "returned shape (4, 5), expected (4, 4)"),
    (np.full((4, 4), np.nan), "returned nan"),
])
def test_bad_return_values_are_wrong_not_a_crash(returned, words):
    class Odd(layers.LinearLayer):
        def forward(self, x):
            layers.LinearLayer.forward(self, x)
            return returned

    status, message = parts(checks.check_layer(Odd))["forward"]
    assert status == "wrong" and words in message


# --------------------------------------------------------------------------
# checks.py: Part 2, the layers after the homework
# --------------------------------------------------------------------------

def _erf_gelu(self, x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))


def _layer_norm_ddof_1(self, x):
    self.inverse_std = 1.0 / np.sqrt(x.var(axis=1, ddof=1, keepdims=True) + self.eps)
    return (x - x.mean(axis=1, keepdims=True)) * self.inverse_std


def _batch_norm_ddof_1(self, x):
    return layers.BatchNormLayer._forward(self, x) * np.sqrt((len(x) - 1) / len(x))


def _running_var_ddof_0(self, x):
    out = layers.BatchNormLayer._forward(self, x)
    momentum = self.momentum
    self.running_var = (1 - momentum) * 1.0 + momentum * x.var(axis=0, keepdims=True)
    return out


def _batch_norm_jacobian_per_row(self):
    # One (K, K) matrix per row, as the other layers: BatchNorm's rows interact, its features do not.
    n, k = self.prev_out.shape
    return np.broadcast_to(np.eye(k), (n, k, k)) * self.inverse_std


def _elu_derivative_1_at_0(self):
    return np.where(self.prev_in >= 0, 1.0, self.alpha * np.exp(np.minimum(self.prev_in, 0.0)))


def _log_softmax_jacobian_transposed(self):
    return layers.LogSoftmaxLayer._gradient(self).transpose(0, 2, 1)


def _dropout_not_inverted(self, x):
    return layers.DropoutLayer._forward(self, x) * (1.0 - self.p)


def _dropout_keeps_with_p(self, x):
    if not self.training:
        return layers.DropoutLayer._forward(self, x)
    self.scale = (self.rng.random(x.shape) < self.p) / (1.0 - self.p)
    return x * self.scale


def _dropout_in_eval_too(self, x):
    self.scale = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
    return x * self.scale


# (layer class, method overrides, the part that must say wrong, words in its message[, constructor keywords])
PART2_CONVENTION_BUGS = {
    "leaky-relu-alpha-at-0": (layers.LeakyReLULayer,
                              {"_derivative": lambda self: np.where(self.prev_in > 0, 1.0, self.alpha)},
                              "gradient", "expected 1 (SymPy), got 0.01"),
    "softplus-eps-on-derivative": (layers.SoftplusLayer,
                                   {"_derivative": lambda self: 1e-7 + 1.0 / (1.0 + np.exp(-self.prev_in))},
                                   "gradient", "expected 0.00012339458 (SymPy)"),
    "elu-1-at-0": (layers.ELULayer, {"_derivative": _elu_derivative_1_at_0}, "gradient",
                   "expected 0.5 (SymPy), got 1", {"alpha": 0.5}),
    "gelu-erf-form": (layers.GELULayer, {"_forward": _erf_gelu}, "forward", "expected 0.84119199 (SymPy)"),
    "log-softmax-jacobian-transposed": (layers.LogSoftmaxLayer, {"_gradient": _log_softmax_jacobian_transposed},
                                        "gradient", "d out[0, 0] / d x[0, 1]"),
    "layer-norm-ddof-1": (layers.LayerNormLayer, {"_forward": _layer_norm_ddof_1}, "forward", "expected -1.3416354"),
    "batch-norm-ddof-1": (layers.BatchNormLayer, {"_forward": _batch_norm_ddof_1}, "forward", "column 0 of the input"),
    "batch-norm-running-var-ddof-0": (layers.BatchNormLayer, {"_forward": _running_var_ddof_0}, "forward",
                                      "running_var[0, 0] after forward expected"),
    "batch-norm-jacobian-per-row": (layers.BatchNormLayer, {"_gradient": _batch_norm_jacobian_per_row}, "gradient",
                                    "d out[0, 0] / d x[0, 0]"),
    "dropout-not-inverted": (layers.DropoutLayer, {"_forward": _dropout_not_inverted}, "forward",
                             "expected 0 (dropped) or x / (1 - p) = 1.3333333"),
    # Made by a factory (so not held to the course's drawing): the share kept tells.
    "dropout-keeps-with-probability-p": (layers.DropoutLayer, {"_forward": _dropout_keeps_with_p}, "forward",
                                         "1 - p = 0.75", {"p": 0.25, "rng": np.random.default_rng(0)}),
    "dropout-keeps-with-probability-p-seeded": (layers.DropoutLayer, {"_forward": _dropout_keeps_with_p},
                                                "forward", "draw the mask as rng.random(x.shape) >= p"),
    "dropout-drops-in-eval": (layers.DropoutLayer, {"_forward": _dropout_in_eval_too}, "forward", "eval mode"),
}


@pytest.mark.parametrize("bug", list(PART2_CONVENTION_BUGS))
def test_a_part2_convention_bug_is_wrong_naming_the_method(bug):
    base, overrides, method, words, *keywords = PART2_CONVENTION_BUGS[bug]
    planted = type("Planted" + base.__name__, (base,), overrides)
    report = checks.check_layer((lambda: planted(**keywords[0])) if keywords else planted)
    status, message = parts(report)[method]
    assert status == "wrong" and words in message, str(report)
    assert "expected" in message, str(report)


def test_batch_norm_is_checked_across_the_batch():
    """Its Jacobian is one (N, N) matrix per feature; backward is the einsum 'nk,knm->mk'."""
    per_row = type("PerRow", (layers.BatchNormLayer,), {"_gradient": _batch_norm_jacobian_per_row})
    report = checks.check_layer(per_row)
    status, message = parts(report)["gradient"]
    assert status == "wrong" and "J[0, 0, 0] = d out[0, 0] / d x[0, 0]" in message, str(report)
    assert "finite differences of your forward" in message
    assert parts(report)["backward"][0] == "passes"

    def backward_one_row_at_a_time(self, grad_in):
        # LayerNorm's backward (rows, not columns): wrong for BatchNorm.
        norm = layers.LayerNormLayer(self.eps)
        norm.forward(self.prev_in)
        return norm.backward(grad_in)

    row_backward = type("RowBackward", (layers.BatchNormLayer,), {"_backward": backward_one_row_at_a_time})
    report = checks.check_layer(row_backward)
    status, message = parts(report)["backward"]
    assert status == "wrong" and "einsum('nk,knm->mk', grad_in, J)" in message, str(report)


def _batch_norm_in_eval(cls=layers.BatchNormLayer):
    layer = cls()
    layer.training = False
    layer.running_mean = np.array([[0.5, -1.0, 2.0, 0.0]])
    layer.running_var = np.array([[2.0, 0.5, 4.0, 1.0]])
    return layer


def test_batch_norm_in_eval_mode_uses_the_running_statistics():
    assert checks.check_layer(_batch_norm_in_eval).passed
    # Batch statistics where the running ones belong: wrong, with SymPy's value from the running ones.
    class AlwaysTraining(layers.BatchNormLayer):
        def _forward(self, x):
            self.training = True
            return layers.BatchNormLayer._forward(self, x)

    report = checks.check_layer(lambda: _batch_norm_in_eval(AlwaysTraining))
    status, message = parts(report)["forward"]
    assert status == "wrong" and "SymPy, with the running statistics" in message, str(report)

    class UpdatesInEval(layers.BatchNormLayer):
        def _forward(self, x):
            out = layers.BatchNormLayer._forward(self, x)
            self.running_mean = 0.9 * self.running_mean + 0.1 * x.mean(axis=0, keepdims=True)
            return out

    report = checks.check_layer(lambda: _batch_norm_in_eval(UpdatesInEval))
    status, message = parts(report)["forward"]
    assert status == "wrong" and "running_mean[0, 0] after forward" in message and "unchanged" in message
    assert parts(report)["gradient"][0] == parts(report)["backward"][0] == "passes"


def test_dropout_checks_the_mask_by_its_properties_and_the_courses_drawing():
    """A layer made by a factory: the mask's properties. layers.DropoutLayer itself (made with
    np.random.default_rng(0)): also the course's drawing, rng.random(x.shape) >= p, which the
    grader compares."""
    class BinomialDropout(layers.DropoutLayer):
        def _forward(self, x):
            if not self.training:
                return layers.DropoutLayer._forward(self, x)
            self.scale = self.rng.binomial(1, 1.0 - self.p, x.shape) / (1.0 - self.p)
            return x * self.scale

    assert checks.check_layer(lambda: BinomialDropout(p=0.25, rng=np.random.default_rng(0))).passed
    report = checks.check_layer(BinomialDropout)
    status, message = parts(report)["forward"]
    assert status == "wrong" and "draw the mask as rng.random(x.shape) >= p" in message
    assert parts(report)["gradient"][0] == parts(report)["backward"][0] == "passes"
    assert checks.check_layer(lambda: layers.DropoutLayer(p=0.0, rng=np.random.default_rng(5))).passed
    assert checks.check_layer(lambda: layers.DropoutLayer(p=0.6, rng=np.random.default_rng(5))).passed

    class SameMask(layers.DropoutLayer):
        def _forward(self, x):
            if self.training:
                self.rng = np.random.default_rng(0)   # the same mask every pass
            return layers.DropoutLayer._forward(self, x)

    status, message = parts(checks.check_layer(SameMask))["forward"]
    assert status == "wrong" and "draw a new mask on every forward pass" in message


def test_cross_entropy_with_logits_conventions():
    class SoftTargetsIgnored(layers.CrossEntropyWithLogits):
        def _gradient(self, y, z):
            return np.exp(layers.LogSoftmaxLayer().forward(z)) - y   # right for one-hot y only

    status, message = parts(checks.check_objective(SoftTargetsIgnored))["gradient"]
    assert status == "wrong" and "1/N of the mean" in message and "z = " in message

    class WithoutTheMaxShift(layers.CrossEntropyWithLogits):
        def _row_losses(self, y, z):
            with np.errstate(all="ignore"):
                s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
                return -(y * np.log(s)).sum(axis=1)

    status, message = parts(checks.check_objective(WithoutTheMaxShift))["eval"]
    assert status == "wrong" and "expected finite numbers" in message


STUB_PROBE = r"""
import contextlib, io, json
import checks, layers
statuses = {}
with contextlib.redirect_stdout(io.StringIO()):
    for name in checks.PART2_LAYERS:
        statuses[name] = [[part, status, message] for part, status, message
                          in checks.check_layer(getattr(layers, name)).results]
    statuses["CrossEntropyWithLogits"] = [[part, status, message] for part, status, message
                                          in checks.check_objective(layers.CrossEntropyWithLogits).results]
print(json.dumps(statuses))
"""


def test_part2_stubs_are_not_implemented_yet(tmp_path):
    """The student edition's stubs (stub_python on the current layers.py): each Part 2 check
    says not implemented yet, naming the stub and its section, and the other methods wait."""
    (tmp_path / "layers.py").write_text(build_student.stub_python(FULL_LAYERS))
    for name in ("checks.py", "homework.py"):
        shutil.copyfile(REPO_ROOT / name, tmp_path / name)
    done = subprocess.run([sys.executable, "-c", STUB_PROBE], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    statuses = json.loads(done.stdout)
    assert set(statuses) == set(checks.PART2_LAYERS) | {"CrossEntropyWithLogits"}
    for name, results in statuses.items():
        first, *rest = results
        assert first[1] == "not implemented yet", (name, first)
        assert re.fullmatch(rf"{name}\.\w+ \(see 1\d_\w+, section \d\)", first[2]), (name, first)
        if name == "CrossEntropyWithLogits":
            assert [status for _, status, _ in rest] == ["not implemented yet"]
        else:
            assert [(part, status) for part, status, _ in rest] == [
                ("gradient", "needs forward first"), ("backward", "needs forward first")]


# --------------------------------------------------------------------------
# checks.py: layers a learner writes, checked against their SymPy formula
# --------------------------------------------------------------------------

x = sp.Symbol("x")


class Softplus(layers.ElementwiseLayer):
    def _forward(self, x):
        return np.logaddexp(0.0, x)

    def _derivative(self):
        return 1.0 / (1.0 + np.exp(-self.prev_in))


class LeakyReLU(layers.ElementwiseLayer):
    def _forward(self, x):
        return np.where(x >= 0, x, 0.01 * x)

    def _derivative(self):
        return np.where(self.prev_in >= 0, 1.0, 0.01)


def test_a_learner_layer_with_a_sympy_reference_passes():
    assert checks.check_layer(Softplus, reference=sp.log(1 + sp.exp(x))).passed
    leaky = sp.Piecewise((x, x >= 0), (x / 100, True))
    assert checks.check_layer(LeakyReLU, reference=leaky).passed


def test_a_learner_layer_with_a_callable_reference_passes():
    assert checks.check_layer(Softplus, reference=lambda a: np.logaddexp(0.0, a)).passed


def test_a_learner_layer_against_the_wrong_formula_is_wrong():
    report = checks.check_layer(LeakyReLU, reference=sp.Piecewise((x, x >= 0), (x / 10, True)))
    statuses = {part: status for part, (status, _) in parts(report).items()}
    assert statuses == {"forward": "wrong", "gradient": "wrong", "backward": "wrong"}


def test_a_learner_objective_with_a_sympy_reference_passes_and_a_wrong_one_fails():
    y, yhat = sp.symbols("y yhat", real=True)

    class SquaredLogError(layers.Objective):
        needs_probabilities = True                    # so it is checked on probabilities

        def _row_losses(self, y, yhat):
            return ((np.log1p(y) - np.log1p(yhat)) ** 2).sum(axis=1)

        def _gradient(self, y, yhat):
            return -2 * (np.log1p(y) - np.log1p(yhat)) / (1 + yhat)

    reference = (sp.log(1 + y) - sp.log(1 + yhat)) ** 2
    assert checks.check_objective(SquaredLogError, reference=reference).passed
    report = checks.check_objective(SquaredLogError, reference=(sp.log(1 + y) - sp.log(1 + yhat)) ** 2 / 2)
    assert [status for _, status, _ in report.results] == ["wrong", "wrong"]


def test_a_learner_layer_without_a_reference_is_a_usage_error():
    with pytest.raises(TypeError, match="needs a reference"):
        checks.check_layer(Softplus)


# --------------------------------------------------------------------------
# checks.py: the finite-difference helper
# --------------------------------------------------------------------------

def test_a_one_percent_off_numerical_jacobian_is_wrong():
    report = checks.check_numerical_jacobian(lambda f, x: 1.01 * layers.numerical_jacobian(f, x))
    assert [status for _, status, _ in report.results] == ["wrong", "wrong"]


def test_a_transposed_numerical_jacobian_is_wrong():
    report = checks.check_numerical_jacobian(
        lambda f, x: layers.numerical_jacobian(f, x).transpose(0, 2, 1))
    status, message = parts(report)["3 -> 2, 3 rows"]
    assert status == "wrong" and "shape (3, 3, 2), expected (3, 2, 3)" in message


def test_a_stubbed_numerical_jacobian_is_not_implemented():
    def numerical_jacobian(f, x, h=1e-6):
        raise NotImplementedError

    report = checks.check_numerical_jacobian(numerical_jacobian)
    assert [status for _, status, _ in report.results] == ["not implemented yet"] * 2


# --------------------------------------------------------------------------
# The student edition: stubbing and restoring layers.py
# --------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[1]


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_student", REPO_ROOT / "tools" / "build_student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_student = _load_builder()

SAMPLE = '''import numpy as np


class Doubler:
    """Doubles."""

    def _forward(self, x):
        """Docstring stays."""
        x = np.asarray(x)
        ### BEGIN SOLUTION
        # 2 x, entrywise -- 02_linear_and_relu, section 3
        y = 2 * x
        return y
        ### END SOLUTION


def helper(f, x):
    ### BEGIN SOLUTION
    # f at x, twice -- 07_gradient_checking, section 2
    return f(f(x))
    ### END SOLUTION
'''


def test_stub_python_replaces_each_block_by_its_hint_and_a_raise():
    stubbed = build_student.stub_python(SAMPLE)
    assert stubbed == SAMPLE.replace(
        '''        ### BEGIN SOLUTION
        # 2 x, entrywise -- 02_linear_and_relu, section 3
        y = 2 * x
        return y
        ### END SOLUTION
''', '''        # YOUR CODE HERE: 2 x, entrywise -- 02_linear_and_relu, section 3
        raise NotImplementedError("Doubler.forward: not implemented yet (see 02_linear_and_relu, section 3)")
''').replace('''    ### BEGIN SOLUTION
    # f at x, twice -- 07_gradient_checking, section 2
    return f(f(x))
    ### END SOLUTION
''', '''    # YOUR CODE HERE: f at x, twice -- 07_gradient_checking, section 2
    raise NotImplementedError("helper: not implemented yet (see 07_gradient_checking, section 2)")
''')
    assert build_student.restore_python(stubbed, SAMPLE) == SAMPLE


@pytest.mark.parametrize("broken, words", [
    (SAMPLE.replace("        # 2 x, entrywise -- 02_linear_and_relu, section 3\n", ""),
     "line 11: the first line of a solution block must be a hint"),
    (SAMPLE.replace("# 2 x, entrywise -- 02_linear_and_relu, section 3", "# 2 x, entrywise"),
     "line 11: the first line of a solution block must be a hint"),
    (SAMPLE.replace("        ### END SOLUTION\n", "", 1), "BEGIN SOLUTION inside the block opened on line 10"),
    (SAMPLE.replace("        ### END SOLUTION\n", "    ### END SOLUTION\n", 1),
     "line 14: ### END SOLUTION is not at the indentation of its ### BEGIN SOLUTION (line 10)"),
    (SAMPLE.replace("        y = 2 * x", "        y = 2 * x  ### END SOLUTION"), "must be alone on its line"),
])
def test_stub_python_fails_on_a_malformed_block_naming_the_line(broken, words):
    with pytest.raises(build_student.BuildError, match=re.escape(words)):
        build_student.stub_python(broken)


def test_restore_python_keeps_what_the_stubbing_changed():
    stubbed = build_student.stub_python(SAMPLE).replace("Doubles.", "Triples.")
    assert build_student.restore_python(stubbed, SAMPLE) != SAMPLE


# --------------------------------------------------------------------------
# The student edition: notebooks
# --------------------------------------------------------------------------

def _notebook():
    nb = nbformat.v4.new_notebook()
    exercise = nbformat.v4.new_code_cell(
        "answer = None  # replace None with your answer\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION\n"
        "check(answer)")
    exercise.outputs = [nbformat.v4.new_output("stream", text="passes\n")]
    exercise.execution_count = 3
    skeleton = nbformat.v4.new_code_cell(
        "class Leaky:\n    def _forward(self, x):\n        ### BEGIN SOLUTION\n        return x\n"
        "        ### END SOLUTION")
    hidden = {"jupyter": {"source_hidden": True, "outputs_hidden": True}, "tags": ["solution"]}
    solution_code = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION",
                                              metadata=hidden)
    solution_text = nbformat.v4.new_markdown_cell("The answer is 42.", metadata={"tags": ["solution"]})
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), exercise, skeleton, solution_code, solution_text]
    return nb


def test_student_notebook_removes_solutions_and_outputs():
    full = _notebook()
    student = build_student.student_notebook(full)
    assert [cell.cell_type for cell in student.cells] == ["markdown", "code", "code", "markdown"]
    assert student.cells[1].source == "answer = None  # replace None with your answer\n# YOUR CODE HERE\ncheck(answer)"
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert student.cells[2].source == (
        "class Leaky:\n    def _forward(self, x):\n        # YOUR CODE HERE\n"
        '        raise NotImplementedError("Leaky.forward: not implemented yet")')
    assert student.cells[3].source == build_student.SOLUTION_PROMPT
    # The solution's value appears nowhere a learner can see (cell ids are random, so not there).
    assert not any("42" in cell.source or "42" in json.dumps(cell.get("outputs", []))
                   for cell in student.cells)
    assert all("jupyter" not in cell.metadata and "tags" not in cell.metadata for cell in student.cells)
    assert full.cells[1].outputs, "the full edition's notebook is left as it was"


# --------------------------------------------------------------------------
# The student edition built from this repository
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def student(tmp_path_factory):
    """dist/student built once per session into a temporary folder; returns (path, summary)."""
    out = tmp_path_factory.mktemp("edition") / "student"
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "build_student.py"),
                             "--out", str(out), "--root", str(REPO_ROOT)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    stubs = build_student.python_stubs((REPO_ROOT / "layers.py").read_text())
    assert result.stdout.startswith(f"Student edition written to {out}: {len(stubs)} methods to implement")
    return out, {"stubs": stubs}


FULL_LAYERS = (REPO_ROOT / "layers.py").read_text()


def test_the_build_writes_the_student_edition(student):
    out, summary = student
    for name in ["README.md", "Makefile", "requirements.txt", "layers.py", "homework.py", "checks.py",
                 "notebooks/layers.py", "notebooks/homework.py", "notebooks/checks.py"]:
        assert (out / name).is_file(), name
    full_notebooks = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (out / "notebooks").glob("*.ipynb")) == full_notebooks
    requirements = (out / "requirements.txt").read_text()
    assert "-e" not in requirements.split()
    pins = {line for line in (REPO_ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    assert {line for line in requirements.splitlines() if "==" in line} == pins
    readme = (out / "README.md").read_text()
    assert "{{" not in readme and "{{" not in (out / "Makefile").read_text()
    for stub in summary["stubs"]:
        assert f"`{stub['name']}`" in readme


def test_the_build_fails_and_writes_nothing_without_markers(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT, root, ignore=shutil.ignore_patterns(".git", ".venv", "dist", "*.egg-info"))
    (root / "layers.py").write_text(re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", FULL_LAYERS, flags=re.M))
    with pytest.raises(build_student.BuildError, match="no solution blocks"):
        build_student.build(tmp_path / "out", root=root)
    assert not (tmp_path / "out").exists()


def test_the_build_fails_when_a_stub_does_not_raise(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT, root, ignore=shutil.ignore_patterns(".git", ".venv", "dist", "*.egg-info"))
    # A return before the block: the stub is never reached.
    stubs = build_student.python_stubs(FULL_LAYERS)
    lines = FULL_LAYERS.splitlines(keepends=True)
    stub = next(stub for stub in stubs if stub["name"] == "SoftmaxLayer.backward")
    lines.insert(stub["begin"], f"{stub['indent']}return None\n")
    (root / "layers.py").write_text("".join(lines))
    with pytest.raises(build_student.BuildError, match=re.escape(f"{stub['method']} returned instead of raising")):
        build_student.build(tmp_path / "out", root=root)


def test_find_leaks_finds_markers_and_solution_lines(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "layers.py").write_text("x = 1\n        ### END SOLUTION\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("y = 2\nanswer = [[0.25, -0.25]]")]
    nbformat.write(nb, tmp_path / "notebooks" / "a.ipynb")
    assert build_student.find_leaks(tmp_path, {"answer = [[0.25, -0.25]]"}) == [
        "layers.py, line 2: a solution marker survives: '### END SOLUTION'",
        "notebooks/a.ipynb, line 2: a line of a solution survives: 'answer = [[0.25, -0.25]]'",
    ]


def test_no_marker_and_no_solution_line_survives(student):
    out, _ = student
    assert build_student.find_leaks(out, set()) == []          # no marker anywhere
    stubbed = (out / "layers.py").read_text()
    full_lines = FULL_LAYERS.splitlines()
    inside = set()
    for begin, end in build_student.solution_blocks(full_lines, "layers.py"):
        inside.update(range(begin, end + 1))
    public = {line.strip() for n, line in enumerate(full_lines) if n not in inside}
    for begin, end in build_student.solution_blocks(full_lines, "layers.py"):
        for line in full_lines[begin + 2:end]:                  # the hint (begin + 1) stays, reworded
            if line.strip() and line.strip() not in public:
                assert line.strip() not in {s.strip() for s in stubbed.splitlines()}, line
    for path in (out / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert not any("solution" in cell.metadata.get("tags", []) for cell in nb.cells), path.name


def test_student_notebooks_have_no_outputs(student):
    out, _ = student
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
            assert "source_hidden" not in cell.metadata.get("jupyter", {}), path.name


def test_round_trip_gives_back_the_full_layers_py(student):
    out, _ = student
    stubbed = (out / "layers.py").read_text()
    assert stubbed != FULL_LAYERS
    assert build_student.restore_python(stubbed, FULL_LAYERS) == FULL_LAYERS


# What each stubbed method's public call is, and the notebook section it names.
PUBLIC_CALLS = r'''
import json, sys
import numpy as np
import layers
x = np.array([[0.5, -1.0, 2.0, 1.5]])
calls = {
    "InputLayer": lambda: layers.InputLayer(np.vstack([x, 2 * x])).forward(x),
    "FullyConnectedLayer": lambda: layers.FullyConnectedLayer(4, 2, rng=np.random.default_rng(0)).forward(x),
    "LinearLayer": lambda: layers.LinearLayer().forward(x),
    "ReLULayer": lambda: layers.ReLULayer().forward(x),
    "LogisticSigmoidLayer": lambda: layers.LogisticSigmoidLayer().forward(x),
    "TanhLayer": lambda: layers.TanhLayer().forward(x),
    "SoftmaxLayer": lambda: layers.SoftmaxLayer().forward(x),
    "SquaredError": lambda: layers.SquaredError().eval([[0.0, 1.0]], [[0.2, 0.7]]),
    "LogLoss": lambda: layers.LogLoss().eval([[0.0, 1.0]], [[0.2, 0.7]]),
    "CrossEntropy": lambda: layers.CrossEntropy().eval([[0.0, 1.0]], [[0.2, 0.8]]),
    "numerical_jacobian": lambda: layers.numerical_jacobian(lambda a: 2 * a, x),
    "LeakyReLULayer": lambda: layers.LeakyReLULayer().forward(x),
    "SoftplusLayer": lambda: layers.SoftplusLayer().forward(x),
    "ELULayer": lambda: layers.ELULayer().forward(x),
    "GELULayer": lambda: layers.GELULayer().forward(x),
    "LogSoftmaxLayer": lambda: layers.LogSoftmaxLayer().forward(x),
    "LayerNormLayer": lambda: layers.LayerNormLayer().forward(x),
    "BatchNormLayer": lambda: layers.BatchNormLayer().forward(np.vstack([x, 2 * x])),
    "DropoutLayer": lambda: layers.DropoutLayer(rng=np.random.default_rng(0)).forward(x),
    "CrossEntropyWithLogits": lambda: layers.CrossEntropyWithLogits().eval([[0.0, 1.0]], [[0.2, 0.8]]),
}
messages = {}
for name, call in calls.items():
    try:
        call()
        messages[name] = "no error"
    except NotImplementedError as error:
        messages[name] = str(error)
print(layers.__file__)
print(json.dumps(messages))
'''


def test_every_stubbed_method_raises_naming_itself_and_its_section(student):
    out, summary = student
    stubs = summary["stubs"]
    assert {stub["name"] for stub in stubs} >= {
        "SoftmaxLayer.forward", "SoftmaxLayer.backward", "FullyConnectedLayer.weight_gradients",
        "numerical_jacobian"}
    for stub in stubs:
        assert re.fullmatch(r"\w+(\.\w+)?: not implemented yet \(see \d\d_\w+, section \d+\)", stub["message"])
        assert f'raise NotImplementedError("{stub["message"]}")' in (out / "layers.py").read_text()
    result = subprocess.run([sys.executable, "-c", PUBLIC_CALLS], cwd=out, capture_output=True,
                            text=True, check=True)
    path, messages = result.stdout.strip().splitlines()
    assert Path(path).resolve() == (out / "layers.py").resolve()
    for owner, message in json.loads(messages).items():
        # The public call (forward, eval) reaches one of the owner's stubs, which names itself.
        assert message in {stub["message"] for stub in stubs}, (owner, message)
        assert message.split(":")[0].split(".")[0] == owner, (owner, message)


# --------------------------------------------------------------------------
# The learner's layers.py is the one a kernel in dist/student/notebooks imports
# --------------------------------------------------------------------------

IMPORT_PROBE = """
import importlib
import checks, homework, layers
print(layers.__file__)
print(checks.__file__)
print(homework.__file__)
print(checks.layers is layers, homework.layers is layers)
importlib.reload(layers)
print(layers.__file__)
try:
    layers.ReLULayer().forward([[1.0, -1.0]])
except NotImplementedError as error:
    print(error)
"""


def test_full_edition_is_installed_so_the_next_tests_can_fail(tmp_path):
    # Without the shims, a folder without layers.py imports the full edition (the editable install).
    result = subprocess.run([sys.executable, "-c", "import layers; print(layers.__file__)"],
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(result.stdout.strip()).resolve() == (REPO_ROOT / "layers.py").resolve()


def _expected_probe_lines(out):
    relu_message = next(stub["message"] for stub in build_student.python_stubs(FULL_LAYERS)
                        if stub["name"].startswith("ReLULayer."))
    return [str((out / "layers.py").resolve()), str((out / "checks.py").resolve()),
            str((out / "homework.py").resolve()), "True True", str((out / "layers.py").resolve()),
            relu_message]


def test_python_in_the_notebooks_folder_imports_the_learners_layers(student):
    out, _ = student
    result = subprocess.run([sys.executable, "-c", IMPORT_PROBE], cwd=out / "notebooks",
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines() == _expected_probe_lines(out)


RELOAD_PROBE = """
import importlib, io, contextlib, shutil, sys
import checks, layers
before = checks.check_layer(layers.ReLULayer).passed
shutil.copyfile(sys.argv[1], "../layers.py")          # the learner finishes layers.py
importlib.reload(layers)
print(before, checks.check_layer(layers.ReLULayer).passed)
"""


def test_reloading_layers_in_the_notebooks_folder_picks_up_the_learners_edits(student, tmp_path):
    out, _ = student
    edition = tmp_path / "edition"
    shutil.copytree(out, edition)
    result = subprocess.run([sys.executable, "-c", RELOAD_PROBE, str(REPO_ROOT / "layers.py")],
                            cwd=edition / "notebooks", capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False True"


def test_a_kernel_in_the_notebooks_folder_imports_the_learners_layers(student):
    out, _ = student
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(IMPORT_PROBE),
                nbformat.v4.new_code_cell("layers.SoftmaxLayer().forward([[1.0, 2.0]])")]
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(out / "notebooks")}})
    with pytest.raises(CellExecutionError) as caught:
        client.execute()
    text = "".join(output.get("text", "") for output in nb.cells[0].outputs)
    assert text.strip().splitlines() == _expected_probe_lines(out)
    # The traceback of the learner's NotImplementedError points at ../layers.py.
    assert caught.value.ename == "NotImplementedError"
    traceback = "\n".join(nb.cells[1].outputs[0]["traceback"])
    assert str((out / "layers.py").resolve()) in re.sub(r"\x1b\[[0-9;]*m", "", traceback)


# --------------------------------------------------------------------------
# make check, and the notebooks with the stubs and with the reference
# --------------------------------------------------------------------------

def _make_check(folder):
    result = subprocess.run(["make", "-s", "-o", ".venv/.runtime-installed", "check",
                             f"BIN={Path(sys.executable).parent}"],
                            cwd=folder, capture_output=True, text=True, check=True)
    return result.stdout


def test_make_check_reports_progress(student, tmp_path):
    out, _ = student
    stubbed = _make_check(out)
    assert f"Checking {(out / 'layers.py').resolve()}" in stubbed
    assert "  forward             not implemented yet" in stubbed
    assert re.search(r"^0 of (\d+) methods pass$", stubbed, re.M)
    # A course that stops at the homework reads Part 1's line alone.
    part1 = int(re.search(r"^Part 1: 0 of (\d+) methods pass$", stubbed, re.M).group(1))
    part2 = int(re.search(r"^Part 2: 0 of (\d+) methods pass$", stubbed, re.M).group(1))
    assert part1 == 29 and part2 == 26
    total = int(re.search(r"^0 of (\d+) methods pass$", stubbed, re.M).group(1))

    finished = tmp_path / "finished"
    shutil.copytree(out, finished)
    shutil.copyfile(REPO_ROOT / "layers.py", finished / "layers.py")
    finished_report = _make_check(finished)
    assert re.search(rf"^{total} of {total} methods pass$", finished_report, re.M)
    assert total == part1 + part2
    assert re.search(rf"^Part 1: {part1} of {part1} methods pass$", finished_report, re.M)
    assert re.search(rf"^Part 2: {part2} of {part2} methods pass$", finished_report, re.M)

    # One method 1% off: that one row says wrong, every other passes.
    (finished / "layers.py").write_text(
        FULL_LAYERS + "\n_right_gradient = ReLULayer.gradient\n"
        "ReLULayer.gradient = lambda self: 1.01 * _right_gradient(self)\n")
    report = _make_check(finished)
    assert re.search(rf"^{total - 1} of {total} methods pass$", report, re.M)
    assert re.search(r"^ReLULayer\n  forward +passes\n  gradient +wrong: .*\n.*\n  backward +passes$", report, re.M)


# Runs one notebook in a fresh interpreter: nbclient's kernel clients leave event loops behind,
# which would be collected (with a ResourceWarning) in the middle of some later test.
NOTEBOOK_RUNNER = """
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}})
try:
    client.execute()
    print(json.dumps(None))
except CellExecutionError as error:
    cell = str(error).split("------------------")[1].strip().splitlines()
    print(json.dumps([error.ename, error.evalue, cell[0] if cell else ""]))
"""


def _run_notebook(path):
    """Execute a notebook in its folder; None, or (ename, evalue, first line of the failing cell)."""
    result = subprocess.run([sys.executable, "-c", NOTEBOOK_RUNNER, str(path), str(path.parent)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{path.name}: the runner failed\n{result.stderr[-2000:]}"
    error = json.loads(result.stdout.strip().splitlines()[-1])
    return None if error is None else tuple(error)


def _run_all(folder, names=None):
    paths = sorted((folder / "notebooks").glob("*.ipynb"))
    paths = [path for path in paths if names is None or path.stem in names]
    with ThreadPoolExecutor(max_workers=2) as pool:              # two cores: two kernels at a time
        return dict(zip((p.name for p in paths), pool.map(_run_notebook, paths)))


# How a notebook meets the stubs is the same everywhere (the first call of an unwritten
# method raises); a few notebooks from both parts show it, the reference run below runs all.
STUB_RUN_SAMPLE = {"00_start_here", "05_softmax", "09_backprop_network", "12_normalisation"}


def test_with_the_stubs_a_notebook_stops_at_an_unimplemented_method(student):
    out, summary = student
    messages = {stub["message"] for stub in summary["stubs"]}
    results = _run_all(out, STUB_RUN_SAMPLE)
    assert set(results) == {f"{name}.ipynb" for name in STUB_RUN_SAMPLE}
    for name, error in results.items():
        if error is not None:
            assert error[:2] in {("NotImplementedError", message) for message in messages}, (name, error)
    assert any(error is not None for error in results.values())


@pytest.fixture(scope="session")
def finished_student(student, tmp_path_factory):
    """The student edition with the reference layers.py copied over the stubs."""
    out, _ = student
    finished = tmp_path_factory.mktemp("finished") / "student"
    shutil.copytree(out, finished)
    shutil.copyfile(REPO_ROOT / "layers.py", finished / "layers.py")
    return finished


def test_the_student_edition_has_every_notebook(student):
    out, _ = student
    stems = sorted(path.stem for path in (out / "notebooks").glob("*.ipynb"))
    assert stems == sorted(path.stem for path in (REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert stems == sorted(STUDENT_NOTEBOOKS)


class StudentNotebookWithTheReference:
    """With the reference layers.py copied in, the student notebook runs without an error.

    One test class per notebook, so that pytest-xdist (`--dist loadscope`) spreads the
    notebooks over the workers.
    """

    stem = None

    def test_runs_without_an_error(self, finished_student):
        assert _run_notebook(finished_student / "notebooks" / f"{self.stem}.ipynb") is None


STUDENT_NOTEBOOKS = [path.stem for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))]
for _stem in STUDENT_NOTEBOOKS:
    _class = "TestStudentNotebook_" + _stem
    globals()[_class] = type(_class, (StudentNotebookWithTheReference,), {"stem": _stem})
