"""The verification report's machinery in homework.py (notebook 08).

Entry, vector_entries, matrix_entries, theory_entries, figure_entries, Table,
Ledger, worked_line, squeeze, figure_lines_missing, theory_rule and
check_tolerance_rule: each must tell a number that agrees from one that does
not, at the precision the document shows, and fail loudly on misuse.
"""

import numpy as np
import pytest

import homework
import layers


# ----------------------------------------------------------------------------- Entry

def test_entry_agrees_within_half_a_unit_and_not_beyond():
    inside = homework.Entry("x", "0.1234", 0.12344999, "typed")
    outside = homework.Entry("x", "0.1234", 0.12345001, "typed")
    assert inside.agrees and inside.expected
    assert not outside.agrees and not outside.expected
    assert inside.tolerance == pytest.approx(0.5e-4)
    assert outside.diff == pytest.approx(5.001e-5)


def test_entry_catches_a_one_percent_error_at_every_rule():
    for printed, rule in [("0.0320586", "numpy"), ("1.6094374", "typed"), ("0.22314342631421757", "exact"),
                          ("6.46440512e-05", "numpy")]:
        value = float(printed)
        assert homework.Entry("x", printed, value, rule).agrees
        assert not homework.Entry("x", printed, value * 1.01, rule).agrees


def test_entry_erratum_is_expected_to_disagree():
    wrong_in_document = homework.Entry("g1", "0.5", 0.6, "typed", erratum=1)
    fixed_by_mistake = homework.Entry("g1", "0.5", 0.5, "typed", erratum=1)
    assert not wrong_in_document.agrees and wrong_in_document.expected
    assert fixed_by_mistake.agrees and not fixed_by_mistake.expected
    assert "erratum 1" in wrong_in_document.row()


def test_entry_block_of_equal_numbers_counts_each_and_uses_the_worst():
    block = homework.Entry("zeros (3)", "0", [0.0, 0.0, 1e-3], "typed")
    assert block.count == 3 and block.diff == 1e-3 and not block.agrees
    assert block.ratio == np.inf
    exact = homework.Entry("zeros (2)", "0", [0.0, -0.0], "typed")
    assert exact.agrees and exact.ratio == 0.0


def test_entry_rejects_unknown_erratum_and_empty_values():
    with pytest.raises(ValueError, match="erratum"):
        homework.Entry("x", "1", 1.0, "typed", erratum=99)
    with pytest.raises(ValueError, match="no value"):
        homework.Entry("x", "1", [], "typed")


# ----------------------------------------------------------------------------- entries

def test_vector_entries_pairs_printed_numbers_with_values_and_marks_errata():
    entries = homework.vector_entries("[[0.1 0.2]]", [[0.1, 0.3]], "numpy", ["a", "b"], errata={"b": 2})
    assert [e.label for e in entries] == ["a", "b"]
    assert [e.agrees for e in entries] == [True, False]
    assert [e.expected for e in entries] == [True, True]
    with pytest.raises(ValueError, match="must match"):
        homework.vector_entries("[[0.1 0.2]]", [0.1], "numpy", ["a", "b"])
    with pytest.raises(ValueError, match="not in"):
        homework.vector_entries("[[0.1]]", [0.1], "numpy", ["a"], errata={"z": 1})


def test_matrix_entries_labels_nonzeros_and_blocks_zeros():
    entries = homework.matrix_entries("[[2. 0.]\n [0. 3.]]", np.diag([2.0, 3.0]), "numpy")
    assert [e.label for e in entries] == ["J11", "J22", "zeros (2)"]
    assert all(e.agrees for e in entries)
    wrong = homework.matrix_entries("[[2. 0.]\n [0. 3.]]", [[2.0, 1.0], [0.0, 3.0]], "numpy")
    assert [e.agrees for e in wrong] == [True, True, False]


def test_matrix_entries_reads_the_ragged_figure_4_by_position():
    layer = layers.LogisticSigmoidLayer(eps=homework.EPS)
    layer.forward(homework.H)
    entries = homework.figure_entries("Figure 4: Sigmoid", "Activation Gradient:", layer.gradient()[0])
    assert [e.label for e in entries] == ["J11", "J22", "J33", "J44", "zeros (10)"]
    assert all(e.agrees for e in entries)
    with pytest.raises(ValueError, match="does not fit"):
        homework.matrix_entries("[[1. 2. 3.]]", np.zeros((1, 2)), "numpy")


def test_theory_entries_use_the_exact_rule_where_the_answer_is_exact():
    (entry,) = homework.theory_entries("Q3a squared error", 0.04 * 1.001)
    assert entry.rule == "exact" and not entry.agrees   # half a unit of ".04" would accept this
    (entry,) = homework.theory_entries("Q3b ln(yhat + eps)", np.log(0.2 + homework.EPS))
    assert entry.rule == "typed" and entry.agrees


def test_theory_entries_reproduce_erratum_1_and_the_softmax_jacobian():
    layer = layers.SoftmaxLayer()
    outputs = layer.forward(homework.H)[0]
    entries = homework.theory_entries("Q1b softmax outputs", outputs, ["g1", "g2", "g3", "g4"], errata={"g1": 1})
    assert [e.agrees for e in entries] == [False, True, True, True]
    assert all(e.expected for e in entries)
    matrix = homework.theory_entries("Q1b softmax jacobian", layer.gradient()[0])
    assert len(matrix) == 16 and all(e.agrees for e in matrix)


