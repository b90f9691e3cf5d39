#!/usr/bin/env python3
"""A faithful re-statement of the official evaluation scripts, used as the reference for Swift's
`MRC` evaluation (see scripts/fixtures/make_eval_fixtures.py).

- SQuAD v1.1: `evaluate-v1.1.py` (rajpurkar.github.io/SQuAD-explorer). An unanswered question scores
  0 and still counts.
- SQuAD v2.0: `evaluate-v2.0.py` (same site): gold answers that normalise to "" are dropped, a question
  without gold answers has the single gold answer ""; HasAns/NoAns splits; with `na_probs` the
  `best_exact`/`best_f1` thresholds. The official script skips a question without a prediction and
  then fails (KeyError) computing HasAns/NoAns; here, as in the Swift port, such a question is scored
  as if the empty answer (no answer) had been predicted, and counted as missing.
- MRQA 2019: `mrqa_official_eval.py` (github.com/mrqa/MRQA-Shared-Task-2019): the v1.1 metric per
  dataset over `qas[].answers`, keyed by `qid`; a missing `qid` scores 0 and counts.

The code below keeps the official functions' bodies (normalisation, Counter F1, max over ground
truths, the order of the sums) so that the numbers agree bit for bit.
"""
import collections
import gzip
import json
import re
import string
import sys
from collections import Counter


# ---- SQuAD v1.1 / MRQA (identical metric) ----------------------------------------------------

def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


def evaluate_v1(dataset, predictions):
    """`dataset` is the JSON's `data` list."""
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article['paragraphs']:
            for qa in paragraph['qas']:
                total += 1
                if qa['id'] not in predictions:
                    continue
                ground_truths = list(map(lambda x: x['text'], qa['answers']))
                prediction = predictions[qa['id']]
                exact_match += metric_max_over_ground_truths(
                    exact_match_score, prediction, ground_truths)
                f1 += metric_max_over_ground_truths(
                    f1_score, prediction, ground_truths)
    exact_match = 100.0 * exact_match / total
    f1 = 100.0 * f1 / total
    return {'exact_match': exact_match, 'f1': f1, 'count': total}


# ---- MRQA ---------------------------------------------------------------------------------------

def read_mrqa_answers(gold_file):
    """qid -> (SQuAD-style id or None, answers), in file order."""
    answers = collections.OrderedDict()
    opener = gzip.open if gold_file.endswith('.gz') else open
    with opener(gold_file, 'rb') as f:
        for i, line in enumerate(f):
            example = json.loads(line)
            if i == 0 and 'header' in example:
                continue
            for qa in example['qas']:
                answers[qa['qid']] = (qa.get('id'), qa['answers'])
    return answers


def evaluate_mrqa(answers, predictions):
    """As the official script, with one documented addition: a prediction keyed by the question's
    SQuAD `id` is used when none is keyed by its `qid` (D-NET's predictions are keyed so)."""
    f1 = exact_match = total = 0
    for qid, (squad_id, ground_truths) in answers.items():
        if qid in predictions:
            prediction = predictions[qid]
        elif squad_id is not None and squad_id in predictions:
            prediction = predictions[squad_id]
        else:
            total += 1
            continue
        total += 1
        exact_match += metric_max_over_ground_truths(
            exact_match_score, prediction, ground_truths)
        f1 += metric_max_over_ground_truths(
            f1_score, prediction, ground_truths)
    exact_match = 100.0 * exact_match / total
    f1 = 100.0 * f1 / total
    return {'exact_match': exact_match, 'f1': f1, 'count': total}


# ---- SQuAD v2.0 ---------------------------------------------------------------------------------

def make_qid_to_has_ans(dataset):
    qid_to_has_ans = {}
    for article in dataset:
        for p in article['paragraphs']:
            for qa in p['qas']:
                qid_to_has_ans[qa['id']] = bool(qa['answers'])
    return qid_to_has_ans


def get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks = get_tokens(a_gold)
    pred_toks = get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def get_raw_scores(dataset, preds):
    exact_scores = {}
    f1_scores = {}
    for article in dataset:
        for p in article['paragraphs']:
            for qa in p['qas']:
                qid = qa['id']
                gold_answers = [a['text'] for a in qa['answers'] if normalize_answer(a['text'])]
                if not gold_answers:
                    gold_answers = ['']
                a_pred = preds.get(qid, '')  # see the module comment on missing predictions
                exact_scores[qid] = max(compute_exact(a, a_pred) for a in gold_answers)
                f1_scores[qid] = max(compute_f1(a, a_pred) for a in gold_answers)
    return exact_scores, f1_scores


