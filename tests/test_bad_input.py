"""Bad input gets a clear exception that names the culprit and the fix.

Each test checks the exception type and that the message names the layer or
method and says what to do (a few key words, matched as regular
expressions). After a rejected call the layer's state is unchanged.
"""

import re
from contextlib import contextmanager

import numpy as np
import pytest

import layers
from layer_cases import EPS_OWNERS, GOOD_X, LOG_LOSS_CLASSES, OBJECTIVE_CLASSES


@contextmanager
def rejected(error_type, *patterns):
    """Expect error_type with a message matching every regex in patterns."""
    captured = {}
    with pytest.raises(error_type) as info:
        yield lambda: captured["message"]
    message = captured["message"] = str(info.value)
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not found in {message!r}"


def forward_name(layer):
    return re.escape(f"{type(layer).__name__}.forward")


def snapshot(layer):
    """Everything a rejected call must leave alone."""
    state = {"prev_in": layer.prev_in, "prev_out": layer.prev_out}
    if isinstance(layer, layers.FullyConnectedLayer):
        state.update(weights=layer.weights, biases=layer.biases)
    if isinstance(layer, layers.InputLayer):
        state.update(mean_x=layer.mean_x, std_x=layer.std_x)
    return {name: None if value is None else np.copy(value) for name, value in state.items()}


def assert_unchanged(layer, before):
    after = snapshot(layer)
    for name, value in before.items():
        if value is None:
            assert after[name] is None, name
        else:
            np.testing.assert_array_equal(after[name], value, err_msg=name)


class TestShape:
    @pytest.mark.parametrize(
        "x, fix",
        [
            pytest.param([1.0, 2.0, 3.0], r"reshape\(1, -1\)", id="1-D"),
            pytest.param(5.0, r"reshape\(1, -1\)", id="0-D"),
            pytest.param(np.ones((2, 1, 3)), r"stack observations as rows", id="3-D"),
        ],
    )
    def test_forward_needs_2d(self, make_layer, x, fix):
        layer = make_layer()
        with rejected(ValueError, forward_name(layer), r"2-D", r"\(N, K\)", fix):
            layer.forward(x)

    def test_forward_needs_a_row_and_a_column(self, make_layer):
        layer = make_layer()
        with rejected(ValueError, forward_name(layer), r"empty", r"at least one row"):
            layer.forward(np.empty((0, 3)))

    @pytest.mark.parametrize(
        "make_wide_layer, width",
        [
            pytest.param(lambda: layers.FullyConnectedLayer(4, 2, rng=np.random.default_rng(0)), 4,
                         id="fully-connected"),
            pytest.param(lambda: layers.InputLayer(np.eye(4)), 4, id="input"),
        ],
    )
    def test_wrong_width(self, make_wide_layer, width):
        layer = make_wide_layer()
        layer.forward(np.arange(2.0 * width).reshape(2, width))
        before = snapshot(layer)
        with rejected(ValueError, forward_name(layer), r"3 columns", rf"expects {width}", rf"\(N, {width}\)"):
            layer.forward(GOOD_X)
        assert_unchanged(layer, before)


class TestValues:
    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
    def test_forward_rejects_non_finite(self, make_layer, bad):
        layer = make_layer()
        x = GOOD_X.copy()
        x[1, 2] = bad
        with rejected(ValueError, forward_name(layer), r"NaN or infinity", r"np\.isfinite"):
            layer.forward(x)

    @pytest.mark.parametrize(
        "x",
        [
            pytest.param(np.array([["1", "2", "3"]]), id="strings"),
            pytest.param(np.array([[1.0, None, 3.0]], dtype=object), id="object"),
            pytest.param(np.array([[True, False, True]]), id="bool"),
            pytest.param(np.array([[1 + 2j, 0, 1]]), id="complex"),
        ],
    )
    def test_forward_rejects_non_real_dtypes(self, make_layer, x):
        layer = make_layer()
        with rejected(TypeError, forward_name(layer), r"dtype", r"real numbers", r"dtype=float"):
            layer.forward(x)

    def test_forward_rejects_ragged_rows(self, make_layer):
        layer = make_layer()
        with rejected(TypeError, forward_name(layer), r"could not be turned into an array", r"2-D numeric"):
            layer.forward([[1.0, 2.0, 3.0], [4.0, 5.0]])


