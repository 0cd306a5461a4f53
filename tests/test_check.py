import numpy as np
import pytest

from course.judge.check import Failure, assert_close, assert_equal, expect


def message_of(call) -> str:
    with pytest.raises(Failure) as info:
        call()
    return str(info.value)


def test_shape_mismatch_names_both_shapes():
    text = message_of(lambda: assert_close(np.zeros((4, 3)), np.zeros((3, 4)), atol=1e-6, what="matmul"))
    assert text == "matmul: shape (4, 3) but expected (3, 4)"


def test_value_error_reports_size_and_place_but_not_the_expected_values():
    expected = np.array([[1.2345678, 2.0], [3.0, 4.0]])
    got = expected.copy()
    got[1, 0] += 0.5
    text = message_of(lambda: assert_close(got, expected, atol=1e-6, rtol=1e-6, what="relu grad",
                                           inputs={"x": np.array([-1.0, 2.0])}))
    assert "1 of 4 value(s) out of tolerance" in text and "max abs error 0.5" in text
    assert "at index (1, 0)" in text and "x=[-1.,  2.]" in text
    assert "1.2345" not in text and "3.5" not in text


def test_non_finite_values_are_called_out():
    text = message_of(lambda: assert_close(np.array([1.0, np.nan]), np.array([1.0, 2.0]), atol=1e-3, what="softmax"))
    assert "non-finite" in text and "index (1,)" in text


def test_non_numeric_results_are_refused():
    assert "expected an array of numbers, got str" in message_of(
        lambda: assert_close("3.0", np.array(3.0), atol=1, what="norm"))


def test_within_tolerance_passes():
    assert_close([1.0, 2.0 + 1e-9], np.array([1.0, 2.0]), atol=1e-8, what="x")


def test_assert_equal_hides_the_answer_unless_asked():
    assert message_of(lambda: assert_equal(3, 4, what="rank")) == "rank: got 3"
    assert message_of(lambda: assert_equal((2, 3), (3, 2), what="shape", reveal=True)) == "shape: got (2, 3), expected (3, 2)"
    assert "got True" in message_of(lambda: assert_equal(True, 1, what="flag"))


def test_expect():
    expect(True, "never shown")
    assert message_of(lambda: expect(False, "must return a torch.Tensor")) == "must return a torch.Tensor"
