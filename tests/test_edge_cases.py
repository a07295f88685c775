"""Edge cases: exact 0/1 predictions, extreme scales, hostile arguments.

Each class closes one place where a learner could get a NaN, a leaked numpy
warning or a raw numpy error instead of a right answer or a clear error.
mpmath (50 significant digits) is the referee where accuracy is the point.
Every test runs with warnings turned into errors (the `no_warnings` fixture),
so a leaked RuntimeWarning fails it.
"""

import re
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import layers
from layer_cases import GOOD_X

mpmath.mp.dps = 50
BIGGEST = np.finfo(np.float64).max


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def message_of(error_info):
    return str(error_info.value)


# --------------------------------------------------------------------------
# eps = 0 objectives at exact 0 and 1: the xlogy convention
# --------------------------------------------------------------------------

class TestXlogyConvention:
    def test_cross_entropy_right_and_sure_costs_nothing(self):
        objective = layers.CrossEntropy(eps=0)
        assert objective.eval([[0, 1]], [[0, 1]]) == 0.0
        np.testing.assert_array_equal(objective.gradient([[0, 1]], [[0, 1]]), [[0.0, -1.0]])

    @pytest.mark.parametrize("value", [0.0, 1.0])
    def test_log_loss_right_and_sure_costs_nothing(self, value):
        objective = layers.LogLoss(eps=0)
        assert objective.eval([[value]], [[value]]) == 0.0

    @pytest.mark.parametrize("value, slope", [(0.0, 1.0), (1.0, -1.0)])
    def test_log_loss_gradient_at_the_edge_is_the_one_sided_derivative(self, value, slope):
        # eval(y, yhat) = -ln(1 - yhat) near yhat = 0 (y = 0): slope +1 there.
        objective = layers.LogLoss(eps=0)
        assert objective.gradient([[value]], [[value]]).item() == slope
        h = 1e-7
        inside = value + h * np.sign(0.5 - value)
        one_sided = (objective.eval([[value]], [[inside]]) - 0.0) / (inside - value)
        assert one_sided == pytest.approx(slope, rel=1e-6)

    @pytest.mark.parametrize(
        "objective, y, yhat, gradient",
        [
            pytest.param(layers.CrossEntropy(eps=0), [[1.0, 0.0]], [[0.0, 1.0]], [[-np.inf, 0.0]],
                         id="cross-entropy"),
            pytest.param(layers.LogLoss(eps=0), [[1.0]], [[0.0]], [[-np.inf]], id="log-loss-at-0"),
            pytest.param(layers.LogLoss(eps=0), [[0.0]], [[1.0]], [[np.inf]], id="log-loss-at-1"),
        ],
    )
    def test_sure_and_wrong_costs_infinity(self, objective, y, yhat, gradient):
        assert objective.eval(y, yhat) == np.inf
        np.testing.assert_array_equal(objective.gradient(y, yhat), gradient)

    def test_softmax_of_a_decided_row_then_cross_entropy(self):
        softmax, objective = layers.SoftmaxLayer(), layers.CrossEntropy(eps=0)
        s = softmax.forward([[0.0, 1000.0]])
        y = np.array([[0.0, 1.0]])
        assert objective.eval(y, s) == 0.0
        gradient = objective.gradient(y, s)
        assert np.all(np.isfinite(gradient))
        np.testing.assert_array_equal(softmax.backward(gradient), [[0.0, 0.0]])  # s - y = 0

    @given(
        y=hnp.arrays(np.float64, (3, 4), elements=st.sampled_from([0.0, 0.25, 1.0])),
        yhat=hnp.arrays(np.float64, (3, 4), elements=st.floats(1e-300, 1.0)),
        zeros=hnp.arrays(np.bool_, (3, 4)),
    )
    def test_predicted_zeros_where_y_is_zero_cost_nothing(self, y, yhat, zeros):
        # Zero predictions wherever y = 0: the loss is the sum over y > 0 only, finite.
        yhat = np.where(zeros & (y == 0), 0.0, yhat)
        loss = layers.CrossEntropy(eps=0).eval(y, yhat)
        expected = -np.mean(np.sum(np.where(y > 0, y * np.log(np.where(y > 0, yhat, 1.0)), 0.0), axis=1))
        assert loss == pytest.approx(expected, rel=1e-12, abs=1e-300)
        gradient = layers.CrossEntropy(eps=0).gradient(y, yhat)
        assert np.all(np.isfinite(gradient)) and np.all(gradient[y == 0] == 0)


