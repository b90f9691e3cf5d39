#!/usr/bin/env python3
"""Paired difference of two models' per-question F1 on one data file, with its standard error.

  python3 scripts/analysis/paired_f1.py DATA.json A/predictions.json B/predictions.json

Per question: the official SQuAD F1 (normalised tokens, max over the gold answers; an empty gold list is
the unanswerable question, whose only right answer is ""), of each model's predictions.json (as `score` and
`predict` write them, at the threshold they were decided at). Prints mean(B − A) and its paired standard error
sd/√n, in F1 points: a difference of about one standard error is noise on that many questions.
"""
import collections
import json
import math
import re
import string
import sys


def normalise(text):
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def f1(prediction, gold):
    p, g = normalise(prediction).split(), normalise(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def main():
    data, a_file, b_file = sys.argv[1:4]
    gold = {q["id"]: [a["text"] for a in q["answers"]] or [""]
            for article in json.load(open(data))["data"] for p in article["paragraphs"] for q in p["qas"]}
    a, b = json.load(open(a_file)), json.load(open(b_file))
    d = [max(f1(b.get(k, ""), g) for g in v) - max(f1(a.get(k, ""), g) for g in v) for k, v in gold.items()]
    n = len(d)
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    print(f"{n} questions: F1(B) - F1(A) = {100 * mean:.2f} points, paired standard error {100 * sd / math.sqrt(n):.2f}")


if __name__ == "__main__":
    main()
