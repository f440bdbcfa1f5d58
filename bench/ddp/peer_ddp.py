"""The Python peer of bench_ddp.py: PyTorch DistributedDataParallel over Gloo,
as a PyTorch user writes it: the same models as bench/train/peer_train.py,
DistributedSampler, batch per worker, one intra-op thread per worker,
SGD with Nesterov momentum. Started once per rank with RANK, WORLD_SIZE,
MASTER_ADDR and MASTER_PORT set (as torchrun would).

Usage: peer_ddp.py DATA_DIR {mlp|cnn} LIMIT_TRAIN BATCH
Rank 0 prints one JSON line: {"samples_per_second", "val_accuracy", "seconds"}.
"""
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist

data_dir, kind, limit, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(1)
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(42)


def read_idx(path, offset, shape):
    raw = open(path, "rb").read()
    return torch.frombuffer(bytearray(raw[offset:]), dtype=torch.uint8).reshape(shape)


train_x = read_idx(f"{data_dir}/train-images-idx3-ubyte", 16, (-1, 1, 28, 28)).float()[:limit]
train_y = read_idx(f"{data_dir}/train-labels-idx1-ubyte", 8, (-1,)).long()[:limit]
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


model = torch.nn.parallel.DistributedDataParallel(Mlp() if kind == "mlp" else Cnn())
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
sampler = torch.utils.data.distributed.DistributedSampler(
    torch.utils.data.TensorDataset(train_x, train_y), num_replicas=world, rank=rank, shuffle=True, seed=42)
sampler.set_epoch(0)
ids_all = torch.tensor(list(sampler))
batches = math.ceil(len(ids_all) / batch)
warmup = 20
dist.barrier()
start = time.perf_counter()
model.train()
for index in range(batches):
    ids = ids_all[index * batch:(index + 1) * batch]
    lr = 0.05 * min(1.0, (index + 1) / warmup)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(train_x[ids]), train_y[ids])
    loss.backward()
    optimizer.step()
    loss.item()
seconds = torch.tensor([time.perf_counter() - start])
dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
model.eval()
if rank == 0:
    with torch.no_grad():
        correct = sum((model(test_x[b:b + 1000]).argmax(1) == test_y[b:b + 1000]).sum().item()
                      for b in range(0, len(test_x), 1000))
    print(json.dumps({"samples_per_second": len(ids_all) * world / seconds.item(),
                      "val_accuracy": correct / len(test_x), "seconds": seconds.item()}), flush=True)
dist.destroy_process_group()
