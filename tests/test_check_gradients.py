"""Known-answer tests of the checks' gradient judge and of exceptions from learner code."""

import numpy as np
import pytest
import torch

from vae_course.checks.framework import FAIL, MISTAKE, PASS, Check, run_check
from vae_course.checks.gradients import compare_gradients, compare_module_gradients, leaves


def _reference(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)


def _judge(fn):
    """A miniature check: value first, then gradients, as the exercise checks do."""
    def body(check, fn):
        mu = torch.tensor([[0.5, -1.0], [2.0, 0.3]])
        logvar = torch.tensor([[0.2, -0.7], [1.1, 0.0]])
        mine, ref = leaves(mu=mu, logvar=logvar), leaves(mu=mu, logvar=logvar)
        got = check.call(fn, mine["mu"], mine["logvar"])
        expected = _reference(ref["mu"], ref["logvar"])
        if not torch.allclose(torch.as_tensor(got).detach().double(),
                              expected.detach().double(), atol=1e-5):
            check.fail("wrong value")
        compare_gradients(check, got, expected, mine, ref, what="your KL")
        return check.passed("ok")
    return run_check(Check("kl", "kl(mu, logvar)"), body, fn)


def test_a_correct_formula_passes():
    assert _judge(_reference).status == PASS
    torch_dist = torch.distributions

    def with_distributions(mu, logvar):
        q = torch_dist.Normal(mu, (0.5 * logvar).exp())
        p = torch_dist.Normal(torch.zeros_like(mu), torch.ones_like(mu))
        return torch_dist.kl_divergence(q, p).sum(dim=1)

    assert _judge(with_distributions).status == PASS


@pytest.mark.parametrize("wrong, code, named", [
    (lambda mu, lv: _reference(mu.detach(), lv), "grad.detached", "`mu`"),
    (lambda mu, lv: _reference(mu, lv.detach()), "grad.detached", "`logvar`"),
    (lambda mu, lv: torch.tensor(_reference(mu, lv).tolist()), "grad.no_graph", None),
    (lambda mu, lv: torch.from_numpy(_reference(mu, lv).detach().numpy()), "grad.no_graph", None),
    (lambda mu, lv: -0.5 * (1 + lv - mu.pow(2) - lv.detach().exp()).sum(dim=1),
     "grad.wrong", "`logvar`"),
])
def test_right_value_with_a_broken_gradient_is_named(wrong, code, named):
    result = _judge(wrong)
    assert result.status == MISTAKE and result.code == code, result
    if named:
        assert named in result.message


def test_system_exit_in_learner_code_becomes_feedback():
    def leaves_the_kernel(mu, logvar):
        raise SystemExit(3)

    result = _judge(leaves_the_kernel)
    assert result.status == FAIL and "SystemExit" in result.message


def test_keyboard_interrupt_is_not_swallowed():
    def interrupted(mu, logvar):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _judge(interrupted)


def test_module_gradients_name_the_unused_layer():
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.used = torch.nn.Linear(3, 2)
            self.forgotten = torch.nn.Linear(3, 2)

        def forward(self, x):
            return self.used(x)

    def body(check, model):
        compare_module_gradients(check, model, model(torch.ones(4, 3)).pow(2).sum())
        return check.passed("ok")

    result = run_check(Check("model", "Model()"), body, Model())
    assert result.code == "grad.unused_parameter" and "forgotten.weight" in result.message
