#!/usr/bin/env python3
"""Paired difference of two models' per-question F1 on one data file, with its standard error.

  python3 scripts/analysis/paired_f1.py DATA A/predictions.json B/predictions.json

DATA is a SQuAD JSON file or an MRQA .jsonl(.gz) file (its `qid`s and answer strings). Per question: the
official SQuAD F1 (normalised tokens, max over the gold answers; an empty gold list is the unanswerable
question, whose only right answer is ""; MRQA's evaluation normalises the same way), of each model's
predictions.json (as `score` and `predict` write them, at the threshold they were decided at). Prints each
model's mean F1 (eval.json's, to check the pairing) and mean(B − A) with its paired standard error sd/√n, in F1
points: a difference of about one standard error is noise on that many questions.
"""
import collections
import gzip
import json
import math
import re
import string
import sys


def normalise(text):
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def f1(prediction, gold, v2):
    """The official F1: SQuAD 2.0's scores two empty answers 1 (an abstention on an unanswerable question),
    SQuAD v1.1's and MRQA's score an empty one 0 (a gold answer such as "the" normalises to nothing)."""
    p, g = normalise(prediction).split(), normalise(gold).split()
    if v2 and (not p or not g):
        return float(p == g)
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def gold_answers(data):
    """Question id -> the gold answer texts ([""] for an unanswerable question), and whether the file is SQuAD 2.0."""
    if data.endswith((".jsonl", ".jsonl.gz")):
        opened = gzip.open(data, "rt", encoding="utf-8") if data.endswith(".gz") else open(data, encoding="utf-8")
        with opened as lines:
            records = [json.loads(line) for line in lines if line.strip()]
        return {q["qid"]: list(q["answers"]) or [""] for r in records if "header" not in r for q in r["qas"]}, False
    squad = json.load(open(data, encoding="utf-8"))
    return ({q["id"]: [a["text"] for a in q["answers"]] or [""]
             for article in squad["data"] for p in article["paragraphs"] for q in p["qas"]},
            str(squad.get("version", "")).startswith("v2"))


def main():
    data, a_file, b_file = sys.argv[1:4]
    gold, v2 = gold_answers(data)
    a, b = json.load(open(a_file)), json.load(open(b_file))
    fa = [max(f1(a.get(k, ""), g, v2) for g in v) for k, v in gold.items()]
    fb = [max(f1(b.get(k, ""), g, v2) for g in v) for k, v in gold.items()]
    d = [y - x for x, y in zip(fa, fb)]
    n = len(d)
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    print(f"{n} questions: F1(A) {100 * sum(fa) / n:.2f}, F1(B) {100 * sum(fb) / n:.2f}; F1(B) - F1(A) = {100 * mean:.2f} points, paired standard error {100 * sd / math.sqrt(n):.2f}")


if __name__ == "__main__":
    main()
