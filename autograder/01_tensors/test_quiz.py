"""Hidden tests for the tensor quiz of 01_tensors.

Parts: shape_dtype, indexing, broadcasting, reshape_permute, matmul (1 point each). Every quiz item
is asked twice, as <name>_torch and <name>_tf. Each part has two checks of equal weight, one per
framework (`test_torch`, `test_tf`, made by `by_framework` from the `check_*` methods): a
framework's check passes only when its tensor type and dtype, its values on every case and (torch)
the caller's input left untouched are all right. A mistake in one framework costs half the item.

Inputs are seeded NumPy arrays with odd, non-square sizes (plus one square case where a square
shape is exactly what hides a bug). Expected values are computed here in float64 NumPy.
"""
import numpy as np
import pytest

from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

FRAMEWORKS = ["torch", "tf"]
TENSOR = {"torch": "torch.Tensor", "tf": "TensorFlow tensor (tf.Tensor)"}


def fws(names):
    """The frameworks a check_* method applies to."""
    def mark(fn):
        fn.fws = list(names)
        return fn
    return mark


def cases(names):
    """The cases a check_* method runs, each one case of its framework's check."""
    def mark(fn):
        fn.cases = list(names)
        return fn
    return mark


def by_framework(cls):
    """Add test_torch and test_tf to a quiz class: one check per framework over every check_* method
    (and case) that applies to it."""
    for fw in FRAMEWORKS:
        items = [(name, case) for name, fn in vars(cls).items() if name.startswith("check_")
                 and fw in getattr(fn, "fws", FRAMEWORKS) for case in getattr(fn, "cases", [None])]

        def test(self, sub, item, _fw=fw):
            name, case = item
            getattr(self, name)(sub, _fw, **({} if case is None else {"case": case}))

        ids = [name[len("check_"):] + ("" if case is None else f"-{case}") for name, case in items]
        test.__doc__ = (f"{cls.ITEM}_{fw}: {'torch.Tensor' if fw == 'torch' else 'tf.Tensor'}, dtype, 모든 입력에서의 값"
                        + (", 입력을 바꾸지 않음" if fw == "torch" else "") + "이 모두 맞다")
        setattr(cls, f"test_{fw}", pytest.mark.parametrize("item", items, ids=ids)(test))
    return cls


def _fn(name, fw):
    return f"{name}_{fw}"


def _readable(info, what):
    """Stop with the probe's own explanation when the result could not even be read."""
    if "error" in info:
        fail(f"{what}: {info['error']}")
    return info


def _expect_tensor(info, fw, what, dtype):
    """The result must be a tensor of the asked framework and dtype (not NumPy, not a list)."""
    _readable(info, what)
    if info["kind"] != fw:
        hint = ""
        if info["kind"] == "numpy":
            hint = " (a NumPy array: .numpy() or an np.* function turned the result into NumPy)"
        elif info["kind"] in FRAMEWORKS:
            hint = " (the other framework's tensor)"
        fail(f"{what} must return a {TENSOR[fw]}, got {info['type']}{hint}")
    expect(info["dtype"] == dtype, f"{what} must return dtype {dtype}, got {info['dtype']}")


def _inputs_unchanged(info, *sent) -> bool:
    after = info.get("inputs_after") or []
    return len(after) == len(sent) and all(unchanged(a, s) for a, s in zip(after, sent))


def _values(info, what):
    _readable(info, what)
    expect(info["value"] is not None, f"{what} returned {info['type']}, which holds no numbers")
    value = np.asarray(info["value"], dtype=np.float64)
    shape = info.get("shape")
    if shape is not None and value.size == int(np.prod(shape, dtype=int)):
        # The wire format may turn a 0-d array into shape (1,); the probe reports the true shape.
        value = value.reshape(shape)
    return value


# ---------------------------------------------------------------------------------------------------
# Quiz 1 -- shape_dtype: make_tensor_<fw>(data) -> (t, rank, shape)
# ---------------------------------------------------------------------------------------------------

def _rng(sub, case):
    """Inputs differ per submission (sub.seed) and per case, and are the same on a regrade."""
    return np.random.default_rng([sub.seed, case])


MAKE_TENSOR_NAMES = ["int_list", "float64_3d", "int64_array", "python_float", "float32_vector"]


def _make_tensor_case(sub, case):
    rng = _rng(sub, 101)
    cases = {
        "int_list": rng.integers(-9, 10, size=(2, 3)).tolist(),              # Python ints: int64 / int32 by default
        "float64_3d": rng.standard_normal((3, 5, 7)),                        # NumPy's float64 default
        "int64_array": rng.integers(-50, 50, size=(4, 1, 3)),
        "python_float": float(rng.uniform(-5.0, 5.0)),                       # rank 0, shape ()
        "float32_vector": rng.standard_normal(9).astype(np.float32),         # already float32: must still copy
    }
    return cases[case]


