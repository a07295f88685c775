"""The numbers of the source homework (homework2.md), copied verbatim.

Two kinds of numbers appear in the document:

* FIGURES: what the homework's program printed (Figures 1-7), numpy arrays
  at numpy's default precision. Only the printed output lines are kept; the
  shell prompts and menus are left out. Some whitespace in the document
  differs from numpy's (it was retyped); the numbers are as printed.
* Theory answers (Q1-Q6), typed by hand with 7 to 11 decimals.

Both are rounded, so a value matches when our number lies within half a unit
of the last printed digit: see `printed_tolerance` and `typed_tolerance`.
"""

import re

import numpy as np

# --------------------------------------------------------------------------
# Figures 1-7: the program's printed output
# --------------------------------------------------------------------------

FIGURES = {
    "Figure 1: FC Layer": """\
Fully Connected:
[[0.0009792  0.00099362]]
Fully Connected Gradient:
[[6.46440512e-05 1.14556810e-04 8.08290128e-05 6.34649549e-05]
 [2.70964398e-05 9.37682339e-05 3.12761634e-05 1.67531900e-04]]
""",
    "Figure 2: Linear": """\
Linear
[[1 2 3 4]]
Activation Gradient:
[[1. 0. 0. 0.]
 [0. 1. 0. 0.]
 [0. 0. 1. 0.]
 [0. 0. 0. 1.]]
""",
    "Figure 3: ReLu": """\
ReLU
[[1 2 3 4]]
Activation Gradient:
[[1. 0. 0. 0.]
 [0. 1. 0. 0.]
 [0. 0. 1. 0.]
 [0. 0. 0. 1.]]
""",
    # Erratum: the first two rows of the Jacobian have three columns.
    "Figure 4: Sigmoid": """\
Sigmoid
[[0.73105858 0.88079708 0.95257413 0.98201379]]
Activation Gradient:
[[0.19661203 0.          0.          ]
 [0.          0.10499369 0.          ]
 [0.          0.          0.04517676 0.          ]
 [0.          0.          0.          0.01766281]]
""",
    "Figure 5: TanH": """\
Tanh
[[0.76159416 0.96402758 0.99505475 0.9993293 ]]
Activation Gradient:
[[0.41997444 0.          0.          0.          ]
 [0.          0.07065092 0.          0.          ]
 [0.          0.          0.00986614 0.          ]
 [0.          0.          0.          0.00134105]]
""",
    "Figure 6: Softmax": """\
Softmax
[[0.0320586 0.08714432 0.23688282 0.64391426]]
Activation Gradient:
[[ 0.03103085 -0.00279373 -0.00759413 -0.02064299]
 [-0.00279373 0.07955019 -0.02064299 -0.05611347]
 [-0.00759413 -0.02064299 0.18076935 -0.15253222]
 [-0.02064299 -0.05611347 -0.15253222 0.22928869]]
""",
    "Figure 7: Objective Layers": """\
Least Squares Eval:
0.04000000000000001
Least Squares Gradient:
0.4
Log Loss Eval:
0.22314342631421757
Log Loss Gradient:
1.249999218750488
Cross Entropy Eval:
[1.60943741]
Cross Entropy Gradient:
[[-4.9999975 -0.      -0.      ]]
""",
}

# The input of every theory question and activation figure.
H = [[1, 2, 3, 4]]

# --------------------------------------------------------------------------
# Theory Q1-Q6: hand-typed answers (strings keep the printed digits)
# --------------------------------------------------------------------------

# Q1(b) Softmax. Erratum: "g1 = 0.03103085" is g1 (1 - g1), the Jacobian's
# J[0, 0]; g1 itself is 0.0320586 (Figure 6 has it right).
THEORY_SOFTMAX_G = ["0.03103085", "0.08714431874", "0.23688282", "0.64391426"]
THEORY_SOFTMAX_FIRST_ROW = ["0.03103085", "-0.00279373", "-0.00759413", "-0.02064299"]
THEORY_SOFTMAX_JACOBIAN = [
    ["0.03103085", "-0.00279373", "-0.00759413", "-0.02064299"],
    ["-0.00279373", "0.07955019", "-0.02064299", "-0.05611347"],
    ["-0.00759413", "-0.02064299", "0.18076935", "-0.15253222"],
    ["-0.02064299", "-0.05611347", "-0.15253222", "0.22928869"],
]

