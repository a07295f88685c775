"""Tests of the layers after the homework: LeakyReLU, Softplus, ELU, GELU,
log-softmax, layer and batch normalisation, dropout, and the cross entropy
from logits.

The same standards as Part 1's tests (test_layers.py, whose strategies and
tolerances are reused here): hypothesis properties of every Jacobian against
central differences, backward against the einsum with the Jacobian, values
against mpmath as an independent referee, bad input, large input. The layers
also run through the shared tests of test_layers.py (conftest's SMOOTH_LAYERS
and ALL_ACTIVATIONS), test_bad_input.py and test_numerics.py (LAYER_FACTORIES).
"""

import re
import warnings
from contextlib import contextmanager

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import layers
from layer_cases import GOOD_X
from test_bad_input import rejected
from test_layers import (
    FD_ATOL,
    MAX_ABS,
    assert_roundoff_close,
    away_from_kink,
    batch_pairs,
    batches,
    fd_atol,
    probabilities,
    rows,
    values,
)

BIG = 1000.0

# Softplus, GELU and log-softmax are in conftest's SMOOTH_LAYERS, LeakyReLU and
# ELU (default alpha) in ALL_ACTIVATIONS: test_layers.py checks their Jacobians
# and backward. Here: the kinks, other alphas, and the layers with state.
KINKED_LAYERS = [
    pytest.param(layers.LeakyReLULayer, id="leaky-relu"),
    pytest.param(lambda: layers.LeakyReLULayer(alpha=0.3), id="leaky-relu-0.3"),
    pytest.param(layers.ELULayer, id="elu"),
    pytest.param(lambda: layers.ELULayer(alpha=2.5), id="elu-2.5"),
]
# Layers whose gradient() is one (K, K) matrix per row, beyond ALL_ACTIVATIONS.
PER_ROW_LAYERS = KINKED_LAYERS[1::2] + [
    pytest.param(layers.LayerNormLayer, id="layer-norm"),
    pytest.param(lambda: layers.LayerNormLayer(eps=1.0), id="layer-norm-eps-1"),
    pytest.param(lambda: layers.DropoutLayer(p=0.3, rng=np.random.default_rng(0)), id="dropout"),
]


def with_spread(x, axis):
    """x plus a ramp along `axis`, so that each row (axis=1) or column (axis=0) has variance >= ~1.

    Normalising a nearly constant row divides round-off by a tiny standard
    deviation: finite differences then measure round-off, not the Jacobian.
    """
    ramp = 2.0 * np.arange(x.shape[axis], dtype=np.float64)
    return x + (ramp if axis == 1 else ramp[:, None])


def normalisation_fd_atol(x, inverse_std):
    """Tolerance for central differences of a normalisation.

    x - mean is rounded to ulp(max|x|) ~ 2.2e-16 max|x|; the layer multiplies
    it by r = 1/std, and the difference quotient divides by h = 1e-6: an
    error of about 2.2e-10 max|x| r. FD_ATOL (1 + max|x|) r is 45 times that;
    a wrong formula is off by O(r / K).
    """
    return FD_ATOL * (1.0 + float(np.max(np.abs(x)))) * float(np.max(inverse_std))


def full_numerical_jacobian(f, x, h=1e-6):
    """d f(x)[n, i] / d x[m, j] by central differences, one entry at a time: (N, K, N, K)."""
    x = np.array(x, dtype=np.float64)
    n, k = x.shape
    jacobian = np.zeros((n, k, n, k))
    for m in range(n):
        for j in range(k):
            step = np.zeros_like(x)
            step[m, j] = h
            jacobian[:, :, m, j] = (f(x + step) - f(x - step)) / (2 * h)
    return jacobian


def spread_batch_norm(jacobian, shape):
    """BatchNorm's (K, N, N) Jacobian as the (N, K, N, K) one of the whole batch."""
    n, k = shape
    full = np.zeros((n, k, n, k))
    for feature in range(k):
        full[:, feature, :, feature] = jacobian[feature]
    return full


