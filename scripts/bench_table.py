#!/usr/bin/env python3
"""The table of scripts/bench from runs/bench/round-N/*.json: times per engine and precision (median [min-max] over
the repeated runs of every round, seconds), our bf16 rate against the bf16 matmul rate measured in the same process,
the ratios of issue 19's targets, each taken within a round (from medians) and given as the median [min-max] over
the rounds, the processor, and our bf16 forward's kernel profile summed into phases."""
import glob
import json
import os
import statistics
import sys


def load_round(directory):
    results = {}
    for path in glob.glob(os.path.join(directory, "*-b[0-9]*.json")):
        engine, precision, batch = os.path.basename(path)[:-5].split("-")
        with open(path) as f:
            results[(engine, precision, int(batch[1:]))] = json.load(f)
    return results


def load(directory):
    """One dict of results per round (a directory without rounds is one round)."""
    rounds = sorted(glob.glob(os.path.join(directory, "round-*")), key=lambda d: int(d.rsplit("-", 1)[1]))
    return [load_round(d) for d in rounds] or [load_round(directory)]


def median(result, phase):
    return result[phase]["median"] if result and phase in result else None


def cell(rounds, key, phase):
    runs = [t for r in rounds if key in r and phase in r[key] for t in r[key][phase]["runs"]]
    if not runs:
        return "—"
    return f"{statistics.median(runs):.3f} [{min(runs):.3f}–{max(runs):.3f}]"


def spread(values, unit="×", digits=2):
    """median [min–max] of per-round values, or the one value."""
    values = [v for v in values if v is not None]
    if not values:
        return None, "—"
    m = statistics.median(values)
    if len(values) == 1:
        return m, f"{m:.{digits}f}{unit}"
    return m, f"{m:.{digits}f}{unit} [{min(values):.{digits}f}–{max(values):.{digits}f}] over {len(values)} rounds"


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
    rounds = load(directory)
    first = rounds[0]
    machine = os.path.join(directory, "machine.txt")
    if os.path.exists(machine):
        name, family_model, day = (open(machine).read().splitlines() + ["", "", ""])[:3]
        print(f"processor: {name} (family/model {family_model}), measured {day}")
    swift = first.get(("swift", "fp32", 8), {})
    torch = first.get(("pytorch", "fp32", 8), {})
    print(f"MiniLM-L6 span model, seq {swift.get('seq_len')}, {swift.get('threads')} threads; {torch.get('engine')} vs "
          f"{swift.get('engine')} ({swift.get('blas')}; {first.get(('swift', 'bf16', 8), {}).get('low_precision')}); "
          f"{len(rounds)} round(s) of every process")
    rates = [(r.get(("swift", "fp32", 8), {}).get("sgemm_gflops"), r.get(("swift", "fp32", 8), {}).get("bf16_matmul_gflops"),
              r.get(("swift", "bf16", 8), {}).get("bf16_matmul_gflops")) for r in rounds]
    by_round = "; ".join(f"{s or 0:.0f}; {a or 0:.0f} / {b or 0:.0f}" for s, a, b in rates)
    print("in the same processes (each the better of a measurement before and one after the timed phases), GFLOP/s "
          f"(sgemm; bf16 matmul 3072×384→1536, plain weights, in the fp32 / the bf16 process), round by round: {by_round}"
          f" (forward = {swift.get('forward_gflop', 0):.1f} GFLOP of matmuls)\n")
    rows = [("forward 8×384", "forward", 8), ("forward 1×384", "forward", 1), ("fwd+bwd 8×384", "forward_backward", 8),
            ("train step 8×384", "train_step", 8)]
    columns = [(e, p) for e in ("pytorch", "swift") for p in ("fp32", "bf16", "int8")]
    names = {"pytorch": "PyTorch", "swift": "ours"}
    print("| phase | " + " | ".join(f"{names[e]} {p}" for e, p in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for label, phase, batch in rows:
        print(f"| {label} | " + " | ".join(cell(rounds, (e, p, batch), phase) for e, p in columns) + " |")
    print("| peak RSS MB (8×384) | " + " | ".join(
        f"{max(r[(e, p, 8)]['peak_rss_mb'] for r in rounds if (e, p, 8) in r):.0f}"
        if any((e, p, 8) in r for r in rounds) else "—" for e, p in columns) + " |")
    flops = swift.get("forward_gflop", 0)

    def fraction(r, rate_key):
        bf16 = r.get(("swift", "bf16", 8), {})
        if not (median(bf16, "forward") and bf16.get(rate_key)):
            return None
        return flops / median(bf16, "forward") / bf16[rate_key]
    share, shown = spread([fraction(r, "bf16_matmul_gflops") for r in rounds], unit="", digits=2)
    if share is not None:
        print(f"\nours bf16 forward, as a fraction of the bf16 matmul rate of its process: {shown} (target ≥ 0.85: "
              f"{'met' if share >= 0.85 else 'missed'})")
        _, packed = spread([fraction(r, "bf16_packed_matmul_gflops") for r in rounds], unit="", digits=2)
        print(f"  of the same matmul on a weight packed once (the fused forward's weights): {packed}")
        bf16_process = [r.get(("swift", "bf16", 8), {}) for r in rounds]
        if any(p.get("bf16_peak_gflops") for p in bf16_process):
            unit = next(p["bf16_peak_unit"] for p in bf16_process if p.get("bf16_peak_unit"))
            _, peak = spread([p.get("bf16_peak_gflops") for p in bf16_process], unit="", digits=0)
            _, rate = spread([p["bf16_matmul_gflops"] / p["bf16_peak_gflops"] if p.get("bf16_peak_gflops") else None
                              for p in bf16_process], unit="", digits=2)
            _, whole = spread([fraction(r, "bf16_peak_gflops") for r in rounds], unit="", digits=2)
            print(f"  the processor's bf16 dot-product peak ({unit}, products on registers or tiles only, every worker), "
                  f"GFLOP/s: {peak}; the matmul rate is {rate} of it, the forward {whole}")

    def ratio(r, a, b, phase, batch=8):
        x, y = median(r.get(a + (batch,)), phase), median(r.get(b + (batch,)), phase)
        return y / x if x and y else None
    targets = [
        ("forward bf16 vs PyTorch bf16 autocast", (("swift", "bf16"), ("pytorch", "bf16"), "forward"), 2.3),
        ("forward bf16 vs PyTorch fp32", (("swift", "bf16"), ("pytorch", "fp32"), "forward"), None),
        ("batch-1 forward bf16 vs PyTorch bf16", (("swift", "bf16"), ("pytorch", "bf16"), "forward", 1), 2.5),
        ("int8 forward vs our bf16", (("swift", "int8"), ("swift", "bf16"), "forward"), 1.4),
        ("train step bf16 vs PyTorch bf16 autocast", (("swift", "bf16"), ("pytorch", "bf16"), "train_step"), 6.0),
        ("train step bf16 vs our fp32", (("swift", "bf16"), ("swift", "fp32"), "train_step"), 3.0),
        ("forward fp32 vs PyTorch fp32", (("swift", "fp32"), ("pytorch", "fp32"), "forward"), 1.2),
        ("fwd+bwd fp32 vs PyTorch fp32", (("swift", "fp32"), ("pytorch", "fp32"), "forward_backward"), 1.2),
        ("forward int8 vs PyTorch int8", (("swift", "int8"), ("pytorch", "int8"), "forward"), None),
    ]
    print("\n| target (speed-up, within a round, from medians) | measured | target | |\n|---|---|---|---|")
    for name, args, goal in targets:
        value, shown = spread([ratio(r, *args) for r in rounds])
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
