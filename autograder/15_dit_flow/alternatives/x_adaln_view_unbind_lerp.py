# alternative: adaLN parameters split with view(B, 6, D).unbind(1); modulate with addcmul; rf_interpolate with torch.lerp
# replaces: adaln_impl
# replace:
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)
# with:
    return torch.addcmul(shift[:, None, :], x, 1 + scale[:, None, :])
# replace:
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=-1)
        x = x + gate_msa.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        x = x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x
# with:
        params = self.adaLN_modulation(c)
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = params.view(c.shape[0], 6, -1).unbind(1)
        h = self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        x = torch.addcmul(x, gate_msa[:, None], h)
        h = self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return torch.addcmul(x, gate_mlp[:, None], h)
