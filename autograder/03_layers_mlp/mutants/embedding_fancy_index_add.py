# mutant: dW[ids] += G with fancy indexing: a repeated id keeps only its last row of G
# replaces: embedding_impl
# breaks: embedding
# replace:
        np.add.at(dW, self.ids, np.asarray(grad_out, dtype=np.float64))
# with:
        dW[self.ids] += np.asarray(grad_out, dtype=np.float64)   # BUG: buffered, repeated ids lost
