"""Property tests of layers.py: the calculus holds for random shapes and values.

Hypothesis draws batches of N = 1..6 rows and K = 1..8 columns with entries
in [-30, 30] (float64). Each layer's analytic Jacobian is compared with
central differences, backward with the explicit Jacobian product, each
objective's gradient with a numerical gradient of its eval.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import layers
from layer_cases import ALL_ACTIVATIONS, EPS_LAYERS, OBJECTIVE_CLASSES, SMOOTH_LAYERS

MAX_ABS = 30.0
values = st.floats(-MAX_ABS, MAX_ABS, allow_nan=False, allow_infinity=False)
rows = st.integers(1, 6)
columns = st.integers(1, 8)
probabilities = st.floats(0.0, 1.0)
# Predictions kept away from 0 and 1, where the log losses blow up.
inner_probabilities = st.floats(0.05, 0.95)

# Central differences with h = 1e-6 are off by h^2/6 |f'''| (below 1e-12 for
# these functions) plus round-off of about ulp(f) / h = 1e-10 |f|. We allow
# FD_ATOL (1 + scale of f): 100 times that, and still 1e6 times smaller than
# any wrong formula (a missing factor or term is an O(1) error).
FD_ATOL = 1e-8

# Two exact formulas for the same product (backward vs the Jacobian, softmax
# sums) differ only by float round-off, a few ulp of the largest term.
ROUNDOFF_RTOL = 1e-12

# ReLU has a kink at 0 where central differences straddle both sides: keep
# inputs 100 steps h away from it.
KINK_MARGIN = 1e-4


def fd_atol(scale):
    return FD_ATOL * (1.0 + float(np.max(np.abs(scale))))


def assert_roundoff_close(actual, expected, scale):
    atol = ROUNDOFF_RTOL * (1.0 + float(np.max(np.abs(scale))))
    np.testing.assert_allclose(actual, expected, rtol=ROUNDOFF_RTOL, atol=atol)


def batches(elements=values, min_rows=1):
    shapes = st.tuples(st.integers(min_rows, 6), columns)
    return shapes.flatmap(lambda shape: hnp.arrays(np.float64, shape, elements=elements))


@st.composite
def batch_pairs(draw, first=values, second=values):
    """Two batches of one shape: x and a gradient g for its output, or y and yhat."""
    shape = (draw(rows), draw(columns))
    return (
        draw(hnp.arrays(np.float64, shape, elements=first)),
        draw(hnp.arrays(np.float64, shape, elements=second)),
    )


@st.composite
def fully_connected_cases(draw):
    """x (N, size_in), weights, biases and a gradient g (N, size_out)."""
    n, size_in, size_out = draw(rows), draw(columns), draw(columns)
    x = draw(hnp.arrays(np.float64, (n, size_in), elements=values))
    weights = draw(hnp.arrays(np.float64, (size_in, size_out), elements=values))
    biases = draw(hnp.arrays(np.float64, (1, size_out), elements=values))
    g = draw(hnp.arrays(np.float64, (n, size_out), elements=values))
    return x, weights, biases, g


def fully_connected(weights, biases):
    layer = layers.FullyConnectedLayer(*weights.shape, rng=np.random.default_rng(0))
    layer.weights, layer.biases = weights, biases
    return layer


away_from_kink = values.filter(lambda v: abs(v) > KINK_MARGIN)

class TestJacobianMatchesFiniteDifferences:
    @pytest.mark.parametrize("new_layer", SMOOTH_LAYERS)
    @given(x=batches())
    def test_smooth_layer(self, new_layer, x):
        layer = new_layer()
        out = layer.forward(x)
        jacobian = layer.gradient()
        assert jacobian.shape == (x.shape[0], out.shape[1], x.shape[1])
        numerical = layers.numerical_jacobian(layer.forward, x)
        np.testing.assert_allclose(jacobian, numerical, rtol=0, atol=fd_atol(out))

    @given(x=batches(elements=away_from_kink))
    def test_relu_away_from_zero(self, x):
        layer = layers.ReLULayer()
        out = layer.forward(x)
        numerical = layers.numerical_jacobian(layer.forward, x)
        np.testing.assert_allclose(layer.gradient(), numerical, rtol=0, atol=fd_atol(out))

    @given(data=batches(min_rows=2), n=rows, seed=st.integers(0, 2**32 - 1))
    def test_input_layer(self, data, n, seed):
        layer = layers.InputLayer(data)
        # A subnormal spread has 1 / std beyond float64 (inf, tested on its own).
        layer.forward(data[:1])
        assume(np.all(np.isfinite(layer.gradient())))
        x = np.random.default_rng(seed).uniform(-MAX_ABS, MAX_ABS, (n, data.shape[1]))
        out = layer.forward(x)
        assume(np.all(np.isfinite(out)))  # z-scores beyond float64 are inf: no slope to measure
        numerical = layers.numerical_jacobian(layer.forward, x)
        # A near-constant column has a tiny std, so out and J are huge: scale by J too.
        with np.errstate(over="ignore"):
            atol = fd_atol(out) * (1.0 + float(np.max(layer.gradient())))
        assume(np.isfinite(atol))  # z-scores near float64's limit: no finite differences there
        np.testing.assert_allclose(layer.gradient(), numerical, rtol=0, atol=atol)

    @given(case=fully_connected_cases())
    def test_fully_connected(self, case):
        x, weights, biases, _ = case
        layer = fully_connected(weights, biases)
        out = layer.forward(x)
        jacobian = layer.gradient()
        assert jacobian.shape == (weights.shape[1], weights.shape[0])  # one (out, in) matrix
        numerical = layers.numerical_jacobian(layer.forward, x)
        for row_jacobian in numerical:
            np.testing.assert_allclose(jacobian, row_jacobian, rtol=0, atol=fd_atol(out))


class TestBackward:
    @pytest.mark.parametrize("new_layer", ALL_ACTIVATIONS)
    @given(pair=batch_pairs())
    def test_equals_the_jacobian_product(self, new_layer, pair):
        x, g = pair
        layer = new_layer()
        layer.forward(x)
        expected = np.einsum("ni,nij->nj", g, layer.gradient())
        assert_roundoff_close(layer.backward(g), expected, scale=g)

    @given(data=batches(min_rows=2), seed=st.integers(0, 2**32 - 1))
    def test_input_layer_equals_the_jacobian_product(self, data, seed):
        layer = layers.InputLayer(data)
        rng = np.random.default_rng(seed)
        layer.forward(rng.uniform(-MAX_ABS, MAX_ABS, data.shape))
        # A subnormal spread has 1 / std beyond float64 (inf, tested on its own).
        assume(np.all(np.isfinite(layer.gradient())))
        g = rng.uniform(-MAX_ABS, MAX_ABS, data.shape)
        expected = np.einsum("ni,nij->nj", g, layer.gradient())
        assert_roundoff_close(layer.backward(g), expected, scale=expected)

    @given(case=fully_connected_cases())
    def test_fully_connected_is_g_times_the_jacobian(self, case):
        x, weights, biases, g = case
        layer = fully_connected(weights, biases)
        layer.forward(x)
        assert_roundoff_close(layer.backward(g), g @ layer.gradient(), scale=np.abs(g) @ np.abs(weights.T))

    @given(pair=batch_pairs())
    def test_chain_rule_through_two_layers(self, pair):
        # d/dx sum(g * softmax(tanh(x))) by backward twice equals finite differences.
        x, g = pair
        tanh, softmax = layers.TanhLayer(eps=0), layers.SoftmaxLayer()

        def loss(z):
            return np.sum(g * softmax.forward(tanh.forward(z)))

        softmax.forward(tanh.forward(x))
        analytic = tanh.backward(softmax.backward(g))
        numerical = layers.numerical_gradient(loss, x)
        np.testing.assert_allclose(analytic, numerical, rtol=0, atol=fd_atol(np.abs(g).sum()))


@pytest.mark.parametrize("layer_class, exact_derivative", EPS_LAYERS)
class TestEps:
    @given(x=batches(), eps=st.floats(0, 1e-3))
    def test_eps_is_added_to_the_diagonal_only(self, layer_class, exact_derivative, x, eps):
        with_eps, exact = layer_class(eps=eps), layer_class(eps=0)
        np.testing.assert_array_equal(with_eps.forward(x), exact.forward(x))
        difference = with_eps.gradient() - exact.gradient()
        expected = eps * np.broadcast_to(np.eye(x.shape[1]), difference.shape)
        np.testing.assert_allclose(difference, expected, rtol=0, atol=1e-15)

    def test_default_eps_is_1e_7(self, layer_class, exact_derivative):
        assert layer_class().eps == 1e-7

    @given(x=batches())
    def test_eps_zero_is_the_exact_derivative(self, layer_class, exact_derivative, x):
        # The exact derivative written without the output g (conftest.EPS_LAYERS).
        # Near saturation 1 - g keeps ~1e-16 absolute accuracy, hence atol.
        layer = layer_class(eps=0)
        layer.forward(x)
        diagonal = np.diagonal(layer.gradient(), axis1=1, axis2=2)
        np.testing.assert_allclose(diagonal, exact_derivative(x), rtol=1e-9, atol=1e-15)


class TestReLU:
    def test_derivative_at_exactly_zero_is_one(self):
        layer = layers.ReLULayer()
        layer.forward([[0.0, -0.0]])
        np.testing.assert_array_equal(layer.gradient()[0], np.eye(2))
        np.testing.assert_array_equal(layer.backward([[3.0, 5.0]]), [[3.0, 5.0]])

    def test_negative_inputs_are_cut_off(self):
        layer = layers.ReLULayer()
        np.testing.assert_array_equal(layer.forward([[-2.0, -1e-300, 1e-300, 2.0]]), [[0, 0, 1e-300, 2.0]])
        np.testing.assert_array_equal(np.diagonal(layer.gradient()[0]), [0, 0, 1, 1])


class TestLinear:
    @given(x=batches())
    def test_is_the_identity(self, x):
        layer = layers.LinearLayer()
        np.testing.assert_array_equal(layer.forward(x), x)
        np.testing.assert_array_equal(layer.backward(x), x)


class TestSoftmax:
    @given(x=batches())
    def test_rows_are_probabilities(self, x):
        s = layers.SoftmaxLayer().forward(x)
        assert np.all(s >= 0) and np.all(s <= 1)
        np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=1e-12)

    @given(x=batches())
    def test_jacobian_columns_sum_to_zero(self, x):
        # The outputs always sum to 1, so moving any input changes their sum by 0.
        layer = layers.SoftmaxLayer()
        layer.forward(x)
        np.testing.assert_allclose(layer.gradient().sum(axis=1), 0.0, rtol=0, atol=1e-12)

    @given(x=batches())
    def test_jacobian_is_symmetric(self, x):
        layer = layers.SoftmaxLayer()
        layer.forward(x)
        jacobian = layer.gradient()
        np.testing.assert_allclose(jacobian, jacobian.transpose(0, 2, 1), rtol=0, atol=1e-15)

    @given(x=batches(), shift=values)
    def test_adding_a_constant_to_a_row_changes_nothing(self, x, shift):
        layer = layers.SoftmaxLayer()
        # x + shift is rounded to ulp(60) ~ 7e-15, which moves s by as much.
        np.testing.assert_allclose(layer.forward(x + shift), layer.forward(x), rtol=0, atol=1e-12)


class TestInputLayer:
    @given(data=batches(min_rows=2))
    def test_own_data_has_mean_0_and_std_1(self, data):
        # Only well-conditioned columns: with std >= 1e-3, the round-off of
        # x - mean (ulp(30) / 1e-3 ~ 4e-12) stays far below the 1e-9 asked.
        assume(np.all(data.std(axis=0, ddof=1) >= 1e-3))
        out = layers.InputLayer(data).forward(data)
        np.testing.assert_allclose(out.mean(axis=0), 0.0, rtol=0, atol=1e-9)
        np.testing.assert_allclose(out.std(axis=0, ddof=1), 1.0, rtol=1e-9)

    @given(data=batches(min_rows=2), seed=st.integers(0, 2**32 - 1))
    def test_uses_the_statistics_of_its_data_not_of_x(self, data, seed):
        assume(np.all(data.std(axis=0, ddof=1) >= 1e-3))
        layer = layers.InputLayer(data)
        x = np.random.default_rng(seed).uniform(-MAX_ABS, MAX_ABS, (3, data.shape[1]))
        expected = (x - data.mean(axis=0)) / data.std(axis=0, ddof=1)
        np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-9, atol=1e-9)

    @given(data=batches(min_rows=2))
    def test_jacobian_is_diagonal_one_over_std(self, data):
        assume(np.all(data.std(axis=0, ddof=1) >= 1e-3))
        layer = layers.InputLayer(data)
        layer.forward(data)
        jacobian = layer.gradient()
        expected = np.diag(1.0 / data.std(axis=0, ddof=1))
        np.testing.assert_allclose(jacobian, np.broadcast_to(expected, jacobian.shape), rtol=1e-12)

    @pytest.mark.parametrize(
        "constant",
        [
            pytest.param(5.0, id="exact-mean"),
            # 0.1 + 0.1 + 0.1 != 0.3 in float64: the mean is off by an ulp,
            # so np.std gives 1.7e-17 instead of 0.
            pytest.param(0.1, id="inexact-mean"),
        ],
    )
    def test_constant_column_is_divided_by_one(self, constant):
        data = np.column_stack([np.full(3, constant), [1.0, 2.0, 3.0]])
        layer = layers.InputLayer(data)
        out = layer.forward(data)
        np.testing.assert_allclose(out[:, 0], 0.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out[:, 1], [-1.0, 0.0, 1.0], rtol=1e-12)
        np.testing.assert_allclose(layer.gradient()[0], np.diag([1.0, 1.0]), rtol=1e-12)


class TestObjectiveGradients:
    @given(pair=batch_pairs())
    def test_squared_error(self, pair):
        y, yhat = pair
        objective = layers.SquaredError()
        numerical = layers.numerical_gradient(lambda p: objective.eval(y, p), yhat)
        atol = fd_atol(objective.eval(y, yhat) * y.shape[0])  # scale: the sum of the terms
        np.testing.assert_allclose(objective.gradient(y, yhat), numerical, rtol=0, atol=atol)

    @given(pair=batch_pairs(probabilities, inner_probabilities), one_hot=st.booleans())
    def test_log_losses_with_eps_zero(self, log_loss_class, pair, one_hot):
        y, yhat = pair
        if one_hot:
            y = np.eye(y.shape[1])[np.argmax(y, axis=1)]
        assert_gradient_of_eval(log_loss_class(eps=0), y, yhat)

    @given(pair=batch_pairs(probabilities, inner_probabilities))
    def test_cross_entropy_with_default_eps_is_exact(self, pair):
        # -y / (yhat + eps) is the exact derivative of -y ln(yhat + eps).
        assert_gradient_of_eval(layers.CrossEntropy(), *pair)

    @given(pair=batch_pairs(probabilities, inner_probabilities))
    def test_log_loss_with_default_eps_is_exact_up_to_eps(self, pair):
        # The homework's formula -(y - yhat) / (yhat (1 - yhat) + eps) differs
        # from d/dyhat of the eps-shifted logs by about eps / (yhat (1 - yhat)),
        # at most 1e-7 / 0.0475 = 2.1e-6 (divided by N, like the gradient);
        # we allow twice that.
        y, yhat = pair
        objective = layers.LogLoss()
        assert_gradient_of_eval(objective, y, yhat, slack=2 * objective.eps / np.min(yhat * (1 - yhat)) / y.shape[0])


def assert_gradient_of_eval(objective, y, yhat, slack=0.0):
    """objective.gradient is the numerical gradient of objective.eval, for yhat in [0.05, 0.95].

    The third derivative of ln(p) is 2 / p^3 <= 1.6e4 there: truncation
    <= 3e-9; `slack` allows a known difference on top.
    """
    numerical = layers.numerical_gradient(lambda p: objective.eval(y, p), yhat)
    atol = fd_atol(objective.eval(y, yhat) * y.shape[0]) + 3e-9 + slack
    np.testing.assert_allclose(objective.gradient(y, yhat), numerical, rtol=0, atol=atol)


class TestObjectiveEval:
    @given(pair=batch_pairs(probabilities, probabilities))
    def test_is_the_mean_of_the_row_losses(self, objective_class, pair):
        y, yhat = pair
        objective = objective_class()
        loss = objective.eval(y, yhat)
        assert type(loss) is float
        row_losses = [objective.eval(y[[n]], yhat[[n]]) for n in range(y.shape[0])]
        assert loss == pytest.approx(np.mean(row_losses), rel=ROUNDOFF_RTOL, abs=ROUNDOFF_RTOL)

    @given(pair=batch_pairs(probabilities, probabilities))
    def test_is_about_zero_for_a_perfect_prediction(self, objective_class, pair):
        # A one-hot y predicted exactly costs nothing but eps: |loss| <= K ln(1 + eps) ~ K 1e-7.
        y, _ = pair
        y = np.eye(y.shape[1])[np.argmax(y, axis=1)]
        assert abs(objective_class().eval(y, y)) <= 1e-6 * y.shape[1]


class TestFullyConnectedParameters:
    @given(case=fully_connected_cases())
    def test_weight_gradients_match_finite_differences(self, case):
        # L = sum(g * forward(x)) has dL/d(out) = g, so weight_gradients(g)
        # must be dL/dW and dL/db.
        x, weights, biases, g = case
        layer = fully_connected(weights, biases)

        def loss_of(parameter):
            """L as a function of one parameter (weights or biases), the other fixed."""
            def loss(value):
                setattr(layer, parameter, value)
                return np.sum(g * layer.forward(x))
            return loss

        numerical_dw = layers.numerical_gradient(loss_of("weights"), weights)
        numerical_db = layers.numerical_gradient(loss_of("biases"), biases)
        # numerical_gradient leaves each parameter at the value it was given.
        np.testing.assert_array_equal(layer.weights, weights)
        np.testing.assert_array_equal(layer.biases, biases)
        out = layer.forward(x)
        d_weights, d_biases = layer.weight_gradients(g)
        assert d_weights.shape == weights.shape and d_biases.shape == biases.shape
        atol = fd_atol(np.sum(np.abs(g * out)))  # scale: the sum of the terms of L
        np.testing.assert_allclose(d_weights, numerical_dw, rtol=0, atol=atol)
        np.testing.assert_allclose(d_biases, numerical_db, rtol=0, atol=atol)

    @given(case=fully_connected_cases(), eta=st.floats(1e-6, 10.0))
    def test_update_weights_steps_by_minus_eta_times_the_gradients(self, case, eta):
        x, weights, biases, g = case
        layer = fully_connected(weights, biases)
        layer.forward(x)
        d_weights, d_biases = layer.weight_gradients(g)
        layer.update_weights(g, eta)
        assert_roundoff_close(layer.weights, weights - eta * d_weights, scale=eta * d_weights)
        assert_roundoff_close(layer.biases, biases - eta * d_biases, scale=eta * d_biases)
        # The Jacobian stays the one of the last forward pass ...
        np.testing.assert_array_equal(layer.gradient(), weights.T)
        # ... until the next forward, which uses the new weights.
        layer.forward(x)
        np.testing.assert_array_equal(layer.gradient(), layer.weights.T)

    def test_a_step_downhill_lowers_the_loss(self):
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
        layer, objective = layers.FullyConnectedLayer(3, 2, rng=rng), layers.SquaredError()
        before = objective.eval(y, layer.forward(x))
        layer.update_weights(objective.gradient(y, layer.prev_out), eta=0.1)
        assert objective.eval(y, layer.forward(x)) < before

    def test_initial_weights_are_small_and_seeded(self):
        first = layers.FullyConnectedLayer(5, 3, rng=np.random.default_rng(7))
        second = layers.FullyConnectedLayer(5, 3, rng=np.random.default_rng(7))
        np.testing.assert_array_equal(first.weights, second.weights)
        np.testing.assert_array_equal(first.biases, second.biases)
        assert first.weights.shape == (5, 3) and first.biases.shape == (1, 3)
        assert np.all(np.abs(first.weights) <= 1e-4) and np.all(np.abs(first.biases) <= 1e-4)
        assert first.weights.dtype == np.float64


class TestFiniteDifferenceHelpers:
    def test_numerical_jacobian_leaves_the_layer_at_x(self):
        layer, x = layers.SoftmaxLayer(), np.array([[1.0, 2.0, 3.0]])
        layer.forward(np.zeros((1, 3)))
        layers.numerical_jacobian(layer.forward, x)
        np.testing.assert_array_equal(layer.prev_in, x)

    def test_numerical_gradient_leaves_f_at_x(self):
        # f may store its argument (here: weights it assigns to a layer).
        layer = layers.FullyConnectedLayer(2, 1, rng=np.random.default_rng(0))
        weights = np.array([[1.0], [2.0]])

        def loss(w):
            layer.weights = w
            return float(np.sum(layer.forward([[3.0, 4.0]])))

        layers.numerical_gradient(loss, weights)
        np.testing.assert_array_equal(layer.weights, weights)

    def test_numerical_gradient_of_a_quadratic(self):
        # Central differences are exact (up to round-off) for a quadratic.
        x = np.array([[1.0, -2.0], [0.5, 3.0]])
        np.testing.assert_allclose(layers.numerical_gradient(lambda z: np.sum(z**2), x), 2 * x, atol=1e-8)

    def test_relative_error(self):
        assert layers.relative_error([[1.0, 2.0]], [[1.0, 2.0]]) == 0.0
        assert layers.relative_error([[1.0]], [[3.0]]) == pytest.approx(0.5)
        # Both ~0: the 1e-8 floor keeps the ratio finite and small.
        assert layers.relative_error([[0.0]], [[1e-12]]) == pytest.approx(1e-4)