# --------------------------------------------------------------------------
# LogLoss accuracy near 0: log1p, with mpmath as referee
# --------------------------------------------------------------------------

def log_loss_reference(y, yhat, eps):
    """-mean_n sum_k [y ln(yhat + eps) + (1 - y) ln(1 - yhat + eps)] at 50 digits."""
    rows = []
    for y_row, p_row in zip(y, yhat):
        total = mpmath.mpf(0)
        for t, p in zip(y_row, p_row):
            t, p, e = mpmath.mpf(float(t)), mpmath.mpf(float(p)), mpmath.mpf(eps)
            total -= t * mpmath.log(p + e) + (1 - t) * mpmath.log(1 - p + e)
        rows.append(total)
    return float(mpmath.fsum(rows) / len(rows))


class TestLogLossAccuracy:
    # With yhat > eps every term is positive, so the sum is well conditioned
    # and the result can be asked to be exact to a few ulp.
    @given(
        y=hnp.arrays(np.float64, (2, 3), elements=st.floats(0.0, 1.0)),
        exponent=hnp.arrays(np.float64, (2, 3), elements=st.floats(-16.0, -3.0)),
        eps=st.sampled_from([0.0, 1e-7]),
    )
    def test_matches_mpmath_near_zero(self, y, exponent, eps):
        yhat = 10.0 ** exponent
        assume(eps == 0 or np.all(yhat > 10 * eps))
        loss = layers.LogLoss(eps=eps).eval(y, yhat)
        assert loss == pytest.approx(log_loss_reference(y, yhat, eps), rel=1e-13)

    def test_a_tiny_prediction_keeps_its_digits(self):
        # ln(1 - 1e-10) = -1.00000000005e-10: 1 - 1e-10 would round away 1e-6 of it.
        loss = layers.LogLoss(eps=0).eval([[0.0]], [[1e-10]])
        assert loss == pytest.approx(log_loss_reference([[0.0]], [[1e-10]], 0.0), rel=1e-15)


# --------------------------------------------------------------------------
# InputLayer: each column scaled before its statistics
# --------------------------------------------------------------------------

class TestInputLayerScale:
    data = np.array([[1.0, -2.0, 5.0], [3.0, 0.5, 5.0], [4.0, 7.0, 5.0], [-1.0, 2.0, 5.0]])
    x = np.array([[0.5, 1.0, 5.0], [2.0, -3.0, 5.0]])

    @pytest.mark.parametrize("factor", [1e-170, 1e170, 1e-300, 1e300], ids=str)
    def test_scaling_the_data_leaves_the_z_scores(self, factor):
        reference = layers.InputLayer(self.data)
        expected = reference.forward(self.x)
        scaled = layers.InputLayer(self.data * factor)
        np.testing.assert_allclose(scaled.forward(self.x * factor), expected, rtol=1e-13, atol=1e-14)
        # 1 / std scales by 1 / factor (the constant last column is divided by 1, by convention).
        diagonal = np.diagonal(scaled.gradient()[0])[:2] * factor
        np.testing.assert_allclose(diagonal, np.diagonal(reference.gradient()[0])[:2], rtol=1e-13)

    @given(
        data=hnp.arrays(np.float64, st.tuples(st.integers(2, 5), st.integers(1, 3)),
                        elements=st.floats(-30, 30)),
        exponent=st.sampled_from([-1060, -1040, -565, 565, 1010]),
    )
    def test_powers_of_two_change_nothing(self, data, exponent):
        # Scaling by 2^e is exact unless it lands among the subnormals, so we
        # compare with the numbers the scaled data really holds, scaled back.
        scaled = np.ldexp(data, exponent)
        held = np.ldexp(scaled, -exponent)
        x = held[:2]
        expected = layers.InputLayer(held).forward(x)
        np.testing.assert_array_equal(layers.InputLayer(scaled).forward(np.ldexp(x, exponent)), expected)

    def test_subnormal_data(self):
        data = np.array([[1e-320], [2e-320], [3e-320]])
        layer = layers.InputLayer(data)
        np.testing.assert_allclose(layer.forward(data), [[-1.0], [0.0], [1.0]], rtol=0, atol=1e-12)
        # 1 / std ~ 1e320 is beyond float64: the Jacobian is inf, backward of 0 is 0.
        assert layer.gradient()[0, 0, 0] == np.inf
        np.testing.assert_array_equal(layer.backward([[0.0], [0.0], [0.0]]), [[0.0], [0.0], [0.0]])

    def test_a_constant_column_at_1e308(self):
        data = np.array([[1e308, 1.0], [1e308, 2.0], [1e308, 3.0]])
        layer = layers.InputLayer(data)
        out = layer.forward(data)
        np.testing.assert_allclose(out, [[0.0, -1.0], [0.0, 0.0], [0.0, 1.0]], rtol=0, atol=1e-15)
        assert layer.mean_x[0, 0] == 1e308 and layer.std_x[0, 0] == 1.0

    def test_a_column_spanning_float64(self):
        # std ~ 2.4e308 does not exist in float64; the z-scores do: +-1/sqrt(2).
        data = np.array([[1.7e308], [-1.7e308]])
        layer = layers.InputLayer(data)
        np.testing.assert_allclose(layer.forward(data), [[0.5**0.5], [-(0.5**0.5)]], rtol=1e-15)
        assert layer.std_x[0, 0] == np.inf  # the documented attribute, in the data's units
        assert 0 < layer.gradient()[0, 0, 0] < 1e-308  # 1 / std, subnormal but right


