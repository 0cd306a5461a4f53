# mutant: optimizer states counted as Adam m and v only (8 bytes), forgetting the fp32 master parameters
# replaces: vram_impl
# breaks: vram_calculator
BYTES_PARAM = 2                # fp16/bf16 parameters used in forward/backward
BYTES_GRAD = 2                 # fp16/bf16 gradients
BYTES_OPTIMIZER = 12           # fp32 master parameters (4) + Adam m (4) + Adam v (4): K = 12


def shard_size(n_elements, n_gpus):
    """Elements each GPU keeps of a partitioned flat buffer (padded to a multiple of n_gpus): ceil(n / N)."""
    return -(-int(n_elements) // int(n_gpus))


def count_params(cfg):
    """Trainable parameters of the GPT described by cfg (a GPTConfig).

    token + position embeddings, n_layers blocks (attention with biases, MLP with biases, two LayerNorms),
    a final LayerNorm; the LM head is tied to the token embedding.
    """
    h, f = cfg.d_model, cfg.d_ff
    attention = 4 * h * h + 4 * h
    mlp = 2 * h * f + f + h
    norms = 2 * (2 * h)
    per_layer = attention + mlp + norms
    return int(cfg.vocab_size * h + cfg.max_seq_len * h + cfg.n_layers * per_layer + 2 * h)


def model_state_bytes(n_params, n_gpus=1, zero_stage=0):
    """Bytes of model states ONE GPU holds in mixed-precision Adam training with ZeRO stage 0, 1, 2 or 3.

    Returns {"params": ..., "grads": ..., "optimizer": ...} (ints). A partitioned item holds
    shard_size(n_params, n_gpus) elements per GPU, an unpartitioned one all n_params.
      stage 0: nothing partitioned        stage 1: optimizer states
      stage 2: + gradients                stage 3: + parameters
    """
    if zero_stage not in (0, 1, 2, 3):
        raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage!r}")
    shard = shard_size(n_params, n_gpus)
    optimizer = (BYTES_OPTIMIZER - 4) * (shard if zero_stage >= 1 else n_params)
    grads = BYTES_GRAD * (shard if zero_stage >= 2 else n_params)
    params = BYTES_PARAM * (shard if zero_stage >= 3 else n_params)
    return {"params": int(params), "grads": int(grads), "optimizer": int(optimizer)}


def activation_bytes(cfg, batch_size, seq_len, checkpointing=False):
    """Bytes of activations ONE GPU stores for backward (the n_layers blocks only, fp16, 1-byte dropout masks).

    Per block: 18*s*b*h + 4*s*b*f + 5*a*s^2*b, or only the block input 2*s*b*h with checkpointing.
    """
    s, b = int(seq_len), int(batch_size)
    h, f, a, L = cfg.d_model, cfg.d_ff, cfg.n_heads, cfg.n_layers
    if checkpointing:
        return int(L * 2 * s * b * h)
    per_layer = 18 * s * b * h + 4 * s * b * f + 5 * a * s * s * b
    return int(L * per_layer)
