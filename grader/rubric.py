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

_LAYERS = [
    "InputLayer",
    "FullyConnectedLayer",
    "LinearLayer",
    "ReLULayer",
    "LogisticSigmoidLayer",
    "TanhLayer",
    "SoftmaxLayer",
]
_OBJECTIVES = ["SquaredError", "LogLoss", "CrossEntropy"]


def _build():
    rubric = []
    for layer in _LAYERS:
        rubric.append((f"{layer}.forward", 2, 1, "the output of forward(x)"))
        rubric.append((f"{layer}.gradient", 2, 2, "the Jacobian, at state set from the reference forward pass"))
        rubric.append((f"{layer}.backward", 2, 2, "backward(grad_in) against the einsum with the expected Jacobian"))
        if layer == "FullyConnectedLayer":
            rubric.append((f"{layer}.weight_gradients", 2, 2, "(dW, db), no 1/N of its own"))
    for objective in _OBJECTIVES:
        rubric.append((f"{objective}.eval", 1, 1, "the mean over rows of the per-row loss"))
        rubric.append((f"{objective}.gradient", 1, 2, "d eval / d yhat, with the 1/N of the mean"))
    rubric.append(("numerical_jacobian", 2, 2, "central differences, the given step h, input unmodified"))
    return rubric


#: (part, visible points, hidden points, what is checked), in grading order.
RUBRIC = _build()
TOTAL = sum(visible + hidden for _, visible, hidden, _ in RUBRIC)
assert TOTAL == 100, TOTAL
