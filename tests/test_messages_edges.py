"""Edges of the students' messages: the Korean page when a message carries no place, no inputs or
'none', a suite's own words before the judge's (any number of ': ' in them), the fallback for an
unknown language, and course.toml's language setting."""
from __future__ import annotations

import pytest

from course.judge.messages import course_language, translate, ui
from course.paths import CourseError


def test_an_unknown_language_gets_the_english_page():
    assert ui("score", "fr") == "Score" and ui("score", "ko") == "점수"
    assert ui("part_line", "de", part="add", score=1, max=2) == "add: 1 / 2"


def test_a_timeout_without_a_place_says_nothing_more_and_an_odd_place_is_kept():
    assert translate("your code did not finish in time", "ko") == "코드가 제한 시간 안에 끝나지 않았습니다"
    assert translate("your code did not finish in time (cell 3, line 7)", "ko") == (
        "코드가 제한 시간 안에 끝나지 않았습니다 (셀 3, 7번째 줄)")
    assert translate("your code did not finish in time (probe 2)", "ko") == (
        "코드가 제한 시간 안에 끝나지 않았습니다 (probe 2)")


def test_a_check_without_inputs_gets_no_input_clause():
    assert translate("relu: shape (2,) but expected (3,)", "ko") == "relu: shape이 (2,)인데 (3,)이어야 합니다"
    assert translate("relu: shape (2,) but expected (3,) for input x=1", "ko") == (
        "relu: shape이 (2,)인데 (3,)이어야 합니다 (입력: x=1)")


def test_none_in_a_memory_sharing_message_is_translated_and_other_names_are_kept():
    text = "view: shares memory with input(s) {}, expected {} (return a new tensor, or a view where asked)"
    assert translate(text.format("none", "x"), "ko") == (
        "view: 메모리를 공유하는 입력이 없음인데 x이어야 합니다 (새 텐서를 반환하세요. 뷰는 요구된 곳에서만)")
    assert translate(text.format("x", "none"), "ko").startswith("view: 메모리를 공유하는 입력이 x인데 없음이어야")
    assert "입력이 None인데" in translate(text.format("None", "x"), "ko")


@pytest.mark.parametrize("prefix", ["attention: ", "case [a: b]: ", "x: : ", "a: b: c: "])
def test_a_suites_own_words_before_a_judge_message_are_kept(prefix):
    message = prefix + "your code raised ValueError: bad: input (cell 2, line 5)"
    assert translate(message, "ko") == prefix + "코드에서 ValueError 예외가 발생했습니다: bad: input (셀 2, 5번째 줄)"


def test_a_message_no_pattern_knows_is_shown_as_written():
    for message in ("", "an author's own words", "a: b: c", "trailing: "):
        assert translate(message, "ko") == message
    assert translate("your code did not finish in time", "en") == "your code did not finish in time"


def _course(tmp_path, text: str | bytes):
    path = tmp_path / "course.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return tmp_path


def test_the_language_comes_from_the_top_level_or_the_course_table(tmp_path):
    assert course_language(tmp_path) == "en"
    assert course_language(_course(tmp_path, "[assignments]\n")) == "en"
    assert course_language(_course(tmp_path, 'language = "ko"\n')) == "ko"
    assert course_language(_course(tmp_path, '[course]\nlanguage = "ko"\n')) == "ko"
    assert course_language(_course(tmp_path, 'language = "en"\n[course]\nlanguage = "ko"\n')) == "en"
    assert course_language(_course(tmp_path, '# 한국어 과정\n[course]\nlanguage = "ko"\n')) == "ko"


def test_a_bad_language_or_unreadable_course_toml_is_named(tmp_path):
    with pytest.raises(CourseError, match=r"course.toml: language = 'fr'; known: ko, en$"):
        course_language(_course(tmp_path, 'language = "fr"\n'))
    with pytest.raises(CourseError, match=r"course.toml: cannot read the course settings \("):
        course_language(_course(tmp_path, b'language = "\xff"\n'))
    with pytest.raises(CourseError, match=r"course.toml: cannot read the course settings \("):
        course_language(_course(tmp_path, "language = \n"))
