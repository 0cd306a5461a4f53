# mutant: sgd_step rebinds a local name (p = p - lr * g) instead of updating the layer's array
# replaces: mlp_impl
# breaks: mlp_train
# replace:
        for name in layer.params:
            layer.params[name] -= lr * layer.grads[name]
# with:
        for name, p in layer.params.items():
            p = p - lr * layer.grads[name]             # BUG: only the local name changes
