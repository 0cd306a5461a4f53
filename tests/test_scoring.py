"""The scoring policy: a check is a test function, all its cases together; a part's score is
the weighted share of its passing checks (course.judge.plugin / results)."""
from __future__ import annotations

from conftest import ASSIGNMENT
from course import mutants, notebook as nb
from course.judge import results
from course.judge.plugin import Outcome, group_checks
from course.validate import Rigour, MutantResult, judge_mutant, print_report

PARTS = [nb.Part("add", 2), nb.Part("norm", 1)]


def case(function, param, passed, part="add", weight=1.0, message="wrong", title="", not_attempted=False):
    name = f"{function}[{param}]" if param else function
    return Outcome(name, part, weight, passed, "" if passed else message, check=f"test_demo.py::{function}",
                   title=title, not_attempted=not_attempted)


def build(outcomes):
    return results.build(PARTS, outcomes, {"assignment": ASSIGNMENT, "student": "amy"}, cell_errors=[], notes=[],
                         notebook_output="", elapsed=1.0)


def test_every_case_of_a_test_function_must_pass_for_its_check_to_pass():
    # test_a: 9 cases, one failing; test_b: 1 case passing. Per case this was 1.8/2; per check it is 1/2.
    outcomes = [case("test_a", f"n{i}", i != 4, message=f"bad n{i}") for i in range(9)]
    outcomes += [case("test_b", "", True), case("test_norm", "", True, part="norm")]
    document = build(outcomes)
    parts = {p["grade_id"]: p for p in document["extra_data"]["parts"]}
    assert parts["add"]["score"] == 1.0 and (parts["add"]["passed"], parts["add"]["total"]) == (1, 2)
    test_a = document["tests"][0]
    assert (test_a["name"], test_a["status"], test_a["cases"], test_a["max_score"]) == ("add: test_a", "failed", 9, 1.0)
    assert test_a["failed_cases"] == [{"case": "test_a[n4]", "message": "bad n4", "not_attempted": False}]
    assert test_a["output"] == "[n4] bad n4"     # feedback still says which case failed


def test_the_summary_text_rounds_to_two_decimals_and_the_numbers_keep_four():
    outcomes = [case("test_a", "", True), case("test_b", "", False), case("test_c", "", False),
                case("test_norm", "", True, part="norm")]
    document = build(outcomes)
    assert document["score"] == 1.6667 and document["output"].startswith("Score 1.67 / 3\n  add: 0.67 / 2\n")


def test_a_checks_weight_counts_once_however_many_cases_it_has():
    outcomes = [case("test_many", f"p{i}", True) for i in range(10)]
    outcomes += [case("test_heavy", "", False, weight=3.0), case("test_norm", "", True, part="norm")]
    document = build(outcomes)
    add = next(p for p in document["extra_data"]["parts"] if p["grade_id"] == "add")
    assert add["score"] == 0.5                    # 2 * 1 / (1 + 3): ten cases weigh as one check
    assert [t["max_score"] for t in document["tests"]] == [0.5, 1.5, 1.0]


def test_a_part_is_not_attempted_only_when_every_case_raised_not_implemented():
    untouched = [case("test_a", f"n{i}", False, not_attempted=True) for i in range(3)]
    norm = [case("test_norm", "", False, part="norm", not_attempted=True),
            case("test_norm2", "", False, part="norm")]
    rows = {p["grade_id"]: p for p in build(untouched + norm)["extra_data"]["parts"]}
    assert rows["add"]["not_attempted"] and not rows["norm"]["not_attempted"]


def test_checks_keep_the_docstring_title_and_pytest_order():
    checks = group_checks([case("test_b", "x", True, title="B works"), case("test_a", "", True),
                           case("test_b", "y", False, title="B works")])
    assert [(c.name, c.title, len(c.cases), c.passed) for c in checks] == [("test_b", "B works", 2, False),
                                                                          ("test_a", "", 1, True)]


def test_a_mutant_must_lose_at_least_its_share_of_each_broken_part(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("# mutant: x\n# replaces: add_impl\n# breaks: add\n# replace:\n    a\n# with:\n    b\n")
    mutant = mutants.parse(path)
    weak = judge_mutant(mutant, {"add": (1.5, 2.0), "norm": (0.5, 1.0)})
    assert weak.lost == {"add": 0.25} and weak.collateral == {"norm": 0.5} and weak.caught and not weak.enough
    assert judge_mutant(mutant, {"add": (1.0, 2.0), "norm": (1.0, 1.0)}).enough
    path.write_text(path.read_text().replace("# breaks: add\n", "# breaks: add\n# loses: 0.25 a near miss\n"))
    assert judge_mutant(mutants.parse(path), {"add": (1.5, 2.0)}).enough


def test_the_report_tabulates_mutants_alternatives_and_collateral(capsys):
    table = {"07_attention": Rigour([MutantResult("weak", ("attention",), 0.5, {"attention": 0.25}, {}),
                                     MutantResult("good", ("attention",), 0.5, {"attention": 1.0}, {"multihead": 1.5}),
                                     MutantResult("missed", ("causal_mask",), 0.5, {"causal_mask": 0.0}, {})],
                                    [("einsum", True), ("loops", False)])}
    print_report(table, None)
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.strip().startswith("07_attention"))
    assert row.split() == ["07_attention", "3", "2", "1", "25%", "1/2", "1", "(1.5", "pts)"]
    assert "07_attention/mutants/weak.py: lost attention 25% (needs 50%)" in out
    assert "07_attention/mutants/missed.py: lost causal_mask 0% (needs 50%)" in out
    assert "good.py" not in out.split("below their bar")[1]
