"""Hidden tests for the gradient half of 01_tensors.

Parts: autograd_torch (value_and_grad_torch), gradient_tape_tf (value_and_grad_tf) and
linear_regression (fit_linear_regression, PyTorch), 1 point each.

value_and_grad_<fw>(f, x) is called with functions f the notebook never shows, so only real
automatic differentiation passes; expected gradients are the closed forms below, in float64.

Weights: the type/dtype/shape test of each part weighs 4 (a NumPy array or a None gradient is
not a usable answer), each value case 1, the input-side-effect checks 1.
"""
import numpy as np
import pytest

from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

TENSOR = {"torch": "torch.Tensor", "tf": "TensorFlow tensor (tf.Tensor)"}


def _readable(info, what):
    if "error" in info:
        fail(f"{what}: {info['error']}")
    return info


def _expect_tensor(info, fw, what, dtype):
    _readable(info, what)
    if info["kind"] == "none":
        fail(f"{what} is None" + (": the tape did not record x; a tf.constant must be watched (tape.watch(x))"
                                  if fw == "tf" else ": x did not take part in the graph (requires_grad, detach?)"))
    if info["kind"] != fw:
        hint = " (a NumPy array: .numpy() turned the result into NumPy)" if info["kind"] == "numpy" else ""
        fail(f"{what} must be a {TENSOR[fw]}, got {info['type']}{hint}")
    expect(info["dtype"] == dtype, f"{what} must have dtype {dtype} (the dtype of x), got {info['dtype']}")


def _values(info, what):
    _readable(info, what)
    if info["kind"] == "none":
        fail(f"{what} is None")
    expect(info["value"] is not None, f"{what} returned {info['type']}, which holds no numbers")
    value = np.asarray(info["value"], dtype=np.float64)
    shape = info.get("shape")
    if shape is not None and value.size == int(np.prod(shape, dtype=int)):
        # The wire format may turn a 0-d array into shape (1,); the probe reports the true shape.
        value = value.reshape(shape)
    return value


# ---------------------------------------------------------------------------------------------------
# value_and_grad_torch / value_and_grad_tf
# ---------------------------------------------------------------------------------------------------

def _expected(expr, x, A=None, c=None):
    """f(x) and its gradient in closed form (float64)."""
    if expr == "sin_sq":        # f = sum x^2 sin x
        return np.sum(x ** 2 * np.sin(x)), 2 * x * np.sin(x) + x ** 2 * np.cos(x)
    if expr == "lse_l2":        # f = log sum exp x + |x|^2 / 2
        m = x.max()
        lse = m + np.log(np.exp(x - m).sum())
        return lse + 0.5 * np.sum(x * x), np.exp(x - lse) + x
    if expr == "lstsq":         # f = mean((A x - c)^2)
        r = A @ x - c
        return np.mean(r ** 2), 2.0 / len(c) * A.T @ r
    raise ValueError(expr)


def _grad_case(sub, case):
    rng = np.random.default_rng([sub.seed, {"sin_sq_n7": 601, "sin_sq_n1": 602, "lse_l2_n13": 603, "lstsq_m9_n5": 604}[case]])
    if case == "sin_sq_n7":
        return "sin_sq", 2.0 * rng.standard_normal(7), {}
    if case == "sin_sq_n1":
        return "sin_sq", np.array([rng.uniform(-2.0, 2.0)]), {}
    if case == "lse_l2_n13":
        return "lse_l2", 3.0 * rng.standard_normal(13), {}
    A = rng.standard_normal((9, 5))
    return "lstsq", rng.standard_normal(5), {"A": A, "c": rng.standard_normal(9)}


GRAD_CASES = ["sin_sq_n7", "sin_sq_n1", "lse_l2_n13", "lstsq_m9_n5"]
DESCRIBE = {"sin_sq": "f(x) = sum(x**2 * sin(x))", "lse_l2": "f(x) = logsumexp(x) + 0.5 * sum(x**2)",
            "lstsq": "f(x) = mean((A @ x - c)**2)"}

# float64 autograd against a float64 closed form: both are exact up to a few ulp of O(10) values;
# 1e-10 absorbs any operation order (e.g. inside logsumexp) while a missing term is O(0.1) or more.
GRAD_ATOL = GRAD_RTOL = 1e-10