class TestCallOrder:
    @pytest.mark.parametrize("method", ["gradient", "backward"])
    def test_before_forward(self, make_layer, method):
        layer = make_layer()
        args = (np.ones((2, 3)),) if method == "backward" else ()
        with rejected(RuntimeError, re.escape(f"{type(layer).__name__}.{method}()"), r"before forward",
                      r"call forward\(x\) first"):
            getattr(layer, method)(*args)

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda layer: layer.weight_gradients(np.ones((2, 2))), id="weight_gradients"),
            pytest.param(lambda layer: layer.update_weights(np.ones((2, 2)), 0.1), id="update_weights"),
        ],
    )
    def test_parameter_gradients_before_forward(self, call):
        layer = layers.FullyConnectedLayer(3, 2, rng=np.random.default_rng(0))
        before = snapshot(layer)
        with rejected(RuntimeError, r"FullyConnectedLayer\.weight_gradients\(\)", r"call forward\(x\) first"):
            call(layer)
        assert_unchanged(layer, before)


class TestBackwardShape:
    @pytest.mark.parametrize(
        "grad_in",
        [
            pytest.param(np.ones((2, 4)), id="too-wide"),
            pytest.param(np.ones((3, 3)), id="too-many-rows"),
            pytest.param(np.ones((1, 3)), id="one-row"),
        ],
    )
    def test_grad_in_must_match_the_output(self, make_layer, grad_in):
        layer = make_layer()
        layer.forward(GOOD_X)
        before = snapshot(layer)
        name = re.escape(f"{type(layer).__name__}.backward")
        with rejected(ValueError, name, r"grad_in must have the shape", re.escape("(2, 3)")):
            layer.backward(grad_in)
        assert_unchanged(layer, before)

    def test_grad_in_must_be_2d(self, make_layer):
        layer = make_layer()
        layer.forward(GOOD_X)
        with rejected(ValueError, r"backward", r"grad_in must be 2-D"):
            layer.backward(np.ones(3))

    def test_grad_in_must_be_finite(self, make_layer):
        layer = make_layer()
        layer.forward(GOOD_X)
        with rejected(ValueError, r"backward", r"grad_in contains NaN"):
            layer.backward(np.full((2, 3), np.nan))

    def test_weight_gradients_grad_in_must_match_the_output(self):
        layer = layers.FullyConnectedLayer(3, 2, rng=np.random.default_rng(0))
        layer.forward(GOOD_X)
        with rejected(ValueError, r"FullyConnectedLayer\.weight_gradients", r"grad_in", re.escape("(2, 2)")):
            layer.weight_gradients(np.ones((2, 3)))


class TestRejectedCallsLeaveStateAlone:
    @pytest.mark.parametrize(
        "bad_x",
        [
            pytest.param(np.array([[1.0, np.nan, 2.0]]), id="nan"),
            pytest.param(np.ones(3), id="1-D"),
            pytest.param(np.array([["a", "b", "c"]]), id="strings"),
        ],
    )
    def test_forward(self, make_layer, bad_x):
        layer = make_layer()
        layer.forward(GOOD_X)
        before = snapshot(layer)
        with pytest.raises((ValueError, TypeError)):
            layer.forward(bad_x)
        assert_unchanged(layer, before)

    def test_update_weights_with_a_wrong_gradient(self):
        layer = layers.FullyConnectedLayer(3, 2, rng=np.random.default_rng(0))
        layer.forward(GOOD_X)
        before = snapshot(layer)
        with pytest.raises(ValueError):
            layer.update_weights(np.ones((2, 3)), eta=0.1)
        assert_unchanged(layer, before)


class TestFullyConnectedConstruction:
    @pytest.mark.parametrize("size", [0, -3])
    @pytest.mark.parametrize("which", ["size_in", "size_out"])
    def test_sizes_below_one(self, which, size):
        sizes = {"size_in": 3, "size_out": 2, which: size}
        with rejected(ValueError, r"FullyConnectedLayer", which, r"at least 1"):
            layers.FullyConnectedLayer(**sizes)

    @pytest.mark.parametrize("size", [2.0, "2", True, None], ids=["float", "str", "bool", "None"])
    @pytest.mark.parametrize("which", ["size_in", "size_out"])
    def test_sizes_that_are_not_ints(self, which, size):
        sizes = {"size_in": 3, "size_out": 2, which: size}
        with rejected(TypeError, r"FullyConnectedLayer", which, r"must be an int"):
            layers.FullyConnectedLayer(**sizes)

    def test_numpy_int_sizes_are_fine(self):
        layer = layers.FullyConnectedLayer(np.int64(3), np.int32(2), rng=np.random.default_rng(0))
        assert layer.weights.shape == (3, 2)

    @pytest.mark.parametrize(
        "rng",
        [np.random.RandomState(0), 0, "seed"],
        ids=["legacy-RandomState", "int-seed", "str"],
    )
    def test_rng_must_be_a_generator(self, rng):
        with rejected(TypeError, r"FullyConnectedLayer", r"rng must be a numpy\.random\.Generator",
                      r"np\.random\.default_rng\(seed\)"):
            layers.FullyConnectedLayer(3, 2, rng=rng)