@contextmanager
def no_warnings():
    """Turn every warning (numpy's RuntimeWarning above all) into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------
# Jacobians against central differences
# --------------------------------------------------------------------------

class TestJacobianMatchesFiniteDifferences:
    @pytest.mark.parametrize("new_layer", KINKED_LAYERS)
    @given(x=batches(elements=away_from_kink))
    def test_layer_with_a_kink_at_zero(self, new_layer, x):
        layer = new_layer()
        out = layer.forward(x)
        numerical = layers.numerical_jacobian(layer.forward, x)
        np.testing.assert_allclose(layer.gradient(), numerical, rtol=0, atol=fd_atol(out))

    @given(x=batches(), eps=st.sampled_from([1e-5, 1e-3, 1.0]))
    def test_layer_norm(self, x, eps):
        x = with_spread(x, axis=1)
        layer = layers.LayerNormLayer(eps=eps)
        layer.forward(x)
        numerical = layers.numerical_jacobian(layer.forward, x)
        atol = normalisation_fd_atol(x, layer.inverse_std)
        np.testing.assert_allclose(layer.gradient(), numerical, rtol=0, atol=atol)

    @given(x=batches(), p=st.sampled_from([0.0, 0.2, 0.5, 0.9]), seed=st.integers(0, 2**32 - 1))
    def test_dropout_with_its_mask_fixed(self, x, p, seed):
        # A fresh layer with the same seed draws the same mask: a fixed function of x.
        def forward(z):
            return layers.DropoutLayer(p=p, rng=np.random.default_rng(seed)).forward(z)

        layer = layers.DropoutLayer(p=p, rng=np.random.default_rng(seed))
        out = layer.forward(x)
        numerical = layers.numerical_jacobian(forward, x)
        np.testing.assert_allclose(layer.gradient(), numerical, rtol=0, atol=fd_atol(out))

    @given(x=batches(min_rows=2), eps=st.sampled_from([1e-5, 1e-3, 1.0]))
    def test_batch_norm_training_across_the_batch(self, x, eps):
        x = with_spread(x, axis=0)
        layer = layers.BatchNormLayer(eps=eps)
        layer.forward(x)
        jacobian = layer.gradient()
        n, k = x.shape
        assert jacobian.shape == (k, n, n)
        # Every entry perturbed on its own: a coupling between features would show.
        numerical = full_numerical_jacobian(layers.BatchNormLayer(eps=eps).forward, x)
        atol = normalisation_fd_atol(x, layer.inverse_std)
        np.testing.assert_allclose(spread_batch_norm(jacobian, x.shape), numerical, rtol=0, atol=atol)

    @given(data=batches(min_rows=2), n=rows, seed=st.integers(0, 2**32 - 1))
    def test_batch_norm_eval_is_diagonal_per_feature(self, data, n, seed):
        layer = layers.BatchNormLayer()
        layer.forward(with_spread(data, axis=0))
        layer.training = False
        x = np.random.default_rng(seed).uniform(-MAX_ABS, MAX_ABS, (n, data.shape[1]))
        out = layer.forward(x)
        jacobian = layer.gradient()
        assert jacobian.shape == (x.shape[1], n, n)
        np.testing.assert_array_equal(jacobian, layer.inverse_std.reshape(-1, 1, 1) * np.eye(n))
        numerical = full_numerical_jacobian(layer.forward, x)
        np.testing.assert_allclose(spread_batch_norm(jacobian, x.shape), numerical, rtol=0,
                                   atol=fd_atol(out) * float(np.max(layer.inverse_std)))


# --------------------------------------------------------------------------
# backward equals the product with the Jacobian
# --------------------------------------------------------------------------

class TestBackward:
    @pytest.mark.parametrize("new_layer", PER_ROW_LAYERS)
    @given(pair=batch_pairs())
    def test_per_row_layers_equal_the_jacobian_product(self, new_layer, pair):
        x, g = pair
        layer = new_layer()
        layer.forward(x)
        expected = np.einsum("ni,nij->nj", g, layer.gradient())
        # Scale: the largest term of the product, g times the largest Jacobian entry.
        scale = np.abs(g).sum(axis=1, keepdims=True) * np.max(np.abs(layer.gradient()))
        assert_roundoff_close(layer.backward(g), expected, scale=scale)

    @pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
    @given(pair=batch_pairs(), eps=st.sampled_from([1e-5, 1.0]))
    def test_batch_norm_equals_the_einsum_across_the_batch(self, training, pair, eps):
        x, g = pair
        assume(not training or x.shape[0] >= 2)
        layer = layers.BatchNormLayer(eps=eps)
        if not training:
            # Running statistics away from 0 and 1 first.
            layer.forward(np.random.default_rng(0).normal(3.0, 2.0, (4, x.shape[1])))
            layer.training = False
        layer.forward(x)
        jacobian = layer.gradient()
        expected = np.einsum("nk,knm->mk", g, jacobian)
        scale = np.abs(g).sum(axis=0, keepdims=True) * np.max(np.abs(jacobian))
        assert_roundoff_close(layer.backward(g), expected, scale=scale)

    @given(pair=batch_pairs())
    def test_chain_rule_through_layer_norm_and_gelu(self, pair):
        # d/dx sum(g * gelu(layer_norm(x))) by backward twice equals finite differences.
        x, g = pair
        x = with_spread(x, axis=1)
        norm, gelu = layers.LayerNormLayer(), layers.GELULayer()

        def loss(z):
            return np.sum(g * gelu.forward(norm.forward(z)))

        gelu.forward(norm.forward(x))
        analytic = norm.backward(gelu.backward(g))
        numerical = layers.numerical_gradient(loss, x)
        atol = normalisation_fd_atol(x, norm.inverse_std) * (1.0 + float(np.abs(g).sum()))
        np.testing.assert_allclose(analytic, numerical, rtol=0, atol=atol)


# --------------------------------------------------------------------------
# The cross entropy from logits
# --------------------------------------------------------------------------

targets = st.sampled_from(["one-hot", "soft", "any"])


def make_targets(y, kind):
    """y in [0, 1] of three kinds: one-hot rows, rows summing to 1, anything."""
    if kind == "one-hot":
        return np.eye(y.shape[1])[np.argmax(y, axis=1)]
    if kind == "soft":
        row_sums = y.sum(axis=1, keepdims=True)
        return np.where(row_sums > 0, y / np.where(row_sums > 0, row_sums, 1.0), 1.0 / y.shape[1])
    return y


class TestCrossEntropyWithLogits:
    @given(pair=batch_pairs(probabilities, values), kind=targets)
    def test_gradient_matches_finite_differences(self, pair, kind):
        y, z = pair
        y = make_targets(y, kind)
        objective = layers.CrossEntropyWithLogits()
        numerical = layers.numerical_gradient(lambda p: objective.eval(y, p), z)
        # eval's terms are y (z - LogSumExp), each of size up to 2 max|z|.
        atol = fd_atol(2 * MAX_ABS * y.sum())
        np.testing.assert_allclose(objective.gradient(y, z), numerical, rtol=0, atol=atol)

    @given(pair=batch_pairs(probabilities, values), kind=targets)
    def test_is_log_softmax_then_the_weighted_sum(self, pair, kind):
        # eval = -mean_n sum_k y log_softmax(z), and its gradient is
        # LogSoftmaxLayer.backward of d eval / d log_softmax = -y / N.
        y, z = pair
        y = make_targets(y, kind)
        n = y.shape[0]
        log_softmax = layers.LogSoftmaxLayer()
        log_s = log_softmax.forward(z)
        objective = layers.CrossEntropyWithLogits()
        loss = objective.eval(y, z)
        assert type(loss) is float
        assert loss == pytest.approx(-np.sum(y * log_s) / n, rel=1e-12, abs=1e-12)
        assert_roundoff_close(objective.gradient(y, z), log_softmax.backward(-y / n),
                              scale=np.abs(y).sum(axis=1, keepdims=True) / n)

    @given(pair=batch_pairs(probabilities, values))
    def test_one_hot_gradient_is_s_minus_y_over_n(self, pair):
        y, z = pair
        y = make_targets(y, "one-hot")
        s = layers.SoftmaxLayer().forward(z)
        gradient = layers.CrossEntropyWithLogits().gradient(y, z)
        assert_roundoff_close(gradient, (s - y) / y.shape[0], scale=1.0)

    def test_agrees_with_softmax_then_cross_entropy_where_that_is_exact(self):
        y = np.array([[1.0, 0.0, 0.0], [0.0, 0.2, 0.8]])
        z = np.array([[2.0, -1.0, 0.5], [0.1, 0.3, -0.4]])
        s = layers.SoftmaxLayer().forward(z)
        exact = layers.CrossEntropy(eps=0).eval(y, s)
        assert layers.CrossEntropyWithLogits().eval(y, z) == pytest.approx(exact, rel=1e-13)

    def test_a_logit_gap_of_1000_costs_1000(self):
        # log_softmax([-1000, 1000]) = [-2000, 0]: the true class at -1000 costs 2000,
        # where ln(softmax) would be ln(0) = -inf.
        objective = layers.CrossEntropyWithLogits()
        with no_warnings():
            loss = objective.eval([[1.0, 0.0]], [[-BIG, BIG]])
            gradient = objective.gradient([[1.0, 0.0]], [[-BIG, BIG]])
        assert loss == 2 * BIG
        np.testing.assert_array_equal(gradient, [[-1.0, 1.0]])

    def test_a_right_and_sure_prediction_costs_nothing(self):
        objective = layers.CrossEntropyWithLogits()
        with no_warnings():
            assert objective.eval([[0.0, 1.0]], [[-BIG, BIG]]) == 0.0
            np.testing.assert_array_equal(objective.gradient([[0.0, 1.0]], [[-BIG, BIG]]), [[0.0, 0.0]])

    def test_zero_targets_cost_nothing_and_pull_nowhere(self):
        objective = layers.CrossEntropyWithLogits()
        assert objective.eval([[0.0, 0.0, 0.0]], [[1.0, -2.0, 3.0]]) == 0.0
        np.testing.assert_array_equal(objective.gradient([[0.0, 0.0, 0.0]], [[1.0, -2.0, 3.0]]), 0.0)

    def test_mean_over_rows(self):
        y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
        z = np.array([[0.3, -0.2], [1.5, 2.0], [-1.0, 4.0]])
        objective = layers.CrossEntropyWithLogits()
        row_losses = [objective.eval(y[[n]], z[[n]]) for n in range(3)]
        assert objective.eval(y, z) == pytest.approx(np.mean(row_losses), rel=1e-14)


# --------------------------------------------------------------------------
# Values against mpmath (50 digits), an independent referee
# --------------------------------------------------------------------------

mpmath.mp.dps = 50
POINTS = [-BIG, -30.0, -12.0, -5.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 3.0, 20.0, 40.0, BIG]


def mp_softplus(x):
    return mpmath.log1p(mpmath.exp(x))


def mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def mp_elu(alpha):
    return lambda x: x if x > 0 else alpha * mpmath.expm1(x)


def mp_elu_slope(alpha):
    return lambda x: mpmath.mpf(1) if x > 0 else alpha * mpmath.exp(x)


def mp_gelu(x):
    # x/2 (1 + tanh u), with 1 + tanh u = 2 e^u / (e^u + e^-u): exact at any
    # precision, where 1 + tanh(u) in 50 digits would cancel for u < -60.
    u = mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf("0.044715") * x**3)
    return x * mpmath.exp(u) / (mpmath.exp(u) + mpmath.exp(-u))


def mp_gelu_slope(x):
    return mpmath.diff(mp_gelu, x)  # smooth: numerical differentiation in 50 digits is exact enough


def assert_close_to(ours, exact, rtol, atol=0.0):
    """ours (a float) equals the mpmath value to rtol relative to the value itself (plus atol)."""
    exact = float(exact)
    assert abs(ours - exact) <= rtol * abs(exact) + atol, (ours, exact)


class TestAgainstMpmath:
    # Entrywise relative tolerances, even where the value is tiny (GELU(-12)
    # = -1.7e-62): the best float64 can do is about the function's condition
    # number |x f'(x) / f(x)| times 1.1e-16, which is at most ~430 at these
    # points (GELU at -12), i.e. 5e-14; we allow 1e-13 for values and 1e-12
    # for derivatives, and 1e-15 where the condition number is about 1.
    @pytest.mark.parametrize(
        "new_layer, function, slope",
        [
            pytest.param(layers.SoftplusLayer, mp_softplus, mp_sigmoid, id="softplus"),
            pytest.param(layers.ELULayer, mp_elu(1), mp_elu_slope(1), id="elu"),
            pytest.param(lambda: layers.ELULayer(alpha=0.5), mp_elu(mpmath.mpf("0.5")),
                         mp_elu_slope(mpmath.mpf("0.5")), id="elu-0.5"),
            pytest.param(layers.GELULayer, mp_gelu, mp_gelu_slope, id="gelu"),
        ],
    )
    def test_values_and_derivatives(self, new_layer, function, slope):
        layer = new_layer()
        with no_warnings():
            out = layer.forward(np.array([POINTS]))[0]
            derivative = np.diagonal(layer.gradient()[0])
        for point, value, ours_slope in zip(POINTS, out, derivative):
            assert_close_to(value, function(mpmath.mpf(point)), rtol=1e-13)
            assert_close_to(ours_slope, slope(mpmath.mpf(point)), rtol=1e-12)

    def test_log_softmax(self):
        x = np.array([[BIG, -BIG, 0.5, 3.0], [1e-8, 0.0, -30.0, 40.0], [-BIG, -BIG, -BIG, -BIG + 1]])
        with no_warnings():
            out = layers.LogSoftmaxLayer().forward(x)
        for row, row_out in zip(x, out):
            total = mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in row)
            for value, ours in zip(row, row_out):
                # At the row's maximum the value is -ln(1 + tiny): within 1e-15 of 0.
                assert_close_to(ours, mpmath.mpf(value) - mpmath.log(total), rtol=1e-15, atol=1e-15)

    def test_cross_entropy_with_logits(self):
        y = np.array([[1.0, 0.0, 0.0], [0.0, 0.3, 0.7], [0.25, 0.0, 0.5]])
        z = np.array([[-BIG, BIG, 0.0], [2.0, -1.0, 0.5], [BIG, BIG - 3.0, -BIG]])
        objective = layers.CrossEntropyWithLogits()
        with no_warnings():
            loss, gradient = objective.eval(y, z), objective.gradient(y, z)
        total, exact_gradient = mpmath.mpf(0), []
        for y_row, z_row in zip(y, z):
            terms = [mpmath.exp(mpmath.mpf(v)) for v in z_row]
            log_sum = mpmath.log(mpmath.fsum(terms))
            total -= mpmath.fsum(mpmath.mpf(t) * (mpmath.mpf(v) - log_sum) for t, v in zip(y_row, z_row))
            weight = mpmath.fsum(mpmath.mpf(t) for t in y_row)
            exact_gradient.append([(e / mpmath.fsum(terms) * weight - mpmath.mpf(t)) / 3
                                   for e, t in zip(terms, y_row)])
        assert_close_to(loss, total / 3, rtol=1e-15)
        for ours, exact in zip(gradient.ravel(), (g for row in exact_gradient for g in row)):
            assert abs(ours - float(exact)) <= 1e-16 + 1e-14 * abs(float(exact)), (ours, exact)


# --------------------------------------------------------------------------
# Each layer's own properties
# --------------------------------------------------------------------------

class TestActivations:
    def test_leaky_relu_derivative_at_zero_is_one(self):
        layer = layers.LeakyReLULayer(alpha=0.1)
        np.testing.assert_array_equal(layer.forward([[-2.0, 0.0, -0.0, 3.0]]), [[-0.2, 0.0, 0.0, 3.0]])
        np.testing.assert_array_equal(np.diagonal(layer.gradient()[0]), [0.1, 1.0, 1.0, 1.0])

    @given(x=batches())
    def test_leaky_relu_with_alpha_zero_is_relu(self, x):
        leaky, relu = layers.LeakyReLULayer(alpha=0), layers.ReLULayer()
        np.testing.assert_array_equal(leaky.forward(x), relu.forward(x))
        np.testing.assert_array_equal(leaky.gradient(), relu.gradient())

    @given(x=batches())
    def test_softplus_derivative_is_the_exact_sigmoid(self, x):
        # LogisticSigmoidLayer(eps=0) computes sigma another way: 1 / (1 + exp(-x)).
        softplus, sigmoid = layers.SoftplusLayer(), layers.LogisticSigmoidLayer(eps=0)
        softplus.forward(x)
        # Both are exact to a few ulp (2.2e-16 each).
        np.testing.assert_allclose(np.diagonal(softplus.gradient(), axis1=1, axis2=2), sigmoid.forward(x),
                                   rtol=2e-15, atol=0)

    @given(x=batches())
    def test_softplus_is_above_relu_by_at_most_ln_2(self, x):
        out = layers.SoftplusLayer().forward(x)
        excess = out - np.maximum(x, 0.0)
        assert np.all(excess > 0) and np.all(excess <= np.log(2.0) * (1 + 1e-15))

    def test_elu_keeps_tiny_values(self):
        # expm1: ELU(-1e-10) = -1e-10 (1 - 5e-11), where exp(x) - 1 keeps one digit.
        out = layers.ELULayer().forward([[-1e-10, -1e-300]])
        np.testing.assert_allclose(out, [[-1e-10 + 5e-21, -1e-300]], rtol=1e-15)

    @pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
    def test_elu_tends_to_minus_alpha(self, alpha):
        layer = layers.ELULayer(alpha=alpha)
        with no_warnings():
            np.testing.assert_array_equal(layer.forward([[-BIG, BIG]]), [[-alpha, BIG]])
            np.testing.assert_array_equal(np.diagonal(layer.gradient()[0]), [0.0, 1.0])

    @given(x=batches(elements=st.floats(-2.0, MAX_ABS)))
    def test_gelu_is_the_tanh_form(self, x):
        # Where 1 + tanh(u) does not cancel (x >= -2), the textbook formula
        # computed directly agrees with x sigma(2u) to round-off.
        u = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)
        textbook = 0.5 * x * (1.0 + np.tanh(u))
        np.testing.assert_allclose(layers.GELULayer().forward(x), textbook, rtol=1e-13, atol=1e-300)

    @pytest.mark.parametrize(
        "new_layer, expected_out, expected_slope",
        [
            pytest.param(layers.SoftplusLayer, [BIG, 0.0], [1.0, 0.0], id="softplus"),
            pytest.param(layers.GELULayer, [BIG, 0.0], [1.0, 0.0], id="gelu"),
            pytest.param(layers.LeakyReLULayer, [BIG, -10.0], [1.0, 0.01], id="leaky-relu"),
        ],
    )
    def test_saturation_at_1000(self, new_layer, expected_out, expected_slope):
        layer = new_layer()
        with no_warnings():
            np.testing.assert_array_equal(layer.forward([[BIG, -BIG]]), [expected_out])
            np.testing.assert_array_equal(np.diagonal(layer.gradient()[0]), expected_slope)

    @pytest.mark.parametrize("new_layer", [layers.GELULayer, layers.SoftplusLayer, layers.ELULayer,
                                           layers.LeakyReLULayer])
    def test_the_largest_floats_give_no_warning(self, new_layer):
        layer = new_layer()
        x = np.array([[1e308, -1e308, 1e200, -1e200]])
        with no_warnings():
            out = layer.forward(x)
            jacobian = layer.gradient()
            back = layer.backward(np.ones_like(x))
        assert not np.isnan(out).any() and not np.isnan(jacobian).any() and not np.isnan(back).any()
        assert out[0, 0] == 1e308 and out[0, 2] == 1e200


class TestLogSoftmax:
    @given(x=batches())
    def test_exp_is_the_softmax(self, x):
        out = layers.LogSoftmaxLayer().forward(x)
        np.testing.assert_allclose(np.exp(out), layers.SoftmaxLayer().forward(x), rtol=1e-12, atol=1e-300)

    @given(x=batches())
    def test_jacobian_rows_sum_to_zero(self, x):
        # Adding a constant to a row changes nothing: J 1 = 0, row by row.
        layer = layers.LogSoftmaxLayer()
        layer.forward(x)
        np.testing.assert_allclose(layer.gradient().sum(axis=2), 0.0, rtol=0, atol=1e-14)

    @given(x=batches())
    def test_jacobian_is_identity_minus_one_s_transposed(self, x):
        layer = layers.LogSoftmaxLayer()
        layer.forward(x)
        s = layers.SoftmaxLayer().forward(x)
        expected = np.eye(x.shape[1]) - s[:, None, :] * np.ones((1, x.shape[1], 1))
        np.testing.assert_allclose(layer.gradient(), expected, rtol=0, atol=1e-14)

    def test_a_huge_gap_stays_exact(self):
        with no_warnings():
            np.testing.assert_array_equal(layers.LogSoftmaxLayer().forward([[BIG, 0.0, -BIG]]),
                                          [[0.0, -BIG, -2 * BIG]])


class TestLayerNorm:
    @given(x=batches(elements=st.floats(-MAX_ABS, MAX_ABS)))
    def test_rows_have_mean_0_and_variance_below_1(self, x):
        x = with_spread(x, axis=1)
        out = layers.LayerNormLayer(eps=1e-5).forward(x)
        variance = x.var(axis=1, keepdims=True)
        np.testing.assert_allclose(out.mean(axis=1), 0.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out.var(axis=1, keepdims=True), variance / (variance + 1e-5), rtol=1e-12)

    @given(x=batches())
    def test_jacobian_is_symmetric_and_sees_shifts_and_scalings(self, x):
        x = with_spread(x, axis=1)
        layer = layers.LayerNormLayer()
        out = layer.forward(x)
        jacobian = layer.gradient()
        # The size of the Jacobian's terms r I, r / K and r out out^T / K (their sum can be tiny).
        scale = float(np.max(layer.inverse_std)) * (1.0 + float(np.max(out**2)))
        np.testing.assert_allclose(jacobian, jacobian.transpose(0, 2, 1), rtol=0, atol=1e-15 * scale)
        # Shifting a row changes nothing: J 1 = 0.
        np.testing.assert_allclose(jacobian.sum(axis=2), 0.0, rtol=0, atol=1e-14 * scale * x.shape[1])
        # Scaling a row changes out only through eps: J (x - mean) = out eps / (var + eps).
        variance = x.var(axis=1, keepdims=True)
        centred = x - x.mean(axis=1, keepdims=True)
        np.testing.assert_allclose(np.einsum("nij,nj->ni", jacobian, centred), out * 1e-5 / (variance + 1e-5),
                                   rtol=0, atol=1e-12 * scale * (1 + np.abs(x).max()))

    def test_constant_row_gives_zeros(self):
        layer = layers.LayerNormLayer()
        np.testing.assert_array_equal(layer.forward([[5.0, 5.0, 5.0]]), [[0.0, 0.0, 0.0]])
        np.testing.assert_allclose(layer.gradient()[0], (np.eye(3) - 1 / 3) / np.sqrt(1e-5), rtol=1e-14)

    @pytest.mark.parametrize("exponent", [600, 1000, 1020])
    def test_huge_rows_give_no_warning_and_the_right_numbers(self, exponent):
        # x 2^exponent (up to 8e307): the squares would overflow without the
        # layer's power-of-two scaling; eps is then negligible (eps / var < 1e-300).
        x = np.array([[1.0, 2.0, 4.0, 7.0], [-3.0, 0.5, 0.25, 1.0]])
        layer = layers.LayerNormLayer()
        with no_warnings():
            out = layer.forward(np.ldexp(x, exponent))
            jacobian = layer.gradient()
            back = layer.backward(np.ones_like(x))
        reference = layers.LayerNormLayer(eps=1e-300)
        np.testing.assert_allclose(out, reference.forward(x), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(np.ldexp(jacobian, exponent), reference.gradient(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(np.ldexp(back, exponent), reference.backward(np.ones_like(x)), atol=1e-14)

    def test_batch_norm_of_huge_columns_gives_no_warning(self):
        x = np.ldexp(np.array([[1.0, -3.0], [2.0, 0.5], [4.0, 0.25]]), 1020)
        layer = layers.BatchNormLayer()
        with no_warnings():
            out = layer.forward(x)
            layer.gradient(), layer.backward(np.ones_like(x))
            layer.training = False
            layer.forward(x), layer.gradient(), layer.backward(np.ones_like(x))
        np.testing.assert_allclose(out, layers.LayerNormLayer(eps=1e-300).forward(x.T / 2.0**1020).T, rtol=1e-14)

    def test_matches_the_formula(self):
        x = np.array([[1.0, 2.0, 4.0, 7.0]])
        expected = (x - 3.5) / np.sqrt(5.25 + 1e-5)
        np.testing.assert_allclose(layers.LayerNormLayer().forward(x), expected, rtol=1e-15)


class TestBatchNorm:
    def test_running_statistics_after_several_steps(self):
        rng = np.random.default_rng(0)
        layer = layers.BatchNormLayer(momentum=0.3)
        mean, var = np.zeros((1, 4)), np.ones((1, 4))
        for size in (5, 8, 3, 6):
            x = rng.normal(2.0, 3.0, (size, 4))
            layer.forward(x)
            mean = 0.7 * mean + 0.3 * x.mean(axis=0, keepdims=True)
            var = 0.7 * var + 0.3 * x.var(axis=0, ddof=1, keepdims=True)  # unbiased, as PyTorch
            np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-14)
            np.testing.assert_allclose(layer.running_var, var, rtol=1e-14)

    def test_training_uses_the_batch_statistics(self):
        x = np.array([[1.0, 10.0], [3.0, 20.0], [8.0, 60.0]])
        out = layers.BatchNormLayer().forward(x)
        expected = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)  # ddof=0
        np.testing.assert_allclose(out, expected, rtol=1e-14)

    def test_eval_uses_the_running_statistics(self):
        layer = layers.BatchNormLayer(momentum=1.0)  # running statistics = the last batch's
        batch = np.array([[1.0, 10.0], [3.0, 20.0], [8.0, 60.0]])
        layer.forward(batch)
        layer.training = False
        x = np.array([[2.0, 30.0]])  # a single row is fine in eval mode
        expected = (x - batch.mean(axis=0)) / np.sqrt(batch.var(axis=0, ddof=1) + 1e-5)
        np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-14)
        np.testing.assert_array_equal(layer.running_mean, batch.mean(axis=0, keepdims=True))

    def test_eval_does_not_update_and_a_fresh_layer_uses_0_and_1(self):
        layer = layers.BatchNormLayer()
        layer.training = False
        x = np.array([[2.0, -4.0]])
        np.testing.assert_allclose(layer.forward(x), x / np.sqrt(1 + 1e-5), rtol=1e-15)
        layer.forward(3 * x)
        np.testing.assert_array_equal(layer.running_mean, [[0.0, 0.0]])
        np.testing.assert_array_equal(layer.running_var, [[1.0, 1.0]])

    def test_gradient_and_backward_use_the_mode_of_the_last_forward(self):
        layer = layers.BatchNormLayer()
        x, g = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]), np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]])
        layer.forward(x)
        jacobian, back = layer.gradient(), layer.backward(g)
        layer.training = False  # switched after the forward pass
        np.testing.assert_array_equal(layer.gradient(), jacobian)
        np.testing.assert_array_equal(layer.backward(g), back)
        assert not np.allclose(jacobian, jacobian[:, 0, 0][:, None, None] * np.eye(3))  # rows interact

    @given(x=batches(min_rows=2))
    def test_columns_have_mean_0_and_the_gradient_sums_to_0(self, x):
        x = with_spread(x, axis=0)
        layer = layers.BatchNormLayer()
        out = layer.forward(x)
        np.testing.assert_allclose(out.mean(axis=0), 0.0, rtol=0, atol=1e-12)
        # Shifting a whole column changes nothing: each (N, N) block sums to 0 along m.
        jacobian = layer.gradient()
        scale = float(np.max(layer.inverse_std)) * (1.0 + float(np.max(out**2)))  # the size of its terms
        np.testing.assert_allclose(jacobian.sum(axis=2), 0.0, rtol=0, atol=1e-14 * scale * x.shape[0])

    def test_is_layer_norm_of_the_transpose(self):
        x = np.random.default_rng(3).normal(size=(5, 3))
        batch_norm, layer_norm = layers.BatchNormLayer(), layers.LayerNormLayer()
        np.testing.assert_array_equal(batch_norm.forward(x), layer_norm.forward(x.T).T)
        np.testing.assert_array_equal(batch_norm.gradient(), layer_norm.gradient())


class TestDropout:
    def test_seeded_masks_are_reproducible(self):
        x = np.ones((4, 6))
        first = layers.DropoutLayer(p=0.5, rng=np.random.default_rng(7)).forward(x)
        second = layers.DropoutLayer(p=0.5, rng=np.random.default_rng(7)).forward(x)
        np.testing.assert_array_equal(first, second)
        layer = layers.DropoutLayer(p=0.5, rng=np.random.default_rng(7))
        layer.forward(x)
        assert not np.array_equal(layer.forward(x), first)  # a new mask on every forward pass

    @pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
    def test_kept_entries_are_scaled_and_the_rest_dropped(self, p):
        x = np.random.default_rng(1).uniform(1.0, 2.0, (400, 50))
        layer = layers.DropoutLayer(p=p, rng=np.random.default_rng(2))
        out = layer.forward(x)
        kept = out != 0
        np.testing.assert_array_equal(layer.scale, kept / (1 - p))
        np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-15)
        # The kept fraction is Binomial(20000, 1 - p) / 20000: within 5 standard errors.
        standard_error = np.sqrt(p * (1 - p) / x.size)
        assert abs(kept.mean() - (1 - p)) < 5 * standard_error
        np.testing.assert_array_equal(np.diagonal(layer.gradient(), axis1=1, axis2=2), kept / (1 - p))

    @pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
    def test_expectation_is_the_input(self, p):
        # E[out] = x: with M = 200000 draws of each entry, the sample mean of
        # out / x has standard error sqrt(p / (1 - p) / M) (0.0022 at p = 0.5,
        # 0.0067 at p = 0.9); we allow 5 of them. Without the 1 / (1 - p) the
        # mean would be 1 - p, far outside.
        x = np.array([[1.5, -2.0, 3.0, 0.25]])
        draws = 200_000
        out = layers.DropoutLayer(p=p, rng=np.random.default_rng(11)).forward(np.repeat(x, draws, axis=0))
        ratio = out.mean(axis=0) / x[0]
        standard_error = np.sqrt(p / (1 - p) / draws)
        np.testing.assert_allclose(ratio, 1.0, rtol=0, atol=5 * standard_error)

    def test_p_zero_is_the_identity(self):
        x = np.array([[1.0, -2.0, 3.5], [0.0, 4.0, -1e-300]])
        layer = layers.DropoutLayer(p=0, rng=np.random.default_rng(0))
        np.testing.assert_array_equal(layer.forward(x), x)
        np.testing.assert_array_equal(layer.gradient(), np.broadcast_to(np.eye(3), (2, 3, 3)))

    def test_eval_is_the_identity(self):
        x = np.array([[1.0, -2.0, 3.5]])
        layer = layers.DropoutLayer(p=0.9, rng=np.random.default_rng(0))
        layer.training = False
        np.testing.assert_array_equal(layer.forward(x), x)
        np.testing.assert_array_equal(layer.scale, np.ones_like(x))
        np.testing.assert_array_equal(layer.gradient()[0], np.eye(3))
        np.testing.assert_array_equal(layer.backward([[4.0, 5.0, 6.0]]), [[4.0, 5.0, 6.0]])

    def test_backward_uses_the_mask_of_the_last_forward(self):
        layer = layers.DropoutLayer(p=0.5, rng=np.random.default_rng(4))
        out = layer.forward(np.ones((3, 8)))
        np.testing.assert_array_equal(layer.backward(np.ones((3, 8))), out)

    def test_backward_leaves_the_mask_alone(self):
        layer = layers.DropoutLayer(p=0.5, rng=np.random.default_rng(4))
        layer.forward(np.ones((3, 8)))
        scale, jacobian = layer.scale.copy(), layer.gradient()
        first = layer.backward(np.full((3, 8), 3.0))
        np.testing.assert_array_equal(layer.backward(np.full((3, 8), 3.0)), first)
        np.testing.assert_array_equal(layer.gradient(), jacobian)
        np.testing.assert_array_equal(layer.scale, scale)
        assert not layer.scale.flags.writeable
        # Whatever is assigned (e.g. by a learner's own _forward) is kept read-only too.
        layer.scale = np.ones((3, 8))
        layer.backward(np.full((3, 8), 3.0))
        np.testing.assert_array_equal(layer.scale, 1.0)

    def test_default_rng_is_a_fresh_generator(self):
        layer = layers.DropoutLayer()
        assert isinstance(layer.rng, np.random.Generator)
        assert layer.p == 0.5 and layer.training is True


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

SETTINGS = [
    pytest.param(layers.LeakyReLULayer, "alpha", id="leaky-relu-alpha"),
    pytest.param(layers.ELULayer, "alpha", id="elu-alpha"),
    pytest.param(layers.LayerNormLayer, "eps", id="layer-norm-eps"),
    pytest.param(layers.BatchNormLayer, "eps", id="batch-norm-eps"),
    pytest.param(layers.BatchNormLayer, "momentum", id="batch-norm-momentum"),
    pytest.param(layers.DropoutLayer, "p", id="dropout-p"),
]


class TestSettings:
    @pytest.mark.parametrize("owner, setting", SETTINGS)
    @pytest.mark.parametrize("value", ["0.1", None, True, [0.1], 1j], ids=["str", "None", "bool", "list", "complex"])
    def test_must_be_a_real_number(self, owner, setting, value):
        with rejected(TypeError, rf"^{owner.__name__}: {setting} \(.*\) must be a real number"):
            owner(**{setting: value})

    @pytest.mark.parametrize("owner, setting", SETTINGS)
    @pytest.mark.parametrize("value", [-0.1, np.nan, np.inf, -np.inf, 10**400, -(10**400)],
                             ids=["negative", "nan", "inf", "-inf", "huge-int", "huge-negative-int"])
    def test_must_be_finite_and_in_range(self, owner, setting, value):
        with rejected(ValueError, rf"^{owner.__name__}: {setting} \(.*\) must be finite and >"):
            owner(**{setting: value})

    @pytest.mark.parametrize(
        "owner, setting, value, bounds",
        [
            pytest.param(layers.LayerNormLayer, "eps", 0.0, "> 0", id="layer-norm-eps-0"),
            pytest.param(layers.BatchNormLayer, "eps", 0.0, "> 0", id="batch-norm-eps-0"),
            pytest.param(layers.BatchNormLayer, "momentum", 1.5, ">= 0 and <= 1", id="momentum-above-1"),
            pytest.param(layers.DropoutLayer, "p", 1.0, ">= 0 and < 1", id="p-1"),
            pytest.param(layers.DropoutLayer, "p", 2, ">= 0 and < 1", id="p-2"),
        ],
    )
    def test_bounds(self, owner, setting, value, bounds):
        with rejected(ValueError, rf"^{owner.__name__}: {setting}", re.escape(f"must be finite and {bounds}")):
            owner(**{setting: value})

    @pytest.mark.parametrize(
        "owner, setting, value",
        [
            pytest.param(layers.LeakyReLULayer, "alpha", 0, id="leaky-relu-0"),
            pytest.param(layers.ELULayer, "alpha", np.float32(2.0), id="elu-float32"),
            pytest.param(layers.BatchNormLayer, "momentum", 1, id="momentum-1"),
            pytest.param(layers.BatchNormLayer, "momentum", 0, id="momentum-0"),
            pytest.param(layers.DropoutLayer, "p", np.int64(0), id="p-numpy-0"),
        ],
    )
    def test_edge_values_are_fine(self, owner, setting, value):
        layer = owner(**{setting: value})
        assert getattr(layer, setting) == float(value) and type(getattr(layer, setting)) is float

    @pytest.mark.parametrize("rng", [np.random.RandomState(0), 0, "seed"], ids=["legacy", "int", "str"])
    def test_dropout_rng_must_be_a_generator(self, rng):
        with rejected(TypeError, r"^DropoutLayer: rng must be a numpy\.random\.Generator",
                      r"np\.random\.default_rng\(seed\)"):
            layers.DropoutLayer(rng=rng)


class TestBatchNormInput:
    def test_training_needs_two_rows(self):
        layer = layers.BatchNormLayer()
        with rejected(ValueError, r"^BatchNormLayer\.forward: training mode needs a batch of at least 2 rows",
                      r"training = False"):
            layer.forward([[1.0, 2.0]])
        assert layer.prev_in is None and layer.running_mean is None

    def test_width_is_fixed_by_the_first_batch(self):
        layer = layers.BatchNormLayer()
        layer.forward(GOOD_X)
        mean = layer.running_mean.copy()
        with rejected(ValueError, r"BatchNormLayer\.forward", r"2 columns", r"expects 3"):
            layer.forward(GOOD_X[:, :2])
        np.testing.assert_array_equal(layer.running_mean, mean)
        np.testing.assert_array_equal(layer.prev_in, GOOD_X)


Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.4, 0.6]])
Z = np.array([[2.0, -1.0, 0.5], [0.3, 0.0, -4.0]])


@pytest.mark.parametrize("method", ["eval", "gradient"])
class TestCrossEntropyWithLogitsInput:
    @pytest.mark.parametrize("z", [pytest.param(Z[:, :2], id="fewer-columns"), pytest.param(Z[:1], id="fewer-rows"),
                                   pytest.param(Z.T, id="transposed")])
    def test_shapes_must_match(self, method, z):
        with rejected(ValueError, rf"^CrossEntropyWithLogits\.{method}: y has shape \(2, 3\) but z has shape",
                      r"must match"):
            getattr(layers.CrossEntropyWithLogits(), method)(Y, z)

    @pytest.mark.parametrize("bad", [-0.1, 1.5], ids=["below-0", "above-1"])
    def test_targets_must_lie_in_0_1(self, method, bad):
        y = Y.copy()
        y[1, 2] = bad
        with rejected(ValueError, rf"^CrossEntropyWithLogits\.{method}: y must lie in \[0, 1\]"):
            getattr(layers.CrossEntropyWithLogits(), method)(y, Z)

    def test_logits_may_be_any_real_numbers(self, method):
        result = getattr(layers.CrossEntropyWithLogits(), method)(Y, 50 * Z - 7)
        assert np.all(np.isfinite(result))

    @pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
    def test_logits_must_be_finite(self, method, bad):
        z = Z.copy()
        z[0, 1] = bad
        with rejected(ValueError, rf"^CrossEntropyWithLogits\.{method}: z contains NaN or infinity"):
            getattr(layers.CrossEntropyWithLogits(), method)(Y, z)

    def test_1d_logits(self, method):
        with rejected(ValueError, r"z must be 2-D", r"z\.reshape\(1, -1\)"):
            getattr(layers.CrossEntropyWithLogits(), method)(Y[:1], Z[0])

    def test_strings(self, method):
        with rejected(TypeError, r"y has dtype", r"real numbers"):
            getattr(layers.CrossEntropyWithLogits(), method)(Y.astype(str), Z)

    def test_inputs_are_not_modified(self, method):
        y, z = Y.copy(), Z.copy()
        getattr(layers.CrossEntropyWithLogits(), method)(y, z)
        np.testing.assert_array_equal(y, Y)
        np.testing.assert_array_equal(z, Z)