def test_figure_entries_treat_bare_numbers_as_exact_and_brackets_as_numpy():
    (bare,) = homework.figure_entries("Figure 7: Objective Layers", "Least Squares Eval:", 0.04000000000000001)
    assert bare.rule == "exact" and bare.agrees
    (bracketed,) = homework.figure_entries("Figure 7: Objective Layers", "Cross Entropy Eval:", 1.6094374124)
    assert bracketed.rule == "numpy" and bracketed.agrees
    assert not homework.figure_entries("Figure 7: Objective Layers", "Least Squares Eval:", 0.04 * (1 + 1e-9))[0].agrees


# ----------------------------------------------------------------------------- Table, Ledger

def test_ledger_records_prints_and_counts(capsys):
    ledger = homework.Ledger()
    good = ledger.compare("Q9 · sample", homework.vector_entries(["1.5", "2"], [1.5, 2.0], "typed", ["a", "b"]))
    bad = ledger.compare("Figure 9 · sample", [homework.Entry("c", "0.25", 0.26, "typed")])
    printed = capsys.readouterr().out
    assert "Q9 · sample" in printed and "Figure 9 · sample" in printed and printed.count("agrees") == 2
    assert good.as_expected and not bad.as_expected and bad.unexpected == ["c"]
    assert ledger.count() == (3, 2, [None])
    assert list(ledger.worst_by_source()) == ["Q9", "Figure 9"]
    assert ledger.worst_by_source()["Figure 9"] == 0.0   # no agreeing number there


def test_worst_by_source_is_the_largest_ratio_of_agreeing_numbers():
    ledger = homework.Ledger()
    entries = [homework.Entry("a", "1.0", 1.02, "typed"), homework.Entry("b", "1.0", 0.99, "typed"),
               homework.Entry("c", "1.0", 2.0, "typed", erratum=2)]
    ledger.tables.append(homework.Table("Q7 · x", entries))
    assert ledger.worst_by_source() == {"Q7": pytest.approx(0.4)}


# ----------------------------------------------------------------------------- worked lines, lines

def test_worked_line_carries_the_operand_rounding():
    value, diff, allowed = homework.worked_line(lambda g: 1 - g**2, "0.9993293", "0.0013410")
    assert value == pytest.approx(1 - 0.9993293**2)
    assert allowed == pytest.approx(0.5e-7 + 2 * 0.9993293 * 0.5e-7, rel=1e-9)
    assert diff == pytest.approx(abs(value - 0.0013410))
    no_operand = homework.worked_line(lambda _: 0.5, None, "0.5", "exact")
    assert no_operand == (0.5, 0.0, pytest.approx(0.5e-12))


def test_squeeze_ignores_spacing_only():
    assert homework.squeeze("[[ 0.1  -0.2 ]]") == homework.squeeze("[[0.1 -0.2]]") == "[[0.1 -0.2]]"
    assert homework.squeeze("[[0.1 0.2]]") != homework.squeeze("[[0.1 0.3]]")


def test_figure_lines_missing_from_the_answer_key(capsys):
    homework.print_answer_key()
    missing = homework.figure_lines_missing(capsys.readouterr().out)
    assert {figure: len(lines) for figure, lines in missing.items()} == {
        "Figure 2: Linear": 1, "Figure 3: ReLu": 1, "Figure 4: Sigmoid": 2, "Figure 7: Objective Layers": 1}
    assert missing["Figure 7: Objective Layers"] == [
        homework.figure_arrays("Figure 7: Objective Layers")["Cross Entropy Eval:"].rstrip("\n")]
    everything = "\n".join(homework.FIGURES.values())
    assert homework.figure_lines_missing(everything) == {}


def test_theory_rule_and_typed_tolerances():
    assert homework.theory_rule("Q5b yhat (1 - yhat) + eps") == "exact"
    assert homework.theory_rule("Q5b log loss gradient") == "typed"
    assert homework.EXACT_THEORY <= set(homework.THEORY)
    _, tolerances = homework.typed("Q3a squared error")
    assert tolerances <= 1e-12
    with pytest.raises(KeyError, match="no theory answer"):
        homework.theory_rule("Q7")


def test_fully_connected_uses_the_recovered_generator():
    legacy = np.random.RandomState(homework.FC_SEED)
    layer = homework.fully_connected()
    np.testing.assert_array_equal(layer.weights.T, legacy.uniform(homework.FC_LOW, homework.FC_HIGH, (2, 4)))
    np.testing.assert_array_equal(layer.biases, legacy.uniform(homework.FC_LOW, homework.FC_HIGH, (1, 2)))


# ----------------------------------------------------------------------------- the exercise's check

def _reference_half_unit(printed):
    return homework.tolerance(printed, "typed")


def _counts_decimals_only(printed):
    return 0.5 * 10.0 ** -len(printed.partition(".")[2])


def _forgets_the_exponent(printed):
    mantissa = printed.lower().partition("e")[0]
    return 0.5 * 10.0 ** -len(mantissa.partition(".")[2]) if "." in mantissa else 0.0


def _not_implemented(printed):
    raise NotImplementedError


def _crashes(printed):
    return 1 / 0


@pytest.mark.parametrize("function, status, words", [
    (_reference_half_unit, "passes", ""),
    (_counts_decimals_only, "wrong", "typed integer"),
    (_forgets_the_exponent, "wrong", "exponent"),
    (_not_implemented, "not implemented yet", ""),
    (_crashes, "wrong", "ZeroDivisionError"),
    (lambda printed: "0.5", "wrong", "gave '0.5'"),
])
def test_check_tolerance_rule(function, status, words, capsys):
    report = homework.check_tolerance_rule(function)
    (_, got_status, message), = report.results
    assert got_status == status and words in message
    assert report.passed == (status == "passes")
    assert "half_unit" in capsys.readouterr().out
