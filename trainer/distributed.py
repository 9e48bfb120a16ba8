"""torchrun support: who am I, which device, and the few collective calls the loop needs.

Launched without torchrun everything here is a no-op (world size 1), so the
single-process trainer runs exactly as before.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, global_batch: int) -> slice:
        """This rank's share of a global batch (DistributedSampler-style: disjoint, equal slices)."""
        per = global_batch // self.world_size
        return slice(self.rank * per, (self.rank + 1) * per)

    def any(self, flag: bool) -> bool:
        """True on every rank if it is true on any (stop signals, time limits), so all ranks leave the loop together."""
        if not self.enabled:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        """Average a scalar over ranks (a NaN anywhere makes it NaN everywhere, so every rank stops together)."""
        if not self.enabled:
            return x
        t = x.detach().float().reshape(1).clone()
        dist.all_reduce(t)
        return t / self.world_size

    def average_gradients(self, module: torch.nn.Module) -> None:
        """Average .grad over ranks, for a backward pass that did not go through DDP."""
        if not self.enabled:
            return
        for p in module.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad)
                p.grad.div_(self.world_size)

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def setup() -> Dist:
    """Read torchrun's environment; init the process group (nccl on CUDA, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Dist(rank, world, local, device)
