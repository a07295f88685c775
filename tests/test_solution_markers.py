"""The solution blocks of layers.py, from which the student edition is built.

Every piece of mathematics sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION``; the first line inside is a hint naming a notebook
section that exists; replacing each block by a raise leaves a module that
imports; validation and the base classes stay outside.
"""

import inspect
import json
import re

import numpy as np
import pytest

import layers
from layer_cases import REPO_ROOT

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT = re.compile(r"^# (?P<what>\S.*?) -- (?P<stem>\d\d_\w+), section (?P<section>\d+)$")
LINES = (REPO_ROOT / "layers.py").read_text().splitlines()


def blocks():
    """(begin, end) line indices of each block, checking the markers on the way."""
    found, begin = [], None
    for number, line in enumerate(LINES):
        if "SOLUTION" in line and line.strip() not in (BEGIN, END):
            raise AssertionError(f"line {number + 1}: a marker must be alone on its line: {line!r}")
        if line.strip() == BEGIN:
            assert begin is None, f"line {number + 1}: nested {BEGIN}"
            begin = number
        elif line.strip() == END:
            assert begin is not None, f"line {number + 1}: {END} without {BEGIN}"
            indent = len(LINES[begin]) - len(LINES[begin].lstrip())
            assert len(line) - len(line.lstrip()) == indent, f"line {number + 1}: indentation"
            found.append((begin, number))
            begin = None
    assert begin is None, f"line {begin + 1}: {BEGIN} never closed"
    return found


BLOCKS = blocks()


def owner_of(line_index):
    """(class name or None, function name) around a line, from the source's structure."""
    function = owner = None
    for line in LINES[: line_index + 1]:
        match = re.match(r"^(\s*)(class|def) (\w+)", line)
        if match:
            indent, kind, name = match.groups()
            if kind == "class" and not indent:
                owner, function = name, None
            elif kind == "def" and not indent:
                owner, function = None, name
            elif kind == "def":
                function = name
    return owner, function


def test_there_are_blocks():
    assert len(BLOCKS) >= 25


@pytest.mark.parametrize("begin, end", BLOCKS, ids=lambda value: str(value + 1))
def test_first_line_is_a_hint_to_an_existing_section(begin, end):
    hint = HINT.match(LINES[begin + 1].strip())
    assert hint, f"line {begin + 2}: not a hint: {LINES[begin + 1].strip()!r}"
    notebook = REPO_ROOT / "notebooks" / f"{hint['stem']}.ipynb"
    assert notebook.exists(), notebook
    headings = [line for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "markdown"
                for line in "".join(cell["source"]).splitlines() if line.startswith("## ")]
    assert any(line.startswith(f"## {hint['section']}.") for line in headings), (hint["stem"], hint["section"])
    assert end - begin > 2, "a block holds the hint and at least one statement"


# Every method or function that must be a block's home.
EXPECTED = {
    ("InputLayer", "_statistics"), ("InputLayer", "_forward"), ("InputLayer", "_derivative"),
    ("InputLayer", "_backward"),
    ("FullyConnectedLayer", "_forward"), ("FullyConnectedLayer", "_gradient"),
    ("FullyConnectedLayer", "_backward"), ("FullyConnectedLayer", "weight_gradients"),
    ("LinearLayer", "_forward"), ("LinearLayer", "_derivative"), ("LinearLayer", "_backward"),
    ("ReLULayer", "_forward"), ("ReLULayer", "_derivative"), ("ReLULayer", "_backward"),
    ("LogisticSigmoidLayer", "_forward"), ("LogisticSigmoidLayer", "_derivative"),
    ("TanhLayer", "_forward"), ("TanhLayer", "_derivative"),
    ("SoftmaxLayer", "_forward"), ("SoftmaxLayer", "_gradient"), ("SoftmaxLayer", "_backward"),
    ("SquaredError", "_row_losses"), ("SquaredError", "_gradient"),
    ("LogLoss", "_row_losses"), ("LogLoss", "_gradient"),
    ("CrossEntropy", "_row_losses"), ("CrossEntropy", "_gradient"),
    (None, "numerical_jacobian"), (None, "numerical_gradient"),
    # The layers after the homework (notebooks 10 to 13).
    (None, "_sigmoid"),
    ("LeakyReLULayer", "_forward"), ("LeakyReLULayer", "_derivative"),
    ("SoftplusLayer", "_forward"), ("SoftplusLayer", "_derivative"),
    ("ELULayer", "_forward"), ("ELULayer", "_derivative"),
    ("GELULayer", "_forward"), ("GELULayer", "_derivative"),
    ("LogSoftmaxLayer", "_forward"), ("LogSoftmaxLayer", "_gradient"), ("LogSoftmaxLayer", "_backward"),
    ("LayerNormLayer", "_forward"), ("LayerNormLayer", "_gradient"), ("LayerNormLayer", "_backward"),
    ("BatchNormLayer", "_forward"), ("BatchNormLayer", "_gradient"), ("BatchNormLayer", "_backward"),
    ("DropoutLayer", "_forward"), ("DropoutLayer", "_derivative"),
    ("CrossEntropyWithLogits", "_row_losses"), ("CrossEntropyWithLogits", "_gradient"),
}


def test_every_formula_is_in_a_block_and_base_classes_have_none():
    homes = [owner_of(begin) for begin, _ in BLOCKS]
    assert len(homes) == len(set(homes)), "one block per method"
    assert set(homes) == EXPECTED
    assert not {owner for owner, _ in homes} & {"Layer", "ElementwiseLayer", "Objective"}


