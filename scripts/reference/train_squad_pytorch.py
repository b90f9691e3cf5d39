#!/usr/bin/env python3
"""The PyTorch + transformers twin of `mrc-distill train`: the reference recipe the Swift trainer is
measured against (README "Fine-tuning"), run side by side on the same machine.

Recipe: BertForQuestionAnswering from a pretrained encoder (span head N(0, 0.02)), optionally keeping
only some encoder layers (`--layers 0,2,4`); windows as Hugging Face run_qa builds them
(truncation="only_second", `--doc-stride` tokens of overlap, answers outside a window labelled at
[CLS]); AdamW (wd 0.01, biases and LayerNorm weights not decayed), linear warmup (10%) then linear
decay, global-norm clipping 1.0, dropout 0.1, shuffled batches padded to their longest window;
then n-best (20) / max answer length (30) decoding and the official SQuAD v1.1 EM/F1 on `--dev`.

Example (the 3-layer student of the README):
  python3 scripts/reference/train_squad_pytorch.py --layers 0,2,4 \
      --train ../shared/data/squad/train-v1.1.json --dev ../shared/data/squad/dev-v1.1.json --out /tmp/ref-student
Smoke run: add `--max-steps 20`.
"""
import argparse
import collections
import json
import math
import pathlib
import random
import re
import string
import subprocess
import sys
import time

import numpy as np
import torch
from transformers import BertForQuestionAnswering, BertTokenizerFast, get_linear_schedule_with_warmup


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="pretrained encoder directory (default: scripts/minilm-dir)")
    p.add_argument("--train", nargs="+", required=True, help="SQuAD JSON training file(s)")
    p.add_argument("--dev", nargs="*", default=[], help="SQuAD JSON dev file(s) to evaluate after training")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--layers", help="comma-separated encoder layers to keep, e.g. 0,2,4")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-seq-len", type=int, default=256)
    p.add_argument("--doc-stride", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--n-best", type=int, default=20)
    p.add_argument("--max-answer-length", type=int, default=30)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-steps", type=int, help="stop after this many steps (smoke runs)")
    return p.parse_args()


def read_squad(paths):
    examples = []
    for path in paths:
        for article in json.load(open(path))["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    examples.append({"id": qa["id"], "question": qa["question"].lstrip(), "context": paragraph["context"],
                                     "answers": qa["answers"]})
    return examples


def encode(tokenizer, examples, args):
    return tokenizer([e["question"] for e in examples], [e["context"] for e in examples], truncation="only_second",
                     max_length=args.max_seq_len, stride=args.doc_stride, return_overflowing_tokens=True,
                     return_offsets_mapping=True)


def train_features(tokenizer, examples, args):
    enc = encode(tokenizer, examples, args)
    features = []
    for i, ids in enumerate(enc["input_ids"]):
        example = examples[enc["overflow_to_sample_mapping"][i]]
        sequence_ids = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        answer = example["answers"][0]
        start_char, end_char = answer["answer_start"], answer["answer_start"] + len(answer["text"])
        first = sequence_ids.index(1)
        last = len(sequence_ids) - 1 - sequence_ids[::-1].index(1)
        start = end = 0  # [CLS] when the answer is not inside this window
        if offsets[first][0] <= start_char and offsets[last][1] >= end_char:
            start = first
            while start <= last and offsets[start][0] <= start_char:
                start += 1
            start -= 1
            end = last
            while end >= first and offsets[end][1] >= end_char:
                end -= 1
            end += 1
        features.append((ids, enc["token_type_ids"][i], start, end))
    return features


def pad(rows, value=0):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows])


def build_model(args):
    model = BertForQuestionAnswering.from_pretrained(args.model, hidden_dropout_prob=args.dropout,
                                                     attention_probs_dropout_prob=args.dropout)
    if args.layers:
        keep = [int(x) for x in args.layers.split(",")]
        model.bert.encoder.layer = torch.nn.ModuleList([model.bert.encoder.layer[i] for i in keep])
        model.config.num_hidden_layers = len(keep)
    return model


