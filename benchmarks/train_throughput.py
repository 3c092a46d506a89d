"""Training throughput of kdlab's device-resident loop, measured against what a user would otherwise write.

All figures come from one run on one device (named in the output):

1. SGEMM rate of this device (a large float32 matmul, same thread count) — the ceiling;
2. kdlab's ``fit`` loop on the paper's teacher (784-1200-1200-10, dropout, max-norm, ±2 px jitter on the device):
   samples/s and achieved FLOP/s as a fraction of the SGEMM rate;
3. the usual alternative: a ``Dataset`` whose ``__getitem__`` jitters one image, fed through a ``DataLoader``,
   same model, optimizer and batch size;
4. an ensemble of M models trained as one ``BatchedMLP`` against the same M models trained one after another.

    python benchmarks/train_throughput.py [--steps 150] [--batch-size 128] [--device auto] [--members 10]

Prints a Markdown table that can be pasted into benchmarks/RESULTS.md; ``--json FILE`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import time

import torch
import torch.nn.functional as F

from kdlab.core.config import TrainConfig, resolve_device
from kdlab.core.models import MLP, BatchedMLP
from kdlab.core.train import fit
from kdlab.data.mnist import load_mnist

TEACHER = (784, [1200, 1200], 10)


def device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} torch threads"


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def sgemm_rate(dev: torch.device, n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of an n×n×n float32 matmul: the best this device does on the operation training is made of."""
    a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    for _ in range(3):
        a @ b
    sync(dev)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        sync(dev)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def train_flops_per_sample(widths: tuple[int, ...]) -> float:
    """Forward 2·Σ in·out, backward weight grads 2·Σ in·out, input grads for every layer but the first."""
    macs = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return 2 * sum(macs) + 2 * sum(macs) + 2 * sum(macs[1:])


def bench_fit(x, y, dev, steps, batch_size, members=None, graph: bool = True, compiled: bool = False) -> float:
    """Seconds per step of kdlab's fit (the second of two runs, so warm-up is excluded). ``graph``: replay the step
    as a CUDA graph (``TrainConfig.cuda_graph``; CUDA only); ``compiled``: the model through ``torch.compile``."""
    n = steps * batch_size
    cfg = TrainConfig(epochs=1, batch_size=batch_size, lr=0.05, jitter=2, progress=False, cuda_graph=graph)
    torch.manual_seed(0)
    if members is None:
        model = MLP(*TEACHER, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5)
    else:
        model = BatchedMLP(members, *TEACHER, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5)
    if compiled:  # fuses dropout and ReLU; max-norm and SGD stay eager. Compiled once: the first run pays for it
        model.forward = torch.compile(model.forward)
    start = copy.deepcopy(model.state_dict())
    times = []
    for _ in range(2):
        model.load_state_dict(start)
        torch.manual_seed(0)
        sync(dev)
        t = time.perf_counter()
        fit(model, x[:n], y[:n], config=cfg, device=dev)
        sync(dev)
        times.append(time.perf_counter() - t)
    return times[-1] / steps


