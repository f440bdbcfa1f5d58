"""The Python peer of bench_train.py: the same models, data order semantics,
optimizer and schedule as `mlforge train`, written as a PyTorch user would
(eager nn.Modules, tensors in memory, no DataLoader workers).

Usage: peer_train.py DATA_DIR {mlp|cnn} EPOCHS BATCH THREADS [foreach]
With `foreach`, SGD uses PyTorch's multi-tensor implementation (not the
default of torch 1.13 on CPU), the fastest SGD a Python user can pick.
Prints one JSON line per epoch: {"epoch", "samples_per_second", "val_accuracy", "elapsed"}.
"""
import json
import math
import sys
import time

import torch

start = time.perf_counter()
data_dir, kind, epochs, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
# The same rule as mlforge's train/threads.h: one intra-op thread leaves the
# BLAS on every core; more intra-op threads get a single-threaded BLAS.
try:
    import ctypes
    import os
    openblas = ctypes.CDLL("libopenblas.so.0")
    openblas.openblas_set_num_threads(1 if threads > 1 else os.cpu_count())
    blas_threads = openblas.openblas_get_num_threads()
except OSError:
    blas_threads = -1
print(json.dumps({"blas_threads": blas_threads}), flush=True)
torch.manual_seed(42)


def read_idx(path, offset, shape):
    raw = open(path, "rb").read()
    return torch.frombuffer(bytearray(raw[offset:]), dtype=torch.uint8).reshape(shape)


train_x = read_idx(f"{data_dir}/train-images-idx3-ubyte", 16, (-1, 1, 28, 28)).float()
train_y = read_idx(f"{data_dir}/train-labels-idx1-ubyte", 8, (-1,)).long()
test_x = read_idx(f"{data_dir}/t10k-images-idx3-ubyte", 16, (-1, 1, 28, 28)).float()
test_y = read_idx(f"{data_dir}/t10k-labels-idx1-ubyte", 8, (-1,)).long()
mean, std = train_x.mean().item(), train_x.std().item()


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc0 = torch.nn.Linear(784, 256)
        self.fc1 = torch.nn.Linear(256, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten((x - mean) / std, 1)
        return self.fc2(torch.relu(self.fc1(torch.relu(self.fc0(x)))))


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = torch.nn.Conv2d(1, 16, 5, padding=2)
        self.conv1 = torch.nn.Conv2d(16, 32, 5, padding=2)
        self.fc0 = torch.nn.Linear(32 * 7 * 7, 128)
        self.fc1 = torch.nn.Linear(128, 10)
        self.dropout = torch.nn.Dropout(0.25)

    def forward(self, x):
        x = (x - mean) / std
        x = torch.max_pool2d(torch.relu(self.conv0(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = self.dropout(torch.relu(self.fc0(torch.flatten(x, 1))))
        return self.fc1(x)


model = Mlp() if kind == "mlp" else Cnn()
base_lr, warmup = 0.05, 200
foreach = len(sys.argv) > 6 and sys.argv[6] == "foreach"
optimizer = torch.optim.SGD(model.parameters(), lr=base_lr, momentum=0.9, nesterov=True, weight_decay=1e-4,
                            foreach=foreach)
batches = math.ceil(len(train_x) / batch)
total = batches * epochs
step = 0
for epoch in range(epochs):
    model.train()
    generator = torch.Generator().manual_seed(42 + epoch)
    order = torch.randperm(len(train_x), generator=generator)
    epoch_start = time.perf_counter()
    for index in range(batches):
        ids = order[index * batch:(index + 1) * batch]
        x, y = train_x[ids], train_y[ids]
        if step < warmup:
            lr = base_lr * (step + 1) / warmup
        else:
            lr = 0.5 * base_lr * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(total - warmup, 1))))
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        step += 1
    seconds = time.perf_counter() - epoch_start
    model.eval()
    correct = 0
    with torch.no_grad():
        for begin in range(0, len(test_x), 1000):
            correct += (model(test_x[begin:begin + 1000]).argmax(1) == test_y[begin:begin + 1000]).sum().item()
    print(json.dumps({"epoch": epoch + 1, "blas_threads": blas_threads, "samples_per_second": len(train_x) / seconds,
                      "val_accuracy": correct / len(test_x), "elapsed": time.perf_counter() - start}), flush=True)
