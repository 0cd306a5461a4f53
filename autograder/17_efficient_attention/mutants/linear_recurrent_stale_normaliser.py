# mutant: the recurrent form divides by phi(q_t) . z_{t-1}, the normaliser from BEFORE token t was added
# replaces: linear_impl
# breaks: linear_attention
# replace:
        S = S + fk[..., t, :, None] * v[..., t, None, :]
        z = z + fk[..., t, :]
        num = (fq[..., t, :, None] * S).sum(dim=-2)                    # phi(q_t) S_t: (..., d_v)
        den = (fq[..., t, :] * z).sum(dim=-1, keepdim=True)             # phi(q_t) . z_t: (..., 1)
# with:
        S = S + fk[..., t, :, None] * v[..., t, None, :]
        den = (fq[..., t, :] * z).sum(dim=-1, keepdim=True) + 1e-6
        z = z + fk[..., t, :]
        num = (fq[..., t, :, None] * S).sum(dim=-2)
