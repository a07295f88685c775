"""Grading one submission: import probe, the parts in two children, scores and feedback."""

import math
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .cases import build_parts
from .compare import compare
from .reference import reference_dir
from .sandbox import Sandbox, Watch

#: Children running at once (the machine this was measured on has 2 cores); the
#: parts are dealt round-robin into this many groups, one child per group.
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


def _clean_error(error):
    """An error report from the child with every field a short string (or a line number)."""
    error = error if isinstance(error, dict) else {}
    clean = {key: str(error.get(key, ""))[:400] for key in ("type", "message", "text")}
    clean["type"] = clean["type"] or "Exception"
    clean["line"] = error.get("line") if isinstance(error.get("line"), int) else None
    return clean


def _error_words(error):
    error = _clean_error(error)
    kind, message = error["type"], error["message"]
    where = f"line {error['line']}: " if error.get("line") else ""
    text = f" (`{error['text']}`)" if error.get("text") else ""
    if kind == "NotImplementedError":
        return f"not attempted: NotImplementedError{': ' + message if message else ''}"
    return f"raised {where}{kind}: {message}{text}".rstrip()


def _import_words(error):
    error = _clean_error(error)
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
    try:
        return _judge_answer(case, message)
    except Exception as error:  # a malformed answer: the child wrote something no harness writes
        return f"case '{case.description}': the answer could not be read ({type(error).__name__})"


def _judge_answer(case, message):
    prefix = f"case '{case.description}'"
    if "error" in message:
        words = _error_words(message["error"])
        return words if words.startswith("not attempted") else f"{prefix}: {words}"
    if "bad" in message:
        return f"{prefix}: {str(message['bad'])[:400]}"
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


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _ended_words(child, during=""):
    code = child.returncode
    if code is not None and code < 0:
        how = f"killed by signal {_signal_name(-code)}"
    elif code is not None and 128 < code <= 128 + 64:  # a signal, as bwrap reports it
        how = f"exit code {code}: killed by signal {_signal_name(code - 128)}"
    else:
        how = f"exit code {code}"
    if code == 0:
        how += "; does layers.py call exit()?"
    tail = f"; stderr: {child.stderr_tail}" if child.stderr_tail else ""
    return f"the process ended{during} ({how}){tail}"


# --------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------

class GraderError(RuntimeError):
    """The grader itself could not run (not the submission's doing)."""


def _startup_words(child, timeout):
    """Why a child never got to its first part, or None if it did import the submission."""
    errors = child.events("import_error")
    if errors:
        return _import_words(errors[0].get("error"))
    if child.events("imported"):
        return None
    if child.timed_out:
        return f"timeout at import: layers.py did not finish importing within {timeout:g} s"
    return f"import error: {_ended_words(child, ' while importing layers.py')}"


def _probe_import(sandbox, source, timeout):
    """(problem, refused): None or the feedback every part gets; the limits the system refused."""
    child = sandbox.run(source, {"mode": "import"}, timeout)
    started = child.events("started")
    if not started:
        # The harness never reached the submission: the child environment is broken.
        raise GraderError(
            f"the grading child did not start (sandbox: {sandbox.mode}, exit code "
            f"{child.returncode}, timed out: {child.timed_out}): {child.stderr_tail}"
        )
    refused = [str(name) for name in started[0].get("refused_limits") or []]
    return _startup_words(child, timeout), refused


class PartsWatch(Watch):
    """Times a child that runs several parts in turn.

    Start-up (interpreter, numpy, importing the submission) gets `startup`
    seconds; then each part gets `timeout` seconds from the message that
    announces it. A part is announced once at most, so the deadline moves at
    most once per part, whatever the child writes.
    """

    def __init__(self, names, timeout, startup):
        super().__init__(timeout)
        self.names, self.startup = set(names), startup
        self.order = []  # parts announced, in order
        self.part_start = None
        self.done = False
        self.answers = {}  # part -> {case id -> message}
        self.repeated = {}  # part -> case ids answered twice

    def feed(self, message):
        event, part, case = message.get("event"), message.get("part"), message.get("case")
        if event == "done":
            self.done = True
        elif not isinstance(part, str) or not isinstance(case, (str, type(None))):
            return  # no harness writes that
        elif event == "part" and part in self.names and part not in self.order:
            self.order.append(part)
            self.part_start = time.monotonic()
        elif event == "case" and part in self.order:
            answers = self.answers.setdefault(part, {})
            if case in answers:
                self.repeated.setdefault(part, set()).add(case)
            answers[case] = message

    def deadline(self):
        if self.part_start is None:
            return self.start + self.startup
        return self.part_start + self.timeout

    def cpu_seconds(self):
        return math.ceil(self.startup + self.timeout * len(self.names)) + 1


