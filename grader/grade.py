"""Grading one submission: import probe, one child per part, scores and feedback."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .cases import build_parts
from .compare import compare
from .reference import reference_dir
from .sandbox import Sandbox

#: Children running at once (the machine this was measured on has 2 cores).
WORKERS = 2
#: Wall-clock seconds allowed to each part's child and to the import probe.
PART_TIMEOUT = 10.0
IMPORT_TIMEOUT = 10.0


@dataclass
class TestResult:
    """One Gradescope test: a part's visible or hidden group of cases."""
    part: str
    visible: bool
    score: float
    max_score: float
    feedback: str

    @property
    def name(self):
        return self.part if self.visible else f"{self.part} (hidden cases)"

    @property
    def passed(self):
        return self.score == self.max_score


@dataclass
class Grade:
    submission: str
    tests: list
    sandbox_mode: str
    sandbox_statement: str
    seconds: float
    import_problem: str = None

    @property
    def score(self):
        return sum(test.score for test in self.tests)

    @property
    def max_score(self):
        return sum(test.max_score for test in self.tests)


# --------------------------------------------------------------------------
# Words for what went wrong
# --------------------------------------------------------------------------

def _number(value):
    return f"{float(value):.10g}"


def _row(array, index):
    """The input row that produced an entry (first index = batch row), for feedback."""
    array = np.asarray(array)
    if array.ndim == 2 and index and index[0] < array.shape[0]:
        row = array[index[0]]
        text = ", ".join(_number(v) for v in row[:8]) + (", ..." if row.size > 8 else "")
        return f"[{text}]"
    return None


def _error_words(error):
    kind, message = error.get("type", "Exception"), error.get("message", "")
    where = f"line {error['line']}: " if error.get("line") else ""
    text = f" (`{error['text']}`)" if error.get("text") else ""
    if kind == "NotImplementedError":
        return f"not attempted: NotImplementedError{': ' + message if message else ''}"
    return f"raised {where}{kind}: {message}{text}".rstrip()


def _import_words(error):
    where = f"line {error['line']}: " if error.get("line") else ""
    text = f" (`{error['text']}`)" if error.get("text") else ""
    return f"import error ({where}{error.get('type', 'Exception')}: {error.get('message', '')}){text}"


def _decode(encoded):
    if "bad" in encoded:
        return None, encoded["bad"]
    data = np.array(encoded["data"], dtype=np.float64)
    return data.reshape(encoded["shape"]), None


def _judge_case(part, case, message):
    """None if the case passes, else one sentence of feedback."""
    prefix = f"{part.name}, case '{case.description}'"
    if "error" in message:
        words = _error_words(message["error"])
        return words if words.startswith("not attempted") else f"{prefix}: {words}"
    if "bad" in message:
        return f"{prefix}: {message['bad']}"
    outputs = message.get("outputs", [])
    if len(outputs) != len(case.expected):
        return f"{prefix}: returned {len(outputs)} outputs, expected {len(case.expected)}"
    for name, encoded, expected in zip(case.output_names, outputs, case.expected):
        got, bad = _decode(encoded)
        if bad:
            return f"{prefix}: {bad}"
        problem = compare(got, expected, case.atol)
        if problem is None:
            continue
        if problem["kind"] == "shape":
            return (f"{prefix}: wrong shape of {name}: expected {problem['expected']}, "
                    f"got {problem['got']}")
        index = ", ".join(map(str, problem["index"]))
        row = _row(case.inputs[case.row_input], problem["index"])
        quoted = f" for {case.row_input}[{problem['index'][0]}] = {row}" if row else ""
        if problem["kind"] == "nonfinite":
            return (f"{prefix}: NaN/inf: {name}[{index}] = {problem['got']}{quoted} "
                    f"(expected {_number(problem['expected'])})")
        return (f"{prefix}: wrong values: worst entry {name}[{index}]{quoted}: "
                f"expected {_number(problem['expected'])}, got {_number(problem['got'])}")
    for name, original in case.inputs.items():
        encoded = message.get("after", {}).get(name)
        after, _ = _decode(encoded) if encoded else (None, None)
        if after is None or after.shape != original.shape or not np.array_equal(after, original):
            return f"{prefix}: input modified in place: {name} changed during the call (work on a copy)"
    return None


