"""`python layers.py`: the answer key prints every figure of the homework.

The script runs in a fresh interpreter from the project root, exactly as a
learner (or `make answer-key`) runs it.
"""

import re
import subprocess
import sys

import pytest

import homework_document as doc
import layers

PARTS = ["fc", "linear", "relu", "sigmoid", "tanh", "softmax", "objectives"]

# Number lines the answer key prints character for character as the homework
# did. (The others differ from it in whitespace only, where the document was
# retyped: test_prints_the_figure compares those with spacing normalized.)
EXACT_LINES = [
    "[[0.0009792  0.00099362]]",
    "[[6.46440512e-05 1.14556810e-04 8.08290128e-05 6.34649549e-05]",
    " [2.70964398e-05 9.37682339e-05 3.12761634e-05 1.67531900e-04]]",
    "[[1. 0. 0. 0.]",
    " [0. 1. 0. 0.]",
    " [0. 0. 1. 0.]",
    " [0. 0. 0. 1.]]",
    "[[0.73105858 0.88079708 0.95257413 0.98201379]]",
    "[[0.76159416 0.96402758 0.99505475 0.9993293 ]]",
    "[[ 0.03103085 -0.00279373 -0.00759413 -0.02064299]",
    "0.04000000000000001",
    "0.4",
    "0.22314342631421757",
    "1.249999218750488",
]

# Where the homework's printout differs from ours, and why.
DIFFERENT_BY_DESIGN = {
    # The homework's Linear and ReLU passed the integer input through;
    # layers.py always computes in float64.
    "[[1 2 3 4]]": "[[1. 2. 3. 4.]]",
    # The homework's eval returned a 1-element array; ours is a Python float.
    "[1.60943741]": "1.6094374124342252",
    # Erratum: two 3-column rows in the printed sigmoid Jacobian.
    "[[0.19661203 0.          0.          ]": "[[0.19661203 0.         0.         0.        ]",
    " [0.          0.10499369 0.          ]": " [0.         0.10499369 0.         0.        ]",
}


def run_answer_key(repo_root, *args):
    return subprocess.run(
        [sys.executable, "layers.py", *args], cwd=repo_root, capture_output=True, text=True, timeout=120
    )


def normalized(line):
    """Whitespace-insensitive form: the document's printouts were retyped."""
    line = re.sub(r"\s+", " ", line.strip())
    return line.replace("[ ", "[").replace(" ]", "]")


def expected_lines(figure):
    """The figure's lines as our answer key prints them."""
    return [DIFFERENT_BY_DESIGN.get(line, line) for line in doc.FIGURES[figure].splitlines()]


def assert_lines_in_order(expected, printed):
    """Each expected line appears in printed (normalized), in the given order."""
    printed = [normalized(line) for line in printed]
    position = 0
    for line in expected:
        target = normalized(line)
        assert target in printed[position:], f"{line!r} missing (or out of order) in the answer key"
        position = printed.index(target, position) + 1


@pytest.fixture(scope="module")
def answer_key(repo_root):
    return run_answer_key(repo_root)


def figure_id(figure):
    """'Figure 1: FC Layer' -> 'figure-1'."""
    return figure.split(":")[0].lower().replace(" ", "-")


def headers(stdout):
    return [line for line in stdout.splitlines() if line.startswith("== ")]


class TestFullAnswerKey:
    def test_exits_cleanly(self, answer_key):
        assert answer_key.returncode == 0, answer_key.stderr
        assert answer_key.stderr == ""

    @pytest.mark.parametrize("figure", list(doc.FIGURES), ids=figure_id)
    def test_prints_the_figure(self, answer_key, figure):
        assert_lines_in_order(expected_lines(figure), answer_key.stdout.splitlines())

    @pytest.mark.parametrize("line", EXACT_LINES)
    def test_prints_the_exact_line(self, answer_key, line):
        printed = line in answer_key.stdout.splitlines()
        assert printed, f"{line!r} is not a line of the answer key"

    def test_prints_theory_q2_w_transposed(self, answer_key):
        expected = ["gradient() =", "[[1. 3. 5. 7.]", " [2. 4. 6. 8.]]"]
        assert_lines_in_order(expected, answer_key.stdout.splitlines())

    def test_prints_the_parts_in_order(self, answer_key):
        titles = headers(answer_key.stdout)
        printed = [re.match(r"== (Figure \d|Theory Q2)", title).group(1) for title in titles]
        figures = [f"Figure {number}" for number in range(1, 8)]
        assert printed == figures[:1] + ["Theory Q2"] + figures[1:]

    @pytest.mark.parametrize(
        "erratum, patterns",
        [
            pytest.param("softmax g1", [r"0\.03103085\b", r"0\.03205860"], id="softmax-g1"),
            pytest.param("log loss rounding", [r"0\.2231437\b", r"0\.22314343"], id="log-loss"),
            pytest.param("sigmoid printout", [r"3.column", r"4 x 4"], id="sigmoid-rows"),
        ],
    )
    def test_points_out_the_errata(self, answer_key, erratum, patterns):
        # The notes are the lines in parentheses; one of them names both values.
        notes = [line for line in answer_key.stdout.splitlines() if line.startswith("(")]
        assert any(all(re.search(p, note) for p in patterns) for note in notes), erratum


class TestChoosingParts:
    def test_one_part_prints_only_that_part(self, repo_root):
        result = run_answer_key(repo_root, "softmax")
        assert result.returncode == 0, result.stderr
        assert headers(result.stdout) == ["== Figure 6: Softmax, Theory Q1(b)"]
        assert_lines_in_order(expected_lines("Figure 6: Softmax"), result.stdout.splitlines())
        for other in ("Fully Connected", "Sigmoid", "Tanh", "Linear", "ReLU", "Eval:"):
            assert other not in result.stdout

    def test_several_parts(self, repo_root):
        result = run_answer_key(repo_root, "relu", "objectives")
        assert result.returncode == 0, result.stderr
        assert [header.split(":")[0] for header in headers(result.stdout)] == ["== Figure 3", "== Figure 7"]

    def test_help_lists_every_part(self, repo_root):
        assert list(layers.ANSWER_KEY_PARTS) == PARTS
        result = run_answer_key(repo_root, "--help")
        assert result.returncode == 0
        assert "usage: python layers.py" in result.stdout
        for part in PARTS:
            assert re.search(rf"\b{part}\b", result.stdout), part

    def test_unknown_part_exits_2_with_a_message(self, repo_root):
        result = run_answer_key(repo_root, "softmax", "bogus")
        assert result.returncode == 2
        assert result.stdout == ""
        assert "unknown part 'bogus'" in result.stderr
        assert "choose from " + ", ".join(PARTS) in result.stderr
