"""The learner's feedback (checks.py) and the student edition (tools/build_student.py).

checks.py must tell a right layer from one that is 1% off or breaks a course
convention, name the method that is wrong, and never raise for a learner's
mistake.
"""

import numpy as np
import pytest
import sympy as sp

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
OBJECTIVE_CLASSES = [layers.SquaredError, layers.LogLoss, layers.CrossEntropy]


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
        "forward": ("not implemented yet", ""),
        "gradient": ("needs forward first", ""),
        "backward": ("needs forward first", ""),
    }


def test_stubbed_backward_only_fails_backward():
    class StubSoftmax(layers.SoftmaxLayer):
        def _backward(self, grad_in):
            raise NotImplementedError

    statuses = {part: status for part, (status, _) in parts(checks.check_layer(StubSoftmax)).items()}
    assert statuses == {"forward": "passes", "gradient": "passes", "backward": "not implemented yet"}


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