# --------------------------------------------------------------------------
# No RuntimeWarning where the answer is right or +-inf
# --------------------------------------------------------------------------

class TestNoLeakedWarnings:
    def test_softmax_of_opposite_extremes(self):
        np.testing.assert_array_equal(layers.SoftmaxLayer().forward([[1e308, -1e308]]), [[1.0, 0.0]])

    def test_squared_error_beyond_float64(self):
        objective = layers.SquaredError()
        assert objective.eval([[1e200]], [[-1e200]]) == np.inf
        assert objective.gradient([[1e200]], [[-1e200]]).item() == pytest.approx(-4e200, rel=1e-15)
        assert objective.eval([[1e308]], [[-1e308]]) == np.inf
        assert objective.gradient([[1e308]], [[-1e308]]).item() == -np.inf

    def test_squared_error_mean_beyond_float64(self):
        assert layers.SquaredError().eval([[1e154], [1e154]], [[-1e154], [-1e154]]) == np.inf

    @pytest.mark.parametrize(
        "a, b, expected",
        [(np.inf, np.inf, 0.0), (-np.inf, -np.inf, 0.0), (np.inf, -np.inf, 1.0), (np.inf, 1.0, 1.0)],
    )
    def test_relative_error_of_infinities(self, a, b, expected):
        assert layers.relative_error([[a]], [[b]]) == expected

    def test_longdouble_beyond_float64_is_a_clear_error(self):
        if not np.isfinite(np.longdouble("1e400")):
            pytest.skip("this platform's longdouble is float64: 1e400 cannot be made")
        huge = np.array([[np.longdouble("1e400"), 1.0]])
        with pytest.raises(ValueError, match=r"ReLULayer\.forward: x contains NaN or infinity "
                                             r"\(or a number beyond float64's range\)"):
            layers.ReLULayer().forward(huge)

    def test_update_weights_overflow_is_a_clear_error(self):
        layer = layers.FullyConnectedLayer(2, 1, rng=np.random.default_rng(0))
        layer.forward([[1e300, 1e300]])
        before = layer.weights
        with pytest.raises(ValueError, match=r"update_weights: the step eta \* dW overflows"):
            layer.update_weights([[1e300]], eta=1e300)
        assert layer.weights is before


# --------------------------------------------------------------------------
# Softmax backward with upstream gradients near float64's limit
# --------------------------------------------------------------------------

def softmax_backward_reference(s, g):
    """s * (g - sum_i g_i s_i), row by row, at 50 digits from the float64 s and g."""
    out = np.empty_like(g)
    for n in range(g.shape[0]):
        s_row = [mpmath.mpf(float(v)) for v in s[n]]
        g_row = [mpmath.mpf(float(v)) for v in g[n]]
        dot = mpmath.fsum(a * b for a, b in zip(g_row, s_row))
        out[n] = [float(a * (b - dot)) for a, b in zip(s_row, g_row)]
    return out


