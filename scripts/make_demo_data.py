#!/usr/bin/env python3
"""Cuts the small embedded demo set (data/demo/) out of ../shared/data, so the main job runs without it.

SQuAD v1.1 articles (CC BY-SA 4.0) for a small train and dev split, the matching black-box teacher
predictions, and a slice of an out-of-domain SubjQA dev set in MRQA format. Re-run to regenerate.
"""
import gzip, json, os, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
shared = os.environ.get("MRC_SHARED_DATA", os.path.join(os.path.dirname(root), "shared", "data"))
out = os.path.join(root, "data", "demo")
os.makedirs(os.path.join(out, "teachers", "dev"), exist_ok=True)
os.makedirs(os.path.join(out, "teachers", "train"), exist_ok=True)

TRAIN_ARTICLES = ["Black_Death", "Construction", "Geology", "Normans"]
DEV_ARTICLES = ["Sky_(United_Kingdom)"]

def cut(split, titles):
    data = json.load(open(os.path.join(shared, "squad", f"{split}-v1.1.json")))
    articles = [a for a in data["data"] if a["title"] in titles]
    assert len(articles) == len(titles), f"missing articles in {split}"
    json.dump({"version": data["version"], "data": articles},
              open(os.path.join(out, f"{split}-v1.1.json"), "w"), ensure_ascii=False)
    ids = {q["id"] for a in articles for p in a["paragraphs"] for q in p["qas"]}
    tdir = os.path.join(shared, "teachers", split)
    for name in sorted(os.listdir(tdir)):
        preds = json.load(open(os.path.join(tdir, name)))
        kept = {k: v for k, v in preds.items() if k in ids}
        json.dump(kept, open(os.path.join(out, "teachers", split, name), "w"), ensure_ascii=False, indent=0)
    return len(ids)

n_train = cut("train", TRAIN_ARTICLES)
n_dev = cut("dev", DEV_ARTICLES)

# Out-of-domain: the first 40 contexts of SubjQA-grocery dev (MRQA jsonl.gz, header kept).
src = os.path.join(shared, "mrqa", "out_of_domain", "SubjQA-grocery-dev.jsonl.gz")
with gzip.open(src, "rt") as f, gzip.open(os.path.join(out, "SubjQA-grocery-dev.jsonl.gz"), "wt") as g:
    for i, line in enumerate(f):
        if i > 40:
            break
        g.write(line)

with open(os.path.join(out, "LICENSE.md"), "w") as f:
    f.write(
        "# Licences of the embedded demo data\n\n"
        "- `train-v1.1.json`, `dev-v1.1.json`: articles of SQuAD v1.1 (Rajpurkar et al., 2016), "
        "licence CC BY-SA 4.0, https://rajpurkar.github.io/SQuAD-explorer/\n"
        "- `teachers/`: predictions of published systems on those SQuAD questions (SQuAD v1.1 leaderboard "
        "submissions and D-NET's released predictions), kept with the SQuAD licence.\n"
        "- `SubjQA-grocery-dev.jsonl.gz`: SubjQA (megagonlabs/SubjQA), converted to MRQA format; licence "
        "inherited from the review sources.\n"
    )
print(f"demo data: {n_train} train questions, {n_dev} dev questions -> {out}")
