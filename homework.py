"""The source homework: every number it holds, written once, and its answer key.

The pack grew out of a homework on layer gradients (notebooks/homework.ipynb restates
it in the pack's own words). Its numbers come in two kinds:

* FIGURES: what the homework's program printed (Figures 1-7), as numpy
  printouts at numpy's default precision. Only the output lines are kept.
  The document retyped some of them with other spacing; the numbers are as
  printed, including a ragged sigmoid Jacobian (see ERRATA).
* THEORY: the answers to Q1-Q6, typed by hand with 7 to 11 decimals, kept
  as strings so that the number of typed digits (their precision) survives.

Both are rounded, so a value "agrees" when it lies within half a unit of the
last digit shown: see ``tolerance``. Tests, notebooks and ``python layers.py``
(which hands over to ``main`` below) read the homework from here only.

Run ``python homework.py [part ...]`` (or ``python layers.py``) for the answer
key: every figure, computed by layers.py.
"""

import re
import sys

import numpy as np

import layers

# --------------------------------------------------------------------------
# The homework's inputs
# --------------------------------------------------------------------------

#: The input of every activation figure and of theory Q1: one observation, (1, 4).
H = np.array([[1.0, 2.0, 3.0, 4.0]])
#: Theory Q2's weight matrix, (size_in, size_out) = (4, 2).
W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
#: The homework's epsilon (sigmoid/tanh diagonal, inside the log losses).
EPS = 1e-7
#: Theory Q3 and Q5 (squared error, log loss): one target, one prediction.
Y_BINARY, YHAT_BINARY = np.array([[0.0]]), np.array([[0.2]])
#: Theory Q4 and Q6 (cross entropy): a one-hot target over three classes.
Y_ONE_HOT, YHAT_THREE = np.array([[1.0, 0.0, 0.0]]), np.array([[0.2, 0.2, 0.6]])


#: How the homework drew Figure 1's weights and biases (recovered in notebook 08):
#: numpy's legacy generator seeded with FC_SEED, uniform in [FC_LOW, FC_HIGH).
FC_SEED, FC_LOW, FC_HIGH = 0, -1e-4, 2e-4


def fully_connected():
    """The fully connected layer of Figure 1, with the homework's own random numbers.

    The homework drew its weights with numpy's legacy generator seeded with 0,
    uniform in [-1e-4, 2e-4), as a (size_out, size_in) = (2, 4) array, then
    the biases (the printed gradient W^T gives this away: notebook 08).

    Returns:
    - layer: a FullyConnectedLayer(4, 2) holding those weights (4, 2) and biases (1, 2).
    """
    legacy = np.random.RandomState(FC_SEED)
    layer = layers.FullyConnectedLayer(4, 2, rng=np.random.default_rng(0))
    layer.weights = legacy.uniform(FC_LOW, FC_HIGH, (2, 4)).T
    layer.biases = legacy.uniform(FC_LOW, FC_HIGH, (1, 2))
    return layer


# --------------------------------------------------------------------------
# Figures 1-7: the program's printed output, verbatim
# --------------------------------------------------------------------------

_IDENTITY_AT_H = """\
[[1 2 3 4]]
Activation Gradient:
[[1. 0. 0. 0.]
 [0. 1. 0. 0.]
 [0. 0. 1. 0.]
 [0. 0. 0. 1.]]
"""

