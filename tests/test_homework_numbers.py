"""Every number of the source homework, reproduced by layers.py.

The numbers come from homework.py (FIGURES: the program's printout; THEORY:
the hand-typed answers) and are never typed here. They are rounded, so each
check asks that our value lies within half a unit of the last digit shown
(``homework.tolerance``). Where the document is wrong (homework.ERRATA), the
test pins the true value and asserts that the document's value is NOT what
the layer gives.
"""

import numpy as np
import pytest

import homework
import layers

H = homework.H

# A figure line without brackets is a Python float printed with repr (all 17
# significant digits): we ask for it up to float64 round-off only.
FULL_REPR = "exact"


def printed_block(figure, title):
    """(values, tolerances) of one printed array of a figure."""
    text = homework.figure_arrays(figure)[title]
    if "[" not in text:
        token = text.strip()
        return np.array([[float(token)]]), np.array([[homework.tolerance(token, FULL_REPR)]])
    return homework.parse_printed(text)


def assert_within(actual, expected, tolerance, what):
    """actual agrees with expected entry by entry, to the given tolerances."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64).reshape(expected.shape)
    error = np.abs(actual - expected)
    assert np.all(error <= np.asarray(tolerance) * (1 + 1e-9)), (
        f"{what}\nours:\n{actual!r}\ndocument:\n{expected!r}\nerror / tolerance:\n{error / tolerance}"
    )


def assert_matches_print(actual, figure, title):
    """actual agrees with a figure's printout to half a unit of each printed digit."""
    expected, tolerance = printed_block(figure, title)
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.size == expected.size, f"{figure} / {title}: {actual.shape} vs {expected.shape}"
    assert_within(actual, expected, tolerance, f"{figure} / {title}")


def assert_matches_typed(actual, key, rule="typed"):
    """actual agrees with THEORY[key] to half a unit of each typed digit.

    rule="exact" for answers that are exact in real arithmetic (0.04 = 0.2^2).
    """
    if rule == "typed":
        expected, tolerance = homework.typed(key)
    else:
        expected = np.asarray(homework.THEORY[key], dtype=np.float64)
        tolerance = np.vectorize(lambda t: homework.tolerance(t, rule), otypes=[float])(
            np.asarray(homework.THEORY[key]))
    assert_within(actual, expected, tolerance, key)


def forward_at_h(layer):
    out = layer.forward(H)
    return out, layer.gradient()


def figure_named(word):
    """The FIGURES key whose title holds `word`, e.g. 'Softmax'."""
    (figure,) = [name for name in homework.FIGURES if word in name]
    return figure


class TestTheInputs:
    def test_h_is_the_input_the_linear_figure_prints(self):
        # The identity layer prints its input: Figure 2 shows h itself.
        values, _ = printed_block(figure_named("Linear"), "Linear")
        np.testing.assert_array_equal(H, values)
        assert H.dtype == np.float64 and H.shape == (1, 4)

    def test_w_is_the_transpose_of_theory_q2s_answer(self):
        values, _ = homework.typed("Q2 gradient")
        np.testing.assert_array_equal(homework.W, values.T)

    @pytest.mark.parametrize(
        "layer_class, key",
        [(layers.LogisticSigmoidLayer, "Q1c sigmoid diagonal"), (layers.TanhLayer, "Q1d tanh diagonal")],
        ids=["sigmoid", "tanh"],
    )
    def test_eps_is_what_the_diagonal_shows(self, layer_class, key):
        # The exact derivative misses the typed diagonal; adding EPS hits it.
        layer = layer_class(eps=0)
        layer.forward(H)
        exact = np.diag(layer.gradient()[0])
        expected, tolerance = homework.typed(key)
        assert np.all(np.abs(exact - expected) > tolerance)
        assert_within(exact + homework.EPS, expected, tolerance, f"{key} + EPS")