class TestFullyConnectedParameters:
    @pytest.fixture
    def layer(self):
        layer = layers.FullyConnectedLayer(4, 2, rng=np.random.default_rng(0))
        layer.forward(np.ones((1, 4)))
        return layer

    @pytest.mark.parametrize(
        "weights",
        [
            pytest.param(np.ones((2, 4)), id="transposed"),
            pytest.param(np.ones((4, 3)), id="too-wide"),
            pytest.param(np.ones((1, 4, 2)), id="3-D"),
        ],
    )
    def test_weights_of_the_wrong_shape(self, layer, weights):
        before = snapshot(layer)
        with rejected(ValueError, r"FullyConnectedLayer\.weights", r"\(4, 2\)|2-D"):
            layer.weights = weights
        assert_unchanged(layer, before)

    def test_weights_message_explains_the_shape(self, layer):
        with rejected(ValueError, r"expected shape \(4, 2\)", r"size_in=4, size_out=2", r"got \(2, 4\)"):
            layer.weights = np.ones((2, 4))

    @pytest.mark.parametrize(
        "biases",
        [
            pytest.param(np.ones(2), id="1-D"),
            pytest.param(np.ones((2, 1)), id="column"),
        ],
    )
    def test_biases_of_the_right_size_suggest_a_reshape(self, layer, biases):
        before = snapshot(layer)
        with rejected(ValueError, r"FullyConnectedLayer\.biases", r"expected shape \(1, 2\)",
                      r"reshape\(1, -1\)"):
            layer.biases = biases
        assert_unchanged(layer, before)

    @pytest.mark.parametrize(
        "biases",
        [pytest.param(np.ones((1, 3)), id="too-wide"), pytest.param(np.ones(3), id="1-D-too-long")],
    )
    def test_biases_of_the_wrong_size_name_the_shape(self, layer, biases):
        # A reshape cannot fix a wrong length: the message names the shape instead.
        before = snapshot(layer)
        with rejected(ValueError, r"FullyConnectedLayer\.biases", r"expected shape \(1, 2\)") as message:
            layer.biases = biases
        assert "reshape" not in message()
        assert_unchanged(layer, before)

    @pytest.mark.parametrize(
        "weights, error_type, pattern",
        [
            pytest.param(np.full((4, 2), np.nan), ValueError, r"NaN or infinity", id="nan"),
            pytest.param(np.full((4, 2), "1"), TypeError, r"dtype", id="strings"),
        ],
    )
    def test_weights_with_bad_values(self, layer, weights, error_type, pattern):
        before = snapshot(layer)
        with rejected(error_type, r"FullyConnectedLayer\.weights", pattern):
            layer.weights = weights
        assert_unchanged(layer, before)

    @pytest.mark.parametrize("eta", [0, -0.1, np.nan, np.inf], ids=["zero", "negative", "nan", "inf"])
    def test_eta_must_be_positive_and_finite(self, layer, eta):
        before = snapshot(layer)
        with rejected(ValueError, r"FullyConnectedLayer\.update_weights", r"eta \(the learning rate\) must be finite and > 0"):
            layer.update_weights(np.ones((1, 2)), eta)
        assert_unchanged(layer, before)

    @pytest.mark.parametrize("eta", ["0.1", None, True, [0.1]], ids=["str", "None", "bool", "list"])
    def test_eta_must_be_a_number(self, layer, eta):
        before = snapshot(layer)
        with rejected(TypeError, r"FullyConnectedLayer\.update_weights", r"eta \(the learning rate\) must be a real number"):
            layer.update_weights(np.ones((1, 2)), eta)
        assert_unchanged(layer, before)


class TestEps:
    @pytest.mark.parametrize("owner", EPS_OWNERS)
    @pytest.mark.parametrize("eps", [-1e-7, np.nan, np.inf], ids=["negative", "nan", "inf"])
    def test_eps_must_be_finite_and_not_negative(self, owner, eps):
        with rejected(ValueError, owner.__name__, r"eps \(.*0 gives the exact.*\) must be finite and >= 0"):
            owner(eps=eps)

    @pytest.mark.parametrize("owner", EPS_OWNERS)
    @pytest.mark.parametrize("eps", ["1e-7", None, True], ids=["str", "None", "bool"])
    def test_eps_must_be_a_number(self, owner, eps):
        with rejected(TypeError, owner.__name__, r"eps \(.*\) must be a real number"):
            owner(eps=eps)


