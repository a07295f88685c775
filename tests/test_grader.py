"""The autograder: fair to correct and wrong submissions, unmoved by hostile ones.

Grading runs in-process through grader.grade.grade (the submission itself runs
only in the grader's sandboxed children) or through `python -m grader` where
the command line is what is tested. Hostile submissions get short timeouts
(HOSTILE_TIMEOUT, HOSTILE_IMPORT_TIMEOUT) so that the file stays fast.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import RUBRIC, TOTAL, reference  # noqa: E402
from grader.rubric import PART_1, PART_2  # noqa: E402
from grader.cases import build_parts  # noqa: E402
from grader.compare import compare  # noqa: E402
from grader.grade import grade  # noqa: E402
from grader.sandbox import Interpreter, Sandbox  # noqa: E402

REFERENCE = ROOT / "layers.py"
PYTHON = ROOT / ".venv" / "bin" / "python"
HOSTILE_TIMEOUT = float(os.environ.get("GRADER_TEST_TIMEOUT", 3))
HOSTILE_IMPORT_TIMEOUT = float(os.environ.get("GRADER_TEST_IMPORT_TIMEOUT", 3))
PART_NAMES = [name for name, *_ in RUBRIC]
POINTS = {name: visible + hidden for name, visible, hidden, _ in RUBRIC}

if sys.platform != "linux":  # the sandbox and the limits are Linux's
    pytest.skip("the autograder runs on Linux", allow_module_level=True)


def _sandboxed():
    return Sandbox("auto").mode == "bwrap"


SANDBOXED = _sandboxed()
needs_bwrap = pytest.mark.skipif(not SANDBOXED, reason="bubblewrap cannot run here")


# --------------------------------------------------------------------------
# Submissions
# --------------------------------------------------------------------------

def reference_source():
    return REFERENCE.read_text()


def stub_source():
    """The student edition's layers.py, made the way `make student` makes it."""
    source = reference_source()
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from build_student import stub_python
    finally:
        sys.path.remove(str(ROOT / "tools"))
    stubbed = stub_python(source)
    assert "raise NotImplementedError(" in stubbed and "### BEGIN SOLUTION" not in stubbed
    return stubbed


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def grade_text(tmp_path, text, name="layers.py", **kwargs):
    folder = tmp_path / name.removesuffix(".py")
    folder.mkdir(exist_ok=True)
    return grade(write(folder, "layers.py", text), **kwargs)


def failed_parts(result):
    return {test.part for test in result.tests if not test.passed}


def feedback_of(result, part):
    return " | ".join(test.feedback for test in result.tests if test.part == part and not test.passed)


# --------------------------------------------------------------------------
# The rubric and the cases
# --------------------------------------------------------------------------

def test_rubric_totals_100_and_readme_lists_every_part():
    assert TOTAL == 100 == sum(v + h for _, v, h, _ in RUBRIC)
    readme = (ROOT / "grader" / "README.md").read_text()
    for name, visible, hidden, what in RUBRIC:
        assert f"| `{name}` | {visible:g} | {hidden:g} | {visible + hidden:g} | {what} |" in readme, name
    visible = sum(v for _, v, _, _ in RUBRIC)
    assert f"| **Total** | **{visible:g}** | **{TOTAL - visible:g}** | **{TOTAL:g}** | |" in readme
    # Part 1 (the homework) and Part 2 (the layers after it) share the 100 points, 70 and 30,
    # each with its subtotal in the README.
    assert [name for name, *_ in PART_1 + PART_2] == PART_NAMES
    for label, part, points in (("Part 1", PART_1, 70), ("Part 2", PART_2, 30)):
        assert sum(v + h for _, v, h, _ in part) == points
        visible = sum(v for _, v, _, _ in part)
        assert f"| **{label}** | **{visible:g}** | **{points - visible:g}** | **{points}** | |" in readme


def test_every_case_tells_right_from_one_percent_off():
    parts = build_parts()
    assert [part.name for part in parts] == PART_NAMES
    for part in parts:
        assert any(case.visible for case in part.cases), part.name
        assert any(not case.visible for case in part.cases), part.name
        for case in part.cases:
            for expected in case.expected:
                assert compare(expected, expected, case.atol) is None
                assert compare(expected * 1.01, expected, case.atol) is not None, (part.name, case.id)
                assert compare(expected * (1 + 1e-9), expected, case.atol) is None, (part.name, case.id)


def test_hidden_cases_hold_the_conventions():
    cases = {part.name: {case.id: case for case in part.cases} for part in build_parts()}
    zeros = cases["ReLULayer.gradient"]["zeros"]
    assert not zeros.visible and (zeros.inputs["prev_in"] == 0).any()
    assert np.all(np.diagonal(zeros.expected[0], axis1=1, axis2=2)[zeros.inputs["prev_in"] == 0] == 1)
    for layer in ("LogisticSigmoidLayer", "TanhLayer"):
        large = cases[f"{layer}.gradient"]["large"]
        diagonal = np.diagonal(large.expected[0], axis1=1, axis2=2)
        assert not large.visible and np.abs(large.inputs["prev_in"]).max() == 1000
        assert np.isclose(diagonal.min(), 1e-7, rtol=1e-6)  # only eps is left
    for objective in ("SquaredError", "LogLoss", "CrossEntropy"):
        random = cases[f"{objective}.gradient"]["random"]
        assert not random.visible and random.inputs["y"].shape[0] > 1  # the 1/N shows
    # Part 2: the course's conventions and the cases the contract names.
    zeros = cases["LeakyReLULayer.gradient"]["zeros"]
    assert np.all(np.diagonal(zeros.expected[0], axis1=1, axis2=2)[zeros.inputs["prev_in"] == 0] == 1)
    zeros = cases["ELULayer.gradient"]["zeros"]
    assert zeros.request["init"] == {"alpha": 0.5}
    assert np.all(np.diagonal(zeros.expected[0], axis1=1, axis2=2)[zeros.inputs["prev_in"] == 0] == 0.5)
    for layer in ("SoftplusLayer", "GELULayer", "LogSoftmaxLayer", "LayerNormLayer"):
        large = cases[f"{layer}.forward"]["large"]
        assert not large.visible and np.abs(large.inputs["x"]).max() >= 1000
    batch_sizes = {case.inputs["x"].shape[0] for case in cases["BatchNormLayer.forward"].values()
                   if case.request.get("values", {}).get("training", True)}
    assert {2, 8} <= batch_sizes and batch_sizes <= set(range(2, 9))
    for part in ("BatchNormLayer.forward", "BatchNormLayer.gradient", "BatchNormLayer.backward"):
        evals = [case for case in cases[part].values() if case.request.get("values", {}).get("training") is False]
        assert any(case.visible for case in evals) and any(not case.visible for case in evals), part
    running = [case for case in cases["BatchNormLayer.forward"].values() if "report" in case.request]
    assert running and all(case.output_names == ["out", "running_mean", "running_var"] for case in running)
    for part in ("BatchNormLayer.gradient", "BatchNormLayer.backward"):
        for case in cases[part].values():   # (K, N, N) and its einsum
            n, k = case.inputs["prev_in"].shape
            assert case.expected[0].shape == ((k, n, n) if part.endswith("gradient") else (n, k))
    dropout = cases["DropoutLayer.forward"]
    assert all("rng_seed" in case.request for case in dropout.values())
    assert np.array_equal(dropout["p0"].expected[0], dropout["p0"].inputs["x"])
    assert np.array_equal(dropout["eval"].expected[0], dropout["eval"].inputs["x"])
    large = cases["CrossEntropyWithLogits.eval"]["large"]
    assert not large.visible and np.abs(large.inputs["yhat"]).max() == 1000 and np.isfinite(large.expected[0])
    soft = cases["CrossEntropyWithLogits.gradient"]["soft"]
    assert not np.allclose(soft.inputs["y"].sum(axis=1), 1.0)
    for part in cases:
        for case in cases[part].values():
            assert case.inputs  # every case checks its inputs are left alone


