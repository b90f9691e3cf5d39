#!/usr/bin/env python3
"""The table of scripts/bench from runs/bench/*.json: times per engine and precision (median [min-max] over
the repeated runs, seconds), our bf16 rate against the bf16 matmul rate measured in the same run, the ratios
of issue 19's targets (from medians), the processor, and our bf16 forward's kernel profile summed into phases."""
import glob
import json
import os
import sys


def load(directory):
    results = {}
    for path in glob.glob(os.path.join(directory, "*-b[0-9]*.json")):
        engine, precision, batch = os.path.basename(path)[:-5].split("-")
        with open(path) as f:
            results[(engine, precision, int(batch[1:]))] = json.load(f)
    return results


def median(result, phase):
    return result[phase]["median"] if result and phase in result else None


def cell(result, phase):
    if not result or phase not in result:
        return "—"
    runs = result[phase]["runs"]
    return f"{result[phase]['median']:.3f} [{min(runs):.3f}–{max(runs):.3f}]"


PHASES = [("matmuls", ("matmul",)), ("attention", ("attention",)), ("norms", ("layerNorm",)),
          ("elementwise", ("gelu", "add", "dropout")), ("conversions", ("convert",))]


def profile(directory, batch):
    """Our bf16 forward's kernel profile summed into phases: (phase, ms per run, share)."""
    path = os.path.join(directory, "profile", f"swift-bf16-b{batch}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        kernels = json.load(f).get("profile", [])
    total = sum(k["ms"] for k in kernels)
    sums = {name: 0.0 for name, _ in PHASES}
    sums["other (outside kernels, span head)"] = 0.0
    for k in kernels:
        phase = next((name for name, prefixes in PHASES if k["name"].startswith(prefixes)), "other (outside kernels, span head)")
        sums[phase] += k["ms"]
    return [(name, ms, ms / total if total else 0) for name, ms in sums.items()]


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "runs/bench"
    results = load(directory)
    machine = os.path.join(directory, "machine.txt")
    if os.path.exists(machine):
        name, family_model, day = (open(machine).read().splitlines() + ["", "", ""])[:3]
        print(f"processor: {name} (family/model {family_model}), measured {day}")
    swift = results.get(("swift", "fp32", 8), {})
    torch = results.get(("pytorch", "fp32", 8), {})
    print(f"MiniLM-L6 span model, seq {swift.get('seq_len')}, {swift.get('threads')} threads; {torch.get('engine')} vs "
          f"{swift.get('engine')} ({swift.get('blas')}; {results.get(('swift', 'bf16', 8), {}).get('low_precision')})")
    bf16run = results.get(("swift", "bf16", 8), {})
    print(f"in the same run: sgemm {swift.get('sgemm_gflops', 0):.0f} GFLOP/s; bf16 matmul 3072×384→1536 (plain weights) "
          f"{swift.get('bf16_matmul_gflops', 0):.0f} GFLOP/s in the fp32 process, {bf16run.get('bf16_matmul_gflops', 0):.0f} "
          f"in the bf16 one (forward = {swift.get('forward_gflop', 0):.1f} GFLOP of matmuls)\n")
    rows = [("forward 8×384", "forward", 8), ("forward 1×384", "forward", 1), ("fwd+bwd 8×384", "forward_backward", 8),
            ("train step 8×384", "train_step", 8)]
    columns = [(e, p) for e in ("pytorch", "swift") for p in ("fp32", "bf16", "int8")]
    names = {"pytorch": "PyTorch", "swift": "ours"}
    print("| phase | " + " | ".join(f"{names[e]} {p}" for e, p in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for label, phase, batch in rows:
        print(f"| {label} | " + " | ".join(cell(results.get((e, p, batch)), phase) for e, p in columns) + " |")
    print("| peak RSS MB (8×384) | " + " | ".join(
        f"{results[(e, p, 8)]['peak_rss_mb']:.0f}" if (e, p, 8) in results else "—" for e, p in columns) + " |")
    flops = swift.get("forward_gflop", 0)
    bf16 = results.get(("swift", "bf16", 8), {})
    if median(bf16, "forward") and bf16.get("bf16_matmul_gflops"):
        rate = flops / median(bf16, "forward")
        share = rate / bf16['bf16_matmul_gflops']
        print(f"\nours bf16 forward: {rate:.0f} GFLOP/s = {share:.0%} of the bf16 matmul rate of its process (target ≥ 85%: "
              f"{'met' if share >= 0.85 else 'missed'})")
        if bf16.get("bf16_packed_matmul_gflops"):
            print(f"  the same matmul on a weight packed once (the fused forward's weights): "
                  f"{bf16['bf16_packed_matmul_gflops']:.0f} GFLOP/s; the forward is {rate / bf16['bf16_packed_matmul_gflops']:.0%} of that")

    def ratio(a, b, phase, batch=8):
        x, y = median(results.get(a + (batch,)), phase), median(results.get(b + (batch,)), phase)
        return y / x if x and y else None
    targets = [
        ("forward bf16 vs PyTorch bf16 autocast", ratio(("swift", "bf16"), ("pytorch", "bf16"), "forward"), 2.3),
        ("forward bf16 vs PyTorch fp32", ratio(("swift", "bf16"), ("pytorch", "fp32"), "forward"), None),
        ("batch-1 forward bf16 vs PyTorch bf16", ratio(("swift", "bf16"), ("pytorch", "bf16"), "forward", 1), 2.5),
        ("int8 forward vs our bf16", ratio(("swift", "int8"), ("swift", "bf16"), "forward"), 1.4),
        ("train step bf16 vs PyTorch bf16 autocast", ratio(("swift", "bf16"), ("pytorch", "bf16"), "train_step"), 6.0),
        ("train step bf16 vs our fp32", ratio(("swift", "bf16"), ("swift", "fp32"), "train_step"), 3.0),
        ("forward fp32 vs PyTorch fp32", ratio(("swift", "fp32"), ("pytorch", "fp32"), "forward"), 1.2),
        ("fwd+bwd fp32 vs PyTorch fp32", ratio(("swift", "fp32"), ("pytorch", "fp32"), "forward_backward"), 1.2),
        ("forward int8 vs PyTorch int8", ratio(("swift", "int8"), ("pytorch", "int8"), "forward"), None),
    ]
    print("\n| target (speed-up, medians) | measured | target | |\n|---|---|---|---|")
    for name, value, goal in targets:
        shown = f"{value:.2f}×" if value else "—"
        verdict = "" if goal is None or value is None else ("met" if value >= goal else f"missed ({value / goal:.0%} of it)")
        print(f"| {name} | {shown} | {f'≥ {goal}×' if goal else '—'} | {verdict} |")
    for batch in (8, 1):
        phases = profile(directory, batch)
        if phases:
            print(f"\nwhere our bf16 forward {batch}×{swift.get('seq_len')} spends its time (kernel profile, ms per run):")
            print("| phase | ms | share |\n|---|---|---|")
            for name, ms, share in phases:
                print(f"| {name} | {ms:.1f} | {share:.0%} |")


if __name__ == "__main__":
    main()
