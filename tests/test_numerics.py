"""Numerical hygiene: extreme inputs, dtypes, no in-place edits, no aliasing.

Large inputs must not overflow (no RuntimeWarning, finite results), integer
input must come out as float64, and nothing a caller passes in is ever
modified or kept by reference.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import layers
from layer_cases import EPS_LAYERS

BIG = 1000.0  # exp(1000) overflows float64; a careless sigmoid or softmax warns


class TestLargeInputs:
    x = np.array([[BIG, -BIG, 0.5], [-BIG, BIG, -BIG], [BIG, BIG, BIG]])

    def test_no_warning_and_finite_at_1000(self, make_layer):
        layer = make_layer()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = layer.forward(self.x)
            jacobian = layer.gradient()
            back = layer.backward(np.ones_like(out))
        for array in (out, jacobian, back):
            assert np.all(np.isfinite(array))

    @pytest.mark.parametrize("layer_class, exact_derivative", EPS_LAYERS)
    @pytest.mark.parametrize("eps", [0.0, 1e-7], ids=["eps0", "eps"])
    def test_saturates_exactly(self, layer_class, exact_derivative, eps):
        layer = layer_class(eps=eps)
        low = {"LogisticSigmoidLayer": 0.0, "TanhLayer": -1.0}[layer.name]
        np.testing.assert_array_equal(layer.forward([[BIG, -BIG]]), [[1.0, low]])
        # Both units saturated: only eps is left on the diagonal (the exact slope is e^-1000 = 0).
        with np.errstate(over="ignore"):  # cosh(1000)^2 is inf: the slope is 0
            assert exact_derivative(np.array([BIG, -BIG])).tolist() == [0.0, 0.0]
        np.testing.assert_array_equal(layer.gradient()[0], np.diag([eps, eps]))

    @pytest.mark.parametrize(
        "x, expected",
        [
            pytest.param([[BIG, BIG]], [[0.5, 0.5]], id="equal-large"),
            pytest.param([[-BIG, -BIG]], [[0.5, 0.5]], id="equal-very-negative"),
            pytest.param([[BIG, 0.0]], [[1.0, 0.0]], id="one-dominates"),
        ],
    )
    def test_softmax_of_large_inputs(self, x, expected):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_allclose(layers.SoftmaxLayer().forward(x), expected, rtol=0, atol=1e-15)

    @pytest.mark.parametrize(
        "y, yhat",
        [
            pytest.param([[0.0, 1.0]], [[0.0, 1.0]], id="right-and-sure"),
            pytest.param([[1.0, 0.0]], [[0.0, 1.0]], id="wrong-and-sure"),
        ],
    )
    def test_log_losses_are_finite_at_0_and_1(self, log_loss_class, y, yhat):
        objective = log_loss_class()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = objective.eval(y, yhat)
            gradient = objective.gradient(y, yhat)
        assert np.isfinite(loss) and np.all(np.isfinite(gradient))

    def test_log_loss_of_a_sure_wrong_answer_is_large_not_infinite(self):
        # -ln(eps) = 16.1: large, as it should be, yet finite thanks to eps.
        assert layers.LogLoss().eval([[1.0]], [[0.0]]) == pytest.approx(-np.log(1e-7), rel=1e-6)


class TestDtypes:
    x_int = np.array([[1, -2, 3], [0, 5, -6]])

    def test_integer_input_gives_float64(self, make_layer):
        layer = make_layer()
        out = layer.forward(self.x_int)
        assert out.dtype == np.float64
        assert layer.prev_in.dtype == np.float64
        assert layer.gradient().dtype == np.float64
        assert layer.backward(np.ones(out.shape, dtype=int)).dtype == np.float64

    def test_float32_input_gives_float64(self, make_layer):
        layer = make_layer()
        assert layer.forward(self.x_int.astype(np.float32)).dtype == np.float64

    def test_nested_lists_are_accepted(self):
        np.testing.assert_array_equal(layers.ReLULayer().forward([[-1, 2]]), [[0.0, 2.0]])

    def test_integer_targets_give_a_float(self, objective_class):
        objective = objective_class()
        y, yhat = np.array([[1, 0]]), np.array([[0.75, 0.25]])
        assert type(objective.eval(y, yhat)) is float
        assert objective.gradient(y, yhat).dtype == np.float64

    def test_integer_weights_are_stored_as_float64(self):
        layer = layers.FullyConnectedLayer(2, 2, rng=np.random.default_rng(0))
        layer.weights = [[1, 2], [3, 4]]
        layer.biases = [[1, 2]]
        assert layer.weights.dtype == np.float64 and layer.biases.dtype == np.float64


class TestInputsAreNotModified:
    x = np.array([[0.5, -1.5, 2.0], [3.0, 0.0, -4.0]])

    def test_forward_and_backward(self, make_layer):
        layer = make_layer()
        x = self.x.copy()
        out = layer.forward(x)
        g = np.ones_like(out)
        g_before = g.copy()
        layer.gradient()
        layer.backward(g)
        np.testing.assert_array_equal(x, self.x)
        np.testing.assert_array_equal(g, g_before)

    def test_objectives(self, objective_class):
        objective = objective_class()
        y, yhat = np.array([[1.0, 0.0, 0.0]]), np.array([[0.2, 0.2, 0.6]])
        objective.eval(y, yhat)
        objective.gradient(y, yhat)
        np.testing.assert_array_equal(y, [[1.0, 0.0, 0.0]])
        np.testing.assert_array_equal(yhat, [[0.2, 0.2, 0.6]])

    def test_weight_assignment_and_update(self):
        layer = layers.FullyConnectedLayer(3, 2, rng=np.random.default_rng(0))
        weights, biases = np.ones((3, 2)), np.zeros((1, 2))
        layer.weights, layer.biases = weights, biases
        layer.forward(self.x)
        g = np.ones((2, 2))
        layer.update_weights(g, eta=0.5)
        np.testing.assert_array_equal(weights, np.ones((3, 2)))
        np.testing.assert_array_equal(biases, np.zeros((1, 2)))
        np.testing.assert_array_equal(g, np.ones((2, 2)))
        assert not np.array_equal(layer.weights, weights)  # the step did happen

    def test_finite_difference_helpers(self):
        x = self.x.copy()
        layers.numerical_jacobian(layers.TanhLayer().forward, x)
        layers.numerical_gradient(lambda z: float(np.sum(z**2)), x)
        np.testing.assert_array_equal(x, self.x)


class TestNoAliasing:
    x = np.array([[0.5, -1.5, 2.0], [3.0, 0.0, -4.0]])

    def test_prev_in_is_a_copy(self, make_layer):
        layer = make_layer()
        x = self.x.copy()
        layer.forward(x)
        jacobian = layer.gradient()
        assert not np.shares_memory(layer.prev_in, x)
        x[:] = 7.0  # the caller reuses its buffer
        np.testing.assert_array_equal(layer.prev_in, self.x)
        np.testing.assert_array_equal(layer.gradient(), jacobian)

    def test_editing_the_output_leaves_the_stored_state(self, make_layer):
        layer = make_layer()
        out = layer.forward(self.x)
        jacobian = layer.gradient()
        assert not np.shares_memory(out, layer.prev_out)
        out[:] = 0.9  # the caller edits the result in place
        np.testing.assert_array_equal(layer.gradient(), jacobian)

    def test_assigned_weights_are_copies(self):
        layer = layers.FullyConnectedLayer(3, 2, rng=np.random.default_rng(0))
        weights, biases = np.ones((3, 2)), np.zeros((1, 2))
        layer.weights, layer.biases = weights, biases
        assert not np.shares_memory(layer.weights, weights)
        assert not np.shares_memory(layer.biases, biases)
        weights[:], biases[:] = 9.0, 9.0
        np.testing.assert_array_equal(layer.weights, np.ones((3, 2)))
        np.testing.assert_array_equal(layer.biases, np.zeros((1, 2)))

    def test_editing_the_fully_connected_gradient_leaves_the_weights(self):
        layer = layers.FullyConnectedLayer(3, 2, rng=np.random.default_rng(0))
        layer.forward(self.x)
        weights = layer.weights.copy()
        layer.gradient()[:] = 0.0
        np.testing.assert_array_equal(layer.weights, weights)

    def test_input_layer_keeps_its_own_statistics(self):
        data = np.array([[1.0, 2.0], [3.0, 6.0]])
        layer = layers.InputLayer(data)
        data[:] = 0.0
        np.testing.assert_allclose(layer.forward([[2.0, 4.0]]), [[0.0, 0.0]], atol=1e-15)


class TestImport:
    def test_import_layers_loads_numpy_only(self, repo_root):
        # A fresh interpreter: which third-party packages does `import layers` pull in?
        script = (
            "import sys\n"
            "before = set(sys.modules)\n"
            "import layers\n"
            "new = {name.split('.')[0] for name in set(sys.modules) - before}\n"
            "print(layers.__file__)\n"
            "print(' '.join(sorted(new - set(sys.stdlib_module_names))))\n"
            "heavy = ('sympy', 'matplotlib', 'scipy', 'sklearn')\n"
            "print(' '.join(name for name in heavy if name in sys.modules))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=repo_root, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        path, third_party, heavy = (result.stdout.split("\n") + ["", "", ""])[:3]
        assert path == str(repo_root / "layers.py")
        assert set(third_party.split()) == {"layers", "numpy"}
        assert heavy == ""


class TestElementwiseBackwardInPlace:
    def test_a_derivative_that_is_the_stored_output_is_not_overwritten(self):
        # exp is its own derivative: a subclass may hand back prev_out itself,
        # which backward must not multiply in place.
        class ExpLayer(layers.ElementwiseLayer):
            def _forward(self, x):
                return np.exp(x)

            def _derivative(self):
                return self.prev_out

        layer, x, g = ExpLayer(), np.array([[0.0, 1.0]]), np.array([[2.0, 3.0]])
        out = layer.forward(x)
        first = layer.backward(g)
        np.testing.assert_array_equal(layer.prev_out, out)
        np.testing.assert_array_equal(layer.backward(g), first)
        np.testing.assert_allclose(first, g * np.exp(x), rtol=1e-15)