class JitterDataset(torch.utils.data.Dataset):
    """What a user would write: one image at a time, jittered in ``__getitem__``."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        img = self.images[i].float().div(255.0)
        dy, dx = torch.randint(-2, 3, (2,)).tolist()
        img = torch.roll(F.pad(img, (2, 2, 2, 2)), shifts=(dy, dx), dims=(0, 1))[2:-2, 2:-2]
        return img.reshape(-1), self.labels[i]


def bench_dataloader(images, labels, dev, steps, batch_size, workers) -> float:
    loader = torch.utils.data.DataLoader(
        JitterDataset(images, labels),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        pin_memory=dev.type == "cuda",
    )
    torch.manual_seed(0)
    model = MLP(*TEACHER, dropout_input=0.2, dropout_hidden=0.5, max_norm=3.5).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    model.train()
    it = iter(loader)
    for _ in range(3):  # warm-up (and worker start-up) excluded
        xb, yb = next(it)
    sync(dev)
    t = time.perf_counter()
    for _ in range(steps):
        xb, yb = next(it)
        xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.apply_max_norm()
    sync(dev)
    return (time.perf_counter() - t) / steps


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--ensemble-steps", type=int, default=30)
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: 2 on CPU, 4 on CUDA)")
    ap.add_argument("--compile", action="store_true", help="also time the teacher with torch.compile (slow to build)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    dev = resolve_device(args.device)
    mnist = load_mnist()
    x, y = mnist.flat("train")
    x, y = x.to(dev), y.to(dev)
    workers = args.workers if args.workers is not None else (4 if dev.type == "cuda" else 2)
    name = device_name(dev)
    print(f"device: {dev} ({name}); torch {torch.__version__}", flush=True)

    peak = sgemm_rate(dev)
    flops = train_flops_per_sample((784, 1200, 1200, 10))
    step = bench_fit(x, y, dev, args.steps, args.batch_size)
    eager_step = bench_fit(x, y, dev, args.steps, args.batch_size, graph=False) if dev.type == "cuda" else step
    compiled_step = bench_fit(x, y, dev, args.steps, args.batch_size, compiled=True) if args.compile else None
    loader_step = bench_dataloader(
        mnist.train_images, mnist.train_labels, dev, min(args.steps, 100), args.batch_size, workers
    )
    ens_step = bench_fit(x, y, dev, args.ensemble_steps, args.batch_size, members=args.members)
    single_step = bench_fit(x, y, dev, args.ensemble_steps, args.batch_size)

    r = {
        "device": name,
        "device_type": dev.type,
        "torch": torch.__version__,
        "batch_size": args.batch_size,
        "sgemm_gflops": peak / 1e9,
        "kdlab_samples_per_s": args.batch_size / step,
        "kdlab_gflops": flops * args.batch_size / step / 1e9,
        "fraction_of_sgemm": flops * args.batch_size / step / peak,
        "cuda_graph": dev.type == "cuda",
        "eager_samples_per_s": args.batch_size / eager_step,
        "graph_speedup": eager_step / step,
        "compiled_samples_per_s": None if compiled_step is None else args.batch_size / compiled_step,
        "compiled_fraction_of_sgemm": None if compiled_step is None else flops * args.batch_size / compiled_step / peak,
        "dataloader_samples_per_s": args.batch_size / loader_step,
        "speedup_vs_dataloader": loader_step / step,
        "dataloader_workers": workers,
        "ensemble_members": args.members,
        "batched_ensemble_s_per_step": ens_step,
        "sequential_ensemble_s_per_step": args.members * single_step,
        "batched_vs_sequential": args.members * single_step / ens_step,
    }
    print(f"\n| figure | value |\n|---|---|\n| device | {name} |\n| SGEMM rate | {r['sgemm_gflops']:.1f} GFLOP/s |")
    print(
        f"| kdlab teacher (batch {args.batch_size}, jitter, dropout, max-norm) | {r['kdlab_samples_per_s']:,.0f} samples/s,"
        f" {r['kdlab_gflops']:.1f} GFLOP/s = {100 * r['fraction_of_sgemm']:.0f} % of SGEMM |"
    )
    if dev.type == "cuda":
        print(f"| same, eager (no CUDA graph) | {r['eager_samples_per_s']:,.0f} samples/s → the graph is "
              f"{r['graph_speedup']:.2f}× faster |")  # fmt: skip
    if compiled_step is not None:
        print(f"| same, model through torch.compile | {r['compiled_samples_per_s']:,.0f} samples/s = "
              f"{100 * r['compiled_fraction_of_sgemm']:.0f} % of SGEMM |")  # fmt: skip
    print(
        f"| Dataset+DataLoader ({workers} workers) | {r['dataloader_samples_per_s']:,.0f} samples/s → kdlab is "
        f"{r['speedup_vs_dataloader']:.2f}× faster |"
    )
    print(
        f"| ensemble of {args.members} teachers | batched {ens_step * 1e3:.0f} ms/step vs sequential "
        f"{args.members * single_step * 1e3:.0f} ms/step → {r['batched_vs_sequential']:.2f}× |"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)
    return r


if __name__ == "__main__":
    main(sys.argv[1:])
