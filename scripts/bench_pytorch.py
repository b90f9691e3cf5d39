#!/usr/bin/env python3
"""PyTorch twin of `mrc-bench engine`: MiniLM-L6 BertForQuestionAnswering, batch 8 x 384, on N threads.

--precision fp32 (plain), bf16 (every phase under torch.autocast("cpu", dtype=torch.bfloat16), what a user
turns on for speed) or int8 (torch.ao.quantization.quantize_dynamic of the Linear layers: forward only).

Times, best and median of --repeats after --warmup runs: forward (inference, no_grad), forward+backward
with dropout off, and a full training step (dropout 0.1, AdamW lr 3e-5 wd 0.01, zero_grad). Prints one
JSON object; peak memory is this process's ru_maxrss, so run it in its own process.
Inputs are the same deterministic token ids as the Swift side (see benchInputIds in mrc-bench).
"""
import argparse
import json
import resource
import statistics
import sys
import time


def input_ids(batch, seq_len, vocab):
    # Same formula as the Swift bench: [CLS] … [SEP] around ids spread over the vocabulary.
    ids = []
    for b in range(batch):
        row = [(b * 7919 + t * 104729) % (vocab - 1000) + 1000 for t in range(seq_len)]
        row[0], row[-1] = 101, 102
        ids.append(row)
    return ids


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"best": min(times), "median": statistics.median(times), "runs": times}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="all-MiniLM-L6-v2 directory (bash scripts/minilm-dir)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=384)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", choices=["fp32", "bf16", "int8"], default="fp32")
    parser.add_argument("--phases", nargs="+", default=["forward", "forward_backward", "train_step"])
    args = parser.parse_args()

    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = BertConfig.from_pretrained(args.model)
    model = BertForQuestionAnswering.from_pretrained(args.model, config=config)
    ids = torch.tensor(input_ids(args.batch, args.seq_len, config.vocab_size), dtype=torch.long)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    starts = torch.tensor([(7 * b) % args.seq_len for b in range(args.batch)])
    ends = torch.tensor([(7 * b + 5) % args.seq_len for b in range(args.batch)])
    inputs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types)

    autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")
    if args.precision == "int8":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        args.phases = [p for p in args.phases if p == "forward"]

    def forward():
        with torch.no_grad(), autocast():
            model(**inputs)

    def forward_backward():
        with autocast():
            out = model(**inputs, start_positions=starts, end_positions=ends)
        out.loss.backward()

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01) if "train_step" in args.phases else None

    def train_step():
        optimizer.zero_grad(set_to_none=False)
        with autocast():
            out = model(**inputs, start_positions=starts, end_positions=ends)
        out.loss.backward()
        optimizer.step()

    results = {"engine": f"pytorch {torch.__version__}", "attention": config._attn_implementation,
               "threads": args.threads, "batch": args.batch, "seq_len": args.seq_len, "precision": args.precision}
    model.eval()  # dropout off
    if "forward" in args.phases:
        results["forward"] = timed(forward, args.warmup, args.repeats)
    if "forward_backward" in args.phases:
        results["forward_backward"] = timed(forward_backward, args.warmup, args.repeats)
    if "train_step" in args.phases:
        model.zero_grad(set_to_none=False)
        model.train()  # dropout 0.1 (hidden and attention probabilities, from config.json)
        results["train_step"] = timed(train_step, args.warmup, args.repeats)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(results, sys.stdout)
    print()


if __name__ == "__main__":
    main()