def _crash_words(part, child, timeout, import_error=None):
    if import_error:
        return import_error
    if child.timed_out:
        return f"{part.name}: timeout: no answer within {timeout:g} s"
    code = child.returncode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    if code == 0:
        how += " (does layers.py call exit()?)"
    tail = f"; stderr: {child.stderr_tail}" if child.stderr_tail else ""
    return f"{part.name}: crash: the process ended ({how}) before answering{tail}"


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------

class GraderError(RuntimeError):
    """The grader itself could not run (not the submission's doing)."""


def _probe_import(sandbox, source, timeout):
    """None if the submission imports, else the feedback every part gets."""
    child = sandbox.run(source, {"mode": "import"}, timeout)
    if not child.events("started"):
        # The harness never reached the submission: the child environment is broken.
        raise GraderError(
            f"the grading child did not start (sandbox: {sandbox.mode}, exit code "
            f"{child.returncode}, timed out: {child.timed_out}): {child.stderr_tail}"
        )
    if child.events("imported"):
        return None
    errors = child.events("import_error")
    if errors:
        return _import_words(errors[0]["error"])
    if child.timed_out:
        return f"timeout at import: layers.py did not finish importing within {timeout:g} s"
    code = child.returncode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    tail = f"; stderr: {child.stderr_tail}" if child.stderr_tail else ""
    return f"import error: the process ended while importing layers.py ({how}){tail}"


def _grade_part(sandbox, source, part, timeout):
    request = {
        "mode": "part",
        "part": {"kind": part.kind, "cls": part.cls},
        "cases": [dict(case.request, id=case.id) for case in part.cases],
    }
    child = sandbox.run(source, request, timeout)
    import_errors = child.events("import_error")
    import_error = _import_words(import_errors[0]["error"]) if import_errors else None
    answers, repeated = {}, set()
    for message in child.events("case"):
        if message.get("case") in answers:
            repeated.add(message.get("case"))
        answers[message.get("case")] = message
    tests = []
    for visible, points in ((True, part.visible_points), (False, part.hidden_points)):
        group = [case for case in part.cases if case.visible == visible]
        if not group:
            continue
        feedback = None
        for case in group:
            if case.id in repeated:
                feedback = f"{part.name}: the result channel answered case '{case.description}' twice"
            elif case.id not in answers:
                feedback = _crash_words(part, child, timeout, import_error)
            else:
                feedback = _judge_case(part, case, answers[case.id])
            if feedback:
                break
        label = "visible" if visible else "hidden"
        tests.append(TestResult(
            part.name, visible, 0 if feedback else points, points,
            feedback or f"passes ({len(group)} {label} case{'s' if len(group) > 1 else ''})",
        ))
    return tests


def grade(submission, visible_only=False, timeout=PART_TIMEOUT, import_timeout=IMPORT_TIMEOUT,
          sandbox_mode="auto", workers=WORKERS):
    """Grade the file `submission`; returns a Grade. Raises only when the grader cannot run."""
    start = time.monotonic()
    source = open(submission, "rb").read()
    parts = build_parts(visible_only=visible_only)
    sandbox = Sandbox(sandbox_mode, reference_file=reference_dir() / "layers.py")
    problem = _probe_import(sandbox, source, import_timeout)
    tests = []
    if problem is not None:
        for part in parts:
            groups = [(True, part.visible_points)] + ([] if visible_only else [(False, part.hidden_points)])
            tests += [TestResult(part.name, visible, 0, points, problem) for visible, points in groups]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for part_tests in pool.map(lambda part: _grade_part(sandbox, source, part, timeout), parts):
                tests += part_tests
    return Grade(str(submission), tests, sandbox.mode, sandbox.statement(),
                 time.monotonic() - start, problem)
