"""Writes a user's own TorchScript module, as a data scientist would with
torch.jit.script, for `mlforge train` with `model: {torchscript: FILE}`."""
import sys

import torch


class TwoLayer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(784, 64)
        self.out = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = torch.flatten(x, 1) / 255.0
        return self.out(torch.relu(self.hidden(x)))


torch.manual_seed(0)
torch.jit.script(TwoLayer()).save(sys.argv[1])