def apply_no_ans_threshold(scores, na_probs, qid_to_has_ans, na_prob_thresh):
    new_scores = {}
    for qid, s in scores.items():
        pred_na = na_probs[qid] > na_prob_thresh
        if pred_na:
            new_scores[qid] = float(not qid_to_has_ans[qid])
        else:
            new_scores[qid] = s
    return new_scores


def make_eval_dict(exact_scores, f1_scores, qid_list=None):
    if not qid_list:
        total = len(exact_scores)
        return collections.OrderedDict([
            ('exact', 100.0 * sum(exact_scores.values()) / total),
            ('f1', 100.0 * sum(f1_scores.values()) / total),
            ('total', total),
        ])
    else:
        total = len(qid_list)
        return collections.OrderedDict([
            ('exact', 100.0 * sum(exact_scores[k] for k in qid_list) / total),
            ('f1', 100.0 * sum(f1_scores[k] for k in qid_list) / total),
            ('total', total),
        ])


def merge_eval(main_eval, new_eval, prefix):
    for k in new_eval:
        main_eval['%s_%s' % (prefix, k)] = new_eval[k]


def find_best_thresh(preds, scores, na_probs, qid_to_has_ans):
    num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
    cur_score = num_no_ans
    best_score = cur_score
    best_thresh = 0.0
    qid_list = sorted(na_probs, key=lambda k: na_probs[k])
    for i, qid in enumerate(qid_list):
        if qid not in scores:
            continue
        if qid_to_has_ans[qid]:
            diff = scores[qid]
        else:
            if preds.get(qid, ''):
                diff = -1
            else:
                diff = 0
        cur_score += diff
        if cur_score > best_score:
            best_score = cur_score
            best_thresh = na_probs[qid]
    return 100.0 * best_score / len(scores), best_thresh


def evaluate_v2(dataset, preds, na_probs=None, na_prob_thresh=1.0):
    has_na_probs = na_probs is not None
    if not has_na_probs:
        na_probs = {k: 0.0 for k in preds}
    qid_to_has_ans = make_qid_to_has_ans(dataset)
    for k in qid_to_has_ans:  # a question without a prediction has no na_prob either
        na_probs.setdefault(k, 0.0)
    has_ans_qids = [k for k, v in qid_to_has_ans.items() if v]
    no_ans_qids = [k for k, v in qid_to_has_ans.items() if not v]
    exact_raw, f1_raw = get_raw_scores(dataset, preds)
    exact_thresh = apply_no_ans_threshold(exact_raw, na_probs, qid_to_has_ans, na_prob_thresh)
    f1_thresh = apply_no_ans_threshold(f1_raw, na_probs, qid_to_has_ans, na_prob_thresh)
    out_eval = make_eval_dict(exact_thresh, f1_thresh)
    if has_ans_qids:
        merge_eval(out_eval, make_eval_dict(exact_thresh, f1_thresh, qid_list=has_ans_qids), 'HasAns')
    if no_ans_qids:
        merge_eval(out_eval, make_eval_dict(exact_thresh, f1_thresh, qid_list=no_ans_qids), 'NoAns')
    if has_na_probs:
        best_exact, exact_thresh_value = find_best_thresh(preds, exact_raw, na_probs, qid_to_has_ans)
        best_f1, f1_thresh_value = find_best_thresh(preds, f1_raw, na_probs, qid_to_has_ans)
        out_eval['best_exact'] = best_exact
        out_eval['best_exact_thresh'] = exact_thresh_value
        out_eval['best_f1'] = best_f1
        out_eval['best_f1_thresh'] = f1_thresh_value
    return out_eval


if __name__ == '__main__':
    # usage: squad_eval.py {v1|v2|mrqa} DATA PREDICTIONS [NA_PROBS]
    mode, data_file, pred_file = sys.argv[1:4]
    with open(pred_file) as f:
        preds = json.load(f)
    if mode == 'mrqa':
        result = evaluate_mrqa(read_mrqa_answers(data_file), preds)
    else:
        with open(data_file) as f:
            dataset = json.load(f)['data']
        if mode == 'v1':
            result = evaluate_v1(dataset, preds)
        else:
            na = None
            if len(sys.argv) > 4:
                with open(sys.argv[4]) as f:
                    na = json.load(f)
            result = evaluate_v2(dataset, preds, na)
    print(json.dumps(result))
