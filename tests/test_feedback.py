"""feedback.html students read first: the course's language, a summary on top, human titles,
passed checks folded, parts not attempted said once, 2-decimal scores, everything escaped."""
from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from conftest import ASSIGNMENT, FIXTURE_COURSE
from course import notebook as nb
from course.judge import check, feedback, messages, results
from course.judge.described import expect_described
from course.judge.messages import course_language, translate
from course.judge.plugin import Outcome, describe_failure
from course.judge.submission import _format_error
from course.paths import CourseError

HANGUL = re.compile(r"[\uac00-\ud7a3]")
PARTS = [nb.Part("attention", 4), nb.Part("causal_mask", 3), nb.Part("multihead", 3)]
NOT_IMPLEMENTED = "your code raised NotImplementedError:  (cell 5, line 9)"


def case(function, param, passed, part, message="", title="", not_attempted=False):
    return Outcome(f"{function}[{param}]" if param else function, part, 1.0, passed, message,
                   check=f"test_attention.py::{function}", title=title, not_attempted=not_attempted)


def graded(student="amy", notebook_output="", cell_errors=(), notes=()):
    outcomes = [
        case("test_weights_sum_to_one", "", True, "attention", title="Each row of weights sums to one"),
        case("test_large_scores", "f32", True, "attention", title="Large scores neither overflow nor underflow"),
        case("test_large_scores", "f64", False, "attention", "attention(q, k, v): 2 non-finite value(s), first at "
             "index (0, 1) for input q=array of shape (2, 5, 3)", title="Large scores neither overflow nor underflow"),
        case("test_output_shape", "", True, "attention"),
        case("test_mask_offset", "nq3_nk7", False, "causal_mask", "causal_mask(3, 7): got False, expected True",
             title="Queries see the cached keys before them"),
        case("test_mask_offset", "nq5_nk5", True, "causal_mask", title="Queries see the cached keys before them"),
        case("test_mask_shape", "", True, "causal_mask", title="The mask is (n_q, n_k) and bool"),
        case("test_mask_dtype", "", True, "causal_mask", title="The mask is bool"),
    ]
    outcomes += [case("test_heads", f"h{i}", False, "multihead", NOT_IMPLEMENTED, title="Heads are split and merged",
                      not_attempted=True) for i in range(25)]
    outcomes += [case("test_projection", "", False, "multihead", NOT_IMPLEMENTED, not_attempted=True)]
    return results.build(PARTS, outcomes, {"assignment": ASSIGNMENT, "student": student}, cell_errors=list(cell_errors),
                         notes=list(notes), notebook_output=notebook_output, elapsed=1.25)


def test_the_summary_comes_first_with_the_parts_to_fix_and_the_first_failing_check_in_words():
    page = feedback.render(graded(), "ko")
    summary = page.split("<section class='summary bad'>")[1].split("</section>")[0]
    assert page.index("summary bad") < page.index("<section class='part'>")
    order = re.findall(r"href='#part-(\w+)'", summary)
    assert order == ["attention", "causal_mask", "multihead"]   # 1.33 and 1 points lost; not attempted last
    assert "4.67 / 10" in page and "4.6667" not in page and "2.67 / 4" in page   # 2 decimals
    assert "(시도하지 않음)" in summary and "먼저 고칠 부분" in summary
    assert ("처음 실패한 검사</b>: Large scores neither overflow nor underflow &mdash; <code>f64</code>: "
            "attention(q, k, v): 유한하지 않은 값(NaN, inf)이 2개, 첫 번째는 인덱스 (0, 1) (입력: q=array of shape (2, 5, 3))"
            in summary)
    assert '<html lang="ko">' in page


def test_checks_are_named_by_title_and_passed_checks_are_folded():
    page = feedback.render(graded(), "ko")
    attention = page.split("id='part-attention'")[1].split("</section>")[0]
    assert "<li class='failed'><b>Large scores neither overflow nor underflow</b> (경우 2개 중 1개 실패)" in attention
    folded = attention.split("<details>")[1]
    assert "통과한 검사 2개" in folded and "Each row of weights sums to one" in folded
    assert "output shape" in folded                       # no docstring: the function name in words
    assert "test_weights_sum_to_one" not in page and "[f64]" not in page
    causal = page.split("id='part-causal_mask'")[1].split("</section>")[0]
    assert "<code>nq3_nk7</code>: causal_mask(3, 7): 결과 False, 기대값 True" in causal


