"""The autograder of the course pack: grades a learner's layers.py against the reference.

    python -m grader path/to/layers.py [--json results.json] [--visible-only]
    python -m grader.bundle [--out dist/autograder.zip]

The submission runs only in sandboxed child processes (see sandbox.py); the
expected values come from the full edition's layers.py and exist only in the
grading process. The rubric is in rubric.py and README.md.
"""

from .rubric import RUBRIC, TOTAL

__all__ = ["RUBRIC", "TOTAL"]
