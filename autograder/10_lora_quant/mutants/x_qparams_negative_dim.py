# mutant: per-channel qparams compare axes with dim as given, so dim=-1 reduces over every axis
# replaces: qparams_impl
# breaks: quantize
# replace:
        channel = dim % x.dim()
# with:
        channel = dim                                                 # BUG: negative dim not normalised