def test_dropout_masks_are_the_seeded_generator_drawn_as_the_stub_says():
    """The grader's expected masks, drawn independently of the reference: rng.random(x.shape) >= p
    from np.random.default_rng(seed), the drawing the stub's hint names; kept entries scaled by 1/(1 - p)."""
    for case in build_parts()[PART_NAMES.index("DropoutLayer.forward")].cases:
        x, (out,) = case.inputs["x"], case.expected
        p = case.request["init"]["p"]
        if case.request.get("values", {}).get("training") is False:
            assert np.array_equal(out, x)
            continue
        mask = np.random.default_rng(case.request["rng_seed"]).random(x.shape) >= p
        assert np.allclose(out, x * mask / (1 - p), rtol=1e-15, atol=0), case.id
        if 0 < p:
            assert 0 < mask.sum() < mask.size, case.id  # some dropped, some kept


def test_grading_part_1_alone(tmp_path):
    """A course that stops at the homework grades Part 1 alone: 70 points, Part 2 not graded."""
    done = subprocess.run([str(PYTHON), "-m", "grader", str(REFERENCE), "--part", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Score: 70 / 70" in done.stdout
    graded = {line.split()[0] for line in done.stdout.splitlines() if line.split() and line.split()[0] in PART_NAMES}
    assert graded == {name for name, *_ in PART_1}
    # The same through the environment (what `make grade` and run_autograder pass on).
    stubs = write(tmp_path, "layers.py", stub_source())
    done = subprocess.run([str(PYTHON), "-m", "grader", str(stubs)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, LAYER_GRADER_PART="2"))
    assert done.returncode == 0, done.stderr
    assert "Score: 0 / 30" in done.stdout and "InputLayer" not in done.stdout
    bad = subprocess.run([str(PYTHON), "-m", "grader", str(REFERENCE), "--part", "3"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "invalid choice" in bad.stderr


def test_expected_derivatives_agree_with_finite_differences():
    """The expected values are the calculus, not just the reference's word for it."""
    from grader.cases import _reference_layer, _scenarios

    ref_layers, homework = reference.load()
    cases = {part.name: {case.id: case for case in part.cases} for part in build_parts()}
    for layer in ("InputLayer", "FullyConnectedLayer", "LinearLayer", "ReLULayer",
                  "LogisticSigmoidLayer", "TanhLayer", "SoftmaxLayer"):
        for scenario in _scenarios(layer, homework):
            if scenario.key == "zeros":
                continue  # ReLU at 0: a convention, not a derivative
            reference_layer = _reference_layer(ref_layers, layer, scenario)
            numerical = ref_layers.numerical_jacobian(reference_layer.forward, scenario.x)
            expected = cases[f"{layer}.gradient"][scenario.key].expected[0]
            if expected.ndim == 2:  # the fully connected layer: one matrix for every row
                expected = np.broadcast_to(expected, numerical.shape)
            eps = getattr(reference_layer, "eps", 0.0)  # sigmoid and tanh add it to the diagonal
            assert np.allclose(expected, numerical, rtol=1e-5, atol=1e-6 + eps), (layer, scenario.key)
    for objective in ("SquaredError", "LogLoss", "CrossEntropy"):
        for key, case in cases[f"{objective}.gradient"].items():
            if key == "edges":
                continue  # at yhat = 0 or 1 the course's gradient is the formula with eps, by design
            y, yhat = case.inputs["y"], case.inputs["yhat"]
            loss = getattr(ref_layers, objective)().eval
            step = 1e-6 * max(1.0, np.abs(yhat).max())  # round-off grows with the loss's size
            numerical = ref_layers.numerical_gradient(lambda guess: loss(y, guess), yhat, h=step)
            assert np.allclose(case.expected[0], numerical, rtol=1e-5, atol=1e-6), (objective, key)
            assert np.isclose(cases[f"{objective}.eval"][key].expected[0], loss(y, yhat), rtol=1e-12)


def test_part2_expected_derivatives_agree_with_finite_differences():
    """Part 2's expected Jacobians are the calculus too: per row, and across the batch for BatchNorm."""
    from grader.cases import _reference_layer, _scenarios

    ref_layers, homework = reference.load()
    cases = {part.name: {case.id: case for case in part.cases} for part in build_parts(course_part=2)}
    for layer in ("LeakyReLULayer", "SoftplusLayer", "ELULayer", "GELULayer", "LogSoftmaxLayer",
                  "LayerNormLayer", "BatchNormLayer"):
        for scenario in _scenarios(layer, homework):
            if scenario.key == "zeros":
                continue  # the derivative at a kink: a convention, not a limit
            reference_layer = _reference_layer(ref_layers, layer, scenario)
            x = np.array(scenario.x, dtype=np.float64)
            expected = cases[f"{layer}.gradient"][scenario.key].expected[0]
            if layer == "BatchNormLayer":   # J[k, n, m] = d out[n, k] / d x[m, k], by central differences
                n, k = x.shape
                step = 1e-6 * max(1.0, np.abs(x).max())
                numerical = np.zeros((k, n, n))
                for m in range(n):
                    for j in range(k):
                        shift = np.zeros_like(x)
                        shift[m, j] = step
                        numerical[j, :, m] = (reference_layer.forward(x + shift)[:, j]
                                              - reference_layer.forward(x - shift)[:, j]) / (2 * step)
            else:
                numerical = ref_layers.numerical_jacobian(reference_layer.forward, x,
                                                          h=1e-6 * max(1.0, np.abs(x).max()))
            assert np.allclose(expected, numerical, rtol=1e-5, atol=1e-6), (layer, scenario.key)
    for key, case in cases["CrossEntropyWithLogits.gradient"].items():
        y, z = case.inputs["y"], case.inputs["yhat"]
        loss = ref_layers.CrossEntropyWithLogits().eval
        step = 1e-6 * max(1.0, np.abs(z).max())
        numerical = ref_layers.numerical_gradient(lambda guess: loss(y, guess), z, h=step)
        assert np.allclose(case.expected[0], numerical, rtol=1e-5, atol=1e-6), key


# --------------------------------------------------------------------------
# Correct and empty submissions
# --------------------------------------------------------------------------

def test_reference_scores_100_through_the_command_line(tmp_path):
    results = tmp_path / "out" / "results.json"
    start = time.monotonic()
    done = subprocess.run([str(PYTHON), "-m", "grader", str(REFERENCE), "--json", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    assert seconds < 20, seconds
    for name in PART_NAMES:
        assert any(line.startswith(name + " ") and " passes" in line for line in done.stdout.splitlines()), name
    assert "Score: 100 / 100" in done.stdout
    report = json.loads(results.read_text())
    assert report["score"] == 100
    assert isinstance(report["execution_time"], (int, float)) and report["execution_time"] > 0
    assert isinstance(report["output"], str) and "Score: 100 / 100" in report["output"]
    assert len(report["tests"]) == 2 * len(RUBRIC)
    for test in report["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] == "passed" and test["score"] == test["max_score"] > 0
        assert test["visibility"] == ("after_due_date" if "(hidden cases)" in test["name"] else "visible")
    assert sum(test["max_score"] for test in report["tests"]) == 100
    assert sum(test["visibility"] == "after_due_date" for test in report["tests"]) == len(RUBRIC)


def test_make_grade_without_json_and_visible_only(tmp_path):
    # `make grade` passes `--json $(JSON)`: with JSON unset that is a bare --json.
    broken = write(tmp_path, "layers.py", "import numpy\n\nclass ReLULayer(:\n")
    done = subprocess.run([str(PYTHON), "-m", "grader", str(broken), "--json", "--visible-only"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    visible_points = sum(v for _, v, _, _ in RUBRIC)
    assert f"Score: 0 / {visible_points:g}" in done.stdout
    assert "import error (line 3: SyntaxError" in done.stdout
    assert list(tmp_path.iterdir()) == [broken]  # no results file without a path
    result = grade(broken, visible_only=True, timeout=HOSTILE_TIMEOUT, import_timeout=HOSTILE_IMPORT_TIMEOUT)
    assert all(test.visible for test in result.tests) and len(result.tests) == len(RUBRIC)


def test_stubs_score_0_with_every_part_not_attempted(tmp_path):
    result = grade_text(tmp_path, stub_source())
    assert result.score == 0 and result.max_score == 100
    assert result.import_problem is None
    for test in result.tests:
        assert test.feedback.startswith("not attempted: NotImplementedError"), test.feedback


def test_missing_file_and_bad_arguments_exit_non_zero(tmp_path):
    missing = subprocess.run([str(PYTHON), "-m", "grader", str(tmp_path / "nowhere.py")],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "no such file" in missing.stderr
    bad = subprocess.run([str(PYTHON), "-m", "grader", str(REFERENCE), "--timeout", "-1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "timeouts must be positive" in bad.stderr
    none = subprocess.run([str(PYTHON), "-m", "grader"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert none.returncode != 0 and "usage" in none.stderr


def test_unsandboxed_run_says_so(tmp_path):
    broken = write(tmp_path, "layers.py", "def broken(:\n")
    results = tmp_path / "results.json"
    done = subprocess.run([str(PYTHON), "-m", "grader", str(broken), "--json", str(results)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, LAYER_GRADER_SANDBOX="none"))
    assert done.returncode == 0, done.stderr
    assert "NOT SANDBOXED" in done.stdout
    report = json.loads(results.read_text())
    assert "NOT SANDBOXED" in report["output"] and report["score"] == 0
    assert "import error (line 1: SyntaxError" in report["tests"][0]["output"]


#: An interpreter the user nobody may run (this machine's Python lives under /root).
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
NOBODY = 65534


def _nobody_can_read(path):
    """Whether the user nobody can read `path`: asked of the operating system, as nobody."""
    probe = subprocess.run([str(SYSTEM_PYTHON), "-I", "-c", f"open({str(path)!r}, 'rb').read(1)"],
                           user=NOBODY, group=NOBODY, extra_groups=[], cwd="/", capture_output=True)
    return probe.returncode == 0


@pytest.fixture
def numpy_nobody_can_read():
    """This environment's numpy, linked into a folder every user may enter.

    The checkout (and so .venv) may sit in a folder only root can enter, such
    as one made by mktemp -d; the fallback needs numpy where nobody can read it.
    """
    here = Interpreter.current()
    folder = Path(tempfile.mkdtemp(prefix="numpy-for-nobody-"))
    folder.chmod(0o755)
    copies = []
    for source in (here.numpy_dir, here.numpy_libs):
        if source is None:
            copies.append(None)
            continue
        target = folder / Path(source).name
        try:  # hard links: no copy of the bytes (same file system)
            shutil.copytree(source, target, copy_function=os.link)
        except (OSError, shutil.Error):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        copies.append(str(target))
    yield copies
    shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0 or not SYSTEM_PYTHON.exists(),
                    reason="needs root and a system Python of the same version")
def test_fallback_as_nobody_grades_and_says_it_is_not_sandboxed(tmp_path, numpy_nobody_can_read):
    here = Interpreter.current()
    interpreter = Interpreter(str(SYSTEM_PYTHON), here.stdlib, here.dynload, None, *numpy_nobody_can_read)
    sandbox = Sandbox("user", interpreter=interpreter, reference_file=REFERENCE)
    assert sandbox.mode == "user"
    statement = sandbox.statement()
    assert statement.startswith("NOT SANDBOXED") and "nobody" in statement
    assert ("including the reference solution" in statement) == _nobody_can_read(REFERENCE)
    assert grade(REFERENCE, sandbox=sandbox).score == 100
    stubs = grade_text(tmp_path, stub_source(), sandbox=sandbox)
    assert stubs.score == 0 and stubs.sandbox_statement == statement


# --------------------------------------------------------------------------
# Planted bugs: each loses its own part and only that
# --------------------------------------------------------------------------

def _derivative_parts(layer):
    """The parts that read a layer's _derivative in the reference's structure."""
    ref_layers, _ = reference.load()
    cls = getattr(ref_layers, layer)
    parts = {f"{layer}.gradient"}
    if cls._backward is ref_layers.ElementwiseLayer._backward:
        parts.add(f"{layer}.backward")
    return parts


# (part(s) it must lose, what the feedback must say, code appended to the reference)
BUGS = {
    "linear forward 1% off": (
        {"LinearLayer.forward"}, "wrong values",
        "LinearLayer._forward = lambda self, x: x * 1.01"),
    "ReLU backward 0 at 0": (
        {"ReLULayer.backward"}, "wrong values",
        "ReLULayer._backward = lambda self, g: g * (self.prev_in > 0)"),
    "tanh forward overflows": (
        {"TanhLayer.forward"}, "NaN/inf",
        "TanhLayer._forward = lambda self, x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))"),
    "softmax backward in place": (
        {"SoftmaxLayer.backward"}, "input modified in place",
        "def _bug(self, g):\n"
        "    g -= (g * self.prev_out).sum(axis=1, keepdims=True)\n"
        "    g *= self.prev_out\n"
        "    return g\n"
        "SoftmaxLayer._backward = _bug"),
    "fully connected Jacobian not transposed": (
        {"FullyConnectedLayer.gradient"}, "wrong shape",
        "FullyConnectedLayer._gradient = lambda self: self.weights.copy()"),
    "squared error without 1/N": (
        {"SquaredError.gradient"}, "wrong values",
        "SquaredError._gradient = lambda self, y, yhat: -2.0 * (y - yhat) * y.shape[0]"),
    "bias gradient averaged": (
        {"FullyConnectedLayer.weight_gradients"}, "wrong values",
        "_wg = FullyConnectedLayer.weight_gradients\n"
        "FullyConnectedLayer.weight_gradients = lambda self, g: "
        "(_wg(self, g)[0], np.asarray(g).mean(axis=0, keepdims=True))"),
    "cross entropy mean over classes": (
        {"CrossEntropy.eval"}, "wrong values",
        "CrossEntropy._row_losses = lambda self, y, yhat: -(y * np.log(yhat + self.eps)).mean(axis=1)"),
    "log loss gradient without eps": (
        {"LogLoss.gradient"}, "",
        "LogLoss._gradient = lambda self, y, yhat: -(y - yhat) / (yhat * (1.0 - yhat))"),
    "forward differences": (
        {"numerical_jacobian"}, "wrong values",
        "def numerical_jacobian(f, x, h=1e-6):\n"
        "    x = np.array(x, dtype=float)\n"
        "    base = f(x)\n"
        "    columns = []\n"
        "    for j in range(x.shape[1]):\n"
        "        step = np.zeros_like(x)\n"
        "        step[:, j] = h\n"
        "        columns.append((f(x + step) - base) / h)\n"
        "    return np.stack(columns, axis=2)"),
    "input layer multiplies by std": (
        {"InputLayer.forward"}, "wrong values",
        "InputLayer._forward = lambda self, x: (x - self.mean_x) * self.std_x"),
    "input statistics with ddof=0": (
        {"InputLayer.forward"}, "wrong values",
        "_statistics = InputLayer._statistics\n"
        "def _bug(self, data):\n"
        "    _statistics(self, data)\n"
        "    self._scaled_std = self._scaled_std * ((len(data) - 1) / len(data)) ** 0.5\n"
        "InputLayer._statistics = _bug"),
    "softmax Jacobian sign": (
        {"SoftmaxLayer.gradient"}, "wrong values",
        "def _bug(self):\n"
        "    s = self.prev_out\n"
        "    return s[:, :, None] * s[:, None, :] + np.einsum('nk,kj->nkj', s, np.eye(s.shape[1]))\n"
        "SoftmaxLayer._gradient = _bug"),
    "fully connected forward without biases": (
        {"FullyConnectedLayer.forward"}, "wrong values",
        "FullyConnectedLayer._forward = lambda self, x: x @ self.weights"),
    "fully connected backward divides by N": (
        {"FullyConnectedLayer.backward"}, "wrong values",
        "FullyConnectedLayer._backward = lambda self, g: g @ self.weights.T / g.shape[0]"),
    "log loss without eps in the log": (
        {"LogLoss.eval"}, "",
        "LogLoss._row_losses = lambda self, y, yhat: "
        "-(y * np.log(yhat) + (1.0 - y) * np.log(1.0 - yhat)).sum(axis=1)"),
    # A convention broken in _derivative costs the gradient, and the backward
    # too where the layer's backward is the inherited product with _derivative.
    "sigmoid derivative without eps": (
        _derivative_parts("LogisticSigmoidLayer"), "wrong values",
        "LogisticSigmoidLayer._derivative = lambda self: self.prev_out * (1.0 - self.prev_out)"),
    "ReLU derivative 0 at 0": (
        _derivative_parts("ReLULayer"), "wrong values",
        "ReLULayer._derivative = lambda self: (self.prev_in > 0).astype(float)"),
    # Part 2: the conventions of the layers after the homework (a 1% error in each of their
    # parts: test_part2_one_percent_errors_lose_their_own_parts).
    "leaky ReLU derivative alpha at 0": (
        _derivative_parts("LeakyReLULayer"), "wrong values",
        "LeakyReLULayer._derivative = lambda self: np.where(self.prev_in > 0, 1.0, self.alpha)"),
    "ELU derivative 1 at 0": (
        _derivative_parts("ELULayer"), "wrong values",
        "ELULayer._derivative = lambda self: np.where(self.prev_in >= 0, 1.0, "
        "self.alpha * np.exp(np.minimum(self.prev_in, 0.0)))"),
    "GELU in the erf form": (
        {"GELULayer.forward"}, "wrong values",
        "import math\n"
        "GELULayer._forward = lambda self, x: 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))"),
    "log-softmax Jacobian transposed": (
        {"LogSoftmaxLayer.gradient"}, "wrong values",
        "_log_softmax_gradient = LogSoftmaxLayer._gradient\n"
        "LogSoftmaxLayer._gradient = lambda self: _log_softmax_gradient(self).transpose(0, 2, 1)"),
    # The pack's cross entropy from logits calls LogSoftmaxLayer: a learner's that does the
    # same carries this overflow into both of its parts (their code, not the grader's state).
    "log-softmax without the max shift": (
        {"LogSoftmaxLayer.forward", "CrossEntropyWithLogits.eval", "CrossEntropyWithLogits.gradient"}, "1000",
        "def _bug(self, x):\n"
        "    with np.errstate(all='ignore'):\n"
        "        return x - np.log(np.exp(x).sum(axis=1, keepdims=True))\n"
        "LogSoftmaxLayer._forward = _bug"),
    "cross entropy from logits without the max shift": (
        {"CrossEntropyWithLogits.eval"}, "NaN/inf",
        "def _bug(self, y, z):\n"
        "    with np.errstate(all='ignore'):\n"
        "        return -(y * (z - np.log(np.exp(z).sum(axis=1, keepdims=True)))).sum(axis=1)\n"
        "CrossEntropyWithLogits._row_losses = _bug"),
    "cross entropy from logits for one-hot targets only": (
        {"CrossEntropyWithLogits.gradient"}, "wrong values",
        "CrossEntropyWithLogits._gradient = lambda self, y, z: np.exp(LogSoftmaxLayer().forward(z)) - y"),
    # The pack's batch normalisation normalises its columns with a LayerNormLayer: a learner's
    # that does the same carries this bug into its forward (not into gradient or backward,
    # whose state comes from the reference).
    "layer norm variance with ddof=1": (
        {"LayerNormLayer.forward", "BatchNormLayer.forward"}, "wrong values",
        "def _bug(self, x):\n"
        "    self.inverse_std = 1.0 / np.sqrt(x.var(axis=1, ddof=1, keepdims=True) + self.eps)\n"
        "    return (x - x.mean(axis=1, keepdims=True)) * self.inverse_std\n"
        "LayerNormLayer._forward = _bug"),
    "batch norm variance with ddof=1": (
        {"BatchNormLayer.forward"}, "wrong values",
        "_batch_norm_forward = BatchNormLayer._forward\n"
        "def _bug(self, x):\n"
        "    out = _batch_norm_forward(self, x)\n"
        "    if not self.training:\n"
        "        return out\n"
        "    self.inverse_std = 1.0 / np.sqrt(x.var(axis=0, ddof=1, keepdims=True) + self.eps)\n"
        "    return (x - x.mean(axis=0, keepdims=True)) * self.inverse_std\n"
        "BatchNormLayer._forward = _bug"),
    "batch norm running variance with ddof=0": (
        {"BatchNormLayer.forward"}, "wrong values",
        "_batch_norm_forward = BatchNormLayer._forward\n"
        "def _bug(self, x):\n"
        "    old = 1.0 if self.running_var is None else self.running_var\n"
        "    out = _batch_norm_forward(self, x)\n"
        "    if self.training:\n"
        "        self.running_var = (1 - self.momentum) * old + self.momentum * x.var(axis=0, keepdims=True)\n"
        "    return out\n"
        "BatchNormLayer._forward = _bug"),
    "dropout without the 1/(1 - p) scaling": (
        {"DropoutLayer.forward"}, "wrong values",
        "_dropout_forward = DropoutLayer._forward\n"
        "def _bug(self, x):\n"
        "    out = _dropout_forward(self, x)\n"
        "    self.scale = self.scale * (1.0 - self.p)\n"
        "    return x * self.scale\n"
        "DropoutLayer._forward = _bug"),
}

def test_at_least_ten_bugs_each_aim_at_one_part():
    single = [bug for bug, (parts, _, _) in BUGS.items() if len(parts) == 1]
    assert len(single) >= 10
    assert all(set(parts) <= set(PART_NAMES) for parts, _, _ in BUGS.values())


_graded_bugs = {}


def graded_bug(bug, tmp_path_factory):
    """The reference with one planted bug, graded once per test run."""
    if bug not in _graded_bugs:
        folder = tmp_path_factory.mktemp("bug")
        path = write(folder, "layers.py", reference_source() + "\n\n# A planted bug\n" + BUGS[bug][2] + "\n")
        _graded_bugs[bug] = (path, grade(path))
    return _graded_bugs[bug]


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_planted_bug_loses_its_own_part_only(bug, tmp_path_factory):
    _, result = graded_bug(bug, tmp_path_factory)
    parts, words, _ = BUGS[bug]
    assert failed_parts(result) == parts
    for part in parts:
        assert words in feedback_of(result, part), feedback_of(result, part)
    points = {name: v + h for name, v, h, _ in RUBRIC}
    lost = 100 - result.score
    assert 0 < lost <= sum(points[part] for part in parts)


PART2_CLASSES = ["LeakyReLULayer", "SoftplusLayer", "ELULayer", "GELULayer", "LogSoftmaxLayer",
                 "LayerNormLayer", "BatchNormLayer", "DropoutLayer"]
OBJECTIVE_METHOD = {"forward": "eval", "gradient": "gradient"}


@pytest.mark.parametrize("method", ["forward", "gradient", "backward"])
def test_part2_one_percent_errors_lose_their_own_parts(method, tmp_path):
    """A 1% error in `method` of every Part 2 layer at once (eval or gradient of the cross
    entropy from logits): each loses that part, and no other part of its class is touched,
    so its gradient and backward do not inherit a wrong forward (state from the reference)."""
    planted = textwrap.dedent('''

        def _one_percent_off(cls, method):
            original = getattr(cls, method)
            setattr(cls, method, lambda self, *args: 1.01 * original(self, *args))


        for _cls in (%s):
            _one_percent_off(_cls, %r)
    ''') % (", ".join(PART2_CLASSES), method)
    expected = {f"{cls}.{method}" for cls in PART2_CLASSES}
    if method in OBJECTIVE_METHOD:
        planted += f"_one_percent_off(CrossEntropyWithLogits, {OBJECTIVE_METHOD[method]!r})\n"
        expected.add(f"CrossEntropyWithLogits.{OBJECTIVE_METHOD[method]}")
    if method == "forward":
        # The pack's cross entropy from logits computes softmax with LogSoftmaxLayer().forward.
        expected.add("CrossEntropyWithLogits.gradient")
    result = grade_text(tmp_path, reference_source() + planted)
    assert failed_parts(result) == expected
    for part in expected:
        feedback = feedback_of(result, part)
        assert "wrong values" in feedback, feedback
        # Both groups lose: the visible cases already tell a 1% error.
        assert not any(test.passed for test in result.tests if test.part == part), part
    assert result.score == 100 - sum(POINTS[part] for part in expected)


def test_conventions_are_hidden_cases(tmp_path_factory):
    def tests_of(bug):
        _, result = graded_bug(bug, tmp_path_factory)
        return {(test.part, test.visible): test for test in result.tests}

    # A 1% error shows in the visible cases already.
    assert not tests_of("linear forward 1% off")[("LinearLayer.forward", True)].passed
    # The course's conventions are the hidden cases' business.
    for bug in ("ReLU backward 0 at 0", "squared error without 1/N", "tanh forward overflows",
                "log loss gradient without eps", "cross entropy from logits without the max shift",
                "cross entropy from logits for one-hot targets only", "batch norm running variance with ddof=0"):
        (part,) = BUGS[bug][0]
        tests = tests_of(bug)
        assert tests[(part, True)].passed and not tests[(part, False)].passed, bug
    feedback = tests_of("ReLU backward 0 at 0")[("ReLULayer.backward", False)].feedback
    assert "case 'x with exact zeros" in feedback and "expected" in feedback and "got" in feedback


# --------------------------------------------------------------------------
# Hostile submissions: no points, and they finish within their timeouts
# --------------------------------------------------------------------------

def grade_hostile(tmp_path, text, name):
    start = time.monotonic()
    result = grade_text(tmp_path, text, name=name, timeout=HOSTILE_TIMEOUT,
                        import_timeout=HOSTILE_IMPORT_TIMEOUT)
    return result, time.monotonic() - start


@pytest.mark.parametrize("name, text, words", [
    ("sys_exit", "import sys\nsys.exit(0)\n", "import error (line 2: SystemExit"),
    ("os_exit", "import os\nos._exit(0)\n", "import error: the process ended while importing"),
    ("raises", "x = 1\nraise RuntimeError('no')\n", "import error (line 2: RuntimeError: no)"),
    ("syntax", "import numpy as np\n\ndef forward(self x):\n    return x\n", "import error (line 3: SyntaxError"),
])
def test_import_failures_score_0_with_the_line(tmp_path, name, text, words):
    result, seconds = grade_hostile(tmp_path, text, name)
    assert result.score == 0
    assert seconds < HOSTILE_IMPORT_TIMEOUT + 3
    for test in result.tests:
        assert test.feedback.startswith(words), test.feedback


def test_endless_loop_at_import_costs_one_timeout(tmp_path):
    result, seconds = grade_hostile(tmp_path, "while True:\n    pass\n", "loop")
    assert result.score == 0
    assert HOSTILE_IMPORT_TIMEOUT <= seconds < HOSTILE_IMPORT_TIMEOUT + 3
    assert all(test.feedback.startswith("timeout at import") for test in result.tests)


FORGED_LINE = ('{"nonce": "%s", "event": "case", "case": "h", '
               '"outputs": [{"shape": [1, 4], "data": [1, 2, 3, 4]}], "after": {}, "score": 100}')

FAKE_STDOUT = textwrap.dedent('''
    import json, os, sys
    for guess in ("", "0" * 32, "nonce"):
        print(%r %% guess)
        print(json.dumps({"nonce": guess, "event": "imported"}))
        print(json.dumps({"nonce": guess, "event": "done"}))
    print(json.dumps({"score": 100, "tests": []}))
    sys.stdout.flush()
    # Forged lines on every descriptor that might be the result channel.
    for fd in range(3, 64):
        try:
            os.write(fd, (%r %% "0" * 32 + "\\n").encode())
        except OSError:
            pass
''') % (FORGED_LINE, FORGED_LINE)

PATCHED_NUMPY = textwrap.dedent('''
    import numpy as np
    import numpy.testing
    always = lambda *args, **kwargs: True
    np.allclose = np.isclose = np.array_equal = np.array_equiv = always
    np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None
    np.testing.assert_array_almost_equal = np.testing.assert_almost_equal = lambda *args, **kwargs: None
    np.isfinite = lambda a: np.ones(np.shape(a), dtype=bool)
''')

FAKE_RESULTS_FILE = textwrap.dedent('''
    import json, os
    fake = json.dumps({"score": 100, "execution_time": 1, "output": "all good", "tests": [
        {"name": "everything", "score": 100, "max_score": 100, "status": "passed", "output": "",
         "visibility": "visible"}]})
    for folder in (".", "/tmp", "/autograder/results", %r, os.path.expanduser("~")):
        try:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "results.json"), "w") as handle:
                handle.write(fake)
        except OSError:
            pass
''')


def _returns_zeros(source):
    """Every graded method returns zeros of the right shape instead of raising."""
    return source + textwrap.dedent('''
        import numpy as _np
        for _cls in (InputLayer, LinearLayer, ReLULayer, LogisticSigmoidLayer, TanhLayer, SoftmaxLayer):
            _cls._forward = lambda self, x: _np.zeros_like(x)
            _cls._derivative = lambda self: _np.zeros_like(self.prev_in)
            _cls._gradient = lambda self: _np.zeros(self.prev_in.shape + self.prev_in.shape[1:])
            _cls._backward = lambda self, g: _np.zeros_like(g)
        FullyConnectedLayer._forward = lambda self, x: _np.zeros((len(x), self.size_out))
        FullyConnectedLayer._gradient = lambda self: _np.zeros((self.size_out, self.size_in))
        FullyConnectedLayer._backward = lambda self, g: _np.zeros((len(g), self.size_in))
        FullyConnectedLayer.weight_gradients = lambda self, g: (_np.zeros((self.size_in, self.size_out)),
                                                                _np.zeros((1, self.size_out)))
        for _cls in (SquaredError, LogLoss, CrossEntropy, CrossEntropyWithLogits):
            _cls._row_losses = lambda self, y, yhat: _np.zeros(len(y))
            _cls._gradient = lambda self, y, yhat: _np.zeros_like(y)
        for _cls in (LeakyReLULayer, SoftplusLayer, ELULayer, GELULayer, LogSoftmaxLayer, LayerNormLayer,
                     DropoutLayer):
            _cls._forward = lambda self, x: _np.zeros_like(x)
            _cls._derivative = lambda self: _np.zeros_like(self.prev_in)
            _cls._gradient = lambda self: _np.zeros(self.prev_in.shape + self.prev_in.shape[1:])
            _cls._backward = lambda self, g: _np.zeros_like(g)
        BatchNormLayer._forward = lambda self, x: _np.zeros_like(x)
        BatchNormLayer._gradient = lambda self: _np.zeros(self.prev_in.shape[1:] + self.prev_in.shape[:1] * 2)
        BatchNormLayer._backward = lambda self, g: _np.zeros_like(g)
        numerical_jacobian = lambda f, x, h=1e-6: _np.zeros(_np.shape(x) + _np.shape(x)[1:])
    ''')


def test_forgeries_earn_nothing(tmp_path):
    """Fake results printed and written to every descriptor and to results files, numpy's
    comparisons patched to agree with anything, and zeros returned everywhere: 0 points."""
    forger = FAKE_STDOUT + FAKE_RESULTS_FILE % str(tmp_path / "out") + PATCHED_NUMPY
    result, seconds = grade_hostile(tmp_path, forger + _returns_zeros(stub_source()), "forger")
    assert result.score == 0, [(t.name, t.feedback) for t in result.tests if t.passed]
    assert result.import_problem is None
    assert seconds < 20
    # Judged on the values the submission returned, whatever it printed, wrote or patched.
    judged = [test.feedback for test in result.tests
              if "wrong values" not in test.feedback and "wrong shape" not in test.feedback]
    assert judged == []
    if SANDBOXED:
        assert not (tmp_path / "out").exists()
        assert not (tmp_path / "forger" / "results.json").exists()


@needs_bwrap
def test_reading_the_reference_from_disk_finds_nothing(tmp_path):
    hunter = textwrap.dedent('''
        import os, sys, time
        targets = {"layers.py", "homework.py", "__editable___layer_calculus_1_0_0_finder.py"}
        found, seen, start = [], 0, time.monotonic()
        known = [%r, %r, "/work/main/layers.py", "/autograder/source/layers.py"]
        found += [path for path in known if os.path.isfile(path)]
        path = os.path.dirname(os.path.realpath(sys.executable))
        while True:  # walk up from the interpreter
            found += [os.path.join(path, name) for name in targets if os.path.isfile(os.path.join(path, name))]
            if os.path.dirname(path) == path:
                break
            path = os.path.dirname(path)
        for root, dirs, files in os.walk("/"):  # and search the whole tree
            seen += len(files)
            found += [os.path.join(root, name) for name in files if name in targets]
            if time.monotonic() - start > 1.5:
                break
        found = [path for path in found if os.path.realpath(path) != os.path.realpath(__file__)]
        if not found:
            raise ImportError(f"found nothing in {seen} files")
        exec(open(found[0]).read())
    ''') % (str(REFERENCE), str(ROOT / "homework.py"))
    result, _ = grade_hostile(tmp_path, hunter, "hunter")
    assert result.score == 0
    assert "found nothing in" in result.tests[0].feedback, result.tests[0].feedback


THIEF = textwrap.dedent('''
    import json, os, sys


    def _steal():
        """The nonce and the result descriptor, from the harness's frame below this call."""
        frame = sys._getframe()
        while frame is not None:
            if "nonce" in frame.f_locals and "result_fd" in frame.f_locals:
                return frame.f_locals["nonce"], frame.f_locals["result_fd"]
            frame = frame.f_back
        raise RuntimeError("no nonce found")


    def _forge(self, x):
        nonce, fd = _steal()

        def send(**message):
            os.write(fd, (json.dumps(dict(message, nonce=nonce)) + "\\n").encode())

        send(event="part", part=["unhashable"])
        send(event="case", part="ReLULayer.forward", case={"unhashable": 1})
        send(event="case", part="ReLULayer.forward", case="h", outputs="garbage")
        send(event="case", part="ReLULayer.forward", case="h", outputs=[{"shape": [1, 4], "data": "zz"}])
        send(event="case", part="ReLULayer.forward", case="batch", error="not a dict")
        send(event="case", part="ReLULayer.forward", case="random", outputs=[{"shape": [10**11], "data": []}])
        for name in %r:  # announce every part, hoping to move the deadline again and again
            send(event="part", part=name)
        send(event="done")
        while True:
            pass


    ReLULayer._forward = _forge
''')


def test_a_submission_that_steals_the_nonce_forges_only_its_own_loss(tmp_path):
    """Malformed answers, repeated answers, an early "done" and every part announced to keep
    the deadline moving: the grader neither crashes nor waits longer than one part's timeout."""
    thief = reference_source() + THIEF % (PART_NAMES,)
    result, seconds = grade_hostile(tmp_path, thief, "thief")
    assert "ReLULayer.forward" in failed_parts(result)
    assert "answered case 'homework h = [[1, 2, 3, 4]]' twice" in feedback_of(result, "ReLULayer.forward")
    assert seconds < HOSTILE_TIMEOUT + 8
    # The parts it announced in its own child are charged to it; the other child's are not.
    assert 0 < result.score < 100


def _harness_processes():
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"layer-grader-fork-test" in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                pass
    return found


def _no_harness_processes_within(seconds):
    """Whether every killed harness process is gone within `seconds` (a loaded machine reaps slowly)."""
    deadline = time.monotonic() + seconds
    while _harness_processes():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


FORK = textwrap.dedent('''
    import os, sys, time
    if os.fork() == 0:
        sys.stdout.write("holding stdout and stderr open\\n")
        os.execv(sys.executable, [sys.executable, "-c",
                 "import time; time.sleep(60)  # layer-grader-fork-test"])
''')


def test_grandchild_holding_stdout_neither_hangs_nor_outlives_grading(tmp_path):
    result, seconds = grade_hostile(tmp_path, FORK + stub_source(), "fork")
    assert result.score == 0
    assert all(test.feedback.startswith("not attempted") for test in result.tests)
    assert seconds < 20
    assert _no_harness_processes_within(5.0)


def test_endless_method_and_crashes_cost_their_own_part(tmp_path):
    """A method that never returns, one that exits, one that dies of a signal."""
    broken = textwrap.dedent('''

        import os


        def _loop(self, x):
            while True:
                pass


        ReLULayer._forward = _loop
        SoftmaxLayer._gradient = lambda self: os._exit(3)
        TanhLayer._forward = lambda self, x: os.kill(os.getpid(), 11)
    ''')
    result, seconds = grade_hostile(tmp_path, FORK + reference_source() + broken, "broken")
    assert failed_parts(result) == {"ReLULayer.forward", "SoftmaxLayer.gradient", "TanhLayer.forward"}
    assert f"timeout: no answer within {HOSTILE_TIMEOUT:g} s" in feedback_of(result, "ReLULayer.forward")
    assert "crash: the process ended during this part (exit code 3)" in feedback_of(result, "SoftmaxLayer.gradient")
    assert "SIGSEGV" in feedback_of(result, "TanhLayer.forward")
    assert result.score == 100 - sum(POINTS[part] for part in failed_parts(result))
    assert seconds < HOSTILE_TIMEOUT + 10
    assert _no_harness_processes_within(5.0)


def test_an_endless_forward_of_a_stateful_layer_costs_its_forward_only(tmp_path):
    """Batch normalisation's gradient and backward run the learner's own forward first (for
    the state it keeps); that run is bounded, so a forward that never returns loses only
    the forward part, at the cost of one part timeout."""
    looping = textwrap.dedent('''

        def _loop(self, x):
            while True:
                try:
                    pass
                except Exception:  # an alarm must not be swallowed here
                    pass


        BatchNormLayer._forward = _loop
    ''')
    result, seconds = grade_hostile(tmp_path, reference_source() + looping, "stateful-loop")
    assert failed_parts(result) == {"BatchNormLayer.forward"}
    assert f"timeout: no answer within {HOSTILE_TIMEOUT:g} s" in feedback_of(result, "BatchNormLayer.forward")
    assert seconds < HOSTILE_TIMEOUT + 8


# --------------------------------------------------------------------------
# The Gradescope bundle
# --------------------------------------------------------------------------

def test_run_autograder_from_the_bundle_matches_the_command_line(tmp_path, tmp_path_factory):
    submission, _ = graded_bug("softmax backward in place", tmp_path_factory)
    direct = subprocess.run([str(PYTHON), "-m", "grader", str(submission), "--json", str(tmp_path / "direct.json")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert direct.returncode == 0, direct.stderr
    expected = json.loads((tmp_path / "direct.json").read_text())
    zip_path = tmp_path / "autograder.zip"
    done = subprocess.run([str(PYTHON), "-m", "grader.bundle", "--out", str(zip_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "layers.py", "homework.py", "requirements-grader.txt",
                "grader/__main__.py", "grader/harness.py", "grader/README.md"} <= names
        assert archive.read("layers.py") == REFERENCE.read_bytes()
        assert b"numpy==" in archive.read("requirements-grader.txt")
        assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
        archive.extractall(tmp_path / "source")
    source = tmp_path / "source"
    (source / "run_autograder").chmod(0o755)
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "layers.py").write_bytes(submission.read_bytes())
    env = dict(os.environ, GRADER_SUBMISSION_DIR=str(tmp_path / "submission"),
               GRADER_RESULTS_DIR=str(tmp_path / "results"), GRADER_PYTHON=str(PYTHON))
    env.pop("GRADER_SOURCE_DIR", None)
    run = subprocess.run([str(source / "run_autograder")], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "results" / "results.json").read_text())
    assert report["score"] == expected["score"] == 100 - POINTS["SoftmaxLayer.backward"]
    assert report["tests"] == expected["tests"]
    # No layers.py in the submission: a readable results.json, not a crash.
    (tmp_path / "submission" / "layers.py").rename(tmp_path / "submission" / "my_layers.py")
    run = subprocess.run([str(source / "run_autograder")], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "results" / "results.json").read_text())
    assert report["score"] == 0 and "No layers.py" in report["output"] and "my_layers.py" in report["output"]


def test_a_bundle_for_part_1_grades_the_homework_alone(tmp_path):
    zip_path = tmp_path / "autograder.zip"
    done = subprocess.run([str(PYTHON), "-m", "grader.bundle", "--out", str(zip_path), "--part", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "worth 70 points" in done.stdout
    with zipfile.ZipFile(zip_path) as archive:
        assert b'GRADED_PART="1"\n' in archive.read("run_autograder")
        archive.extractall(tmp_path / "source")
    (tmp_path / "source" / "run_autograder").chmod(0o755)
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "layers.py").write_text(reference_source())
    env = dict(os.environ, GRADER_SUBMISSION_DIR=str(tmp_path / "submission"),
               GRADER_RESULTS_DIR=str(tmp_path / "results"), GRADER_PYTHON=str(PYTHON))
    for name in ("GRADER_SOURCE_DIR", "LAYER_GRADER_PART"):
        env.pop(name, None)
    run = subprocess.run([str(tmp_path / "source" / "run_autograder")], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "results" / "results.json").read_text())
    assert report["score"] == 70 and len(report["tests"]) == 2 * len(PART_1)
    assert {test["name"].removesuffix(" (hidden cases)") for test in report["tests"]} == {n for n, *_ in PART_1}