class TestFigure1FullyConnected:
    figure = figure_named("FC Layer")

    def test_forward_matches_printout(self):
        out = homework.fully_connected().forward(H)
        assert out.shape == (1, 2)
        assert_matches_print(out, self.figure, "Fully Connected:")

    def test_gradient_matches_printout(self):
        layer = homework.fully_connected()
        layer.forward(H)
        gradient = layer.gradient()
        assert gradient.shape == (2, 4)  # (size_out, size_in): one matrix for every row
        assert_matches_print(gradient, self.figure, "Fully Connected Gradient:")

    def test_gradient_is_the_weights_transposed(self):
        layer = homework.fully_connected()
        layer.forward(H)
        np.testing.assert_array_equal(layer.gradient(), layer.weights.T)

    def test_fully_connected_gives_a_fresh_layer_each_time(self):
        first, second = homework.fully_connected(), homework.fully_connected()
        assert first is not second
        np.testing.assert_array_equal(first.weights, second.weights)
        first.forward(H)
        first.update_weights(np.ones((1, 2)), eta=1.0)  # changing one leaves the other alone
        assert not np.array_equal(first.weights, second.weights)
        np.testing.assert_array_equal(second.weights, homework.fully_connected().weights)


# Figures 2, 3, 5, 6: output and Jacobian at h, as printed.
PRINTED_ACTIVATIONS = [
    pytest.param("Linear", "Linear", layers.LinearLayer, id="linear"),
    pytest.param("ReLu", "ReLU", layers.ReLULayer, id="relu"),
    pytest.param("TanH", "Tanh", lambda: layers.TanhLayer(eps=homework.EPS), id="tanh"),
    pytest.param("Softmax", "Softmax", layers.SoftmaxLayer, id="softmax"),
]


@pytest.mark.parametrize("word, title, new_layer", PRINTED_ACTIVATIONS)
class TestActivationFigures:
    def test_output_matches_printout(self, word, title, new_layer):
        out, _ = forward_at_h(new_layer())
        assert_matches_print(out, figure_named(word), title)

    def test_jacobian_matches_printout(self, word, title, new_layer):
        _, jacobian = forward_at_h(new_layer())
        assert jacobian.shape == (1, 4, 4)
        assert_matches_print(jacobian[0], figure_named(word), "Activation Gradient:")


# Every theory answer: how layers.py computes it. The test below fails for a
# THEORY key without an entry here, so no answer goes unchecked.
Y, YHAT = homework.Y_BINARY, homework.YHAT_BINARY
Y3, YHAT3 = homework.Y_ONE_HOT, homework.YHAT_THREE
EPS = homework.EPS


def _relu_jacobian():
    return forward_at_h(layers.ReLULayer())[1][0]


def _softmax():
    return forward_at_h(layers.SoftmaxLayer())


def _diagonal(layer):
    return np.diag(forward_at_h(layer)[1][0])


def _theory_q2():
    layer = layers.FullyConnectedLayer(4, 2, rng=np.random.default_rng(0))
    layer.weights = homework.W
    layer.forward(H)
    return layer.gradient()


def _log_loss_gradient():
    return layers.LogLoss(eps=EPS).gradient(Y, YHAT)


