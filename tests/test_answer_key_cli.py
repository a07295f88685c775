"""The answer key: `python layers.py` (the documented command) and `python homework.py`.

Both run in a fresh interpreter from the project root, exactly as a learner
(or `make answer-key`) runs them, and print every figure of the homework.
The figures' numbers come from homework.FIGURES, never typed here.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import homework

PARTS = ["fc", "linear", "relu", "sigmoid", "tanh", "softmax", "objectives"]
COMMANDS = {"layers": "layers.py", "homework": "homework.py"}


def run_answer_key(repo_root, *args, script="layers.py"):
    return subprocess.run(
        [sys.executable, script, *args], cwd=repo_root, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module", params=list(COMMANDS.values()), ids=list(COMMANDS))
def answer_key(repo_root, request):
    return run_answer_key(repo_root, script=request.param)


@pytest.fixture(scope="module")
def answer_key_lines(repo_root):
    result = run_answer_key(repo_root)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def normalized(line):
    """Whitespace-insensitive form: the document's printouts were retyped."""
    line = re.sub(r"\s+", " ", line.strip())
    return line.replace("[ ", "[").replace(" ]", "]")


def canonical_lines(text):
    """How numpy (default print options) prints the numbers of a printout, line by line.

    A scalar line is a Python float's repr; a ragged printout has no
    canonical form (an empty list).
    """
    if "[" not in text:
        return [repr(float(text.strip()))]
    try:
        values, _ = homework.parse_printed(text)
    except ValueError:
        return []
    return str(values).splitlines()


def exact_lines():
    """Figure lines that numpy prints character for character as the homework did.

    The answer key must print each verbatim. (The others differ from it in
    whitespace or in being integers, where the document was retyped or the
    homework's code passed integers through: see test_prints_the_figure.)
    """
    lines = []
    for figure in homework.FIGURES:
        for text in homework.figure_arrays(figure).values():
            for printed, canonical in zip(text.splitlines(), canonical_lines(text)):
                if printed == canonical and printed not in lines:
                    lines.append(printed)
    return lines


def blocks(lines):
    """The answer key's printed arrays: a list of (title line, array text), in order."""
    found, title, text = [], None, ""
    for line in lines:
        if homework.NUMBER.match(line.lstrip("[ ")) and not line.startswith("("):
            text += line + "\n"
        else:
            if text:
                found.append((title, text))
            title, text = line, ""
    if text:
        found.append((title, text))
    return found


def numbers(text):
    return np.array([float(token) for row in homework.printed_rows(text) for token in row])


def figure_id(figure):
    """'Figure 1: FC Layer' -> 'figure-1'."""
    return figure.split(":")[0].lower().replace(" ", "-")


def figure_number(figure):
    return figure.split(":")[0]


def headers(stdout):
    return [line for line in stdout.splitlines() if line.startswith("== ")]