class TestInputLayerData:
    def test_needs_two_rows_for_a_std(self):
        with rejected(ValueError, r"InputLayer\(data\)", r"at least 2 rows", r"ddof=1"):
            layers.InputLayer([[1.0, 2.0]])

    def test_rejects_non_finite_data(self):
        with rejected(ValueError, r"InputLayer\(data\)", r"NaN or infinity"):
            layers.InputLayer([[1.0, np.nan], [2.0, 3.0]])

    def test_rejects_1d_data(self):
        with rejected(ValueError, r"InputLayer\(data\)", r"2-D", r"reshape\(1, -1\)"):
            layers.InputLayer([1.0, 2.0, 3.0])


Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
YHAT = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])


@pytest.mark.parametrize("method", ["eval", "gradient"])
class TestObjectives:
    @pytest.mark.parametrize("objective_class", OBJECTIVE_CLASSES)
    @pytest.mark.parametrize(
        "yhat",
        [pytest.param(YHAT[:, :2], id="fewer-columns"), pytest.param(YHAT[:1], id="fewer-rows"),
         pytest.param(YHAT.T, id="transposed")],
    )
    def test_shapes_must_match(self, objective_class, method, yhat):
        where = re.escape(f"{objective_class.__name__}.{method}")
        with rejected(ValueError, where, r"y has shape \(2, 3\) but yhat has shape", r"must match"):
            getattr(objective_class(), method)(Y, yhat)

    @pytest.mark.parametrize("objective_class", OBJECTIVE_CLASSES)
    def test_empty_batch(self, objective_class, method):
        where = re.escape(f"{objective_class.__name__}.{method}")
        with rejected(ValueError, where, r"empty", r"at least one row"):
            getattr(objective_class(), method)(np.empty((0, 3)), np.empty((0, 3)))

    @pytest.mark.parametrize("objective_class", OBJECTIVE_CLASSES)
    def test_1d_targets(self, objective_class, method):
        with rejected(ValueError, r"y must be 2-D", r"reshape\(1, -1\)"):
            getattr(objective_class(), method)(np.array([1.0, 0.0, 0.0]), YHAT[:1])

    @pytest.mark.parametrize("objective_class", OBJECTIVE_CLASSES)
    def test_nan_predictions(self, objective_class, method):
        with rejected(ValueError, r"yhat contains NaN"):
            getattr(objective_class(), method)(Y, np.full(Y.shape, np.nan))

    @pytest.mark.parametrize("objective_class", LOG_LOSS_CLASSES)
    @pytest.mark.parametrize("bad", [-0.1, 1.5], ids=["below-0", "above-1"])
    def test_log_losses_need_probabilities(self, objective_class, method, bad):
        yhat = YHAT.copy()
        yhat[0, 0] = bad
        where = re.escape(f"{objective_class.__name__}.{method}")
        with rejected(ValueError, where, r"yhat must lie in \[0, 1\]", r"sigmoid or softmax"):
            getattr(objective_class(), method)(Y, yhat)

    @pytest.mark.parametrize("objective_class", LOG_LOSS_CLASSES)
    def test_log_losses_need_probability_targets(self, objective_class, method):
        with rejected(ValueError, r"y must lie in \[0, 1\]"):
            getattr(objective_class(), method)(2 * Y, YHAT)

    def test_squared_error_takes_any_real_values(self, method):
        # Not a probability loss: regression targets can be anything.
        result = getattr(layers.SquaredError(), method)([[2.0]], [[-1.0]])
        assert np.all(np.isfinite(result))


class TestHelpers:
    @pytest.mark.parametrize("h", [0.0, -1e-6])
    def test_numerical_jacobian_step_must_be_positive(self, h):
        with rejected(ValueError, r"numerical_jacobian", r"h \(the finite-difference step\) must be finite and > 0"):
            layers.numerical_jacobian(layers.TanhLayer().forward, GOOD_X, h=h)

    @pytest.mark.parametrize("h", [0.0, -1e-6])
    def test_numerical_gradient_step_must_be_positive(self, h):
        with rejected(ValueError, r"numerical_gradient", r"h \(the finite-difference step\) must be finite and > 0"):
            layers.numerical_gradient(np.sum, GOOD_X, h=h)

    def test_relative_error_needs_equal_shapes(self):
        with rejected(ValueError, r"relative_error", r"shapes"):
            layers.relative_error(np.ones((2, 3)), np.ones((3, 2)))