THEORY_CHECKS = {
    "Q1a relu jacobian": (_relu_jacobian, "typed"),
    # Entry 0 is erratum 1 (TestErrata); g2..g4 are checked here, g2 to 11 decimals.
    "Q1b softmax outputs": (lambda: _softmax()[0][0, 1:], "typed", slice(1, None)),
    "Q1b softmax first row": (lambda: _softmax()[1][0, 0], "typed"),
    "Q1b softmax jacobian": (lambda: _softmax()[1][0], "typed"),
    "Q1c sigmoid outputs": (lambda: forward_at_h(layers.LogisticSigmoidLayer(eps=EPS))[0], "typed"),
    "Q1c sigmoid diagonal": (lambda: _diagonal(layers.LogisticSigmoidLayer(eps=EPS)), "typed"),
    "Q1d tanh outputs": (lambda: forward_at_h(layers.TanhLayer(eps=EPS))[0], "typed"),
    "Q1d tanh diagonal": (lambda: _diagonal(layers.TanhLayer(eps=EPS)), "typed"),
    "Q2 gradient": (_theory_q2, "exact"),
    "Q3a squared error": (lambda: layers.SquaredError().eval(Y, YHAT), "exact"),
    # With the target flipped to 1 the log loss is -ln(yhat + eps).
    "Q3b ln(yhat + eps)": (lambda: -layers.LogLoss(eps=EPS).eval(1 - Y, YHAT), "typed"),
    "Q3b ln(1 - yhat + eps)": None,  # erratum 2: TestErrata
    "Q3b log loss": None,  # erratum 2: TestErrata
    "Q4 yhat + eps": (lambda: YHAT3 + EPS, "typed"),
    # With a one-hot target on class k the cross entropy is -ln(yhat_k + eps).
    "Q4 ln(yhat + eps)": (
        lambda: [-layers.CrossEntropy(eps=EPS).eval(np.eye(YHAT3.shape[1])[[k]], YHAT3)
                 for k in range(YHAT3.shape[1])],
        "typed",
    ),
    "Q4 cross entropy": (lambda: layers.CrossEntropy(eps=EPS).eval(Y3, YHAT3), "typed"),
    "Q5a y - yhat": (lambda: Y - YHAT, "exact"),
    "Q5a squared error gradient": (lambda: layers.SquaredError().gradient(Y, YHAT), "exact"),
    "Q5b 1 - yhat": (lambda: 1 - YHAT, "exact"),
    # gradient = -(y - yhat) / denominator, so denominator = (yhat - y) / gradient.
    "Q5b yhat (1 - yhat) + eps": (lambda: (YHAT - Y) / _log_loss_gradient(), "typed"),
    "Q5b (y - yhat) / (yhat (1 - yhat) + eps)": (lambda: -_log_loss_gradient(), "typed"),
    "Q5b log loss gradient": (_log_loss_gradient, "typed"),
    "Q6 cross entropy gradient": (lambda: layers.CrossEntropy(eps=EPS).gradient(Y3, YHAT3), "typed"),
}


def test_every_theory_answer_has_a_check():
    assert set(THEORY_CHECKS) == set(homework.THEORY)


@pytest.mark.parametrize("key", [key for key, check in THEORY_CHECKS.items() if check])
def test_theory_answer(key):
    compute, rule, *part = THEORY_CHECKS[key]
    actual = np.asarray(compute(), dtype=np.float64)
    if part:
        expected, tolerance = homework.typed(key)
        assert_within(actual, expected[part[0]], tolerance[part[0]], key)
    else:
        assert_matches_typed(actual, key, rule)


class TestTheoryDiagonalsAndShapes:
    @pytest.mark.parametrize("layer_class", [layers.LogisticSigmoidLayer, layers.TanhLayer])
    def test_jacobian_is_diagonal(self, layer_class):
        _, jacobian = forward_at_h(layer_class(eps=EPS))
        np.testing.assert_array_equal(jacobian[0], np.diag(np.diag(jacobian[0])))

    def test_relu_and_linear_jacobians_are_the_identity(self):
        for layer in (layers.ReLULayer(), layers.LinearLayer()):
            np.testing.assert_array_equal(forward_at_h(layer)[1][0], np.eye(H.shape[1]))


class TestFigure4Sigmoid:
    figure = figure_named("Sigmoid")

    def test_output_matches_printout(self):
        out, _ = forward_at_h(layers.LogisticSigmoidLayer(eps=EPS))
        assert_matches_print(out, self.figure, "Sigmoid")

    def test_jacobian_matches_every_printed_nonzero(self):
        _, jacobian = forward_at_h(layers.LogisticSigmoidLayer(eps=EPS))
        rows = homework.printed_rows(homework.figure_arrays(self.figure)["Activation Gradient:"])
        assert len(rows) == jacobian.shape[1]
        for i, row in enumerate(rows):
            (printed,) = [token for token in row if float(token) != 0]
            assert abs(jacobian[0, i, i] - float(printed)) <= homework.tolerance(printed, "numpy")


class TestFigure7Objectives:
    figure = figure_named("Objective")

    @pytest.mark.parametrize(
        "title, objective, target, prediction",
        [
            ("Least Squares", layers.SquaredError(), Y, YHAT),
            ("Log Loss", layers.LogLoss(eps=EPS), Y, YHAT),
            ("Cross Entropy", layers.CrossEntropy(eps=EPS), Y3, YHAT3),
        ],
        ids=["squared-error", "log-loss", "cross-entropy"],
    )
    def test_eval_and_gradient_match_printout(self, title, objective, target, prediction):
        loss = objective.eval(target, prediction)
        assert isinstance(loss, float)
        assert_matches_print(loss, self.figure, f"{title} Eval:")
        gradient = objective.gradient(target, prediction)
        assert gradient.shape == target.shape
        assert_matches_print(gradient, self.figure, f"{title} Gradient:")

    def test_full_reprs_are_checked_to_round_off(self):
        # The scalar lines are Python floats in full: a 1e-9 slip must fail.
        _, tolerance = printed_block(self.figure, "Log Loss Eval:")
        assert tolerance.item() < 1e-12


