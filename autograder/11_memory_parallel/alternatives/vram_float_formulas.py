# alternative: the VRAM formulas written per item with math.ceil and float arithmetic (exact below 2**53), returned as ints
# replaces: vram_impl
import math

BYTES_PARAM = 2
BYTES_GRAD = 2
BYTES_OPTIMIZER = 12


def shard_size(n_elements, n_gpus):
    return -(-int(n_elements) // int(n_gpus))


def count_params(cfg):
    h, f, L = cfg.d_model, cfg.d_ff, cfg.n_layers
    embeddings = (cfg.vocab_size + cfg.max_seq_len) * h
    qkv_out = 4 * (h * h + h)
    mlp = h * f + f + f * h + h
    layer_norms = 2 * 2 * h
    return int(embeddings + L * (qkv_out + mlp + layer_norms) + 2 * h)


def model_state_bytes(n_params, n_gpus=1, zero_stage=0):
    if zero_stage not in (0, 1, 2, 3):
        raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
    per_gpu = {"optimizer": 1, "grads": 2, "params": 3}     # the stage from which each item is partitioned
    size = {"params": BYTES_PARAM, "grads": BYTES_GRAD, "optimizer": BYTES_OPTIMIZER}
    shard = math.ceil(n_params / n_gpus) if n_params < 2**52 else shard_size(n_params, n_gpus)
    return {k: int(size[k] * (shard if zero_stage >= per_gpu[k] else n_params)) for k in ("params", "grads", "optimizer")}


def activation_bytes(cfg, batch_size, seq_len, checkpointing=False):
    s, b = int(seq_len), int(batch_size)
    h, f, a, L = cfg.d_model, cfg.d_ff, cfg.n_heads, cfg.n_layers
    if checkpointing:
        return int(L * 2 * s * b * h)
    return int(L * s * b * (18 * h + 4 * f + 5 * a * s))
