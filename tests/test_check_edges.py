"""Edges of the hidden tests' assertions, the judge.toml reader and the formgrader sanitizer: the
exact tolerance boundary, which error is reported, what a failure message shows of the inputs,
and judge.toml's rules one by one."""
from __future__ import annotations

import numpy as np
import pytest

from course.judge import sanitize
from course.judge.check import Failure, as_array, assert_close, assert_equal, fail
from course.judge.config import JudgeConfig
from course.paths import CourseError


def message_of(call) -> str:
    with pytest.raises(Failure) as info:
        call()
    return str(info.value)


def test_failure_is_an_assertion_error_with_the_message_as_written():
    with pytest.raises(AssertionError, match="^exactly this$"):
        fail("exactly this")


def test_the_tolerance_is_inclusive_and_adds_atol_to_rtol_times_the_expected_value():
    assert_close([1.5], np.array([1.0]), atol=0.5, what="x")                     # |error| == atol
    assert_close([13.0], np.array([10.0]), atol=1.0, rtol=0.2, what="x")          # 3 <= 1 + 0.2 * 10
    assert_close([-13.0], np.array([-10.0]), atol=1.0, rtol=0.2, what="x")        # rtol uses |expected|
    text = message_of(lambda: assert_close([13.5], np.array([10.0]), atol=1.0, rtol=0.2, what="x"))
    assert text == "x: 1 of 1 value(s) out of tolerance; max abs error 3.5 (rel 0.35) at index (0,), allowed atol=1 rtol=0.2"


def test_the_worst_excess_over_the_allowance_is_the_place_reported():
    # the largest absolute error is at index 0 (allowed much more there); the worst excess at index 2
    expected = np.array([1000.0, 1.0, 1.0])
    got = np.array([1050.0, 1.0, 3.0])
    text = message_of(lambda: assert_close(got, expected, atol=0.0, rtol=0.1, what="y"))
    assert "1 of 3 value(s)" in text and "at index (2,)" in text and "max abs error 50" in text
    assert "(rel 2)" in text


def test_the_worst_excess_wins_over_the_largest_allowance():
    # index 0: error 101 against 100 allowed; index 1: error 5 against 0.1 allowed -> index 1
    text = message_of(lambda: assert_close([1101.0, 6.0], np.array([1000.0, 1.0]), atol=0.0, rtol=0.1, what="y"))
    assert "2 of 2 value(s)" in text and "at index (1,)" in text and "(rel 5)" in text and "max abs error 101" in text


def test_a_value_that_is_no_array_is_named_by_the_checks_what():
    assert message_of(lambda: assert_close("s", np.zeros(1), atol=1, what="w")) == (
        "w: expected an array of numbers, got str")


def test_an_error_against_zero_has_no_relative_figure():
    text = message_of(lambda: assert_close(np.array([[0.0, 0.0], [0.0, 2.0]]), np.zeros((2, 2)), atol=1e-3, what="z"))
    assert text == "z: 1 of 4 value(s) out of tolerance; max abs error 2 at index (1, 1), allowed atol=0.001 rtol=0"


def test_a_zero_dimensional_value_is_reported_at_the_empty_index():
    text = message_of(lambda: assert_close(2.0, np.array(1.0), atol=0.1, what="loss"))
    assert "at index ()" in text and "1 of 1 value(s)" in text


def test_non_finite_counts_every_bad_value_and_names_the_first():
    got = np.array([1.0, np.inf, np.nan, -np.inf])
    text = message_of(lambda: assert_close(got, np.ones(4), atol=1.0, what="p"))
    assert text == "p: 3 non-finite value(s), first at index (1,)"


def test_a_non_finite_value_where_one_is_expected_is_compared_not_refused():
    # infinity expected and produced: not a "non-finite" failure (nan - inf makes it a tolerance one)
    text = message_of(lambda: assert_close(np.array([np.inf, 1.0]), np.array([np.inf, 5.0]), atol=0.5, what="q"))
    assert "non-finite" not in text and "out of tolerance" in text and "at index (1,)" in text


@pytest.mark.parametrize("value", [np.array(["a"]), np.array([1 + 1j]), np.array([None])])
def test_a_non_numeric_array_is_named_by_its_dtype(value):
    assert "is not numeric" in message_of(lambda: assert_close(value, np.zeros(1), atol=1, what="v"))


def test_bools_ints_and_lists_of_numbers_are_arrays():
    assert as_array(True, "b").dtype == np.bool_ and as_array(3, "i").shape == ()
    assert as_array([1, 2.5], "l").tolist() == [1.0, 2.5]
    assert as_array([[1], [2]], "l").shape == (2, 1)
    assert message_of(lambda: as_array([1, "a"], "mix")) == "mix: expected an array of numbers, got list"
    assert message_of(lambda: as_array(None, "none")) == "none: expected an array of numbers, got NoneType"
    assert message_of(lambda: as_array((1, 2), "t")) == "t: expected an array of numbers, got tuple"


def test_the_inputs_shown_are_small_arrays_in_full_and_big_ones_by_shape():
    def text(inputs):
        return message_of(lambda: assert_close([1.0], np.zeros(1), atol=0, what="w", inputs=inputs))

    assert text(np.arange(12.0)).endswith(" for input [ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11.]")
    assert text(np.arange(13.0)).endswith(" for input array of shape (13,)")
    assert text({"x": 1, "k": "s"}).endswith(" for input x=1, k='s'")
    assert text("y" * 300).endswith(" for input '" + "y" * 199 + "...")
    assert text("y" * 198).endswith("y" * 198 + "'")             # a repr of 200 characters is whole
    assert text("y" * 199).endswith(" for input '" + "y" * 199 + "...")  # 201 are cut to 200
    assert text(np.array([[1.0, 2.0], [3.0, 4.0]])).endswith(" for input [[1., 2.], [3., 4.]]")
    assert text(np.array([1.23456789])).endswith("[1.2346]")
    wide = text(np.full(12, -1.23456789))  # numpy would wrap this line: the message stays one line
    assert "\n" not in wide and wide.endswith("[-1.2346, -1.2346, -1.2346, -1.2346, -1.2346, -1.2346, "
                                               "-1.2346, -1.2346, -1.2346, -1.2346, -1.2346, -1.2346]")
    assert "for input" not in text(None)


