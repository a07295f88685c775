"""Command line: python -m grader SUBMISSION [--json RESULTS] [--visible-only] [--part 1|2]."""

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from .cases import CaseError
from .grade import IMPORT_TIMEOUT, PART_TIMEOUT, GraderError, grade
from .sandbox import SandboxError


def _table(result):
    """The per-part table: part, score, max, feedback (one row per part)."""
    rows, order = {}, []
    for test in result.tests:
        if test.part not in rows:
            rows[test.part] = []
            order.append(test.part)
        rows[test.part].append(test)
    width = max(len(part) for part in order)
    lines = [f"{'Part':<{width}}  {'Score':>5}  {'Max':>3}  Feedback"]
    for part in order:
        tests = rows[part]
        score = sum(test.score for test in tests)
        maximum = sum(test.max_score for test in tests)
        failing = [test for test in tests if not test.passed]
        if not failing:
            feedback = "passes"
        else:
            texts = []
            for test in failing:
                text = test.feedback
                if text not in texts:
                    texts.append(("" if test.visible else "hidden: ") + text)
            feedback = "; ".join(texts)
            if result.import_problem:
                feedback = "import failed (see below)"
        wrapped = textwrap.wrap(feedback, 100) or [""]
        lines.append(f"{part:<{width}}  {score:>5g}  {maximum:>3g}  {wrapped[0]}")
        lines += [f"{'':<{width + 14}}{line}" for line in wrapped[1:]]
    lines.append(f"{'Total':<{width}}  {result.score:>5g}  {result.max_score:>3g}")
    return "\n".join(lines)


def _summary(result):
    lines = [
        f"Submission: {result.submission}",
        f"Score: {result.score:g} / {result.max_score:g}",
        result.sandbox_statement,
    ]
    if result.import_problem:
        lines.append(f"Every part scores 0: {result.import_problem}")
    lines.append(f"Graded in {result.seconds:.1f} s.")
    return "\n".join(lines)


def results_json(result):
    """Gradescope's results.json as a dict."""
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 2),
        "output": _summary(result),
        "tests": [
            {
                "name": test.name,
                "score": test.score,
                "max_score": test.max_score,
                "status": "passed" if test.passed else "failed",
                "output": test.feedback,
                "visibility": "visible" if test.visible else "after_due_date",
            }
            for test in result.tests
        ],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description="Grade a learner's layers.py against the reference (rubric: grader/README.md).",
    )
    parser.add_argument("submission", help="the learner's layers.py")
    # nargs="?": `make grade` passes `--json $(JSON)`, which is a bare --json when JSON is unset.
    parser.add_argument("--json", nargs="?", const="", default="", metavar="RESULTS",
                        help="also write Gradescope's results.json to this path")
    parser.add_argument("--visible-only", action="store_true",
                        help="grade the visible cases only (what a learner sees before the due date)")
    parser.add_argument("--timeout", type=float,
                        default=float(os.environ.get("LAYER_GRADER_TIMEOUT", PART_TIMEOUT)),
                        help="wall-clock seconds per part (default %(default)s; env LAYER_GRADER_TIMEOUT)")
    parser.add_argument("--import-timeout", type=float,
                        default=float(os.environ.get("LAYER_GRADER_IMPORT_TIMEOUT", IMPORT_TIMEOUT)),
                        help="wall-clock seconds for importing the submission "
                             "(default %(default)s; env LAYER_GRADER_IMPORT_TIMEOUT)")
    part_setting = os.environ.get("LAYER_GRADER_PART", "").strip()
    if part_setting not in ("", "1", "2"):
        parser.exit(2, f"grader: LAYER_GRADER_PART must be 1, 2 or empty (both parts), got {part_setting!r}\n")
    parser.add_argument("--part", type=int, choices=[1, 2], default=int(part_setting) if part_setting else None,
                        help="grade one part of the course alone: 1, the homework's layers (70 points), "
                             "or 2, the layers after it (30); default both, 100 (env LAYER_GRADER_PART)")
    parser.add_argument("--sandbox", choices=["auto", "bwrap", "user", "none"],
                        default=os.environ.get("LAYER_GRADER_SANDBOX", "auto") or "auto",
                        help="isolation of the submission (default auto: bwrap if it works; "
                             "env LAYER_GRADER_SANDBOX)")
    args = parser.parse_args(argv)

    submission = Path(args.submission)
    if not submission.is_file():
        parser.exit(2, f"grader: no such file: {submission} (pass the learner's layers.py)\n")
    if args.timeout <= 0 or args.import_timeout <= 0:
        parser.exit(2, "grader: timeouts must be positive numbers of seconds\n")
    try:
        result = grade(submission, visible_only=args.visible_only, timeout=args.timeout,
                       import_timeout=args.import_timeout, sandbox_mode=args.sandbox,
                       course_part=args.part)
    except (SandboxError, GraderError, CaseError, FileNotFoundError) as error:
        parser.exit(1, f"grader: {error}\n")

    print(_table(result))
    print()
    print(_summary(result))
    if args.json:
        path = Path(args.json)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(results_json(result), indent=2) + "\n")
        except OSError as error:
            parser.exit(1, f"grader: cannot write {path}: {error}\n")
        print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
