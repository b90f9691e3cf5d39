#!/usr/bin/env python3
"""Per-token start/end logits of any Hugging Face extractive-QA model, for `mrc-distill teach --teacher logits:FILE`.

Runs an `AutoModelForQuestionAnswering` with its fast tokenizer (DeBERTa, XLNet, RoBERTa, ELECTRA, BERT, ...)
over SQuAD .json or MRQA .jsonl[.gz] files and writes the teacher-logits format of docs/TEACHER-LOGITS.md:
a header line, then one JSON line per teacher window with the context tokens' character offsets, their
start and end logits, and the null ([CLS]) logits. `mrc-distill` maps them onto the student's own windows
through the character offsets; it needs neither torch nor transformers.

usage: python3 scripts/teacher_logits.py --model MODEL --data FILE [FILE ...] --out OUT.jsonl[.gz]
           [--max-length 384] [--stride 128] [--max-query-length 64] [--batch-size 16] [--device cpu|cuda]
           [--limit N]

  --model             a model directory or hub name (with a fast tokenizer: offsets need one)
  --data              SQuAD v1.1/v2.0 .json, or MRQA .jsonl / .jsonl.gz (questions keyed by `qid`)
  --out               the logits file; a name ending in .gz is gzipped (`teach` reads either)
  --max-length        the teacher's window length in tokens (question, context and special tokens)
  --stride            tokens of context shared by consecutive windows of a long context (Hugging Face's
                      `stride`, the overlap: BERT's doc_stride 128 at length 384 is an overlap of about 256)
  --max-query-length  questions are cut to this many tokens (at a token's end) before windowing
  --limit             only the first N questions (a quick look)
  --name              the model name the header records (default: --model as given)

Windows come from the tokenizer itself (`truncation="only_second"` — `only_first` for models that put the
context first, e.g. XLNet — `return_overflowing_tokens`, `stride`, `return_offsets_mapping`); the context
tokens are found with `sequence_ids()` and the null position is the tokenizer's CLS token wherever it sits
(XLNet puts it last). Offsets are Python str indices (= Unicode-scalar indices), trimmed of surrounding
whitespace; tokens that cover no character (a lone "▁") are left out. Logits are written as float32 in
shortest round-trip form; a non-finite logit stops the script.
"""
import argparse
import gzip
import io
import json
import math
import os
import sys

FORMAT = "mrc-distill-teacher-logits"
VERSION = 1


def read_questions(path):
    """(id, question, context) of every question of a SQuAD .json or MRQA .jsonl[.gz] file, in file order."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        if path.endswith(".json"):
            for article in json.load(f)["data"]:
                for paragraph in article["paragraphs"]:
                    for qa in paragraph["qas"]:
                        yield qa["id"], qa["question"], paragraph["context"]
            return
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            if "header" in record:
                continue
            for qa in record["qas"]:
                yield qa.get("qid", qa.get("id")), qa["question"], record["context"]


def number(value):
    """A float32 logit in shortest round-trip form (valid JSON)."""
    import numpy as np
    if not math.isfinite(value):
        raise SystemExit(f"teacher_logits: a non-finite logit ({value}); the model's output is not usable")
    return str(np.float32(value))


def trimmed(context, start, end):
    while start < end and context[start].isspace():
        start += 1
    while end > start and context[end - 1].isspace():
        end -= 1
    return start, end


def cut_question(tokenizer, question, limit):
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(encoded["input_ids"]) <= limit:
        return question
    return question[:encoded["offset_mapping"][limit - 1][1]]


def window_record(tokenizer, encoded, index, sample, window, ids, contexts, context_first, start_logits, end_logits):
    """The record of window `index` of the batch, window `window` of question `sample` (`ids`/`contexts` per
    question of the batch)."""
    context = contexts[sample]
    sequence = encoded.sequence_ids(index)
    input_ids = encoded["input_ids"][index].tolist()
    context_id = 0 if context_first else 1
    cls = [p for p, token in enumerate(input_ids) if token == tokenizer.cls_token_id]
    if not cls:
        raise SystemExit(f"teacher_logits: question {ids[sample]}: no CLS token in a window; the null logit needs one")
    offsets, starts, ends = [], [], []
    for position, (which, (s, e)) in enumerate(zip(sequence, encoded["offset_mapping"][index].tolist())):
        if which != context_id:
            continue
        s, e = trimmed(context, s, e)
        if s == e:
            continue
        offsets.append([s, e])
        starts.append(number(start_logits[position]))
        ends.append(number(end_logits[position]))
    null = cls[0]
    return ('{"id":%s,"window":%d,"offsets":%s,"start_logits":[%s],"end_logits":[%s],"null_start_logit":%s,'
            '"null_end_logit":%s}' % (json.dumps(ids[sample], ensure_ascii=False), window,
                                      json.dumps(offsets, separators=(",", ":")), ",".join(starts), ",".join(ends),
                                      number(start_logits[null]), number(end_logits[null])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--max-query-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--name", default=None, help="the model name the header records (default: --model)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if not tokenizer.is_fast:
        raise SystemExit("teacher_logits: the model has no fast tokenizer; character offsets need one")
    model = AutoModelForQuestionAnswering.from_pretrained(args.model)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    context_first = tokenizer.padding_side == "left"  # as Hugging Face's run_qa.py: XLNet reads context first
    inputs = [name for name in tokenizer.model_input_names]

    questions = [q for path in args.data for q in read_questions(path)]
    if args.limit is not None:
        questions = questions[:args.limit]
    seen = set()
    for qid, _, _ in questions:
        if qid in seen:
            raise SystemExit(f"teacher_logits: question id {qid!r} occurs twice")
        seen.add(qid)

    raw = open(args.out, "wb")
    out = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) if args.out.endswith(".gz") else raw
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    name = args.name or args.model
    header = dict(format=FORMAT, version=VERSION, model=name, model_type=model.config.model_type,
                  tokenizer=f"{type(tokenizer).__name__} of {name}", max_length=args.max_length,
                  stride=args.stride, max_query_length=args.max_query_length, context_first=context_first,
                  data=[os.path.basename(p) for p in args.data])
    text.write(json.dumps({"header": header}, ensure_ascii=False) + "\n")
    windows = 0
    for first in range(0, len(questions), args.batch_size):
        batch = questions[first:first + args.batch_size]
        ids = [q[0] for q in batch]
        texts = [cut_question(tokenizer, q[1], args.max_query_length) for q in batch]
        contexts = [q[2] for q in batch]
        pair = (contexts, texts) if context_first else (texts, contexts)
        encoded = tokenizer(*pair, truncation="only_first" if context_first else "only_second",
                            max_length=args.max_length, stride=args.stride, return_overflowing_tokens=True,
                            return_offsets_mapping=True, padding="longest", return_tensors="pt")
        with torch.no_grad():
            output = model(**{name: encoded[name].to(device) for name in inputs if name in encoded})
        start_logits = output.start_logits.float().cpu().tolist()
        end_logits = output.end_logits.float().cpu().tolist()
        counter = {}
        for index in range(len(encoded["input_ids"])):
            sample = int(encoded["overflow_to_sample_mapping"][index])
            window = counter.get(sample, 0)
            counter[sample] = window + 1
            text.write(window_record(tokenizer, encoded, index, sample, window, ids, contexts, context_first,
                                     start_logits[index], end_logits[index]) + "\n")
            windows += 1
    text.close()
    if out is not raw:
        raw.close()
    print(f"teacher_logits: {len(questions)} questions, {windows} windows -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