def _judge_part(part, answers, repeated, failure):
    """The part's TestResults (visible, hidden) from its answers; failure explains a missing one."""
    tests = []
    for visible, points in ((True, part.visible_points), (False, part.hidden_points)):
        group = [case for case in part.cases if case.visible == visible]
        if not group:
            continue
        feedback = None
        for case in group:
            if case.id in repeated:
                feedback = f"the result channel answered case '{case.description}' twice"
            elif case.id not in answers:
                feedback = failure or "no answer"
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


def _part_request(part):
    return {"name": part.name, "kind": part.kind, "cls": part.cls,
            "cases": [dict(case.request, id=case.id) for case in part.cases]}


def _grade_group(sandbox, source, parts, timeout, startup):
    """Grade `parts` in one child, in order; after a timeout or a crash the
    part that was running is charged and a new child takes up the rest."""
    tests = {}
    pending = list(parts)
    while pending:
        watch = PartsWatch([part.name for part in pending], timeout, startup)
        child = sandbox.run(source, {"mode": "parts", "parts": [_part_request(p) for p in pending]}, watch)
        if not watch.order:
            failure = _startup_words(child, startup) or _ended_words(child)
            for part in pending:
                tests[part.name] = _judge_part(part, {}, set(), failure)
            break
        if child.timed_out:
            failure = f"timeout: no answer within {timeout:g} s"
        elif not watch.done:
            failure = f"crash: {_ended_words(child, ' during this part')}"
        else:
            failure = None
        for part in pending:
            if part.name in watch.order:
                tests[part.name] = _judge_part(part, watch.answers.get(part.name, {}),
                                               watch.repeated.get(part.name, set()), failure)
        pending = [part for part in pending if part.name not in watch.order]
        if watch.done and pending:  # "done" before every part ran: only a forged message says that
            for part in pending:
                tests[part.name] = _judge_part(part, {}, set(), "the child stopped before this part")
            break
    return [test for part in parts for test in tests[part.name]]


def grade(submission, visible_only=False, timeout=PART_TIMEOUT, import_timeout=IMPORT_TIMEOUT,
          sandbox_mode="auto", workers=WORKERS, sandbox=None, course_part=None):
    """Grade the file `submission`; returns a Grade. Raises only when the grader cannot run.

    `sandbox` (a sandbox.Sandbox) replaces the one `sandbox_mode` would choose.
    `course_part` 1 or 2 grades that part of the course alone (Part 1: 70 points,
    Part 2: 30); None grades both (100).
    """
    start = time.monotonic()
    source = open(submission, "rb").read()
    parts = build_parts(visible_only=visible_only, course_part=course_part)
    if sandbox is None:
        sandbox = Sandbox(sandbox_mode, reference_file=reference_dir() / "layers.py")
    problem, refused = _probe_import(sandbox, source, import_timeout)
    statement = sandbox.statement()
    if refused:
        statement += f" This system refused the child's limits on {', '.join(refused)}."
    tests = []
    if problem is not None:
        for part in parts:
            groups = [(True, part.visible_points)] + ([] if visible_only else [(False, part.hidden_points)])
            tests += [TestResult(part.name, visible, 0, points, problem) for visible, points in groups]
    else:
        # One child per group runs its parts in turn; `workers` groups at once.
        groups = [parts[index::workers] for index in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            graded = pool.map(lambda group: _grade_group(sandbox, source, group, timeout, import_timeout),
                              groups)
            by_part = {test_part: [] for test_part in (part.name for part in parts)}
            for group_tests in graded:
                for test in group_tests:
                    by_part[test.part].append(test)
        tests = [test for name in by_part for test in by_part[name]]
    return Grade(str(submission), tests, sandbox.mode, statement, time.monotonic() - start, problem)