class TestSoftmaxBackwardExtremes:
    @given(
        x=hnp.arrays(np.float64, (2, 3), elements=st.floats(-30, 30)),
        magnitude=hnp.arrays(np.float64, (2, 3), elements=st.floats(1e300, BIGGEST)),
        sign=hnp.arrays(np.float64, (2, 3), elements=st.sampled_from([-1.0, 1.0])),
    )
    def test_matches_mpmath(self, x, magnitude, sign):
        g = magnitude * sign
        layer = layers.SoftmaxLayer()
        s = layer.forward(x)
        got = layer.backward(g)
        assert np.all(np.isfinite(got))
        # Round-off of the dot product: a few ulp of max|g|.
        np.testing.assert_allclose(got, softmax_backward_reference(s, g), rtol=0, atol=1e-14 * BIGGEST)

    def test_opposite_gradients_that_overflowed(self):
        layer = layers.SoftmaxLayer()
        s = layer.forward([[0.0, np.log(4.0)]])  # s = [0.2, 0.8]
        got = layer.backward([[1.7e308, -1.7e308]])
        np.testing.assert_allclose(got, softmax_backward_reference(s, np.array([[1.7e308, -1.7e308]])),
                                   rtol=1e-14)

    def test_equal_gradients_give_zero(self):
        layer = layers.SoftmaxLayer()
        layer.forward([[0.0, 0.0, -1000.0]])
        got = layer.backward([[BIGGEST, BIGGEST, BIGGEST]])
        assert np.all(np.abs(got) <= 1e-15 * BIGGEST)


# --------------------------------------------------------------------------
# The finite-difference helpers check what they are given
# --------------------------------------------------------------------------

X = GOOD_X


def shaped_like(result):
    def f(x):
        return result(x)
    f.__qualname__ = "bad_function"
    return f


class TestNumericalJacobianChecks:
    @pytest.mark.parametrize(
        "result, error",
        [
            pytest.param(lambda x: x.sum(axis=1), ValueError, id="1-D"),
            pytest.param(lambda x: float(np.sum(x)), ValueError, id="scalar"),
            pytest.param(lambda x: None, TypeError, id="None"),
            pytest.param(lambda x: x[None], ValueError, id="3-D"),
            pytest.param(lambda x: x[:1], ValueError, id="wrong-rows"),
            pytest.param(lambda x: x.astype(str), TypeError, id="strings"),
        ],
    )
    def test_f_must_return_one_row_per_row_of_x(self, result, error):
        with pytest.raises(error) as info:
            layers.numerical_jacobian(shaped_like(result), X)
        assert re.search(r"numerical_jacobian: f = bad_function", message_of(info))
        if error is ValueError:
            assert "(2, K_out)" in message_of(info)

    def test_an_infinite_f_gives_no_slope_and_no_warning(self):
        jacobian = layers.numerical_jacobian(lambda x: np.full(x.shape, np.inf), X)
        assert np.all(np.isnan(jacobian))

    def test_f_must_keep_its_width(self):
        widths = iter([3, 3, 2])
        with pytest.raises(ValueError, match=r"must return shape \(2, 3\)"):
            layers.numerical_jacobian(lambda x: np.zeros((2, next(widths))), X)

    @pytest.mark.parametrize("helper", [layers.numerical_jacobian, layers.numerical_gradient],
                             ids=["jacobian", "gradient"])
    @pytest.mark.parametrize(
        "h, error",
        [(np.inf, ValueError), (np.nan, ValueError), ("1e-6", TypeError), (None, TypeError),
         (True, TypeError), (10**400, ValueError)],
        ids=["inf", "nan", "str", "None", "bool", "huge-int"],
    )
    def test_h_must_be_a_positive_finite_number(self, helper, h, error):
        f = (lambda x: x) if helper is layers.numerical_jacobian else np.sum
        with pytest.raises(error, match=rf"{helper.__name__}: h \(the finite-difference step\)"):
            helper(f, X, h=h)