def test_every_figure_is_checked():
    checked = {figure_named(word) for word, *_ in (p.values for p in PRINTED_ACTIVATIONS)}
    checked |= {TestFigure1FullyConnected.figure, TestFigure4Sigmoid.figure, TestFigure7Objectives.figure}
    assert checked == set(homework.FIGURES)


class TestErrata:
    def test_1_theory_g1_is_really_the_jacobians_first_entry(self):
        # Theory's "g1" is J[0, 0] = g1 (1 - g1); Figure 6 prints g1 right.
        out, jacobian = _softmax()
        typed_g1, tolerance = homework.typed("Q1b softmax outputs")
        assert abs(out[0, 0] - typed_g1[0]) > 1e-3
        assert_within(jacobian[0, 0, 0], typed_g1[0], tolerance[0], "J[0, 0] vs typed g1")
        printed, printed_tolerance = printed_block(figure_named("Softmax"), "Softmax")
        assert_within(out[0, 0], printed[0, 0], printed_tolerance[0, 0], "g1 vs Figure 6")
        assert homework.THEORY["Q1b softmax outputs"][0] in homework.ERRATA[1]
        assert f"{out[0, 0]:.8f}" in homework.ERRATA[1]

    @pytest.mark.parametrize("key, sign", [("Q3b ln(1 - yhat + eps)", -1), ("Q3b log loss", 1)])
    def test_2_log_loss_theory_is_a_rounding_slip(self, key, sign):
        # Theory's last digit is off: the true value is further from it than
        # half a unit of that digit, and it is what the program printed.
        loss = layers.LogLoss(eps=EPS).eval(Y, YHAT)
        typed, tolerance = homework.typed(key)
        assert abs(sign * loss - typed) > tolerance
        assert_matches_print(loss, figure_named("Objective"), "Log Loss Eval:")
        assert homework.THEORY[key] in homework.ERRATA[2]
        assert f"{loss:.8f}" in homework.ERRATA[2]
        assert homework.figure_arrays(figure_named("Objective"))["Log Loss Eval:"].strip() in homework.ERRATA[2]

    def test_3_printed_sigmoid_jacobian_has_ragged_rows(self):
        # Two rows of the printout are short a column, a typesetting slip: the
        # Jacobian is square, its off-diagonal entries exactly 0.
        text = homework.figure_arrays(figure_named("Sigmoid"))["Activation Gradient:"]
        lengths = [len(row) for row in homework.printed_rows(text)]
        with pytest.raises(ValueError, match="ragged"):
            homework.parse_printed(text)
        _, jacobian = forward_at_h(layers.LogisticSigmoidLayer(eps=EPS))
        k = jacobian.shape[1]
        assert max(lengths) == k == len(lengths) and min(lengths) < k
        assert np.count_nonzero(jacobian[0]) == k
        assert f"{min(lengths)} columns" in homework.ERRATA[3] and f"{k} x {k}" in homework.ERRATA[3]


class TestTolerance:
    """homework.tolerance: the precision a printed or typed number carries."""

    @pytest.mark.parametrize(
        "printed, rule, expected",
        [
            ("1.2345678", "typed", 5e-8),
            (".25", "typed", 5e-3),
            ("-3.14159265358", "typed", 5e-12),
            ("7", "typed", 0.0),
            ("0.125", "numpy", 5e-9),
            ("1.25e-05", "numpy", 5e-14),
            ("2.5", "exact", 2.5e-12),
        ],
    )
    def test_half_a_unit_in_the_last_place(self, printed, rule, expected):
        assert homework.tolerance(printed, rule) == pytest.approx(expected, rel=1e-12)

    def test_unknown_rule(self):
        with pytest.raises(ValueError, match="rule must be"):
            homework.tolerance("1.0", "loose")
