#!/usr/bin/env python3
"""Summarises scripts/scaling-measure's runs and extrapolates data-parallel training with the ring-allreduce
model T_allreduce(p) = 2(p-1)/p * S/B + 2(p-1)*alpha (S: gradient bytes, B: link bandwidth, alpha: latency).

Measured here: the per-step time of `train` on 1 process and on 2 MPI ranks (1 thread each), the seconds
per real token of one process, and the 2-rank allreduce of 1 float (alpha = t/2) and of the whole gradient
(B = S / (t - 2 alpha)). Extrapolated: the step time on p ranks for a global batch G of 384-token windows,
T(p) = G/p * t_window + T_allreduce(p) (no overlap), its parallel efficiency, and the time of one epoch of
the MRQA training set (~600K windows at 384)."""
import json
import statistics
import sys
from pathlib import Path

WINDOWS = 600_000
RANKS = [1, 2, 8, 32, 128]
BATCHES = [32, 256]
# A cluster link for comparison: assumed, not measured (25 GbE with ~30 us MPI latency).
ASSUMED_LINK = (25e9 / 8, 30e-6)


def step_times(run):
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [(b["elapsed_s"] - a["elapsed_s"], b["tokens_per_s"] * (b["elapsed_s"] - a["elapsed_s"]))
             for a, b in zip(records, records[1:])]
    return [s for s, _ in steps], sum(t for _, t in steps)


def ring(p, size, bandwidth, alpha):
    return 0.0 if p == 1 else 2 * (p - 1) / p * size / bandwidth + 2 * (p - 1) * alpha


def main(out):
    out = Path(out)
    reduce = [json.loads(line) for line in (out / "allreduce.jsonl").read_text().splitlines()]
    print("| model | parameters | gradient MB | ranks | step s (median [range over runs]) | allreduce s (median [min-max]) |")
    print("|---|---|---|---|---|---|")
    plans = []
    for model in ("student", "teacher"):
        small = next(r for r in reduce if r["model"] == model and r["floats"] == 1)
        full = next(r for r in reduce if r["model"] == model and r["floats"] > 1)
        alpha = small["median_s"] / 2
        bandwidth = full["bytes"] / max(full["median_s"] - 2 * alpha, 1e-9)
        token_seconds = []
        for ranks in (1, 2):
            medians = []
            for run in sorted(out.glob(f"{model}-np{ranks}-r*")):
                times, tokens = step_times(run)
                medians.append(statistics.median(times))
                if ranks == 1:
                    token_seconds.append(sum(times) / tokens)
            reduce_cell = (f"{full['median_s']:.4f} [{full['min_s']:.4f}-{full['max_s']:.4f}]" if ranks == 2 else "-")
            print(f"| {model} | {full['floats']:,} | {full['bytes'] / 1e6:.1f} | {ranks} | "
                  f"{statistics.median(medians):.3f} [{min(medians):.3f}-{max(medians):.3f}] | {reduce_cell} |")
        window = statistics.median(token_seconds) * 384
        plans.append((model, full["bytes"], window, bandwidth, alpha))
    print()
    for model, size, window, bandwidth, alpha in plans:
        print(f"{model}: {window:.3f} s per 384-token window (1 thread); measured shared-memory allreduce: "
              f"B = {bandwidth / 1e9:.2f} GB/s, alpha = {alpha * 1e6:.1f} us")
    print()
    print("load (uptime) before and after:", *(line.strip() for line in (out / "load.txt").read_text().splitlines()), sep="\n  ")
    print()
    print("| model | link | G | p | compute s/step | allreduce s/step | efficiency | epoch h (600K windows) |")
    print("|---|---|---|---|---|---|---|---|")
    for model, size, window, bandwidth, alpha in plans:
        for link, (b, a) in (("measured shm", (bandwidth, alpha)), ("assumed 25GbE", ASSUMED_LINK)):
            for batch in BATCHES:
                for p in RANKS:
                    if p > batch:
                        continue
                    compute = batch / p * window
                    comm = ring(p, size, b, a)
                    epoch = WINDOWS / batch * (compute + comm) / 3600
                    print(f"| {model} | {link} | {batch} | {p} | {compute:.3f} | {comm:.3f} | "
                          f"{compute / (compute + comm):.0%} | {epoch:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/scaling")
