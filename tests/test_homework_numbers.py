"""Every number of the source homework, reproduced by layers.py.

The document's numbers are rounded, so each check asks that our value lies
within half a unit of the last printed digit (5e-9 for numpy's 8-decimal
printout, 5e-8 for a 7-decimal theory answer; see homework_document.py).
Where the document is wrong (its errata), the test pins the true value and
asserts that the document's value is NOT what the layer gives.
"""

import numpy as np
import pytest

import homework_document as doc
import layers

H = np.array(doc.H, dtype=np.float64)

# Figure 7 prints three floats in full (repr, 17 significant digits). We ask
# for them up to round-off of a different evaluation order, nothing more.
FULL_REPR_RTOL = 1e-12


def assert_matches_print(actual, printed):
    """actual agrees with a numpy printout to half a unit of each printed digit."""
    expected, tolerance = doc.parse_printed(printed)
    actual = np.asarray(actual, dtype=np.float64).reshape(-1, expected.shape[-1])
    assert actual.shape == expected.shape
    error = np.abs(actual - expected)
    assert np.all(error <= tolerance * (1 + 1e-9)), (
        f"\nours:\n{actual!r}\nprinted:\n{printed}\nerror / tolerance:\n{error / tolerance}"
    )


def assert_matches_typed(actual, typed):
    """actual agrees with hand-typed values to half a unit of each typed digit."""
    typed = np.atleast_1d(np.asarray(typed))
    expected = typed.astype(np.float64)
    tolerance = np.vectorize(doc.typed_tolerance)(typed)
    actual = np.asarray(actual, dtype=np.float64).reshape(expected.shape)
    error = np.abs(actual - expected)
    assert np.all(error <= tolerance * (1 + 1e-9)), f"ours {actual}, typed {typed}"


def forward_at_h(layer):
    out = layer.forward(H)
    return out, layer.gradient()


def test_homework_input_is_the_documents_h():
    np.testing.assert_array_equal(layers.HOMEWORK_H, doc.H)
    assert layers.HOMEWORK_H.dtype == np.float64


class TestFigure1FullyConnected:
    figure = doc.figure_arrays("Figure 1: FC Layer")

    def test_forward_matches_printout(self):
        out = layers.homework_fully_connected().forward(layers.HOMEWORK_H)
        assert out.shape == (1, 2)
        assert_matches_print(out, self.figure["Fully Connected:"])

    def test_gradient_matches_printout(self):
        layer = layers.homework_fully_connected()
        layer.forward(layers.HOMEWORK_H)
        gradient = layer.gradient()
        assert gradient.shape == (2, 4)  # (size_out, size_in): one matrix for every row
        assert_matches_print(gradient, self.figure["Fully Connected Gradient:"])

    def test_gradient_is_the_weights_transposed(self):
        layer = layers.homework_fully_connected()
        layer.forward(layers.HOMEWORK_H)
        np.testing.assert_array_equal(layer.gradient(), layer.weights.T)


class TestTheoryQ2FullyConnectedGradient:
    def test_homework_w_is_the_theorys_w(self):
        np.testing.assert_array_equal(layers.HOMEWORK_W, doc.THEORY_W)

    def test_gradient_is_w_transposed(self):
        layer = layers.FullyConnectedLayer(4, 2, rng=np.random.default_rng(0))
        layer.weights = doc.THEORY_W
        layer.forward(H)
        np.testing.assert_array_equal(layer.gradient(), doc.THEORY_W_TRANSPOSED)


# Figures 2, 3, 5, 6: output and Jacobian at h, as printed.
PRINTED_ACTIVATIONS = [
    pytest.param("Figure 2: Linear", "Linear", layers.LinearLayer, id="linear"),
    pytest.param("Figure 3: ReLu", "ReLU", layers.ReLULayer, id="relu"),
    pytest.param("Figure 5: TanH", "Tanh", layers.TanhLayer, id="tanh"),
    pytest.param("Figure 6: Softmax", "Softmax", layers.SoftmaxLayer, id="softmax"),
]


@pytest.mark.parametrize("figure, title, layer_class", PRINTED_ACTIVATIONS)
class TestActivationFigures:
    def test_output_matches_printout(self, figure, title, layer_class):
        out, _ = forward_at_h(layer_class())
        assert_matches_print(out, doc.figure_arrays(figure)[title])

    def test_jacobian_matches_printout(self, figure, title, layer_class):
        _, jacobian = forward_at_h(layer_class())
        assert jacobian.shape == (1, 4, 4)
        assert_matches_print(jacobian[0], doc.figure_arrays(figure)["Activation Gradient:"])


