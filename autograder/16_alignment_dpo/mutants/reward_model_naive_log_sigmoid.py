# mutant: log(sigmoid(d)) computed naively: -inf / nan for large score differences
# replaces: reward_model_impl
# breaks: reward_model
def bradley_terry_loss(r_chosen, r_rejected):
    """Mean negative log-likelihood of the Bradley-Terry model: -mean(log sigmoid(r_chosen - r_rejected)).

    r_chosen, r_rejected: float tensors of shape (B,), the reward model's scores of the chosen and
    rejected responses. Returns a 0-d tensor that gradients flow through. Must stay finite for
    score differences of any size (use F.logsigmoid or -F.softplus(-x), never log(sigmoid(x))).
    """
    return -torch.log(torch.sigmoid(r_chosen - r_rejected)).mean()


def preference_accuracy(r_chosen, r_rejected):
    """Fraction of pairs with r_chosen > r_rejected (strictly; a tie is not a win), as a Python float."""
    return (r_chosen > r_rejected).float().mean().item()