class TestNumericalGradientChecks:
    def test_a_one_by_one_array_is_a_number(self):
        grad = layers.numerical_gradient(lambda z: np.array([[np.sum(z**2)]]), X)
        np.testing.assert_allclose(grad, 2 * X, atol=1e-8)

    @pytest.mark.parametrize(
        "result, error",
        [
            pytest.param(lambda x: None, TypeError, id="None"),
            pytest.param(lambda x: x.sum(axis=0), ValueError, id="array"),
            pytest.param(lambda x: "3", TypeError, id="string"),
        ],
    )
    def test_f_must_return_a_number(self, result, error):
        with pytest.raises(error, match=r"numerical_gradient: f = bad_function"):
            layers.numerical_gradient(shaped_like(result), X)

    @pytest.mark.parametrize(
        "x, error, pattern",
        [
            (np.array([[1.0, np.nan]]), ValueError, r"x contains NaN"),
            (np.array([["1", "2"]]), TypeError, r"x has dtype"),
            (np.array([1.0, np.inf]), ValueError, r"x contains NaN or infinity"),
        ],
        ids=["nan", "strings", "inf"],
    )
    def test_x_must_be_finite_real_numbers(self, x, error, pattern):
        with pytest.raises(error, match=rf"numerical_gradient: {pattern}"):
            layers.numerical_gradient(np.sum, x)

    def test_x_of_any_shape(self):
        x = np.arange(6.0).reshape(1, 2, 3)
        np.testing.assert_allclose(layers.numerical_gradient(lambda z: np.sum(z**2), x), 2 * x, atol=1e-8)


# --------------------------------------------------------------------------
# relative_error
# --------------------------------------------------------------------------

class TestRelativeError:
    def test_opposite_extremes_differ_completely(self):
        assert layers.relative_error([[1e308]], [[-1e308]]) == 1.0
        assert layers.relative_error(BIGGEST, -BIGGEST) == 1.0

    def test_nan_gives_nan(self):
        assert np.isnan(layers.relative_error([[np.nan]], [[1.0]]))

    @pytest.mark.parametrize(
        "a, error, pattern",
        [
            (np.array([[1 + 2j]]), TypeError, r"relative_error: a has dtype complex128"),
            (np.array([["1"]]), TypeError, r"relative_error: a has dtype <U1"),
            (np.empty((0, 3)), ValueError, r"relative_error: a and b are empty"),
        ],
        ids=["complex", "string", "empty"],
    )
    def test_refuses_what_it_cannot_compare(self, a, error, pattern):
        b = np.zeros(a.shape)
        with pytest.raises(error, match=pattern):
            layers.relative_error(a, b)

    @given(
        a=hnp.arrays(np.float64, (2, 3), elements=st.floats(-BIGGEST, BIGGEST)),
        b=hnp.arrays(np.float64, (2, 3), elements=st.floats(-BIGGEST, BIGGEST)),
    )
    def test_matches_mpmath(self, a, b):
        # max |a - b| / max(|a| + |b|, 1e-8), exactly, over the whole float64 range.
        exact = max(
            abs(mpmath.mpf(float(p)) - mpmath.mpf(float(q)))
            / max(abs(mpmath.mpf(float(p))) + abs(mpmath.mpf(float(q))), mpmath.mpf("1e-8"))
            for p, q in zip(a.ravel(), b.ravel())
        )
        got = layers.relative_error(a, b)
        assert 0.0 <= got <= 1.0
        assert got == pytest.approx(float(exact), rel=1e-15, abs=1e-300)
        assert layers.relative_error(b, a) == got and layers.relative_error(a, a) == 0.0


# --------------------------------------------------------------------------
# Scalar settings: one checker for eps and eta
# --------------------------------------------------------------------------

class TestHugeNumbers:
    @pytest.mark.parametrize(
        "make, pattern",
        [
            (lambda: layers.LogisticSigmoidLayer(eps=10**400), r"LogisticSigmoidLayer: eps"),
            (lambda: layers.TanhLayer(eps=10**400), r"TanhLayer: eps"),
            (lambda: layers.LogLoss(eps=10**400), r"LogLoss: eps"),
            (lambda: layers.CrossEntropy(eps=10**400), r"CrossEntropy: eps"),
        ],
        ids=["sigmoid", "tanh", "log-loss", "cross-entropy"],
    )
    def test_eps_as_a_huge_int(self, make, pattern):
        with pytest.raises(ValueError, match=pattern + r" \(.*\) must be finite") as info:
            make()
        assert len(message_of(info)) < 200  # the 401 digits are not all printed

    def test_eta_as_a_huge_int(self):
        layer = layers.FullyConnectedLayer(2, 1, rng=np.random.default_rng(0))
        layer.forward([[1.0, 2.0]])
        with pytest.raises(ValueError, match=r"FullyConnectedLayer\.update_weights: eta \(the learning "
                                             r"rate\) must be finite and > 0"):
            layer.update_weights([[1.0]], eta=10**400)

    def test_numpy_scalars_are_numbers(self):
        assert layers.TanhLayer(eps=np.float32(0.5)).eps == 0.5
        assert layers.TanhLayer(eps=np.int64(0)).eps == 0.0


