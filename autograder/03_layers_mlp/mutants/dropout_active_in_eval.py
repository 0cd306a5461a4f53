# mutant: dropout still drops (and rescales) in eval mode
# replaces: dropout_impl
# breaks: dropout
# replace:
        if not self.training:
            self.scale = None
            return x
# with:
        # BUG: ignores self.training: drops in eval mode too
