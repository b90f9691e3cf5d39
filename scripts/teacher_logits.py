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

D-NET's released distillation data (mrqa_distill.json: one line per window, input_ids / segment_ids /
input_mask / start_logits / end_logits padded to 512, example_index into the data file it was made from, no
offsets, no question ids) is converted instead of running a model:

       python3 scripts/teacher_logits.py --dnet mrqa_distill.json --vocab vocab.txt [--cased] --data FILE --out OUT

  --data is the file the windows were made from (its questions in file order are example_index 0, 1, ...),
  --vocab the teacher's WordPiece vocabulary (uncased unless --cased). Each window's context tokens (segment 1,
  without the last [SEP]) are found in the context's own tokenization (Hugging Face BertTokenizerFast, which
  splits as BERT's run_squad.py) at or after the previous window's, which gives their character offsets; the
  null logits are those of position 0 ([CLS]).

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
        starts.append(start_logits[position])
        ends.append(end_logits[position])
    null = cls[0]
    return record_line(ids[sample], window, offsets, starts, ends, start_logits[null], end_logits[null])


def open_out(path):
    raw = open(path, "wb")
    out = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) if path.endswith(".gz") else raw
    return raw, out, io.TextIOWrapper(out, encoding="utf-8", newline="\n")


def record_line(qid, window, offsets, starts, ends, null_start, null_end):
    return ('{"id":%s,"window":%d,"offsets":%s,"start_logits":[%s],"end_logits":[%s],"null_start_logit":%s,'
            '"null_end_logit":%s}' % (json.dumps(qid, ensure_ascii=False), window, json.dumps(offsets, separators=(",", ":")),
                                      ",".join(map(number, starts)), ",".join(map(number, ends)), number(null_start),
                                      number(null_end)))


def convert_dnet(args):
    """D-NET's mrqa_distill.json (one padded window per line) to the teacher-logits format."""
    from transformers import BertTokenizerFast
    tokenizer = BertTokenizerFast(args.vocab, do_lower_case=not args.cased)
    questions = [q for path in args.data for q in read_questions(path)]
    raw, out, text = open_out(args.out)
    header = dict(format=FORMAT, version=VERSION, model=args.name or f"D-NET teacher logits {os.path.basename(args.dnet)}",
                  tokenizer=f"BertTokenizerFast {os.path.basename(args.vocab)} {'cased' if args.cased else 'uncased'}",
                  data=[os.path.basename(p) for p in args.data])
    text.write(json.dumps({"header": header}, ensure_ascii=False) + "\n")
    tokens, windows = {}, {}  # per example: (ids, offsets); (windows so far, token index of the last window)
    opener = gzip.open if args.dnet.endswith(".gz") else open
    with opener(args.dnet, "rt", encoding="utf-8") as f:
        for number_, line in enumerate(f, 1):
            if not line.strip():
                continue
            w = json.loads(line)
            example = w["example_index"]
            if not 0 <= example < len(questions):
                raise SystemExit(f"teacher_logits: {args.dnet}, line {number_}: example_index {example} is not a question of --data")
            qid, _, context = questions[example]
            if example not in tokens:
                encoded = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)
                tokens[example] = (encoded["input_ids"], encoded["offset_mapping"])
            ids, offsets = tokens[example]
            real = sum(w["input_mask"])
            positions = [p for p in range(real) if w["segment_ids"][p] == 1][:-1]  # the last is [SEP]
            window_ids = [w["input_ids"][p] for p in positions]
            count, previous = windows.get(example, (0, 0))
            start = next((j for j in range(previous, len(ids) - len(window_ids) + 1)
                          if ids[j:j + len(window_ids)] == window_ids), None)
            if start is None:
                raise SystemExit(f"teacher_logits: {args.dnet}, line {number_}: the window's context tokens are not in "
                                 f"question {qid}'s context as --vocab tokenizes it (other vocabulary or data?)")
            windows[example] = (count + 1, start)
            text.write(record_line(qid, count, [list(o) for o in offsets[start:start + len(window_ids)]],
                                   [w["start_logits"][p] for p in positions], [w["end_logits"][p] for p in positions],
                                   w["start_logits"][0], w["end_logits"][0]) + "\n")
    text.close()
    if out is not raw:
        raw.close()
    print(f"teacher_logits: {sum(c for c, _ in windows.values())} D-NET windows of {len(windows)} questions -> {args.out}",
          file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model")
    parser.add_argument("--dnet", help="convert D-NET's mrqa_distill.json instead of running a model")
    parser.add_argument("--vocab", help="with --dnet: the teacher's vocab.txt")
    parser.add_argument("--cased", action="store_true", help="with --dnet: the vocabulary is cased")
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
    if args.dnet:
        if not args.vocab:
            parser.error("--dnet needs --vocab")
        return convert_dnet(args)
    if not args.model:
        parser.error("give --model (or --dnet)")

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

    raw, out, text = open_out(args.out)
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
