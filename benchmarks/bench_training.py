"""Training-step and whole-image throughput of a registered network in float32 vs bf16 autocast.

Not a test: prints a table.  Run from the repository root::

    .venv/bin/python benchmarks/bench_training.py [--arch vgg] [--threads 2]

Figures
-------
step        one AdamW step (forward_context + loss + backward + update) on a batch of
            ``--batch`` patches of the default recipe's size (96 px + 2 x 32 px context),
            median of ``--repeat`` steps after two warm-up steps;
patches/s   batch / step;
features    forward_features over one 1600 x 1000 px image (a CBIS view at 0.3 mm), eval mode.

``mammoview train --precision auto`` picks bf16 where the CPU computes it natively
(AMX / AVX512-BF16: :func:`mammoview.cad.device.native_bf16`); this script shows what that buys.
"""

from __future__ import annotations

import argparse
import time

import torch
from timing import median_seconds

from mammoview.cad.device import native_bf16
from mammoview.cad.registry import create_model


def step_seconds(arch: str, dtype: torch.dtype | None, batch: int, slot: int, context: int, repeat: int) -> float:
    torch.manual_seed(0)
    model = create_model(arch, in_chans=1).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    x = torch.randn(batch, 1, slot, slot).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 3, (batch,))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = model.forward_context(x, context)
        torch.nn.functional.cross_entropy(logits[:, :3].float(), y).backward()
        opt.step()

    return median_seconds(step, repeat, warmup=2)


def features_seconds(arch: str, dtype: torch.dtype | None, shape: tuple[int, int]) -> float:
    model = create_model(arch, in_chans=1).to(memory_format=torch.channels_last).eval()
    x = torch.randn(1, 1, *shape).contiguous(memory_format=torch.channels_last)
    times = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
        for _ in range(3):
            t = time.perf_counter()
            model.forward_features(x)
            times.append(time.perf_counter() - t)
    return min(times[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="vgg")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--patch", type=int, default=96)
    ap.add_argument("--context", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=6)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    slot = args.patch + 2 * args.context
    print(
        f"{args.arch}, {args.threads} threads, batch {args.batch} x {slot} px, torch {torch.__version__}, "
        f"native bf16 on this CPU: {native_bf16(torch.device('cpu'))}"
    )
    rows = []
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        step = step_seconds(args.arch, dtype, args.batch, slot, args.context, args.repeat)
        feat = features_seconds(args.arch, dtype, (1600, 1000))
        rows.append((name, step, feat))
    print(f"{'':6s} {'step ms':>8s} {'patches/s':>10s} {'features ms':>12s}")
    for name, step, feat in rows:
        print(f"{name:6s} {step * 1e3:8.0f} {args.batch / step:10.0f} {feat * 1e3:12.0f}")
    print(f"bf16 speed-up: step {rows[0][1] / rows[1][1]:.2f}x, features {rows[0][2] / rows[1][2]:.2f}x")


if __name__ == "__main__":
    main()
