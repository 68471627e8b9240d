"""``check_autoencoder`` (exercise 01) can fail: the solution passes, the stub is "not
implemented", each wrong ``Autoencoder`` gets its own diagnosis, and other correct ways of
writing the module pass."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vae_course.checks import FAIL, MISTAKE, PASS, TODO, check_autoencoder

from exercise_loader import load_functions, named_codes
from fakes import mlp_layers, wrong_module_rows

IMG = 28 * 28


def autoencoder(**opts):
    """An Autoencoder class with the given mistakes switched on (the default is correct)."""

    class Autoencoder(nn.Module):
        def __init__(self, latent_dim=2, hidden=400):
            if opts.get("layer_before_super"):
                self.first = nn.Linear(IMG, hidden)
            super().__init__()
            latent = opts.get("fixed_latent", latent_dim)
            dec_in = opts.get("fixed_hidden", hidden) if opts.get("code_is_hidden") else latent
            enc, dec = mlp_layers(latent, hidden, latent, opts, decoder_in=dec_in)
            if opts.get("relu_on_logits"):
                dec += [nn.ReLU()]
            if opts.get("in_a_list"):
                self.parts = [nn.Sequential(*enc), nn.Sequential(*dec)]
            else:
                self.parts = nn.ModuleList([nn.Sequential(*enc), nn.Sequential(*dec)])
            if opts.get("unused_layer"):
                self.spare = nn.Linear(hidden, hidden)
            self.scale = opts.get("scale", 1.0)

        def encode(self, x):
            if opts.get("flatten_batch"):
                return self.parts[0][1:](x.flatten())
            if opts.get("normalise_batch"):
                x = (x - x.mean()) / x.std()
            return self.parts[0](x)

        def decode(self, z):
            if opts.get("detach_code"):
                z = z.detach()
            out = self.parts[1](z) * self.scale
            return out if opts.get("no_reshape") else out.view(-1, 1, 28, 28)

        def forward(self, x):
            z = self.encode(x)
            if opts.get("tanh_in_forward"):
                z = torch.tanh(z)
            out = self.decode(z)
            return torch.sigmoid(out) if opts.get("sigmoid_in_forward") else out

    return Autoencoder


class LayersInForward(nn.Module):
    """Creates its layers on every call, so it has no parameters to train."""

    def __init__(self, latent_dim=2, hidden=400):
        super().__init__()
        self.latent_dim, self.hidden = latent_dim, hidden

    def encode(self, x):
        return nn.Linear(self.hidden, self.latent_dim)(F.relu(nn.Linear(IMG, self.hidden)(
            x.flatten(1))))

    def decode(self, z):
        return nn.Linear(self.hidden, IMG)(F.relu(nn.Linear(self.latent_dim, self.hidden)(z)))\
            .view(-1, 1, 28, 28)

    def forward(self, x):
        return self.decode(self.encode(x))


class NotAModule:
    def __init__(self, latent_dim=2, hidden=400):
        pass


WRONG = [
    ("plain class", NotAModule, "module.not_a_module"),
    ("layer before super().__init__", autoencoder(layer_before_super=True),
     "module.no_super_init"),
    ("layers in a list", autoencoder(in_a_list=True), "module.unregistered_layers"),
    ("layers made in forward", LayersInForward, "module.no_parameters"),
    ("flattens the whole batch", autoencoder(flatten_batch=True), "module.layer_sizes"),
    ("code is the hidden layer", autoencoder(code_is_hidden=True), "ae.code_is_hidden_layer"),
    ("latent size hard-coded", autoencoder(fixed_latent=2), "ae.latent_dim_ignored"),
    ("ReLU on the code", autoencoder(relu_on_code=True), "ae.relu_on_code"),
    ("sigmoid in forward", autoencoder(sigmoid_in_forward=True), "ae.sigmoid_in_model"),
    ("ReLU on the logits", autoencoder(relu_on_logits=True), "ae.relu_on_logits"),
    ("tanh in forward", autoencoder(tanh_in_forward=True), "ae.forward_not_composed"),
    ("normalises over the batch", autoencoder(normalise_batch=True), "ae.images_mixed"),
    ("code detached", autoencoder(detach_code=True), "grad.unused_parameter"),
] + wrong_module_rows(autoencoder, "ae")


class Explicit(nn.Module):
    """Separate layers and F.relu in the methods; view with the batch size."""

    def __init__(self, latent_dim=2, hidden=400):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(IMG, hidden), nn.Linear(hidden, latent_dim)
        self.fc3, self.fc4 = nn.Linear(latent_dim, hidden), nn.Linear(hidden, IMG)

    def encode(self, x):
        return self.fc2(F.relu(self.fc1(x.view(len(x), -1))))

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z))).unflatten(1, (1, 28, 28))

    def forward(self, x):
        return self.decode(self.encode(x))


class WithModuleList(nn.Module):
    """Layers in an nn.ModuleList, a loop over them, and LeakyReLU."""

    def __init__(self, latent_dim=2, hidden=400):
        super().__init__()
        self.enc = nn.ModuleList([nn.Linear(IMG, hidden), nn.Linear(hidden, latent_dim)])
        self.dec = nn.ModuleList([nn.Linear(latent_dim, hidden), nn.Linear(hidden, IMG)])

    @staticmethod
    def _run(layers, h):
        for i, layer in enumerate(layers):
            h = layer(h)
            if i < len(layers) - 1:
                h = F.leaky_relu(h, 0.01)
        return h

    def encode(self, x):
        return self._run(self.enc, torch.flatten(x, 1))

    def decode(self, z):
        return self._run(self.dec, z).reshape(z.shape[0], 1, 28, 28)

    def forward(self, x):
        return self.decode(self.encode(x))


class HandWritten(nn.Module):
    """No nn.Linear: weight matrices as nn.Parameter (initialised like nn.Linear), F.linear and
    torch.relu, and nn.Unflatten for the image shape."""

    def __init__(self, latent_dim=2, hidden=400):
        super().__init__()
        sizes = [(IMG, hidden), (hidden, latent_dim), (latent_dim, hidden), (hidden, IMG)]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(n_out, n_in).uniform_(-n_in ** -0.5, n_in ** -0.5))
            for n_in, n_out in sizes)
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(n_out).uniform_(-n_in ** -0.5, n_in ** -0.5))
            for n_in, n_out in sizes)
        self.to_image = nn.Unflatten(1, (1, 28, 28))

    def _layers(self, h, first):
        h = torch.relu(F.linear(h, self.weights[first], self.biases[first]))
        return F.linear(h, self.weights[first + 1], self.biases[first + 1])

    def encode(self, x):
        return self._layers(x.reshape(x.shape[0], IMG), 0)

    def decode(self, z):
        return self.to_image(self._layers(z, 2))

    def forward(self, x):
        return self.decode(self.encode(x))


ALSO_CORRECT = [("explicit layers", Explicit), ("ModuleList and a loop", WithModuleList),
                ("parameters by hand, F.linear", HandWritten)]


def run(cls):
    return check_autoencoder(cls, show=False)


def test_solution_passes():
    result = run(load_functions("01_autoencoder")["Autoencoder"])
    assert result.status == PASS, result.marker()


def test_stub_is_not_implemented():
    result = run(load_functions("01_autoencoder", stub=True)["Autoencoder"])
    assert result.status == TODO, result.marker()
    assert "Autoencoder.__init__" in result.message and "not implemented" in result.message


@pytest.mark.parametrize("label, cls, code", WRONG, ids=[w[0] for w in WRONG])
def test_known_mistake_gets_its_diagnosis(label, cls, code):
    result = run(cls)
    assert (result.status, result.code) == (MISTAKE, code), result.marker()
    assert len(result.message) > 40


def test_every_named_mistake_is_exercised():
    named = named_codes("autoencoder", "nn_module", prefixes=("ae", "module"))
    assert named - {code for *_, code in WRONG} == set()


@pytest.mark.parametrize("label, cls", ALSO_CORRECT, ids=[c[0] for c in ALSO_CORRECT])
def test_other_correct_modules_pass(label, cls):
    result = run(cls)
    assert result.status == PASS, result.marker()


def test_a_model_that_does_not_learn_fails_with_the_numbers():
    result = run(autoencoder(scale=1e-3))
    assert result.status == FAIL, result.marker()
    assert "nats/image" in result.message and "Expected below" in result.message


def test_a_function_instead_of_a_class_is_a_clear_failure():
    result = run(lambda latent_dim=2, hidden=400: None)
    assert result.status == FAIL and "class itself" in result.message


# Per check: the codes of the wrong implementations and the labels of the correct alternatives
# above (counted by scripts/exercise_table.py).
TABLES = {"autoencoder": ([code for *_, code in WRONG], [label for label, _ in ALSO_CORRECT])}