def test_a_part_not_attempted_is_said_once():
    page = feedback.render(graded(), "ko")
    multihead = page.split("id='part-multihead'")[1].split("</section>")[0]
    assert multihead.count("시도하지 않음") == 1 and "NotImplementedError에서" in multihead
    assert "<li" not in multihead and "h17" not in page and page.count("NotImplementedError") == 1


def test_english_is_available_and_the_same_page_in_english_has_no_korean_of_ours():
    page = feedback.render(graded(), "en")
    assert '<html lang="en">' in page and "Parts to fix first" in page and "not attempted" in page
    assert not HANGUL.search(page.split("</h1>")[1])  # the fixture's assignment name aside


def test_a_full_score_says_so():
    outcomes = [case("test_x", "", True, p.grade_id) for p in PARTS]
    document = results.build(PARTS, outcomes, {"assignment": ASSIGNMENT, "student": "s"}, cell_errors=[], notes=[],
                             notebook_output="", elapsed=1.0)
    assert "모든 검사를 통과했습니다" in feedback.render(document, "ko")


def test_a_notebook_that_could_not_be_read_says_why_on_top():
    document = results.unreadable(PARTS, {"assignment": ASSIGNMENT, "student": "s"}, "s.ipynb: not a notebook", 0.1)
    summary = feedback.render(document, "ko").split("<section class='summary bad'>")[1].split("</section>")[0]
    assert "노트북을 채점할 수 없었습니다" in summary and "s.ipynb: not a notebook" in summary


HOSTILE = "<script>alert(1)</script>"


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_everything_the_student_controls_is_escaped_in_every_language(language):
    document = graded(student=HOSTILE, notebook_output=HOSTILE,
                      cell_errors=[{"cell": HOSTILE, "type": HOSTILE, "message": f"your code raised ValueError: {HOSTILE}",
                                    "trace": HOSTILE}],
                      notes=[f"cell '{HOSTILE}' is missing from the submission"])
    document["tests"][0].update(status="failed", title=HOSTILE,
                                failed_cases=[{"case": f"t[{HOSTILE}]", "message": f"your code raised E: {HOSTILE} (cell 1, line 2)",
                                               "not_attempted": False}], cases=2)
    page = feedback.render(document, language)
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 8