FIGURES = {
    "Figure 1: FC Layer": """\
Fully Connected:
[[0.0009792  0.00099362]]
Fully Connected Gradient:
[[6.46440512e-05 1.14556810e-04 8.08290128e-05 6.34649549e-05]
 [2.70964398e-05 9.37682339e-05 3.12761634e-05 1.67531900e-04]]
""",
    # Figures 2 and 3 print the same numbers: h itself, and the identity Jacobian.
    "Figure 2: Linear": "Linear\n" + _IDENTITY_AT_H,
    "Figure 3: ReLu": "ReLU\n" + _IDENTITY_AT_H,
    # Erratum 3: the first two rows of the Jacobian have three columns.
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

# --------------------------------------------------------------------------
# Theory Q1-Q6: the hand-typed answers (strings keep the typed digits)
# --------------------------------------------------------------------------

THEORY = {
    # Q1(a) ReLU at h: the identity (every entry of h is positive).
    "Q1a relu jacobian": [["1", "0", "0", "0"], ["0", "1", "0", "0"],
                          ["0", "0", "1", "0"], ["0", "0", "0", "1"]],
    # Q1(b) Softmax. Erratum 1: "g1" is g1 (1 - g1), the Jacobian's J[0, 0].
    "Q1b softmax outputs": ["0.03103085", "0.08714431874", "0.23688282", "0.64391426"],
    "Q1b softmax first row": ["0.03103085", "-0.00279373", "-0.00759413", "-0.02064299"],
    "Q1b softmax jacobian": [
        ["0.03103085", "-0.00279373", "-0.00759413", "-0.02064299"],
        ["-0.00279373", "0.07955019", "-0.02064299", "-0.05611347"],
        ["-0.00759413", "-0.02064299", "0.18076935", "-0.15253222"],
        ["-0.02064299", "-0.05611347", "-0.15253222", "0.22928869"],
    ],
    # Q1(c) Sigmoid and Q1(d) TanH: outputs, and the Jacobian's diagonal with
    # EPS added (zeros elsewhere).
    "Q1c sigmoid outputs": ["0.73105858", "0.88079708", "0.95257413", "0.98201379"],
    "Q1c sigmoid diagonal": ["0.19661203", "0.10499369", "0.04517676", "0.01766281"],
    "Q1d tanh outputs": ["0.76159416", "0.96402758", "0.99505475", "0.9993293"],
    "Q1d tanh diagonal": ["0.41997444", "0.07065092", "0.00986614", "0.00134105"],
    # Q2: the gradient of the fully connected layer is W^T.
    "Q2 gradient": [["1", "3", "5", "7"], ["2", "4", "6", "8"]],
    # Q3 (y = 0, yhat = 0.2): the losses and their intermediate steps.
    "Q3a squared error": ".04",
    "Q3b ln(yhat + eps)": "-1.6094374",
    # Erratum 2: ln(.8 + eps) = -0.22314343, so both of these are off by 2.7e-7.
    "Q3b ln(1 - yhat + eps)": "-0.2231437",
    "Q3b log loss": "0.2231437",
    # Q4 (y = [1, 0, 0], yhat = [.2, .2, .6]).
    "Q4 yhat + eps": [".2000001", ".2000001", ".6000001"],
    "Q4 ln(yhat + eps)": ["-1.6094374", "-1.6094374", "-0.5108255"],
    "Q4 cross entropy": "1.6094374",
    # Q5 (y = 0, yhat = 0.2): the gradients and their intermediate steps.
    "Q5a y - yhat": "-.2",
    "Q5a squared error gradient": ".4",
    "Q5b 1 - yhat": ".8",
    "Q5b yhat (1 - yhat) + eps": ".1600001",
    "Q5b (y - yhat) / (yhat (1 - yhat) + eps)": "-1.2499992",
    "Q5b log loss gradient": "1.2499992",
    # Q6 (y = [1, 0, 0], yhat = [.2, .2, .6]).
    "Q6 cross entropy gradient": ["-4.9999975", "0", "0"],
}

#: Where the document is wrong, and what the true value is. The pack shows each.
ERRATA = {
    1: "Theory Q1(b) writes g1 = 0.03103085: that is the Jacobian's J[0, 0] = g1 (1 - g1); "
       "g1 itself is 0.03205860 (Figure 6 prints it right).",
    2: "Theory Q3(b) writes ln(1 - yhat + eps) = -0.2231437 and J = 0.2231437: "
       "-ln(0.8000001) = 0.22314343 (the program printed 0.22314342631421757).",
    3: "Figure 4 prints the first two rows of the sigmoid Jacobian with 3 columns: a "
       "typesetting slip; the Jacobian is 4 x 4.",
}

# --------------------------------------------------------------------------
# How precise a printed number is
# --------------------------------------------------------------------------

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")

#: float64 round-off allowed for numbers the document gives in full or exactly.
EXACT_RTOL = 1e-12


def tolerance(printed, rule):
    """How far a value may lie from a number the document shows as `printed`.

    Inputs:
    - printed: str, the number as the document shows it, e.g. "0.0320586".
    - rule: "numpy" (a numpy printout: 8 decimals, trailing zeros dropped),
      "typed" (hand-typed: half a unit in the last typed decimal; a typed
      integer is exact) or "exact" (given in full: float64 round-off only).

    Returns:
    - tol: float, the largest allowed |value - printed|.
    """
    if rule == "exact":
        return EXACT_RTOL * abs(float(printed))
    mantissa, _, exponent = printed.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    if rule == "numpy":
        decimals = 8
    elif rule != "typed":
        raise ValueError(f"tolerance: rule must be 'numpy', 'typed' or 'exact', got {rule!r}.")
    elif "." not in mantissa:
        return 0.0
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def figure_arrays(figure):
    """Split a figure into its printed arrays.

    Inputs:
    - figure: str, a key of FIGURES.

    Returns:
    - arrays: dict {title line: printed array text}, in printed order.
    """
    arrays, title = {}, None
    for line in FIGURES[figure].splitlines():
        if NUMBER.match(line.lstrip("[ ")):
            arrays[title] = arrays.get(title, "") + line + "\n"
        else:
            title = line
    return arrays


def printed_rows(text):
    """The rows of a numpy printout, each a list of number tokens (str)."""
    return [NUMBER.findall(line) for line in text.strip().splitlines()]


def parse_printed(text):
    """A rectangular numpy printout as numbers.

    Returns:
    - values: array (rows, columns), the printed numbers.
    - tolerances: array (rows, columns), half a unit in each entry's last place.
    """
    rows = printed_rows(text)
    if len({len(row) for row in rows}) != 1:
        raise ValueError(f"ragged printout, row lengths {[len(row) for row in rows]}")
    values = np.array([[float(token) for token in row] for row in rows])
    tolerances = np.array([[tolerance(token, "numpy") for token in row] for row in rows])
    return values, tolerances


def typed(key):
    """A theory answer as numbers.

    Returns:
    - values: array shaped like THEORY[key] (a number, a list or a matrix).
    - tolerances: array of the same shape, half a unit in each typed last decimal
      (float64 round-off for the answers exact as written, EXACT_THEORY).
    """
    text = np.asarray(THEORY[key])
    values = text.astype(np.float64)
    rule = theory_rule(key)
    tolerances = np.vectorize(lambda t: tolerance(str(t), rule), otypes=[float])(text)
    return values, tolerances


# --------------------------------------------------------------------------
# The answer key: `python homework.py [part ...]` (or `python layers.py`)
# --------------------------------------------------------------------------

def _print_activation(title, layer):
    out = layer.forward(H)
    print(title)
    print(out)
    print("Activation Gradient:")
    print(layer.gradient()[0])


def _part_fully_connected():
    print("== Figure 1: Fully Connected (input h = [[1 2 3 4]])")
    layer = fully_connected()
    print("Fully Connected:")
    print(layer.forward(H))
    print("Fully Connected Gradient:")
    print(layer.gradient())
    print("(weights and biases as the homework drew them: np.random.seed(0), uniform in "
          "[-1e-4, 2e-4); the pack's own layers draw from [-1e-4, 1e-4).)")
    print()
    print("== Theory Q2: the gradient of a fully connected layer is W^T")
    layer = layers.FullyConnectedLayer(4, 2, rng=np.random.default_rng(0))
    layer.weights = W
    layer.forward(H)
    print("W =")
    print(W)
    print("gradient() =")
    print(layer.gradient())


def _part_linear():
    print("== Figure 2: Linear")
    _print_activation("Linear", layers.LinearLayer())


def _part_relu():
    print("== Figure 3: ReLU, Theory Q1(a)")
    _print_activation("ReLU", layers.ReLULayer())


def _part_sigmoid():
    print(f"== Figure 4: Sigmoid, Theory Q1(c)  (eps = {EPS:g} on the diagonal)")
    _print_activation("Sigmoid", layers.LogisticSigmoidLayer(eps=EPS))
    print(f"({ERRATA[3]})")


def _part_tanh():
    print(f"== Figure 5: TanH, Theory Q1(d)  (eps = {EPS:g} on the diagonal)")
    _print_activation("Tanh", layers.TanhLayer(eps=EPS))


def _part_softmax():
    print("== Figure 6: Softmax, Theory Q1(b)")
    _print_activation("Softmax", layers.SoftmaxLayer())
    print(f"({ERRATA[1]})")


def _part_objectives():
    print("== Figure 7: Objective Layers, Theory Q3, Q5 (y = 0, yhat = 0.2) and Q4, Q6 "
          "(y = [1, 0, 0], yhat = [0.2, 0.2, 0.6])")
    rows = [
        ("Least Squares", layers.SquaredError(), Y_BINARY, YHAT_BINARY),
        ("Log Loss", layers.LogLoss(eps=EPS), Y_BINARY, YHAT_BINARY),
        ("Cross Entropy", layers.CrossEntropy(eps=EPS), Y_ONE_HOT, YHAT_THREE),
    ]
    for label, objective, target, prediction in rows:
        print(f"{label} Eval:")
        print(repr(objective.eval(target, prediction)))
        print(f"{label} Gradient:")
        gradient = objective.gradient(target, prediction)
        print(repr(gradient.item()) if gradient.size == 1 else gradient)
    print(f"({ERRATA[2]})")


ANSWER_KEY_PARTS = {
    "fc": _part_fully_connected,
    "linear": _part_linear,
    "relu": _part_relu,
    "sigmoid": _part_sigmoid,
    "tanh": _part_tanh,
    "softmax": _part_softmax,
    "objectives": _part_objectives,
}


def print_answer_key(parts=None):
    """Print the homework's figures, computed by layers.py (all parts by default)."""
    with np.printoptions(precision=8, suppress=False):
        for i, part in enumerate(parts or ANSWER_KEY_PARTS):
            if i:
                print()
            ANSWER_KEY_PARTS[part]()


def main(argv=None, prog="python homework.py"):
    """The answer key's command line; returns the exit status."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Answer key: every figure of the source homework, computed by layers.py.",
    )
    parser.add_argument(
        "parts",
        nargs="*",
        metavar="part",
        help="which parts to print (default: all): " + ", ".join(ANSWER_KEY_PARTS),
    )
    args = parser.parse_args(argv)
    unknown = [part for part in args.parts if part not in ANSWER_KEY_PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r}; choose from {', '.join(ANSWER_KEY_PARTS)}")
    try:
        print_answer_key(args.parts)
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader such as `head` closed the pipe early: nothing more to print.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --------------------------------------------------------------------------
# The verification report (notebook 08): every number of the document
# against a value the pack computes, with the verdict asserted
# --------------------------------------------------------------------------

#: Theory answers that are exact as written (decimal arithmetic with no
#: rounding: 0.2^2 = .04, .2 x .8 + .0000001 = .1600001, ...). They are held
#: to float64 round-off ("exact") instead of half a unit of the last digit.
EXACT_THEORY = frozenset({
    "Q3a squared error",
    "Q4 yhat + eps",
    "Q5a y - yhat",
    "Q5a squared error gradient",
    "Q5b 1 - yhat",
    "Q5b yhat (1 - yhat) + eps",
})


def theory_rule(key):
    """The tolerance rule of a theory answer: "exact" (EXACT_THEORY) or "typed"."""
    if key not in THEORY:
        raise KeyError(f"theory_rule: no theory answer {key!r}; choose from {', '.join(THEORY)}.")
    return "exact" if key in EXACT_THEORY else "typed"


class Entry:
    """One number of the document and the value the pack computes for it.

    A block of equal printed numbers (the zeros of a diagonal Jacobian) is one
    entry with several values.

    Inputs:
    - label: str, where the number sits, e.g. "g1" or "J12" (1-based, row = output).
    - printed: str, the number exactly as the document shows it.
    - value: float or array (n,), the pack's value(s) for it.
    - rule: "numpy", "typed" or "exact", see ``tolerance``.
    - erratum: int or None, the ERRATA key when the document is known to be wrong here.

    Attributes (computed):
    - values: array (n,); tolerance: float; diff: float, the largest |value - printed|;
      agrees: bool, diff <= tolerance; expected: bool, agrees unless an erratum;
      ratio: float, diff / tolerance (0 for an exact match, inf for a mismatch at tolerance 0).
    """

    def __init__(self, label, printed, value, rule, erratum=None):
        if erratum is not None and erratum not in ERRATA:
            raise ValueError(f"Entry {label!r}: erratum must be one of {sorted(ERRATA)}, got {erratum!r}.")
        self.label, self.printed, self.rule, self.erratum = label, str(printed), rule, erratum
        self.values = np.asarray(value, dtype=np.float64).ravel()
        if self.values.size == 0:
            raise ValueError(f"Entry {label!r}: no value to compare.")
        self.tolerance = tolerance(self.printed, rule)
        self.diff = float(np.max(np.abs(self.values - float(self.printed))))
        self.agrees = self.diff <= self.tolerance
        self.expected = self.agrees != (erratum is not None)
        if self.diff == 0:
            self.ratio = 0.0
        else:
            self.ratio = self.diff / self.tolerance if self.tolerance else np.inf

    @property
    def count(self):
        """How many numbers of the document this entry stands for."""
        return self.values.size

    def row(self):
        """The entry as one line of a table (see Table.__str__)."""
        many = f" (x{self.count})" if self.count > 1 else ""
        value = self.values[0]
        ours = repr(float(value)) if self.rule == "exact" else f"{value:.10g}"
        if self.count > 1 and not np.all(self.values == value):
            ours = f"{self.values.min():.3g}..{self.values.max():.3g}"
        tol = f"{self.tolerance:.0e}" if self.tolerance else "exact"
        verdict = "yes" if self.agrees else "no"
        if self.erratum is not None:
            verdict += f": erratum {self.erratum}"
        return (f"  {self.label:<20}{self.printed + many:>21}{ours + many:>22}"
                f"{self.diff:>10.1e}{tol:>8}  {verdict}")


def vector_entries(printed, values, rule, labels, errata=None):
    """Entries for a printed vector, one per number.

    Inputs:
    - printed: str (a printout such as "[[0.73105858 0.88079708]]") or a list of str.
    - values: array (K,) or (1, K), the pack's values.
    - rule: the tolerance rule of every entry.
    - labels: list of K str.
    - errata: dict {label: ERRATA key} for the numbers known to be wrong, or None.

    Returns:
    - entries: list of K Entry.
    """
    tokens = NUMBER.findall(printed) if isinstance(printed, str) else list(printed)
    values = np.asarray(values, dtype=np.float64).ravel()
    if not len(tokens) == len(values) == len(labels):
        raise ValueError(f"vector_entries: {len(tokens)} printed numbers, {len(values)} values, "
                         f"{len(labels)} labels; they must match.")
    errata = errata or {}
    unknown = set(errata) - set(labels)
    if unknown:
        raise ValueError(f"vector_entries: errata name labels {sorted(unknown)} that are not in {labels}.")
    return [Entry(label, token, value, rule, errata.get(label))
            for label, token, value in zip(labels, tokens, values)]


def matrix_entries(printed, values, rule):
    """Entries for a printed matrix: each non-zero J_ij on its own, all zeros as one block.

    Numbers are matched to values by their position in the printed row, so a
    ragged printout (Figure 4) is compared as printed.

    Inputs:
    - printed: str (a numpy printout) or a list of rows, each a list of str.
    - values: array (rows, columns), the pack's matrix.
    - rule: the tolerance rule of every entry.

    Returns:
    - entries: list of Entry, labels "J<row><column>" (1-based) and "zeros (<n>)".
    """
    rows = printed_rows(printed) if isinstance(printed, str) else [list(row) for row in printed]
    values = np.asarray(values, dtype=np.float64)
    if len(rows) != values.shape[0] or max(len(row) for row in rows) > values.shape[1]:
        raise ValueError(f"matrix_entries: a printout of {len(rows)} rows of up to "
                         f"{max(len(row) for row in rows)} numbers does not fit values {values.shape}.")
    entries, zero_token, zeros = [], None, []
    for i, row in enumerate(rows):
        for j, token in enumerate(row):
            if float(token) == 0:
                zero_token = zero_token or token
                zeros.append(values[i, j])
            else:
                entries.append(Entry(f"J{i + 1}{j + 1}", token, values[i, j], rule))
    if zeros:
        entries.append(Entry(f"zeros ({len(zeros)})", zero_token, zeros, rule))
    return entries


def theory_entries(key, values, labels=None, errata=None):
    """Entries for one theory answer, THEORY[key], at its rule (see ``theory_rule``).

    Inputs:
    - key: str, a key of THEORY.
    - values: the pack's value(s), shaped like the answer (a number, (K,) or (rows, columns)).
    - labels: list of str for a number or a list (default "value" / "1", "2", ...);
      a matrix is labelled J_ij (see ``matrix_entries``).
    - errata: dict {label: ERRATA key}, or None.

    Returns:
    - entries: list of Entry.
    """
    answer, rule = THEORY[key], theory_rule(key)
    if isinstance(answer, str):
        return vector_entries([answer], values, rule, labels or ["value"], errata)
    if isinstance(answer[0], list):
        return matrix_entries(answer, values, rule)
    return vector_entries(answer, values, rule, labels or [str(i + 1) for i in range(len(answer))], errata)


def figure_entries(figure, title, values, labels=None):
    """Entries for one printed array of a figure (``figure_arrays(figure)[title]``).

    A bracketed printout is numpy's ("numpy" rule): one row is a vector (labels
    needed unless it has one number), several rows a matrix. A bare number is
    a Python float printed in full ("exact" rule).

    Inputs:
    - figure: str, a key of FIGURES; title: str, the line printed before the array.
    - values: the pack's value(s) for it.
    - labels: list of str for a vector or a number (default "value").

    Returns:
    - entries: list of Entry.
    """
    text = figure_arrays(figure)[title]
    rows = printed_rows(text)
    if "[" not in text:
        return vector_entries(rows[0], values, "exact", labels or ["value"])
    if len(rows) == 1:
        return vector_entries(rows[0], values, "numpy", labels or ["value"])
    return matrix_entries(rows, values, "numpy")


class Table:
    """A titled list of entries, printed as a table.

    Attributes:
    - title: str, e.g. "Q1(b) · softmax outputs"; the part before " · " names its source.
    - entries: list of Entry.
    - as_expected: bool, every entry agrees, except the errata, which disagree.
    - unexpected: list of str, the labels of entries that break that rule.
    """

    HEADER = f"  {'entry':<20}{'document':>21}{'pack':>22}{'|diff|':>10}{'tol':>8}  agrees"

    def __init__(self, title, entries):
        self.title, self.entries = title, list(entries)

    @property
    def source(self):
        return self.title.split(" · ")[0]

    @property
    def unexpected(self):
        return [entry.label for entry in self.entries if not entry.expected]

    @property
    def as_expected(self):
        return not self.unexpected

    def __str__(self):
        return "\n".join([self.title, self.HEADER] + [entry.row() for entry in self.entries])


class Ledger:
    """Every table of the report, for the final count and the summary plot."""

    def __init__(self):
        self.tables = []

    def compare(self, title, entries):
        """Record a table of entries, print it, and return it (assert ``table.as_expected``).

        Inputs:
        - title: str, "<source> · <what>", e.g. "Figure 6 · Jacobian".
        - entries: list of Entry.

        Returns:
        - table: Table.
        """
        table = Table(title, entries)
        self.tables.append(table)
        print(table)
        return table

    @property
    def entries(self):
        return [entry for table in self.tables for entry in table.entries]

    def count(self):
        """How many numbers were compared, how many agree, and which errata showed.

        Returns:
        - numbers: int, numbers of the document compared (a block counts each number).
        - agreeing: int, of those, how many agree.
        - errata: sorted list of int, the errata keys of the numbers that disagree.
        """
        numbers = sum(entry.count for entry in self.entries)
        agreeing = sum(entry.count for entry in self.entries if entry.agrees)
        errata = sorted({entry.erratum for entry in self.entries if not entry.agrees})
        return numbers, agreeing, errata

    def worst_by_source(self):
        """For each source ("Q1(b)", "Figure 6", ...), the largest diff / tolerance of its
        agreeing numbers, in the order first compared.

        Returns:
        - worst: dict {source: float}.
        """
        worst = {}
        for table in self.tables:
            ratios = [entry.ratio for entry in table.entries if entry.agrees]
            worst[table.source] = max([worst.get(table.source, 0.0)] + ratios)
        return worst


def worked_line(formula, operand, printed, rule="typed"):
    """Redo one hand-worked line from the document's own typed operand.

    An operand typed to d decimals is itself off by up to half a unit of its
    last decimal; that rounding is carried through the formula, so the line is
    consistent when the recomputed value lies within the result's own
    tolerance plus the carried rounding.

    Inputs:
    - formula: callable float -> float, the line's arithmetic.
    - operand: str or None, the typed operand (None: the line has no rounded operand).
    - printed: str, the typed result.
    - rule: tolerance rule of the result.

    Returns:
    - value: float, formula at the typed operand.
    - diff: float, |value - printed|.
    - allowed: float, tolerance of the result plus the carried operand rounding.
    """
    x, half_unit = (float(operand), tolerance(operand, "typed")) if operand else (0.0, 0.0)
    value = formula(x)
    carried = abs(formula(x + half_unit) - formula(x - half_unit)) / 2
    return value, abs(value - float(printed)), tolerance(printed, rule) + carried


def squeeze(line):
    """A printed line without its spacing, so retyped lines compare equal."""
    line = re.sub(r"\s+", " ", line).strip()
    return re.sub(r"\s+\]", "]", re.sub(r"\[\s+", "[", line))


def figure_lines_missing(output):
    """The lines of FIGURES that do not appear in `output`, up to spacing.

    Inputs:
    - output: str, e.g. what ``python homework.py`` printed.

    Returns:
    - missing: dict {figure: [line, ...]}, only figures with a missing line.
    """
    printed = {squeeze(line) for line in output.splitlines()}
    missing = {}
    for figure, text in FIGURES.items():
        for line in text.splitlines():
            if squeeze(line) not in printed:
                missing.setdefault(figure, []).append(line)
    return missing


def check_tolerance_rule(half_unit):
    """Check a learner's tolerance rule for hand-typed numbers (notebook 08, Try it).

    Every theory number and every number of Figure 1's gradient is passed to
    ``half_unit``, which must return half a unit in its last typed decimal
    (0 for a typed integer), as ``tolerance(printed, "typed")`` does.

    Inputs:
    - half_unit: callable str -> float.

    Returns:
    - report: checks.Report with one part, "half_unit", printed as it is returned.
    """
    import checks

    figure_1 = printed_rows(figure_arrays("Figure 1: FC Layer")["Fully Connected Gradient:"])
    cases = [str(t) for key in THEORY for t in np.ravel(THEORY[key])] + [t for row in figure_1 for t in row]
    status, message = "passes", "agrees with the rule on every theory number and Figure 1's gradient"
    for printed in dict.fromkeys(cases):
        expected = tolerance(printed, "typed")
        try:
            got = half_unit(printed)
        except NotImplementedError:
            status, message = "not implemented yet", "write the body of half_unit and run the cell again"
            break
        except Exception as error:  # a learner's bug is reported, never raised
            status, message = "wrong", f"half_unit({printed!r}) raised {type(error).__name__}: {error}"
            break
        if not isinstance(got, (int, float, np.floating, np.integer)) or not np.isclose(got, expected, rtol=1e-9, atol=0):
            hint = ("count the digits after the point in the mantissa, then apply the exponent"
                    if "e" in printed else "a typed integer is exact" if "." not in printed
                    else "count the digits after the decimal point")
            status, message = "wrong", f"half_unit({printed!r}) gave {got!r}: not yet ({hint})"
            break
    report = checks.Report("half_unit", [("half_unit", status, message)])
    print(report)
    return report