class TestTheoryQ1aReLU:
    def test_jacobian_is_the_identity(self):
        _, jacobian = forward_at_h(layers.ReLULayer())
        np.testing.assert_array_equal(jacobian[0], np.eye(4))

    def test_linear_jacobian_is_the_identity(self):
        _, jacobian = forward_at_h(layers.LinearLayer())
        np.testing.assert_array_equal(jacobian[0], np.eye(4))


class TestFigure4AndTheoryQ1cSigmoid:
    figure = doc.figure_arrays("Figure 4: Sigmoid")

    def test_output_matches_printout(self):
        out, _ = forward_at_h(layers.LogisticSigmoidLayer())
        assert_matches_print(out, self.figure["Sigmoid"])

    def test_output_matches_theory(self):
        out, _ = forward_at_h(layers.LogisticSigmoidLayer())
        assert_matches_typed(out, doc.THEORY_SIGMOID_G)

    def test_jacobian_diagonal_matches_theory(self):
        _, jacobian = forward_at_h(layers.LogisticSigmoidLayer())
        assert_matches_typed(np.diag(jacobian[0]), doc.THEORY_SIGMOID_DIAGONAL)
        np.testing.assert_array_equal(jacobian[0], np.diag(np.diag(jacobian[0])))

    def test_jacobian_matches_every_printed_nonzero(self):
        _, jacobian = forward_at_h(layers.LogisticSigmoidLayer())
        for i, row in enumerate(doc.printed_rows(self.figure["Activation Gradient:"])):
            printed_diagonal = [token for token in row if float(token) != 0]
            assert_matches_typed(jacobian[0, i, i], printed_diagonal)

    def test_erratum_printed_jacobian_has_three_column_rows(self):
        # The printout's first two rows have 3 columns, a typesetting slip:
        # the Jacobian is 4 x 4, its off-diagonal entries exactly 0.
        rows = doc.printed_rows(self.figure["Activation Gradient:"])
        assert [len(row) for row in rows] == [3, 3, 4, 4]
        _, jacobian = forward_at_h(layers.LogisticSigmoidLayer())
        assert jacobian[0].shape == (4, 4)
        assert np.count_nonzero(jacobian[0]) == 4

    def test_printed_diagonal_includes_eps(self):
        # The homework adds eps = 1e-7 to the diagonal; at 8 decimals it shows.
        layer = layers.LogisticSigmoidLayer(eps=0)
        layer.forward(H)
        exact = np.diag(layer.gradient()[0])
        expected = np.array(doc.THEORY_SIGMOID_DIAGONAL, dtype=float)
        assert np.all(np.abs(exact - expected) > doc.typed_tolerance(doc.THEORY_SIGMOID_DIAGONAL[0]))
        assert_matches_typed(exact + doc.THEORY_EPS, doc.THEORY_SIGMOID_DIAGONAL)


class TestTheoryQ1dTanh:
    def test_output_matches_theory(self):
        out, _ = forward_at_h(layers.TanhLayer())
        assert_matches_typed(out, doc.THEORY_TANH_G)

    def test_jacobian_diagonal_matches_theory(self):
        _, jacobian = forward_at_h(layers.TanhLayer())
        assert_matches_typed(np.diag(jacobian[0]), doc.THEORY_TANH_DIAGONAL)
        np.testing.assert_array_equal(jacobian[0], np.diag(np.diag(jacobian[0])))

    def test_printed_diagonal_includes_eps(self):
        layer = layers.TanhLayer(eps=0)
        layer.forward(H)
        exact = np.diag(layer.gradient()[0])
        expected = np.array(doc.THEORY_TANH_DIAGONAL, dtype=float)
        assert np.all(np.abs(exact - expected) > doc.typed_tolerance(doc.THEORY_TANH_DIAGONAL[0]))
        assert_matches_typed(exact + doc.THEORY_EPS, doc.THEORY_TANH_DIAGONAL)


class TestTheoryQ1bSoftmax:
    def test_outputs_g2_to_g4_match_theory(self):
        # g2 is typed with 11 decimals: checked to 5e-12.
        out, _ = forward_at_h(layers.SoftmaxLayer())
        assert_matches_typed(out[0, 1:], doc.THEORY_SOFTMAX_G[1:])

    def test_first_row_of_the_jacobian_matches_theory(self):
        _, jacobian = forward_at_h(layers.SoftmaxLayer())
        assert_matches_typed(jacobian[0, 0], doc.THEORY_SOFTMAX_FIRST_ROW)

    def test_jacobian_matches_theory(self):
        _, jacobian = forward_at_h(layers.SoftmaxLayer())
        assert_matches_typed(jacobian[0], doc.THEORY_SOFTMAX_JACOBIAN)

    def test_erratum_theory_g1_is_really_the_jacobians_first_entry(self):
        # Theory writes g1 = 0.03103085; that is J[0, 0] = g1 (1 - g1).
        out, jacobian = forward_at_h(layers.SoftmaxLayer())
        typed_g1 = doc.THEORY_SOFTMAX_G[0]
        assert abs(out[0, 0] - float(typed_g1)) > 1e-3
        assert_matches_typed(out[0, 0], "0.03205860")
        assert_matches_typed(jacobian[0, 0, 0], typed_g1)