def _check_types(sub, fw):
    expr, x, extra = _grad_case(sub, "sin_sq_n7")
    what = f"value_and_grad_{fw}"
    info = _readable(sub.probe("value_and_grad", fw, expr, x, **extra), what)
    _expect_tensor(info["value"], fw, f"{what}: value", "float64")
    expect(info["value"]["shape"] == [], f"{what}: value must be a 0-d tensor (what f returns), got shape "
                                         f"{tuple(info['value']['shape'])}")
    _expect_tensor(info["grad"], fw, f"{what}: grad", "float64")
    expect(info["grad"]["shape"] == [len(x)], f"{what}: grad must have the shape of x {x.shape}, got "
                                              f"{tuple(info['grad']['shape'])}")


def _check_values(sub, fw, case, calls=1):
    expr, x, extra = _grad_case(sub, case)
    what = f"value_and_grad_{fw}(f, x) with {DESCRIBE[expr]}"
    if calls > 1:
        what += f", called {calls} times with the same x"
    info = _readable(sub.probe("value_and_grad", fw, expr, x, calls=calls, **extra), what)
    want_value, want_grad = _expected(expr, x, **extra)
    shown = {"x": x} if x.size <= 12 else {"x.shape": x.shape}
    assert_close(_values(info["grad"], f"{what}: grad"), want_grad, atol=GRAD_ATOL, rtol=GRAD_RTOL,
                 what=f"{what}: grad", inputs=shown)
    assert_close(_values(info["value"], f"{what}: value"), want_value, atol=GRAD_ATOL, rtol=GRAD_RTOL,
                 what=f"{what}: value", inputs=shown)


def _check_torch_keeps_input(sub):
    expr, x, extra = _grad_case(sub, "lse_l2_n13")
    info = _readable(sub.probe("value_and_grad", "torch", expr, x, **extra), "value_and_grad_torch")
    expect(unchanged(info["input_after"], x), "value_and_grad_torch changed the values of its input x")
    expect(not info["input_requires_grad"] and not info["input_grad_set"],
           "value_and_grad_torch changed the caller's x: after the call x.requires_grad is "
           f"{info['input_requires_grad']} and x.grad is {'set' if info['input_grad_set'] else 'None'}; "
           "work on a copy (x.detach().clone().requires_grad_(True))")


# Two checks per framework: the values (every case, and the same result when called twice: a
# requires_grad_() on the caller's x makes gradients pile up in x.grad), and the interface (float64
# tensors of the right shapes; torch: the caller's x left as it was).
@pytest.mark.part("autograd_torch")
class TestValueAndGradTorch:
    @pytest.mark.parametrize("case", GRAD_CASES + ["twice"])
    def test_values(self, sub, case):
        """값과 기울기가 모든 입력에서 맞고, 같은 x로 두 번 불러도 같은 결과"""
        if case == "twice":
            _check_values(sub, "torch", "sin_sq_n7", calls=2)
        else:
            _check_values(sub, "torch", case)

    @pytest.mark.parametrize("aspect", ["types", "keeps_input"])
    def test_interface(self, sub, aspect):
        """값과 기울기를 float64 torch.Tensor로, 입력 x는 그대로 두고 돌려준다"""
        if aspect == "types":
            _check_types(sub, "torch")
        else:
            _check_torch_keeps_input(sub)


@pytest.mark.part("gradient_tape_tf")
class TestValueAndGradTf:
    @pytest.mark.parametrize("case", GRAD_CASES + ["twice"])
    def test_values(self, sub, case):
        """GradientTape로 구한 값과 기울기가 모든 입력에서 맞고, 두 번 불러도 같은 결과"""
        if case == "twice":
            _check_values(sub, "tf", "lse_l2_n13", calls=2)
        else:
            _check_values(sub, "tf", case)

    def test_interface(self, sub):

        """값과 기울기를 float64 tf.Tensor로, 올바른 shape로 돌려준다"""
        _check_types(sub, "tf")


# ---------------------------------------------------------------------------------------------------
# fit_linear_regression (PyTorch): full-batch gradient descent on the MSE from w = 0, b = 0
# ---------------------------------------------------------------------------------------------------

