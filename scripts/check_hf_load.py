#!/usr/bin/env python3
"""Checks that a model directory written by mrc-distill loads unchanged in Hugging Face transformers.

  python3 scripts/check_hf_load.py MODEL_DIR [--binary PATH] [--pairs N] [--max-seq-len N]

Loads MODEL_DIR with AutoModelForQuestionAnswering.from_pretrained (BERT, RoBERTa, DistilBERT or ELECTRA; no
missing, mismatched or unexpected encoder/span-head tensors allowed) and its tokenizer with
AutoTokenizer.from_pretrained (vocab.txt, or vocab.json + merges.txt, and tokenizer_config.json), then for real SQuAD dev question+context pairs compares Hugging Face's input ids,
start/end logits and last hidden state with the output of `mrc-distill forward --model MODEL_DIR --hidden`. Exits 1 on any
difference above 1e-4. Needs torch, transformers and a built mrc-distill (default: .build/release, then
.build/debug).

One way to get a directory we wrote: the ModelTests test StudentDirectoryTests saves a 3-layer student
of all-MiniLM-L6-v2 with a new span head; keep it with
  MRC_KEEP_STUDENT_DIR=/tmp/student swift test --filter StudentDirectoryTests
"""
import argparse
import inspect
import json
import os
import subprocess
import sys

import torch
from transformers import AutoModelForQuestionAnswering, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("MRC_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))


def find_binary(explicit):
    if explicit:
        return explicit
    for kind in ("release", "debug"):
        path = os.path.join(ROOT, ".build", kind, "mrc-distill")
        if os.path.exists(path):
            return path
    sys.exit("no mrc-distill binary: run `swift build` (or pass --binary)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("--binary")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--max-seq-len", type=int, default=256)
    parser.add_argument("--data", help="SQuAD-format file of the pairs (default: SQuAD dev v1.1 of ../shared/data)")
    args = parser.parse_args()
    binary = find_binary(args.binary)

    model, info = AutoModelForQuestionAnswering.from_pretrained(args.model_dir, attn_implementation="eager",
                                                                output_loading_info=True)
    model.eval()
    unexpected = [k for k in info["unexpected_keys"] if not k.startswith(("cls.predictions.", "lm_head.", "vocab_"))]
    problems = {"missing": info["missing_keys"], "mismatched": info["mismatched_keys"], "unexpected": unexpected}
    if any(problems.values()):
        sys.exit(f"FAIL: Hugging Face did not load the directory unchanged: {problems}")
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir, use_fast=True)

    with open(args.data or os.path.join(SHARED, "squad", "dev-v1.1.json")) as f:
        squad = json.load(f)
    # Pairs whose question leaves room for context (a tiny fixture vocabulary splits words into letters).
    pairs = [(q["question"], p["context"]) for a in squad["data"] for p in a["paragraphs"] for q in p["qas"][:1]
             if len(tokenizer(q["question"])["input_ids"]) < args.max_seq_len // 2][:args.pairs]
    accepted = inspect.signature(model.forward).parameters  # DistilBERT takes no token_type_ids
    worst = 0.0
    for question, context in pairs:
        enc = tokenizer(question, context, truncation="only_second", max_length=args.max_seq_len, return_tensors="pt")
        enc = {k: v for k, v in enc.items() if k in accepted}
        with torch.no_grad():
            out = model(**enc, output_hidden_states=True)
        ours = json.loads(subprocess.check_output(
            [binary, "forward", "--model", args.model_dir, "--question", question, "--context", context,
             "--max-seq-len", str(args.max_seq_len), "--hidden"]))
        if ours["input_ids"] != enc["input_ids"][0].tolist():
            sys.exit(f"FAIL: input ids differ for {question!r}:\n ours {ours['input_ids']}\n HF   {enc['input_ids'][0].tolist()}")
        for side in ("start", "end"):
            diff = (torch.tensor(ours[f"{side}_logits"]) - out[f"{side}_logits"][0]).abs().max().item()
            worst = max(worst, diff)
        hidden = (torch.tensor(ours["last_hidden_state"]) - out.hidden_states[-1][0]).abs().max().item()
        worst = max(worst, hidden)
        print(f"{len(ours['input_ids'])} tokens: max |ours - HF| (logits, hidden states) so far {worst:.2e}")
    if worst > 1e-4:
        sys.exit(f"FAIL: logits or hidden states differ by {worst:.2e} (> 1e-4)")
    print(f"OK: {args.model_dir} loads in transformers {type(model).__name__}; {len(pairs)} pairs, "
          f"max difference of logits and hidden states {worst:.2e}")


if __name__ == "__main__":
    main()
