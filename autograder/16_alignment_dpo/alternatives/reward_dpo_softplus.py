# alternative: both losses written with F.softplus (log sigma(d) = -softplus(-d)); accuracy counted with count_nonzero
# replaces: reward_model_impl
def bradley_terry_loss(r_chosen, r_rejected):
    """Mean negative log-likelihood of the Bradley-Terry model: -mean(log sigmoid(r_chosen - r_rejected))."""
    return F.softplus(r_rejected - r_chosen).mean()


def preference_accuracy(r_chosen, r_rejected):
    """Fraction of pairs with r_chosen > r_rejected (strictly; a tie is not a win), as a Python float."""
    return torch.count_nonzero(r_chosen > r_rejected).item() / r_chosen.numel()