def train(model, features, args, log):
    random.seed(args.seed)
    no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
    groups = [{"params": [p for n, p in model.named_parameters() if not no_decay(n)], "weight_decay": args.weight_decay},
              {"params": [p for n, p in model.named_parameters() if no_decay(n)], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=args.learning_rate)
    per_epoch = math.ceil(len(features) / args.batch_size)
    total = math.ceil(per_epoch * args.epochs)
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(args.warmup_ratio * total), total)
    steps = min(total, args.max_steps) if args.max_steps else total
    model.train()
    step, tokens, started = 0, 0, time.time()
    while step < steps:
        order = list(range(len(features)))
        random.shuffle(order)
        for b in range(0, len(order), args.batch_size):
            if step >= steps:
                break
            batch = [features[i] for i in order[b:b + args.batch_size]]
            ids = pad([f[0] for f in batch])
            types = pad([f[1] for f in batch])
            mask = pad([[1] * len(f[0]) for f in batch])
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask,
                        start_positions=torch.tensor([f[2] for f in batch]),
                        end_positions=torch.tensor([f[3] for f in batch]))
            out.loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            tokens += int(mask.sum())
            elapsed = time.time() - started
            log.write(json.dumps({"step": step, "loss": out.loss.item(), "learning_rate": lr, "grad_norm": float(norm),
                                  "tokens_per_s": tokens / elapsed, "elapsed_s": elapsed}) + "\n")
            log.flush()
            if step % 10 == 0 or step == steps:
                print(f"step {step}/{steps} loss {out.loss.item():.4f} {tokens / elapsed:.0f} tok/s", file=sys.stderr)
    return step, tokens, time.time() - started


@torch.no_grad()
def predict(model, tokenizer, examples, args):
    model.eval()
    enc = encode(tokenizer, examples, args)
    by_example = collections.defaultdict(list)
    for b in range(0, len(enc["input_ids"]), 64):
        rows = range(b, min(b + 64, len(enc["input_ids"])))
        ids = pad([enc["input_ids"][i] for i in rows])
        out = model(input_ids=ids, token_type_ids=pad([enc["token_type_ids"][i] for i in rows]),
                    attention_mask=pad([[1] * len(enc["input_ids"][i]) for i in rows]))
        for k, i in enumerate(rows):
            n = len(enc["input_ids"][i])
            by_example[enc["overflow_to_sample_mapping"][i]].append(
                (out.start_logits[k, :n].numpy(), out.end_logits[k, :n].numpy(), i))
    predictions, nbest_all = {}, {}
    for index, example in enumerate(examples):
        candidates = []
        for start_logits, end_logits, i in by_example[index]:
            offsets, sequence_ids = enc["offset_mapping"][i], enc.sequence_ids(i)
            starts = np.argsort(start_logits)[-1:-args.n_best - 1:-1]
            ends = np.argsort(end_logits)[-1:-args.n_best - 1:-1]
            for s in starts:
                for e in ends:
                    if sequence_ids[s] != 1 or sequence_ids[e] != 1 or e < s or e - s + 1 > args.max_answer_length:
                        continue
                    candidates.append((float(start_logits[s] + end_logits[e]), float(start_logits[s]),
                                       float(end_logits[e]), example["context"][offsets[s][0]:offsets[e][1]]))
        candidates = sorted(candidates, reverse=True)[:args.n_best] or [(0.0, 0.0, 0.0, "")]
        scores = np.array([c[0] for c in candidates])
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        predictions[example["id"]] = candidates[0][3]
        nbest_all[example["id"]] = [{"text": c[3], "probability": float(p), "start_logit": c[1], "end_logit": c[2]}
                                    for c, p in zip(candidates, probs)]
    return predictions, nbest_all


def normalize(s):
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


def f1(prediction, truth):
    p, t = normalize(prediction).split(), normalize(truth).split()
    common = collections.Counter(p) & collections.Counter(t)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(t)
    return 2 * precision * recall / (precision + recall)


def evaluate(examples, predictions):
    em = f1_total = 0.0
    for e in examples:
        truths = [a["text"] for a in e["answers"]]
        prediction = predictions.get(e["id"], "")
        em += max(float(normalize(prediction) == normalize(t)) for t in truths)
        f1_total += max(f1(prediction, t) for t in truths)
    return {"exact_match": 100 * em / len(examples), "f1": 100 * f1_total / len(examples)}


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if not args.model:
        root = pathlib.Path(__file__).resolve().parents[2]
        args.model = subprocess.check_output(["bash", str(root / "scripts" / "minilm-dir")], text=True).strip()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast.from_pretrained(args.model)
    features = train_features(tokenizer, read_squad(args.train), args)
    print(f"{len(features)} training windows", file=sys.stderr)
    model = build_model(args)
    with open(out / "metrics.jsonl", "w") as log:
        steps, tokens, seconds = train(model, features, args, log)
    result = {"windows": len(features), "steps": steps, "train_seconds": seconds, "tokens": tokens,
              "tokens_per_s": tokens / seconds, "layers": args.layers, "torch": torch.__version__}
    for path in args.dev:
        examples = read_squad([path])
        predictions, nbest = predict(model, tokenizer, examples, args)
        name = pathlib.Path(path).stem
        (out / f"predictions-{name}.json").write_text(json.dumps(predictions))
        (out / f"nbest_predictions-{name}.json").write_text(json.dumps(nbest))
        result[name] = evaluate(examples, predictions)
    (out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
