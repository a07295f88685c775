"""The rubric: every graded part, its points for the visible and the hidden cases.

A part is one method of layers.py. Its visible cases are the notebooks' own
(the homework's h = [[1, 2, 3, 4]], small batches, the homework's targets);
its hidden cases (shown on Gradescope after the due date) add random shapes,
|x| = 1000, and the course's conventions: ReLU's derivative 1 at 0, eps on
the sigmoid and tanh diagonals (and the layer's own eps), the 1/N of the
objectives' mean, inputs left unmodified (Part 2: leaky ReLU's and ELU's
derivatives at 0, batch normalisation's running statistics and eval mode,
dropout at p = 0 and in eval, soft targets for the cross entropy from
logits). Each group of cases scores all or nothing: every case of the group
must match the reference within the tolerance below.

Part 1 (the homework's layers) and Part 2 (the layers after it) share the 100
points, 70 and 30; points are multiples of 0.5 so that every one of the 55
parts has a visible and a hidden group.
"""

#: Relative tolerance of every comparison: far below the 1% error a case must catch.
RTOL = 1e-6
#: Absolute tolerance for entries that should be (near) zero.
ATOL = 1e-12
#: Absolute tolerance for numerical_jacobian: central differences with h = 1e-6
#: carry round-off of about 1e-16 |f| / h = 1e-10, and a learner's default h may differ.
NUMERICAL_ATOL = 1e-8

