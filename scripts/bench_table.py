#!/usr/bin/env python3
"""Prints the side-by-side table of scripts/bench from the two JSON results (PyTorch, Swift)."""
import json
import sys


def main():
    torch = json.load(open(sys.argv[1]))
    swift = json.load(open(sys.argv[2]))
    tokens = swift["batch"] * swift["seq_len"]
    forward_flop = swift["forward_gflop"]
    # Backward costs two forward's worth of matmul FLOPs (input and weight gradients).
    flops = {"forward": forward_flop, "forward_backward": 3 * forward_flop, "train_step": 3 * forward_flop}
    print(f"MiniLM-L6 span model, batch {swift['batch']} x {swift['seq_len']}, {swift['threads']} threads; "
          f"{torch['engine']} ({torch['attention']} attention) vs {swift['engine']} ({swift['blas']}); "
          f"best of {len(swift['forward']['runs']) if 'forward' in swift else '?'} runs")
    print(f"measured sgemm in the Swift run: {swift['sgemm_gflops']:.0f} GFLOP/s "
          f"(forward = {forward_flop:.1f} GFLOP of matmuls)")
    header = f"{'phase':<24}{'PyTorch s':>10}{'Swift s':>10}{'speed-up':>10}{'tok/s PT':>10}{'tok/s Sw':>10}" \
             f"{'Sw GFLOP/s':>12}{'of sgemm':>10}"
    print(header)
    print("-" * len(header))
    names = {"forward": "forward (inference)", "forward_backward": "fwd+bwd, dropout off",
             "train_step": "train step AdamW, p=0.1"}
    for phase, label in names.items():
        if phase not in torch or phase not in swift:
            print(f"{label:<24}{'missing':>10}")
            continue
        t, s = torch[phase]["best"], swift[phase]["best"]
        rate = flops[phase] / s
        print(f"{label:<24}{t:>10.3f}{s:>10.3f}{t / s:>9.2f}x{tokens / t:>10.0f}{tokens / s:>10.0f}"
              f"{rate:>12.0f}{rate / swift['sgemm_gflops']:>9.0%}")
    print(f"{'peak memory (ru_maxrss)':<24}{torch['peak_rss_mb']:>8.0f}MB{swift['peak_rss_mb']:>8.0f}MB")
    for name, result in (("PyTorch", torch), ("Swift", swift)):
        medians = ", ".join(f"{p} {result[p]['median']:.3f}" for p in names if p in result)
        print(f"medians {name}: {medians}")


if __name__ == "__main__":
    main()
