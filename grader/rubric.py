"""The rubric: every graded part, its points for the visible and the hidden cases.

A part is one method of layers.py. Its visible cases are the notebooks' own
(the homework's h = [[1, 2, 3, 4]], small batches, the homework's targets);
its hidden cases (shown on Gradescope after the due date) add random shapes,
|x| = 1000, and the course's conventions: ReLU's derivative 1 at 0, eps on
the sigmoid and tanh diagonals (and the layer's own eps), the 1/N of the
objectives' mean, inputs left unmodified. Each group of cases scores all or
nothing: every case of the group must match the reference within the
tolerance below.
"""

#: Relative tolerance of every comparison: far below the 1% error a case must catch.
RTOL = 1e-6
#: Absolute tolerance for entries that should be (near) zero.
ATOL = 1e-12
#: Absolute tolerance for numerical_jacobian: central differences with h = 1e-6
#: carry round-off of about 1e-16 |f| / h = 1e-10, and a learner's default h may differ.
NUMERICAL_ATOL = 1e-8

#: (part, visible points, hidden points, what is checked), in grading order.
RUBRIC = [
    ("InputLayer.forward", 2, 1, "the output of forward(x), the statistics of the data included"),
    ("InputLayer.gradient", 2, 2, "the Jacobian, at state set from the reference forward pass"),
    ("InputLayer.backward", 2, 2, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("FullyConnectedLayer.forward", 2, 1, "the output of forward(x)"),
    ("FullyConnectedLayer.gradient", 2, 2, "the Jacobian weights.T, (size_out, size_in)"),
    ("FullyConnectedLayer.backward", 2, 2, "backward(grad_in) = grad_in @ weights.T"),
    ("FullyConnectedLayer.weight_gradients", 2, 2, "(dW, db), no 1/N of its own"),
    ("LinearLayer.forward", 2, 1, "the output of forward(x)"),
    ("LinearLayer.gradient", 2, 2, "the Jacobian, at state set from the reference forward pass"),
    ("LinearLayer.backward", 2, 2, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("ReLULayer.forward", 2, 1, "the output of forward(x)"),
    ("ReLULayer.gradient", 2, 2, "the Jacobian; derivative 1 at x = 0"),
    ("ReLULayer.backward", 2, 2, "backward(grad_in); derivative 1 at x = 0"),
    ("LogisticSigmoidLayer.forward", 2, 1, "the output of forward(x), right at x = ±1000 too"),
    ("LogisticSigmoidLayer.gradient", 2, 2, "the Jacobian with the layer's eps on the diagonal"),
    ("LogisticSigmoidLayer.backward", 2, 2, "backward(grad_in), eps included"),
    ("TanhLayer.forward", 2, 1, "the output of forward(x), no NaN at x = ±1000"),
    ("TanhLayer.gradient", 2, 2, "the Jacobian with the layer's eps on the diagonal"),
    ("TanhLayer.backward", 2, 2, "backward(grad_in), eps included"),
    ("SoftmaxLayer.forward", 2, 1, "the output of forward(x), shifted by the row maximum"),
    ("SoftmaxLayer.gradient", 2, 2, "the Jacobian diag(s) - s s^T per row"),
    ("SoftmaxLayer.backward", 2, 2, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("SquaredError.eval", 1, 1, "the mean over rows of the per-row loss"),
    ("SquaredError.gradient", 1, 2, "d eval / d yhat, with the 1/N of the mean"),
    ("LogLoss.eval", 1, 1, "the mean over rows of the per-row loss, eps inside the logs"),
    ("LogLoss.gradient", 1, 2, "d eval / d yhat, with the 1/N of the mean and eps"),
    ("CrossEntropy.eval", 1, 1, "the mean over rows of the per-row loss, eps inside the log"),
    ("CrossEntropy.gradient", 1, 2, "d eval / d yhat, with the 1/N of the mean and eps"),
    ("numerical_jacobian", 2, 2, "central differences, the given step h, input unmodified"),
]
TOTAL = sum(visible + hidden for _, visible, hidden, _ in RUBRIC)
assert TOTAL == 100, TOTAL
