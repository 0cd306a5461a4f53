# mutant: BPTT multiplies by W_hh^T instead of W_hh (square, so no shape error)
# replaces: bptt_impl
# breaks: bptt
def rnn_forward(xs, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """Unroll rnn_cell over xs (T, B, I) from h0 (B, H); returns hs (T, B, H)."""
    h = h0
    hs = []
    for x in xs:
        h = rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
    return torch.stack(hs)


def bptt_hidden_grads(hs, weight_hh, grad_hs):
    """dL/dh_t by hand."""
    T = hs.shape[0]
    deltas = [None] * T
    delta = grad_hs[T - 1]
    deltas[T - 1] = delta
    for t in range(T - 2, -1, -1):
        delta = grad_hs[t] + ((1 - hs[t + 1] ** 2) * delta) @ weight_hh.T
        deltas[t] = delta
    return torch.stack(deltas)


def per_step_norms(deltas):
    """(T,) norms."""
    return deltas.reshape(deltas.shape[0], -1).norm(dim=1)
