"""The autograder of the course pack: grades a learner's layers.py against the reference.

    python -m grader path/to/layers.py [--json results.json] [--visible-only] [--part 1|2]
    python -m grader.bundle [--out dist/autograder.zip] [--part 1|2]

The rubric shares 100 points between the course's two parts: Part 1, the
homework's layers (70), and Part 2, the layers after it (30); --part grades one
of them alone (a course that stops at the homework: --part 1, out of 70).

The submission runs only in sandboxed child processes (see sandbox.py); the
expected values come from the full edition's layers.py and exist only in the
grading process. The rubric is in rubric.py and README.md.
"""

from .rubric import RUBRIC, TOTAL

__all__ = ["RUBRIC", "TOTAL"]