def test_assert_equal_accepts_numbers_of_either_kind_but_not_other_types():
    assert_equal(2, 2.0, what="n")
    assert_equal(2.0, 2, what="n")
    assert_equal("ab", "ab", what="s")
    assert_equal(np.array([1, 2]), np.array([1, 2]), what="a")
    assert_equal(np.array([1, 2]), [1, 2], what="a")  # an array equal to the expected list
    assert message_of(lambda: assert_equal([1, 2], (1, 2), what="seq")) == "seq: got [1, 2]"
    assert message_of(lambda: assert_equal([1, 2], np.array([1, 2]), what="arr")) == "arr: got [1, 2]"
    assert message_of(lambda: assert_equal(np.array([1, 2]), np.array([1, 3]), what="arr")) == "arr: got [1, 2]"
    assert message_of(lambda: assert_equal("x" * 300, "y", what="s")).endswith("...")


# -- judge.toml ------------------------------------------------------------------------------------
def _config(tmp_path, text: str) -> JudgeConfig:
    (tmp_path / "judge.toml").write_text(text)
    return JudgeConfig.load(tmp_path)


def test_without_judge_toml_the_defaults_hold(tmp_path):
    config = JudgeConfig.load(tmp_path)
    assert config == JudgeConfig()
    assert (config.cell_timeout, config.probe_timeout, config.total_timeout) == (30.0, 10.0, 300.0)
    assert (config.memory_mb, config.max_processes, config.file_size_mb, config.output_kb, config.threads) == (
        4096, 256, 64, 64, 1)
    assert config.preload == ("numpy", "torch") and config.gpu is False and config.env == {}


def test_judge_toml_overrides_what_it_names_and_preload_becomes_a_tuple(tmp_path):
    config = _config(tmp_path, 'memory_mb = 512\ngpu = true\npreload = ["numpy"]\n[env]\nOMP_NUM_THREADS = "2"\n')
    assert config.memory_mb == 512 and config.gpu is True and config.cell_timeout == 30.0
    assert config.preload == ("numpy",) and config.env == {"OMP_NUM_THREADS": "2"}


@pytest.mark.parametrize("text, words", [
    ("memory = 1\nzz = 2\n", "unknown setting(s) memory, zz; known: cell_timeout, env, file_size_mb"),
    ("[env]\nX = 1\n", "[env] values must be strings"),
    ('preload = "numpy"\n', "preload must be a list of module names"),
    ("preload = [1]\n", "preload must be a list of module names"),
    ('preload = ["tensorflow", "triton"]\n', "cannot hold both tensorflow and triton"),
    ("cell_timeout = \n", "invalid TOML"),
])
def test_each_bad_judge_toml_is_named_with_its_file(tmp_path, text, words):
    with pytest.raises(CourseError) as info:
        _config(tmp_path, text)
    assert str(info.value).startswith(f"{tmp_path / 'judge.toml'}: ") and words in str(info.value)


def test_a_judge_toml_without_preload_keeps_the_default_preload(tmp_path):
    config = _config(tmp_path, "cell_timeout = 5\n")
    assert config.cell_timeout == 5 and config.preload == ("numpy", "torch")


def test_tensorflow_or_triton_alone_may_be_preloaded(tmp_path):
    assert _config(tmp_path, 'preload = ["tensorflow"]\n').preload == ("tensorflow",)
    assert _config(tmp_path, 'preload = ["triton", "numpy"]\n').preload == ("triton", "numpy")


def test_a_judge_toml_that_is_not_utf8_is_named(tmp_path):
    (tmp_path / "judge.toml").write_bytes(b"# \xff\n")
    with pytest.raises(CourseError, match="judge.toml: invalid TOML"):
        JudgeConfig.load(tmp_path)


# -- the formgrader sanitizer ------------------------------------------------------------------------
def test_the_fence_is_three_backticks_or_one_longer_than_the_longest_run():
    assert sanitize.as_text("plain") == "```text\nplain\n```"
    assert sanitize.as_text("a `b` ``c``") == "```text\na `b` ``c``\n```"
    assert sanitize.as_text("x ```` y") == "`````text\nx ```` y\n`````"
    assert sanitize.as_text("") == "```text\n\n```"


def test_inert_keeps_code_drops_outputs_and_fences_every_other_cell():
    import nbformat

    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(1)", execution_count=3,
                                     outputs=[nbformat.v4.new_output("stream", text="1")])
    markdown = nbformat.v4.new_markdown_cell("<script>x</script>", attachments={"a.png": {"image/png": "AA=="}})
    raw = nbformat.v4.new_raw_cell("<b>raw</b>")
    notebook.cells = [code, markdown, raw]
    assert sanitize.inert(notebook) is notebook
    assert (code.source, code.outputs, code.execution_count) == ("print(1)", [], None)
    assert markdown.cell_type == "markdown" and markdown.source == "```text\n<script>x</script>\n```"
    assert "attachments" not in markdown
    assert raw.cell_type == "markdown" and raw.source == "```text\n<b>raw</b>\n```"
    bare = {"cell_type": "raw", "metadata": {}}  # a cell without source shows as an empty block
    notebook.cells = [bare]
    sanitize.inert(notebook)
    assert bare["source"] == "```text\n\n```"