@pytest.mark.part("shape_dtype")
@by_framework
class TestMakeTensor:
    ITEM = "make_tensor"

    @fws(FRAMEWORKS)
    def check_returns_float32_tensor(self, sub, fw):
        data = _make_tensor_case(sub, "int_list")
        info = _readable(sub.probe("make_tensor", fw, data), _fn("make_tensor", fw))
        _expect_tensor(info["tensor"], fw, f"{_fn('make_tensor', fw)}({data})[0]", "float32")

    @fws(FRAMEWORKS)
    @cases(MAKE_TENSOR_NAMES)
    def check_values_rank_shape(self, sub, fw, case):
        data = _make_tensor_case(sub, case)
        want = np.asarray(data, dtype=np.float64)
        what = _fn("make_tensor", fw)
        info = _readable(sub.probe("make_tensor", fw, data), what)
        shown = {"data": want} if want.size <= 12 else {"data.shape": want.shape, "dtype": str(np.asarray(data).dtype)}
        # Casting to float32 is exact and deterministic (round to nearest), so no tolerance.
        got = _values(info["tensor"], f"{what}: t")
        assert_close(got, want.astype(np.float32).astype(np.float64), atol=0.0, rtol=0.0,
                     what=f"{what}: t", inputs=shown)
        expect(info["rank"] == want.ndim, f"{what}: rank is {info['rank']} for data of {want.ndim} axes "
                                          f"(shape {want.shape})")
        expect(info["shape"] is not None and tuple(info["shape"]) == want.shape,
               f"{what}: shape is {info['shape']} for data of shape {want.shape}")

    @fws(FRAMEWORKS)
    def check_rank_and_shape_are_python_ints(self, sub, fw):
        data = _make_tensor_case(sub, "float64_3d")
        what = _fn("make_tensor", fw)
        info = _readable(sub.probe("make_tensor", fw, data), what)
        expect(info["rank_is_int"], f"{what}: rank must be a Python int, got {info['rank_type']}")
        expect(info["shape_is_tuple"] and info["shape_items_are_int"],
               f"{what}: shape must be a tuple of Python ints, got {info['shape_type']}")

    @fws(["torch"])
    @cases(["float32_vector", "float64_3d"])
    def check_copies_and_keeps_input(self, sub, fw, case):
        data = _make_tensor_case(sub, case)
        what = _fn("make_tensor", fw)
        info = _readable(sub.probe("make_tensor", fw, data), what)
        expect(unchanged(info["input_after"], data), f"{what} changed its input array (dtype {data.dtype}); leave `data` as it is")
        expect(info["independent"] is not False,
               f"{what}: t shares memory with the input array (dtype {data.dtype}): changing the array "
               "afterwards changed t; make a copy (torch.from_numpy / torch.as_tensor do not copy)")


# ---------------------------------------------------------------------------------------------------
# Quiz 2 -- indexing: pick_last_step_<fw>(x, idx) == x[idx, -1, ::2]
# ---------------------------------------------------------------------------------------------------

PICK_CASES = {
    # (N, T, D), idx: odd D (ceil(D/2) features), repeated and unsorted indices, N != T != D
    "n7_t5_d9": ((7, 5, 9), [6, 0, 3, 3]),
    "n4_t3_d1": ((4, 3, 1), [2]),
    "n5_t6_d4": ((5, 6, 4), [4, 3, 2, 1, 0]),
    "n3_t8_d11": ((3, 8, 11), [1, 1, 2, 0, 2, 1, 0]),
}