class TestFullAnswerKey:
    def test_exits_cleanly(self, answer_key):
        assert answer_key.returncode == 0, answer_key.stderr
        assert answer_key.stderr == ""

    def test_both_commands_print_the_same(self, repo_root):
        results = [run_answer_key(repo_root, script=script) for script in COMMANDS.values()]
        assert results[0].stdout == results[1].stdout != ""

    @pytest.mark.parametrize("figure", list(homework.FIGURES), ids=figure_id)
    def test_prints_the_figure(self, answer_key_lines, figure):
        # Under the figure's header, each printed title is followed by an array
        # of the same size holding the same numbers to the printed precision.
        start = next(i for i, line in enumerate(answer_key_lines)
                     if line.startswith(f"== {figure_number(figure)}:"))
        ours = blocks(answer_key_lines[start + 1:])
        position = 0
        for title, text in homework.figure_arrays(figure).items():
            titles = [normalized(t) for t, _ in ours[position:]]
            assert normalized(title) in titles, f"{title!r} missing (or out of order) in {figure}"
            position += titles.index(normalized(title))
            rule = "numpy" if "[" in text else "exact"  # a bare line is a float's full repr
            tokens = [token for row in homework.printed_rows(text) for token in row]
            our_numbers = numbers(ours[position][1])
            if len(our_numbers) != len(tokens):
                # Erratum 3: the printout dropped zeros; its nonzeros are the diagonal.
                our_numbers = our_numbers[our_numbers != 0]
                tokens = [token for token in tokens if float(token) != 0]
            assert len(our_numbers) == len(tokens), (figure, title)
            expected = np.array([float(token) for token in tokens])
            tolerance = np.array([homework.tolerance(token, rule) for token in tokens])
            error = np.abs(our_numbers - expected)
            assert np.all(error <= tolerance * (1 + 1e-9)), (figure, title, error / tolerance)
            position += 1

    def test_exact_lines_are_found_in_every_figure(self):
        lines = exact_lines()
        for figure in homework.FIGURES:
            assert any(line in homework.FIGURES[figure].splitlines() for line in lines), figure

    @pytest.mark.parametrize("line", exact_lines())
    def test_prints_the_exact_line(self, answer_key_lines, line):
        assert line in answer_key_lines, f"{line!r} is not a line of the answer key"

    def test_prints_floats_where_the_homework_printed_its_integer_input(self, answer_key_lines):
        # The homework's Linear and ReLU passed the integer h through; layers.py
        # always computes in float64, so the key prints h as floats.
        assert answer_key_lines.count(str(homework.H)) == 2
        assert str(homework.H.astype(int)) in homework.FIGURES[[f for f in homework.FIGURES if "Linear" in f][0]]

    def test_prints_theory_q2_w_transposed(self, answer_key_lines):
        start = answer_key_lines.index("gradient() =")
        expected = str(homework.W.T).splitlines()
        assert answer_key_lines[start + 1:start + 1 + len(expected)] == expected

    def test_prints_the_parts_in_order(self, answer_key):
        titles = headers(answer_key.stdout)
        printed = [re.match(r"== (Figure \d|Theory Q2)", title).group(1) for title in titles]
        figures = [figure_number(figure) for figure in homework.FIGURES]
        assert printed == figures[:1] + ["Theory Q2"] + figures[1:]

    @pytest.mark.parametrize("erratum", list(homework.ERRATA))
    def test_points_out_the_errata(self, answer_key_lines, erratum):
        # The notes are the lines in parentheses.
        assert f"({homework.ERRATA[erratum]})" in answer_key_lines


class TestChoosingParts:
    def test_one_part_prints_only_that_part(self, repo_root):
        result = run_answer_key(repo_root, "softmax")
        assert result.returncode == 0, result.stderr
        assert headers(result.stdout) == ["== Figure 6: Softmax, Theory Q1(b)"]
        for other in ("Fully Connected", "Sigmoid", "Tanh", "Linear", "ReLU", "Eval:"):
            assert other not in result.stdout
        (figure,) = [f for f in homework.FIGURES if "Softmax" in f]
        for title, text in homework.figure_arrays(figure).items():
            assert normalized(title) in map(normalized, result.stdout.splitlines())

    def test_several_parts(self, repo_root):
        result = run_answer_key(repo_root, "relu", "objectives")
        assert result.returncode == 0, result.stderr
        assert [header.split(":")[0] for header in headers(result.stdout)] == ["== Figure 3", "== Figure 7"]

    @pytest.mark.parametrize("script", list(COMMANDS.values()), ids=list(COMMANDS))
    def test_help_lists_every_part(self, repo_root, script):
        assert list(homework.ANSWER_KEY_PARTS) == PARTS
        result = run_answer_key(repo_root, "--help", script=script)
        assert result.returncode == 0
        assert f"usage: python {script}" in result.stdout
        for part in PARTS:
            assert re.search(rf"\b{part}\b", result.stdout), part

    def test_unknown_part_exits_2_with_a_message(self, repo_root):
        result = run_answer_key(repo_root, "softmax", "bogus")
        assert result.returncode == 2
        assert result.stdout == ""
        assert "unknown part 'bogus'" in result.stderr
        assert "choose from " + ", ".join(PARTS) in result.stderr


class TestClosedPipe:
    """A reader that stops early (`python layers.py | head -1`) gets no traceback."""

    def test_head_dash_1(self, repo_root, answer_key_lines):
        result = subprocess.run(
            f"{sys.executable} layers.py | head -1", shell=True, cwd=repo_root,
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0
        assert result.stdout.splitlines() == answer_key_lines[:1]
        assert result.stderr == ""

    @pytest.mark.parametrize("script", list(COMMANDS.values()), ids=list(COMMANDS))
    def test_pipe_closed_before_the_first_line(self, repo_root, script):
        # Deterministic: the reader is gone before the script writes at all, so
        # its first write fails with EPIPE (head may not close early enough).
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            result = subprocess.run(
                [sys.executable, script], cwd=repo_root, stdout=write_end,
                stderr=subprocess.PIPE, text=True, timeout=120,
            )
        finally:
            os.close(write_end)
        assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr
        assert result.stderr == ""
        assert result.returncode == 0
