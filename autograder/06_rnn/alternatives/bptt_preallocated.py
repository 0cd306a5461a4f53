# alternative: rnn_forward writes into a preallocated tensor (autograd through the slices), BPTT fills a zeros tensor backwards, norms with linalg.vector_norm, clipping with torch.stack
# replaces: bptt_impl
def rnn_forward(xs, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """Unroll rnn_cell over xs (T, B, I) from h0 (B, H); returns hs (T, B, H) = [h_1, ..., h_T]."""
    T = xs.shape[0]
    hs = torch.empty(T, *h0.shape, dtype=xs.dtype)
    h = h0
    for t in range(T):
        h = rnn_cell(xs[t], h, weight_ih, weight_hh, bias_ih, bias_hh)
        hs[t] = h
    return hs


def bptt_hidden_grads(hs, weight_hh, grad_hs):
    """dL/dh_t for L = sum_t <G_t, h_t> through a tanh RNN, by hand (no autograd)."""
    deltas = torch.zeros_like(grad_hs)
    running = torch.zeros_like(grad_hs[0])
    for t in reversed(range(hs.shape[0])):
        if t + 1 < hs.shape[0]:
            running = (running * (1 - hs[t + 1] * hs[t + 1])) @ weight_hh
        running = running + grad_hs[t]
        deltas[t] = running
    return deltas


def per_step_norms(deltas):
    """(T,) tensor: the Frobenius norm of deltas[t] over its batch and hidden axes, for each step t."""
    return torch.linalg.vector_norm(deltas, dim=tuple(range(1, deltas.dim())))