#: (part, visible points, hidden points, what is checked), in grading order.
#: Part 1, the homework's layers, objectives and finite differences: 70 points.
PART_1 = [
    ("InputLayer.forward", 1, 1, "the output of forward(x), the statistics of the data included"),
    ("InputLayer.gradient", 1.5, 1.5, "the Jacobian, at state set from the reference forward pass"),
    ("InputLayer.backward", 1.5, 1.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("FullyConnectedLayer.forward", 1, 1, "the output of forward(x)"),
    ("FullyConnectedLayer.gradient", 1.5, 1.5, "the Jacobian weights.T, (size_out, size_in)"),
    ("FullyConnectedLayer.backward", 1.5, 1.5, "backward(grad_in) = grad_in @ weights.T"),
    ("FullyConnectedLayer.weight_gradients", 1.5, 1.5, "(dW, db), no 1/N of its own"),
    ("LinearLayer.forward", 1, 1, "the output of forward(x)"),
    ("LinearLayer.gradient", 1.5, 1.5, "the Jacobian, at state set from the reference forward pass"),
    ("LinearLayer.backward", 1.5, 1.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("ReLULayer.forward", 1, 1, "the output of forward(x)"),
    ("ReLULayer.gradient", 1.5, 1.5, "the Jacobian; derivative 1 at x = 0"),
    ("ReLULayer.backward", 1.5, 1.5, "backward(grad_in); derivative 1 at x = 0"),
    ("LogisticSigmoidLayer.forward", 1, 1, "the output of forward(x), right at x = ±1000 too"),
    ("LogisticSigmoidLayer.gradient", 1.5, 1.5, "the Jacobian with the layer's eps on the diagonal"),
    ("LogisticSigmoidLayer.backward", 1.5, 1.5, "backward(grad_in), eps included"),
    ("TanhLayer.forward", 1, 1, "the output of forward(x), no NaN at x = ±1000"),
    ("TanhLayer.gradient", 1.5, 1.5, "the Jacobian with the layer's eps on the diagonal"),
    ("TanhLayer.backward", 1.5, 1.5, "backward(grad_in), eps included"),
    ("SoftmaxLayer.forward", 1, 1, "the output of forward(x), shifted by the row maximum"),
    ("SoftmaxLayer.gradient", 1.5, 1.5, "the Jacobian diag(s) - s s^T per row"),
    ("SoftmaxLayer.backward", 1.5, 1.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("SquaredError.eval", 0.5, 0.5, "the mean over rows of the per-row loss"),
    ("SquaredError.gradient", 0.5, 1.5, "d eval / d yhat, with the 1/N of the mean"),
    ("LogLoss.eval", 0.5, 0.5, "the mean over rows of the per-row loss, eps inside the logs"),
    ("LogLoss.gradient", 0.5, 1.5, "d eval / d yhat, with the 1/N of the mean and eps"),
    ("CrossEntropy.eval", 0.5, 0.5, "the mean over rows of the per-row loss, eps inside the log"),
    ("CrossEntropy.gradient", 0.5, 1.5, "d eval / d yhat, with the 1/N of the mean and eps"),
    ("numerical_jacobian", 1, 1, "central differences, the given step h, input unmodified"),
]
#: Part 2, the layers after the homework: 30 points.
PART_2 = [
    ("LeakyReLULayer.forward", 0.5, 0.5, "the output of forward(x), the layer's alpha"),
    ("LeakyReLULayer.gradient", 0.5, 0.5, "the Jacobian; derivative 1 at x = 0, alpha below"),
    ("LeakyReLULayer.backward", 0.5, 0.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("SoftplusLayer.forward", 0.5, 0.5, "the output of forward(x), no overflow at x = ±1000"),
    ("SoftplusLayer.gradient", 0.5, 0.5, "the Jacobian diag(sigma(x)), exact, no eps"),
    ("SoftplusLayer.backward", 0.5, 0.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("ELULayer.forward", 0.5, 0.5, "the output of forward(x), the layer's alpha"),
    ("ELULayer.gradient", 0.5, 0.5, "the Jacobian; derivative alpha at x = 0"),
    ("ELULayer.backward", 0.5, 0.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("GELULayer.forward", 0.5, 0.5, "the output of forward(x), the tanh form"),
    ("GELULayer.gradient", 0.5, 0.5, "the Jacobian of the tanh form"),
    ("GELULayer.backward", 0.5, 0.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("LogSoftmaxLayer.forward", 0.5, 0.5, "the output of forward(x), shifted by the row maximum (x = ±1000)"),
    ("LogSoftmaxLayer.gradient", 0.5, 0.5, "the Jacobian I - 1 s^T per row"),
    ("LogSoftmaxLayer.backward", 0.5, 0.5, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("LayerNormLayer.forward", 0.5, 0.5, "the output of forward(x): row statistics, var with ddof=0, eps"),
    ("LayerNormLayer.gradient", 0.5, 1, "the full per-row Jacobian, at state set from the reference"),
    ("LayerNormLayer.backward", 0.5, 1, "backward(grad_in) against the einsum with the expected Jacobian"),
    ("BatchNormLayer.forward", 0.5, 1, "column statistics (ddof=0) in training, batches of 2 to 8 rows; "
                                       "running statistics: their update, and eval mode"),
    ("BatchNormLayer.gradient", 0.5, 1, "the (K, N, N) Jacobian across the batch; r_k I in eval mode"),
    ("BatchNormLayer.backward", 1, 1, "backward(grad_in) against einsum('nk,knm->mk', grad_in, J)"),
    ("DropoutLayer.forward", 0.5, 0.5, "the mask from the seeded rng, scaled by 1/(1 - p); p = 0 and eval: identity"),
    ("DropoutLayer.gradient", 0.5, 0.5, "diag(mask / (1 - p)) of the reference's mask; identity in eval"),
    ("DropoutLayer.backward", 0.5, 0.5, "backward(grad_in) = grad_in * mask / (1 - p)"),
    ("CrossEntropyWithLogits.eval", 0.5, 1, "the mean over rows of -sum y log_softmax(z), finite at z = ±1000"),
    ("CrossEntropyWithLogits.gradient", 0.5, 1, "(softmax(z) sum(y) - y) / N, soft targets included"),
]
RUBRIC = PART_1 + PART_2
TOTAL = sum(visible + hidden for _, visible, hidden, _ in RUBRIC)
assert TOTAL == 100, TOTAL
assert sum(v + h for _, v, h, _ in PART_1) == 70 and sum(v + h for _, v, h, _ in PART_2) == 30

#: The course parts one can grade alone (--part): a course that stops at the homework grades Part 1.
PARTS = {1: PART_1, 2: PART_2}


def part_names(part=None):
    """The rubric's part names in grading order: every one (part None) or those of Part 1 or 2."""
    return [name for name, *_ in (RUBRIC if part is None else PARTS[part])]