def _regression_data(sub, n, d, seed):
    rng = np.random.default_rng([sub.seed, seed])   # per submission, the same on a regrade
    X = rng.standard_normal((n, d))
    w_true = np.array([1.5, -2.0, 0.5, 3.0, -1.0])[:d]
    y = X @ w_true + 0.7 + 0.1 * rng.standard_normal(n)
    return X, y


def _gd_reference(X, y, lr, steps):
    """w <- w - lr dL/dw, b <- b - lr dL/db with L = mean((X w + b - y)^2), from zeros."""
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    for _ in range(steps):
        r = X @ w + b - y
        w = w - lr * (2.0 / n) * (X.T @ r)
        b = b - lr * 2.0 * r.mean()
    return w, b


REGRESSION_CASES = {
    # name: (N, D, seed, lr, steps)
    "one_step_n37_d3": (37, 3, 701, 0.1, 1),          # checks the gradient formula and the update itself
    "nine_steps_n37_d3": (37, 3, 702, 0.05, 9),       # checks the gradients are reset between steps
    "four_steps_n11_d1": (11, 1, 703, 0.2, 4),
    "converged_n37_d3": (37, 3, 704, 0.1, 300),       # close to the least-squares fit by then
}

# float64 both sides; gradient descent with a stable step contracts errors, so roundoff stays at
# ~1e-14 even after 300 steps. 1e-9 is far below any change a wrong step would make (>= 1e-3).
REGRESSION_ATOL = 1e-9


@pytest.mark.part("linear_regression")
class TestFitLinearRegression:
    @pytest.mark.parametrize("aspect", ["types", "keeps_input"])
    def test_interface(self, sub, aspect):
        """w와 b를 float64 torch.Tensor로 돌려주고, X와 y는 바꾸지 않는다"""
        # One check: float64 tensors of the right shapes, X and y left as they were
        if aspect == "keeps_input":
            self._keeps_input(sub)
            return
        n, d, seed, lr, steps = REGRESSION_CASES["nine_steps_n37_d3"]
        X, y = _regression_data(sub, n, d, seed)
        info = _readable(sub.probe("fit_linear_regression", X, y, lr, steps), "fit_linear_regression")
        _expect_tensor(info["w"], "torch", "fit_linear_regression: w", "float64")
        expect(info["w"]["shape"] == [d], f"fit_linear_regression: w must have shape ({d},) for X of shape "
                                          f"{X.shape}, got {tuple(info['w']['shape'])}")
        _expect_tensor(info["b"], "torch", "fit_linear_regression: b", "float64")
        expect(np.prod(info["b"]["shape"], dtype=int) == 1,
               f"fit_linear_regression: b must be a single number (0-d tensor), got shape {tuple(info['b']['shape'])}")

    @pytest.mark.parametrize("case", list(REGRESSION_CASES))
    def test_parameters(self, sub, case):
        """경사 하강법으로 얻은 w와 b가 모든 경우(1 step, 여러 step, 수렴)에서 맞다"""
        n, d, seed, lr, steps = REGRESSION_CASES[case]
        X, y = _regression_data(sub, n, d, seed)
        what = f"fit_linear_regression(X, y, lr={lr}, steps={steps})"
        info = _readable(sub.probe("fit_linear_regression", X, y, lr, steps), what)
        want_w, want_b = _gd_reference(X, y, lr, steps)
        shown = {"X.shape": X.shape, "y.shape": y.shape}
        assert_close(_values(info["w"], f"{what}: w"), want_w, atol=REGRESSION_ATOL, rtol=0.0, what=f"{what}: w",
                     inputs=shown)
        b = _values(info["b"], f"{what}: b")
        expect(b.size == 1, f"{what}: b must be a single number, got shape {b.shape}")
        assert_close(b.reshape(()), want_b, atol=REGRESSION_ATOL, rtol=0.0, what=f"{what}: b", inputs=shown)

    def _keeps_input(self, sub):
        n, d, seed, lr, steps = REGRESSION_CASES["four_steps_n11_d1"]
        X, y = _regression_data(sub, n, d, seed)
        info = _readable(sub.probe("fit_linear_regression", X, y, lr, steps), "fit_linear_regression")
        expect(len(info["inputs_after"]) == 2 and unchanged(info["inputs_after"][0], X)
               and unchanged(info["inputs_after"][1], y), "fit_linear_regression modified X or y in place")