# --------------------------------------------------------------------------
# The base classes say what a subclass must provide
# --------------------------------------------------------------------------

class TestBaseClasses:
    def test_layer(self):
        with pytest.raises(NotImplementedError, match=r"Layer does not implement _forward\(x\).*"
                           r"_forward\(x\), _gradient\(\) and _backward\(grad_in\)"):
            layers.Layer().forward(X)

    def test_elementwise_layer(self):
        with pytest.raises(NotImplementedError, match=r"ElementwiseLayer does not implement "
                           r"_forward\(x\).*_forward\(x\) and _derivative\(\)"):
            layers.ElementwiseLayer().forward(X)

    def test_a_subclass_without_its_derivative(self):
        class Half(layers.ElementwiseLayer):
            def _forward(self, x):
                return x / 2

        layer = Half()
        np.testing.assert_array_equal(layer.forward(X), X / 2)
        for method, args in (("gradient", ()), ("backward", (X,))):
            with pytest.raises(NotImplementedError, match=r"Half does not implement _derivative\(\)"):
                getattr(layer, method)(*args)

    def test_a_layer_subclass_without_backward(self):
        class Double(layers.Layer):
            def _forward(self, x):
                return 2 * x

        layer = Double()
        layer.forward(X)
        with pytest.raises(NotImplementedError, match=r"Double does not implement _backward\(grad_in\)"):
            layer.backward(X)
        with pytest.raises(NotImplementedError, match=r"Double does not implement _gradient\(\)"):
            layer.gradient()

    @pytest.mark.parametrize("method, missing", [("eval", "_row_losses"), ("gradient", "_gradient")])
    def test_objective(self, method, missing):
        with pytest.raises(NotImplementedError, match=rf"Objective does not implement {missing}\(y, yhat\)"
                           r".*_row_losses\(y, yhat\) and _gradient\(y, yhat\)"):
            getattr(layers.Objective(), method)([[1.0]], [[0.5]])


# --------------------------------------------------------------------------
# Inputs that numpy would quietly misread
# --------------------------------------------------------------------------

class TestMisreadInputs:
    def test_timedelta_is_refused(self, make_layer):
        layer = make_layer()
        x = np.array([[1, 2, 3]], dtype="timedelta64[s]")
        with pytest.raises(TypeError, match=rf"{layer.name}\.forward: x has dtype timedelta64.*"
                                            r"np\.timedelta64\(1, 's'\)"):
            layer.forward(x)

    def test_timedelta_targets_are_refused(self):
        with pytest.raises(TypeError, match=r"SquaredError\.eval: y has dtype timedelta64"):
            layers.SquaredError().eval(np.array([[1]], dtype="m8[s]"), [[1.0]])

    def test_masked_entries_are_refused(self, make_layer):
        layer = make_layer()
        x = np.ma.masked_array(X, mask=[[0, 1, 0], [0, 0, 0]])
        with pytest.raises(ValueError, match=rf"{layer.name}\.forward: x is a masked array with "
                                             r"masked entries.*x\.filled\(value\)"):
            layer.forward(x)

    def test_a_masked_array_without_masked_entries_is_its_data(self, make_layer):
        expected = make_layer().forward(X)
        np.testing.assert_array_equal(make_layer().forward(np.ma.masked_array(X, mask=False)), expected)

    def test_masked_targets_are_refused(self):
        y = np.ma.masked_array([[1.0, 0.0]], mask=[[0, 1]])
        with pytest.raises(ValueError, match=r"CrossEntropy\.gradient: y is a masked array"):
            layers.CrossEntropy().gradient(y, [[0.5, 0.5]])


# --------------------------------------------------------------------------
# FullyConnectedLayer: the forward pass's weights, and their shape
# --------------------------------------------------------------------------