def test_every_concrete_template_method_is_covered():
    # A new layer or objective with its own formula needs a block too.
    templates = {"_forward", "_derivative", "_gradient", "_backward", "_row_losses", "_statistics"}
    for name in layers.__all__:
        cls = getattr(layers, name)
        if inspect.isclass(cls) and name not in ("Layer", "ElementwiseLayer", "Objective"):
            for method in templates & set(vars(cls)):
                assert (name, method) in EXPECTED, f"{name}.{method} has no block"


def stubbed_source():
    """layers.py with every block replaced by a raise at its indentation."""
    lines, previous = [], 0
    for begin, end in BLOCKS:
        indent = LINES[begin][: len(LINES[begin]) - len(LINES[begin].lstrip())]
        lines += LINES[previous:begin] + [f'{indent}raise NotImplementedError("stub")']
        previous = end + 1
    return "\n".join(lines + LINES[previous:]) + "\n"


def test_replacing_the_blocks_leaves_a_module_that_imports_and_raises():
    namespace = {"__name__": "stubbed_layers"}
    exec(compile(stubbed_source(), "stubbed_layers.py", "exec"), namespace)
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    # The public calls reach their stubs; nothing else breaks first.
    for call in (
        lambda: namespace["ReLULayer"]().forward(x),
        lambda: namespace["SoftmaxLayer"]().forward(x),
        lambda: namespace["FullyConnectedLayer"](2, 3, rng=np.random.default_rng(0)).forward(x),
        lambda: namespace["InputLayer"](x).forward(x),
        lambda: namespace["CrossEntropy"]().eval([[1.0, 0.0]], [[0.5, 0.5]]),
        lambda: namespace["numerical_jacobian"](lambda a: a, x),
        lambda: namespace["GELULayer"]().forward(x),
        lambda: namespace["LogSoftmaxLayer"]().forward(x),
        lambda: namespace["BatchNormLayer"]().forward(x),
        lambda: namespace["DropoutLayer"](rng=np.random.default_rng(0)).forward(x),
        lambda: namespace["CrossEntropyWithLogits"]().eval([[1.0, 0.0]], [[2.0, -1.0]]),
    ):
        with pytest.raises(NotImplementedError, match="stub"):
            call()
    # Construction needs no solution: an InputLayer computes its statistics on first use.
    layer = namespace["InputLayer"](x)
    with pytest.raises(NotImplementedError, match="stub"):
        layer.mean_x


def test_input_statistics_are_computed_once_on_first_use():
    calls = []

    class CountingInput(layers.InputLayer):
        def _statistics(self, data):
            calls.append(data.shape)
            super()._statistics(data)

    layer = CountingInput([[1.0, 2.0], [3.0, 6.0]])
    assert calls == []
    np.testing.assert_allclose(layer.forward([[2.0, 4.0]]), [[0.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose(layer.mean_x, [[2.0, 4.0]])
    assert calls == [(2, 2)]
    with pytest.raises(AttributeError, match="no attribute 'something_else'"):
        layer.something_else


def test_input_statistics_that_set_the_wrong_names_say_which_to_set():
    # A learner's first try: mean_x and std_x set directly (they follow from the three names).
    class DirectStatistics(layers.InputLayer):
        def _statistics(self, data):
            self.mean_x = data.mean(axis=0, keepdims=True)

    class IncompleteStatistics(layers.InputLayer):
        def _statistics(self, data):
            self.scale_x = np.ones((1, data.shape[1]))
            self._scaled_mean = data.mean(axis=0, keepdims=True)

    data = [[1.0, 2.0], [3.0, 5.0]]
    for read in (lambda layer: layer.forward([[1.0, 2.0]]), lambda layer: layer.mean_x):
        # Not AttributeError: behind the mean_x property Python would replace it by "no attribute 'mean_x'".
        with pytest.raises(RuntimeError, match=r"DirectStatistics\._statistics raised AttributeError: "
                                               r".*mean_x.*It sets scale_x, _scaled_mean, _scaled_std"):
            read(DirectStatistics(data))
        with pytest.raises(RuntimeError, match=r"IncompleteStatistics\._statistics did not set _scaled_std; "
                                               r"it must set scale_x, _scaled_mean, _scaled_std"):
            read(IncompleteStatistics(data))


def _classes_and_notebooks():
    """(class name, notebook stem) for every layer or objective class with a solution block."""
    pairs = set()
    for begin, _ in BLOCKS:
        owner, _ = owner_of(begin)
        cls = getattr(layers, owner or "", None)
        if isinstance(cls, type) and issubclass(cls, (layers.Layer, layers.Objective)):
            pairs.add((owner, HINT.match(LINES[begin + 1].strip())["stem"]))
    return sorted(pairs)


@pytest.mark.parametrize("name, stem", _classes_and_notebooks())
def test_the_notebook_a_hint_names_checks_that_class(name, stem):
    # A learner sent to a notebook by a hint finds the check of the class there.
    cells = json.loads((REPO_ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
    checked = set()
    for cell in cells:
        code = "".join(cell["source"])
        if cell["cell_type"] == "code" and re.search(r"\bchecks\.check_(layer|objective)\(", code):
            checked |= set(re.findall(r"\blayers\.(\w+)", code))
    assert name in checked, f"{stem} has no cell with checks.check_layer/check_objective of layers.{name}"
