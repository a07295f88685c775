"""Feedback for learners: is my layers.py right, is my answer right?

The notebooks call these functions; none of them raises for a learner's
mistake. Each prints a short report and returns it, so a notebook cell shows
at a glance what passes, what is not implemented yet, and what is wrong.

    check_layer(layers.ReLULayer)            # forward, gradient, backward
    check_objective(layers.CrossEntropy)     # eval, gradient
    check_answer(answer, expected, ...)      # a number worked out by hand

Expected values come from SymPy or from the defining formula, never from the
learner's layers.py.
"""

import numpy as np


class Report:
    """What a check found.

    Attributes:
    - title: str, what was checked, e.g. "ReLULayer".
    - results: list of (part, status, message) with status one of
      "passes", "not implemented yet", "wrong", "not answered yet".
    - passed: bool, True when every part passes.
    """

    def __init__(self, title, results):
        self.title = title
        self.results = list(results)

    @property
    def passed(self):
        return bool(self.results) and all(status == "passes" for _, status, _ in self.results)

    def __str__(self):
        lines = [self.title]
        for part, status, message in self.results:
            lines.append(f"  {part:<18}{status}" + (f": {message}" if message else ""))
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def check_answer(answer, expected, *, rtol=1e-3, atol=0.0, hint=""):
    """Check a number (or array) the learner worked out, without revealing `expected`.

    Inputs:
    - answer: the learner's value; None means not answered yet.
    - expected: the right value (a number or array-like).
    - rtol, atol: the tolerance, as in np.isclose; 1e-3 relative suits hand work.
    - hint: str, shown when the answer is wrong (it must not give the answer away).

    Returns:
    - report: Report with one part, "answer", printed as it is returned.
    """
    if answer is None:
        status, message = "not answered yet", "replace None with your answer and run the cell again"
    else:
        try:
            got = np.asarray(answer, dtype=np.float64)
            want = np.asarray(expected, dtype=np.float64)
            right = got.shape == want.shape or got.size == want.size == 1
            right = right and bool(np.allclose(got.reshape(want.shape), want, rtol=rtol, atol=atol))
        except (TypeError, ValueError):
            right = False
        status = "passes" if right else "wrong"
        message = "correct" if right else ("not yet. " + hint if hint else "not yet; try again")
    report = Report("Your answer", [("answer", status, message)])
    print(report)
    return report