class TestFullyConnectedWeights:
    def make(self):
        layer = layers.FullyConnectedLayer(3, 2, rng=np.random.default_rng(0))
        layer.weights = np.arange(6.0).reshape(3, 2)
        return layer

    def test_backward_after_update_uses_the_forward_weights(self):
        layer = self.make()
        old = layer.weights.copy()
        layer.forward(X)
        g = np.array([[1.0, -1.0], [0.5, 2.0]])
        layer.update_weights(g, eta=0.5)
        assert not np.array_equal(layer.weights, old)
        np.testing.assert_array_equal(layer.backward(g), g @ old.T)
        np.testing.assert_array_equal(layer.gradient(), old.T)
        layer.forward(X)
        np.testing.assert_array_equal(layer.backward(g), g @ layer.weights.T)

    def test_backward_after_assignment_uses_the_forward_weights(self):
        layer = self.make()
        old = layer.weights.copy()
        layer.forward(X)
        layer.weights = np.ones((3, 2))
        np.testing.assert_array_equal(layer.backward(np.ones((2, 2))), np.ones((2, 2)) @ old.T)

    def test_weights_are_read_only(self):
        # In-place edits would change the forward pass's weights behind its back.
        layer = self.make()
        with pytest.raises(ValueError, match="read-only"):
            layer.weights[0, 0] = 1.0
        with pytest.raises(ValueError, match="read-only"):
            layer.biases += 1.0
        layer.forward(X)
        layer.update_weights(np.ones((2, 2)), eta=0.1)
        assert not layer.weights.flags.writeable and not layer.biases.flags.writeable

    @pytest.mark.parametrize("weights", [np.ones(6), np.ones(5), np.ones(3)], ids=["6", "5", "3"])
    def test_1d_weights_name_the_expected_shape(self, weights):
        layer = self.make()
        with pytest.raises(ValueError, match=r"FullyConnectedLayer\.weights: expected shape \(3, 2\).*"
                                             rf"got \({weights.size},\)") as info:
            layer.weights = weights
        assert "reshape(1, -1)" not in message_of(info)

    def test_transposed_weights_suggest_the_transpose(self):
        with pytest.raises(ValueError, match=r"did you mean its transpose, weights\.T"):
            self.make().weights = np.ones((2, 3))


# --------------------------------------------------------------------------
# CrossEntropy's docstring: where softmax + cross entropy give (s - y) / N
# --------------------------------------------------------------------------

def softmax_then_cross_entropy(logits, target, eps):
    softmax, objective = layers.SoftmaxLayer(), layers.CrossEntropy(eps=eps)
    s = softmax.forward(logits)
    return s, softmax.backward(objective.gradient(target, s))


class TestCrossEntropyDocstring:
    doc = layers.CrossEntropy.__doc__

    def test_the_factor_is_s_c_over_s_c_plus_eps(self):
        logits = np.array([[0.0, 3.0, -2.0], [1.0, 1.0, 15.0]])
        y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        s, got = softmax_then_cross_entropy(logits, y, 1e-7)
        s_c = np.sum(s * y, axis=1, keepdims=True)
        np.testing.assert_allclose(got, (s - y) / 2 * s_c / (s_c + 1e-7), rtol=1e-12, atol=1e-300)

    @pytest.mark.parametrize(
        "claim, s_c, factor",
        [("1% at s_c = 1e-5", 1e-5, 0.99), ("one half at s_c = eps", 1e-7, 0.5)],
    )
    def test_the_stated_errors(self, claim, s_c, factor):
        assert claim in " ".join(self.doc.split())
        assert s_c / (s_c + 1e-7) == pytest.approx(factor, abs=0.001)

    def test_a_logit_gap_of_20(self):
        assert "a logit gap of 20 gives s_c = 2e-9: 0.02 instead of 1" in " ".join(self.doc.split())
        s, got = softmax_then_cross_entropy([[0.0, 20.0]], [[1.0, 0.0]], 1e-7)
        assert s[0, 0] == pytest.approx(2e-9, rel=0.05)
        assert got[0, 0] == pytest.approx(-0.02, rel=0.05)  # exact: s_c - 1 = -1

    def test_eps_zero_is_exact(self):
        assert "With eps=0 it is exactly (s - y) / N wherever s_c > 0" in " ".join(self.doc.split())
        s, got = softmax_then_cross_entropy([[0.0, 20.0]], [[1.0, 0.0]], 0.0)
        np.testing.assert_allclose(got, s - [[1.0, 0.0]], rtol=1e-9)