class TestFigure7AndTheoryQ3toQ6Objectives:
    figure = doc.figure_arrays("Figure 7: Objective Layers")
    y, yhat = np.array([[0.0]]), np.array([[0.2]])
    y3, yhat3 = np.array([[1.0, 0.0, 0.0]]), np.array([[0.2, 0.2, 0.6]])

    def printed_float(self, title):
        return float(self.figure[title])

    def test_squared_error_eval(self):
        loss = layers.SquaredError().eval(self.y, self.yhat)
        assert isinstance(loss, float)
        assert loss == pytest.approx(self.printed_float("Least Squares Eval:"), rel=FULL_REPR_RTOL)
        assert loss == pytest.approx(doc.THEORY_SQUARED_ERROR, rel=FULL_REPR_RTOL)

    def test_squared_error_gradient(self):
        gradient = layers.SquaredError().gradient(self.y, self.yhat)
        assert gradient.shape == (1, 1)
        expected = self.printed_float("Least Squares Gradient:")
        assert gradient.item() == pytest.approx(expected, rel=FULL_REPR_RTOL)
        assert gradient.item() == pytest.approx(doc.THEORY_SQUARED_ERROR_GRADIENT, rel=FULL_REPR_RTOL)

    def test_log_loss_eval(self):
        loss = layers.LogLoss().eval(self.y, self.yhat)
        assert isinstance(loss, float)
        assert loss == pytest.approx(self.printed_float("Log Loss Eval:"), rel=FULL_REPR_RTOL)

    def test_log_loss_gradient(self):
        gradient = layers.LogLoss().gradient(self.y, self.yhat)
        assert gradient.shape == (1, 1)
        expected = self.printed_float("Log Loss Gradient:")
        assert gradient.item() == pytest.approx(expected, rel=FULL_REPR_RTOL)
        assert_matches_typed(gradient, doc.THEORY_LOG_LOSS_GRADIENT)

    def test_log_loss_gradient_denominator_matches_theory(self):
        # Q5(b): delta = -(y - yhat) / denominator, so denominator = 0.2 / delta.
        gradient = layers.LogLoss().gradient(self.y, self.yhat).item()
        assert_matches_typed(0.2 / gradient, doc.THEORY_LOG_LOSS_DENOMINATOR)

    def test_log_of_yhat_plus_eps_matches_theory(self):
        # With y = 1 the log loss is -ln(yhat + eps): Q3(b)'s ln(.2000001).
        loss = layers.LogLoss().eval([[1.0]], self.yhat)
        assert_matches_typed(-loss, doc.THEORY_LN_0_2000001)

    def test_erratum_log_loss_theory_is_a_rounding_slip(self):
        # Theory writes 0.2231437 (and ln(.8000001) = -0.2231437); the true
        # value is 0.22314343, further from 0.2231437 than its last digit allows.
        loss = layers.LogLoss().eval(self.y, self.yhat)
        assert_matches_typed(loss, "0.22314343")
        for typed in (doc.THEORY_LOG_LOSS, doc.THEORY_LN_0_8000001.lstrip("-")):
            assert abs(loss - float(typed)) > doc.typed_tolerance(typed)

    def test_cross_entropy_eval(self):
        loss = layers.CrossEntropy().eval(self.y3, self.yhat3)
        assert isinstance(loss, float)
        assert_matches_print([[loss]], self.figure["Cross Entropy Eval:"])
        assert_matches_typed(loss, doc.THEORY_CROSS_ENTROPY)

    def test_cross_entropy_gradient(self):
        gradient = layers.CrossEntropy().gradient(self.y3, self.yhat3)
        assert gradient.shape == (1, 3)
        assert_matches_print(gradient, self.figure["Cross Entropy Gradient:"])
        assert_matches_typed(gradient, doc.THEORY_CROSS_ENTROPY_GRADIENT)

    def test_log_of_each_yhat_plus_eps_matches_theory(self):
        # Q4's column ln(yhat + eps): with a one-hot y the loss is -ln(yhat_k + eps).
        logs = [-layers.CrossEntropy().eval(np.eye(3)[[k]], self.yhat3) for k in range(3)]
        assert_matches_typed(logs, doc.THEORY_LN_YHAT)