# Q1(c) Sigmoid and Q1(d) TanH: outputs, and the Jacobian's diagonal with
# eps = 1e-7 added (zeros elsewhere).
THEORY_SIGMOID_G = ["0.73105858", "0.88079708", "0.95257413", "0.98201379"]
THEORY_SIGMOID_DIAGONAL = ["0.19661203", "0.10499369", "0.04517676", "0.01766281"]
THEORY_TANH_G = ["0.76159416", "0.96402758", "0.99505475", "0.9993293"]
THEORY_TANH_DIAGONAL = ["0.41997444", "0.07065092", "0.00986614", "0.00134105"]
THEORY_EPS = 1e-7

# Q2: the fully connected layer's gradient is W transposed.
THEORY_W = [[1, 2], [3, 4], [5, 6], [7, 8]]
THEORY_W_TRANSPOSED = [[1, 3, 5, 7], [2, 4, 6, 8]]

# Q3, Q5: y = 0, yhat = 0.2.
THEORY_SQUARED_ERROR = 0.04  # exact arithmetic: (0 - .2)^2
THEORY_SQUARED_ERROR_GRADIENT = 0.4  # exact arithmetic: -2 (0 - .2)
THEORY_LN_0_2000001 = "-1.6094374"  # ln(.2 + eps)
# Erratum: ln(.8 + eps) = -0.22314343, so both lines of Q3(b) are off by 2.7e-7.
THEORY_LN_0_8000001 = "-0.2231437"
THEORY_LOG_LOSS = "0.2231437"
THEORY_LOG_LOSS_DENOMINATOR = "0.1600001"  # .2 (1 - .2) + eps
THEORY_LOG_LOSS_GRADIENT = "1.2499992"

# Q4, Q6: y = [1, 0, 0], yhat = [0.2, 0.2, 0.6].
THEORY_LN_YHAT = ["-1.6094374", "-1.6094374", "-0.5108255"]  # ln(yhat + eps)
THEORY_CROSS_ENTROPY = "1.6094374"
THEORY_CROSS_ENTROPY_GRADIENT = ["-4.9999975", "0", "0"]

# --------------------------------------------------------------------------
# Reading printed numbers, and how precise they are
# --------------------------------------------------------------------------

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")

# numpy's default print (precision=8, floatmode="maxprec") rounds fixed-point
# numbers to 8 decimals and drops trailing zeros ("0.0009792" is 0.00097920,
# "0." is 0.00000000), so every fixed-point entry is good to half of 1e-8.
NUMPY_FIXED_TOLERANCE = 0.5e-8


def printed_tolerance(token):
    """Half a unit in the last place of one entry of a numpy printout."""
    if "e" in token:
        mantissa, exponent = token.split("e")
        decimals = len(mantissa.partition(".")[2])
        return 0.5 * 10.0 ** (int(exponent) - decimals)
    return NUMPY_FIXED_TOLERANCE


def typed_tolerance(text):
    """Half a unit in the last typed decimal; a typed integer is exact."""
    decimals = len(text.partition(".")[2])
    return 0.5 * 10.0 ** -decimals if decimals else 0.0


def figure_arrays(figure):
    """Split a figure into {title: printed array text}, in printed order."""
    arrays, title = {}, None
    for line in FIGURES[figure].splitlines():
        if NUMBER.match(line.lstrip("[ ")):
            arrays[title] = arrays.get(title, "") + line + "\n"
        else:
            title = line
    return arrays


def printed_rows(text):
    """The rows of a numpy printout as lists of number tokens."""
    return [NUMBER.findall(line) for line in text.strip().splitlines()]


def parse_printed(text):
    """A rectangular numpy printout -> (values, per-entry tolerances)."""
    rows = printed_rows(text)
    if len({len(row) for row in rows}) != 1:
        raise ValueError(f"ragged printout, row lengths {[len(row) for row in rows]}")
    values = np.array([[float(token) for token in row] for row in rows])
    tolerances = np.array([[printed_tolerance(token) for token in row] for row in rows])
    return values, tolerances