def _pick_input(sub, case):
    shape, idx = PICK_CASES[case]
    rng = _rng(sub, 200 + sum(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    return x, np.array(idx, dtype=np.int64)


@pytest.mark.part("indexing")
@by_framework
class TestPickLastStep:
    ITEM = "pick_last_step"

    @fws(FRAMEWORKS)
    def check_returns_float32_tensor(self, sub, fw):
        x, idx = _pick_input(sub, "n7_t5_d9")
        _expect_tensor(sub.probe("pick_last_step", fw, x, idx), fw, _fn("pick_last_step", fw), "float32")

    @fws(FRAMEWORKS)
    @cases(list(PICK_CASES))
    def check_values(self, sub, fw, case):
        x, idx = _pick_input(sub, case)
        what = _fn("pick_last_step", fw)
        got = _values(sub.probe("pick_last_step", fw, x, idx), what)
        # Pure selection: the values are copied, so they must be bit-identical.
        assert_close(got, x[idx, -1, ::2].astype(np.float64), atol=0.0, rtol=0.0, what=f"{what}(x, idx)",
                     inputs={"x.shape": x.shape, "idx": idx})

    @fws(["torch"])
    def check_keeps_input(self, sub, fw):
        x, idx = _pick_input(sub, "n5_t6_d4")
        info = _readable(sub.probe("pick_last_step", fw, x, idx), _fn("pick_last_step", fw))
        expect(_inputs_unchanged(info, x, idx), f"{_fn('pick_last_step', fw)} modified x or idx in place")


# ---------------------------------------------------------------------------------------------------
# Quiz 3 -- broadcasting: softmax_rows_<fw>(x), softmax over axis 1 of a (N, C) matrix
# ---------------------------------------------------------------------------------------------------

def _softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


SOFTMAX_CASES = {
    "square_5x5": ((5, 5), 2.0),    # square: (N, C) / (N,) broadcasts silently here and gives wrong rows
    "tall_7x3": ((7, 3), 2.0),
    "wide_3x9": ((3, 9), 2.0),
    "single_row_1x7": ((1, 7), 2.0),
    "single_col_5x1": ((5, 1), 2.0),
}

# float32 softmax: exp has a few ulp of error and each row sum adds up to C rounding steps, so
# outputs in [0, 1] are good to ~1e-6 absolute; 1e-5 relative covers the tiny probabilities.
SOFTMAX_ATOL, SOFTMAX_RTOL = 2e-6, 1e-5


def _softmax_input(sub, case):
    shape, scale = SOFTMAX_CASES[case]
    rng = _rng(sub, 300 + shape[0] * 10 + shape[1])
    return (scale * rng.standard_normal(shape)).astype(np.float32)


@pytest.mark.part("broadcasting")
@by_framework
class TestSoftmaxRows:
    ITEM = "softmax_rows"

    @fws(FRAMEWORKS)
    def check_returns_float32_tensor(self, sub, fw):
        x = _softmax_input(sub, "tall_7x3")
        _expect_tensor(sub.probe("softmax_rows", fw, x), fw, _fn("softmax_rows", fw), "float32")

    @fws(FRAMEWORKS)
    @cases(list(SOFTMAX_CASES))
    def check_values(self, sub, fw, case):
        x = _softmax_input(sub, case)
        what = _fn("softmax_rows", fw)
        got = _values(sub.probe("softmax_rows", fw, x), what)
        assert_close(got, _softmax(x.astype(np.float64)), atol=SOFTMAX_ATOL, rtol=SOFTMAX_RTOL,
                     what=f"{what}(x)", inputs={"x": x} if x.size <= 12 else {"x.shape": x.shape})

    @fws(FRAMEWORKS)
    def check_large_logits(self, sub, fw):
        # Logits of a few hundred overflow exp() in float32 (max ~88.7) unless the row max is
        # subtracted first; the exact softmax is still well defined.
        rng = _rng(sub, 333)
        x = (300.0 * rng.standard_normal((3, 7))).astype(np.float32)
        what = _fn("softmax_rows", fw)
        got = _values(sub.probe("softmax_rows", fw, x), what)
        assert_close(got, _softmax(x.astype(np.float64)), atol=SOFTMAX_ATOL, rtol=SOFTMAX_RTOL,
                     what=f"{what}(x) with logits of size ~300 (subtract the row max before exp)",
                     inputs={"x.shape": x.shape})

    @fws(["torch"])
    def check_keeps_input(self, sub, fw):
        x = _softmax_input(sub, "wide_3x9")
        info = _readable(sub.probe("softmax_rows", fw, x), _fn("softmax_rows", fw))
        expect(_inputs_unchanged(info, x),
               f"{_fn('softmax_rows', fw)} modified its input x in place (e.g. x -= ...); compute a new tensor")


# ---------------------------------------------------------------------------------------------------
# Quiz 4 -- reshape_permute: image_to_tokens_<fw>(x): (B, C, H, W) -> (B, H*W, C)
# ---------------------------------------------------------------------------------------------------

TOKEN_SHAPES = {
    "b2_c3_h5_w7": (2, 3, 5, 7),    # H != W: swapping H and W changes the token order
    "b1_c4_h3_w3": (1, 4, 3, 3),
    "b3_c2_h1_w5": (3, 2, 1, 5),
    "b2_c5_h4_w1": (2, 5, 4, 1),
    "b1_c2_h3_w5": (1, 2, 3, 5),
}


def _tokens_input(sub, case):
    rng = _rng(sub, 400 + sum(TOKEN_SHAPES[case]))
    return rng.standard_normal(TOKEN_SHAPES[case]).astype(np.float32)


@pytest.mark.part("reshape_permute")
@by_framework
class TestImageToTokens:
    ITEM = "image_to_tokens"

    @fws(FRAMEWORKS)
    def check_returns_float32_tensor(self, sub, fw):
        x = _tokens_input(sub, "b2_c3_h5_w7")
        _expect_tensor(sub.probe("image_to_tokens", fw, x), fw, _fn("image_to_tokens", fw), "float32")

    @fws(FRAMEWORKS)
    @cases(list(TOKEN_SHAPES))
    def check_values(self, sub, fw, case):
        x = _tokens_input(sub, case)
        B, C, H, W = x.shape
        what = _fn("image_to_tokens", fw)
        got = _values(sub.probe("image_to_tokens", fw, x), what)
        want = x.transpose(0, 2, 3, 1).reshape(B, H * W, C).astype(np.float64)
        # Only moves values around: bit-identical.
        assert_close(got, want, atol=0.0, rtol=0.0, what=f"{what}(x), token t = h*W + w", inputs={"x.shape": x.shape})

    @fws(["torch"])
    def check_keeps_input(self, sub, fw):
        x = _tokens_input(sub, "b1_c4_h3_w3")
        info = _readable(sub.probe("image_to_tokens", fw, x), _fn("image_to_tokens", fw))
        expect(_inputs_unchanged(info, x), f"{_fn('image_to_tokens', fw)} modified its input x in place")


# ---------------------------------------------------------------------------------------------------
# Quiz 5 -- matmul: linear_<fw>(x, W, b) = x W^T + b, W in (D_out, D_in) layout
# ---------------------------------------------------------------------------------------------------

LINEAR_CASES = {
    # name: (x shape, D_out)
    "x7x5_out3": ((7, 5), 3),
    "batch2x7x5_out3": ((2, 7, 5), 3),
    "square_w_x4x5_out5": ((4, 5), 5),      # D_in == D_out: a missing transpose still runs
    "rows_eq_out_x3x5_out3": ((3, 5), 3),   # N == D_out: a bias added per row still runs
    "x1x9_out1": ((1, 9), 1),
}

# float32 dot products of length <= 9 with O(1) entries: each product and partial sum rounds at
# ~6e-8 relative, so |error| stays below ~1e-6 on outputs of size ~5; 1e-5 leaves room for any
# summation order (BLAS, Eigen) without letting a wrong term through (those are O(0.1) or more).
LINEAR_ATOL, LINEAR_RTOL = 1e-5, 1e-5


def _linear_input(sub, case):
    x_shape, d_out = LINEAR_CASES[case]
    rng = _rng(sub, 500 + len(x_shape) * 100 + x_shape[-1] * 10 + d_out)
    x = rng.standard_normal(x_shape).astype(np.float32)
    W = rng.standard_normal((d_out, x_shape[-1])).astype(np.float32)
    b = rng.standard_normal(d_out).astype(np.float32)
    return x, W, b


@pytest.mark.part("matmul")
@by_framework
class TestLinear:
    ITEM = "linear"

    @fws(FRAMEWORKS)
    def check_returns_float32_tensor(self, sub, fw):
        x, W, b = _linear_input(sub, "batch2x7x5_out3")
        _expect_tensor(sub.probe("linear", fw, x, W, b), fw, _fn("linear", fw), "float32")

    @fws(FRAMEWORKS)
    @cases(list(LINEAR_CASES))
    def check_values(self, sub, fw, case):
        x, W, b = _linear_input(sub, case)
        what = _fn("linear", fw)
        got = _values(sub.probe("linear", fw, x, W, b), what)
        want = x.astype(np.float64) @ W.astype(np.float64).T + b.astype(np.float64)
        assert_close(got, want, atol=LINEAR_ATOL, rtol=LINEAR_RTOL, what=f"{what}(x, W, b)",
                     inputs={"x.shape": x.shape, "W.shape": W.shape, "b.shape": b.shape})

    @fws(["torch"])
    def check_keeps_input(self, sub, fw):
        x, W, b = _linear_input(sub, "x7x5_out3")
        info = _readable(sub.probe("linear", fw, x, W, b), _fn("linear", fw))
        expect(_inputs_unchanged(info, x, W, b), f"{_fn('linear', fw)} modified x, W or b in place")
