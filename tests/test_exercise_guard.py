"""``needs``: a cell that uses unfinished exercise functions says so in one line, not a traceback;
``train_with``: the short training run of those cells."""

import pytest
import torch
from torch import nn

from vae_course.build import _hint_blocks, stub_solutions
from vae_course.exercise import needs, needs_any, train_with, unfinished

SOURCE = '''
import torch
from torch import nn

def kl(mu, logvar):
    ### BEGIN SOLUTION
    ### HINT: the closed form
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)
    ### END SOLUTION

def loss(mu, logvar):
    ### BEGIN SOLUTION
    ### HINT: average the KL
    return kl(mu, logvar).mean()
    ### END SOLUTION

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        ### BEGIN SOLUTION
        ### HINT: one layer
        self.layer = nn.Linear(2, 2)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        ### HINT: apply it
        return self.layer(x)
        ### END SOLUTION

def helper_using_torch_only(x):
    return torch.zeros(3).sum() + x

@torch.no_grad()
def score(mu, logvar):
    ### BEGIN SOLUTION
    ### HINT: the KL per image
    return kl(mu, logvar)
    ### END SOLUTION
'''


def namespace(stubbed=()):
    """The source executed as a notebook would, with the blocks of the named functions stubbed."""
    lines, out, last = SOURCE.split("\n"), [], 0
    for begin, end, *_, name in _hint_blocks(SOURCE)[1]:
        if name in stubbed:
            out.append("\n".join(lines[last:begin]))
            out.append(stub_solutions("\n".join(lines[begin:end + 1])))
            last = end + 1
    out.append("\n".join(lines[last:]))
    ns = {}
    exec(compile("\n".join(out), "<cell>", "exec"), ns)
    return ns


def test_all_written_means_true_and_silent(capsys):
    ns = namespace()
    assert needs(ns["loss"], ns["Model"], ns["helper_using_torch_only"]) is True
    assert capsys.readouterr().out == ""


def test_a_stub_prints_one_line_naming_it(capsys):
    ns = namespace(stubbed=("kl",))
    assert needs(ns["kl"]) is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "`kl`" in out and "not implemented yet" in out


def test_functions_used_from_the_same_notebook_are_followed(capsys):
    ns = namespace(stubbed=("kl",))
    assert unfinished(ns["loss"]) == ["kl"]  # loss is written but calls the stubbed kl
    assert needs(ns["loss"]) is False
    assert "`kl`" in capsys.readouterr().out


def test_a_class_with_a_stubbed_method_is_unfinished():
    ns = namespace(stubbed=("forward",))
    assert unfinished(ns["Model"]) == ["Model"]
    assert unfinished(ns["loss"], ns["Model"]) == ["Model"]
    assert unfinished(namespace()["Model"]) == []


def test_several_missing_are_listed_once_each(capsys):
    ns = namespace(stubbed=("kl", "loss"))
    assert unfinished(ns["loss"], ns["kl"]) == ["loss", "kl"]
    assert needs(ns["kl"], ns["loss"]) is False
    out = capsys.readouterr().out
    assert "`kl`, `loss`" in out and "are not implemented" in out


def test_library_functions_are_not_inspected():
    """Only the notebook's own functions count; torch's internals never read as unfinished."""
    import torch

    assert unfinished(torch.nn.Linear, torch.logsumexp) == []


def test_not_a_function_is_a_clear_error():
    with pytest.raises(TypeError, match="needs"):
        needs("kl")


def test_train_with_runs_the_step_on_random_batches_and_repeats_with_the_seed():
    """``train_with``: one call of the step per step, on batches of the asked size, with the
    step's options; its results in order; the same seed gives the same run."""
    x = torch.rand(50, 1, 4, 4)

    def run():
        torch.manual_seed(0)
        model = nn.Linear(16, 1)
        start = model.weight.detach().clone()
        seen = []

        def step(model, optimizer, xb, step, scale):
            loss = (model(xb.flatten(1)) * scale).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen.append((step, tuple(xb.shape)))
            return loss.item()

        losses = train_with(step, model, x, steps=5, batch_size=8, lr=0.1, scale=2.0)
        return losses, seen, start, model.weight.detach().clone()

    losses, seen, start, weights = run()
    again, _, _, weights_again = run()
    assert seen == [(i, (8, 1, 4, 4)) for i in range(5)]
    assert len(losses) == 5 and losses == again and torch.equal(weights, weights_again)
    assert not torch.equal(weights, start)  # the optimizer it made trains the model's weights


def test_needs_any_waits_only_while_every_task_is_a_stub(capsys):
    ns = namespace(stubbed=("kl", "loss"))
    assert needs_any(ns["kl"], ns["loss"]) is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("⏸ Skipped:") and "`kl`, `loss`" in out
    ns = namespace(stubbed=("loss",))
    assert needs_any(ns["kl"], ns["loss"]) is True  # kl is done: its cell will want the model
    ns = namespace(stubbed=("kl",))
    assert needs_any(ns["loss"], ns["Model"]) is True  # Model is done, loss still waits for kl
    assert capsys.readouterr().out == ""
    with pytest.raises(TypeError, match="needs_any"):
        needs_any("kl")


def test_a_decorated_stub_is_unfinished(capsys):
    """@torch.no_grad() wraps the learner's function; the stub inside still counts."""
    assert unfinished(namespace(stubbed=("score",))["score"]) == ["score"]
    assert unfinished(namespace()["score"]) == []
    assert needs_any(namespace(stubbed=("score",))["score"]) is False
    assert "`score`" in capsys.readouterr().out