# --------------------------------------------------------------------------- the catalogue
def _judge_messages() -> list[str]:
    """Every kind of message the judge writes, produced by the code that writes it."""
    produced = []

    def caught(function, *args, **kwargs):
        with pytest.raises(check.Failure) as error:
            function(*args, **kwargs)
        produced.append(str(error.value))

    a = np.zeros((2, 3))
    caught(check.assert_close, np.zeros(3), a, atol=1e-6, what="f(x)", inputs={"x": np.ones(2)})
    caught(check.assert_close, a + 1, a + 0.5, atol=1e-6, rtol=1e-6, what="f(x)")
    caught(check.assert_close, a + 1, a, atol=1e-6, what="f(x)", inputs=np.ones(2))
    caught(check.assert_close, np.full((2, 3), np.nan), a, atol=1e-6, what="f(x)")
    caught(check.assert_close, np.array(["a"]), np.zeros(1), atol=1e-6, what="f(x)")
    caught(check.assert_close, {"a": 1}, a, atol=1e-6, what="f(x)")
    caught(check.assert_equal, 3, 4, what="count")
    caught(check.assert_equal, 3, 4, what="count", reveal=True)
    tensor = {"type": "torch.Tensor", "dtype": "float32", "shape": [1], "requires_grad": False, "device": "cpu",
              "aliases": ["x"]}
    for expectation in ({"type": "numpy.ndarray"}, {"dtype": "float64"}, {"shape": ()}, {"requires_grad": True},
                        {"device": "cuda:0"}, {"aliases": ()}):
        caught(expect_described, tensor, what="f(x)", **expectation)
    caught(expect_described, {**tensor, "requires_grad": True}, what="f(x)", requires_grad=False)
    caught(expect_described, None, what="f(x)")
    produced += [_format_error({"type": "Timeout", "where": "cell 3, line 1"}),
                 _format_error({"type": "ValueError", "message": "bad", "where": "cell 3, line 4"}),
                 _format_error({"type": "ValueError", "message": "bad"}),
                 _format_error({"type": "TypeError", "message": "no len", "origin": "check"}),
                 describe_failure(AssertionError()), describe_failure(KeyError("k"))]
    # SandboxError texts (course.judge.submission, course.sandbox.launcher), as written there.
    produced += ["your code did not finish within 10 s", "the submission used up its total time budget (300 s)",
                 "the sandbox crashed too many times; remaining tests fail",
                 "the sandbox failed while loading the checks: timed out",
                 "the sandbox process was killed by SIGKILL (the memory, CPU-time or process limit, or a hard kill)",
                 "the sandbox process exited with status 1 (os._exit, sys.exit or a crash)",
                 "the sandbox stopped answering", "stopped after 30 s",
                 "your code did not finish within 5 s; this and later cells did not run", "skipped"]
    # The notebook's notes, from a submission that edits, repeats and drops cells.
    source = nb.load(FIXTURE_COURSE / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    submitted = copy.deepcopy(source)
    by_id = {nb.grade_id(c): c for c in submitted.cells}
    by_id["add"].source += "\n# edited"
    by_id["imports"].source += "\n# edited"
    submitted.cells.append(copy.deepcopy(by_id["add_impl"]))
    submitted.cells.remove(by_id["norm_impl"])
    produced += nb.cells_to_run(submitted, source)[1]
    return produced


def test_every_judge_message_has_its_korean():
    produced = _judge_messages()
    assert len(produced) >= 36
    untranslated = [m for m in produced if not HANGUL.search(translate(m, "ko"))]
    assert not untranslated, untranslated
    assert all(translate(m, "en") == m for m in produced)


def test_described_values_are_checked_property_by_property():
    good = {"type": "torch.Tensor", "dtype": "float32", "shape": [], "requires_grad": True, "device": "cpu",
            "aliases": []}
    expect_described(good, what="loss", type="torch.Tensor", dtype="float32", shape=(), requires_grad=True,
                     device="cpu", aliases=())
    with pytest.raises(check.Failure, match=r"^loss: shape \(1,\), expected \(\)$"):
        expect_described({**good, "shape": [1]}, what="loss", shape=())
    with pytest.raises(check.Failure, match="shares memory with input\\(s\\) x, expected none"):
        expect_described({**good, "aliases": ["x"]}, what="loss", aliases=())
    expect_described({**good, "dtype": "float64"}, what="loss", shape=())   # what is not asked is not checked


def test_a_translation_keeps_the_students_and_the_authors_words():
    assert translate("your code raised ValueError: bad shape (cell 3, line 4)", "ko") == \
        "코드에서 ValueError 예외가 발생했습니다: bad shape (셀 3, 4번째 줄)"
    assert translate("an author's own message", "ko") == "an author's own message"
    # a suite quoting the judge after words of its own: those words stay, the judge's are translated
    assert translate("attention [2d]: your code raised NotImplementedError:  (cell 12, line 15)", "ko") == \
        "attention [2d]: 코드에서 NotImplementedError 예외가 발생했습니다:  (셀 12, 15번째 줄)"


def test_not_attempted_is_recognised_when_a_suite_rewords_the_students_error():
    from course.judge.plugin import _not_implemented
    from course.judge.submission import StudentError

    assert _not_implemented(StudentError("your code raised NotImplementedError:  (cell 5, line 9)"))
    assert _not_implemented(check.Failure("split_heads [B2]: your code raised NotImplementedError:  (cell 18, line 10)"))
    assert _not_implemented(check.Failure("conv_output_size(224, 7) raised NotImplementedError:  (cell 7, line 8)"))
    assert _not_implemented(check.Failure("softmax_kernel[(7,)]: your code raised InterpreterError: "
                                          "NotImplementedError() (cell 8, line 3)"))
    assert not _not_implemented(StudentError("your code raised ValueError: NotImplementedError (cell 5, line 9)"))
    assert not _not_implemented(check.Failure("f(x): 2 of 5 value(s) out of tolerance"))
    assert not _not_implemented(KeyError("your code raised NotImplementedError:"))


def test_the_language_is_a_course_setting(tmp_path):
    assert course_language(tmp_path) == "en"
    (tmp_path / "course.toml").write_text('language = "ko"\n')
    assert course_language(tmp_path) == "ko"
    (tmp_path / "course.toml").write_text('[course]\nlanguage = "en"\n')
    assert course_language(tmp_path) == "en"
    (tmp_path / "course.toml").write_text('language = "fr"\n')
    with pytest.raises(CourseError, match=r"course.toml: language = 'fr'; known: ko, en"):
        course_language(tmp_path)


def test_this_course_speaks_korean():
    from pathlib import Path

    assert course_language(Path(__file__).resolve().parents[1]) == "ko"
