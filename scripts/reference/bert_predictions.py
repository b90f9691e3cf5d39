#!/usr/bin/env python3
"""A re-statement of the original BERT run_squad.py `write_predictions` (google-research/bert), the
reference for Swift's `SpanDecoder`.

Kept from BERT: `_get_best_indexes` (top n_best start and end logits, stable sort), the validity
checks (both indices on context tokens, start with max context, end >= start, length <=
max_answer_length), the ranking by start + end logit (stable), de-duplication by final text,
n-best cut, the SQuAD 2.0 null answer (smallest start[0] + end[0] over the windows, strict <) and
its threshold, `_compute_softmax`.

Changed, as in the Swift port: the final text is cut from the original context by the tokens'
character offsets (`context[offsets[start][0]:offsets[end][1]]`) instead of BERT's
`get_final_text` re-alignment; when no candidate is valid the answer is "" (BERT writes the
placeholder "empty"), and a SQuAD 2.0 example with only the null candidate predicts "" (BERT fails).

A feature here is a dict: context_start, length (real tokens), offsets (context tokens' character
ranges), max_context (per context token), start_logits and end_logits (per position).
"""
import collections
import math


def get_best_indexes(logits, n_best_size):
    index_and_score = sorted(enumerate(logits), key=lambda x: x[1], reverse=True)
    best_indexes = []
    for i in range(len(index_and_score)):
        if i >= n_best_size:
            break
        best_indexes.append(index_and_score[i][0])
    return best_indexes


def compute_softmax(scores):
    if not scores:
        return []
    max_score = None
    for score in scores:
        if max_score is None or score > max_score:
            max_score = score
    exp_scores = []
    total_sum = 0.0
    for score in scores:
        x = math.exp(score - max_score)
        exp_scores.append(x)
        total_sum += x
    probs = []
    for score in exp_scores:
        probs.append(score / total_sum)
    return probs


def is_context(feature, index):
    return feature['context_start'] <= index < feature['context_start'] + len(feature['offsets'])


def predict(context, features, n_best_size, max_answer_length, version_2_with_negative, null_score_diff_threshold=0.0):
    """Returns (answer text, nbest list of dicts, null score difference or None)."""
    Prelim = collections.namedtuple('Prelim', ['feature_index', 'start_index', 'end_index', 'start_logit', 'end_logit'])
    prelim_predictions = []
    score_null = 1000000
    min_null_feature_index = 0
    null_start_logit = 0
    null_end_logit = 0
    for feature_index, feature in enumerate(features):
        start_indexes = get_best_indexes(feature['start_logits'], n_best_size)
        end_indexes = get_best_indexes(feature['end_logits'], n_best_size)
        if version_2_with_negative:
            feature_null_score = feature['start_logits'][0] + feature['end_logits'][0]
            if feature_null_score < score_null:
                score_null = feature_null_score
                min_null_feature_index = feature_index
                null_start_logit = feature['start_logits'][0]
                null_end_logit = feature['end_logits'][0]
        for start_index in start_indexes:
            for end_index in end_indexes:
                if start_index >= feature['length'] or end_index >= feature['length']:
                    continue
                if not is_context(feature, start_index) or not is_context(feature, end_index):
                    continue
                if not feature['max_context'][start_index - feature['context_start']]:
                    continue
                if end_index < start_index:
                    continue
                length = end_index - start_index + 1
                if length > max_answer_length:
                    continue
                prelim_predictions.append(Prelim(feature_index, start_index, end_index,
                                                 feature['start_logits'][start_index], feature['end_logits'][end_index]))
    if version_2_with_negative:
        prelim_predictions.append(Prelim(min_null_feature_index, 0, 0, null_start_logit, null_end_logit))
    prelim_predictions = sorted(prelim_predictions, key=lambda x: (x.start_logit + x.end_logit), reverse=True)

    seen_predictions = {}
    nbest = []
    for pred in prelim_predictions:
        if len(nbest) >= n_best_size:
            break
        feature = features[pred.feature_index]
        if pred.start_index > 0:
            offsets = feature['offsets']
            first = offsets[pred.start_index - feature['context_start']]
            last = offsets[pred.end_index - feature['context_start']]
            final_text = context[first[0]:last[1]]
            if final_text in seen_predictions:
                continue
            seen_predictions[final_text] = True
        else:
            final_text = ''
            seen_predictions[final_text] = True
        nbest.append(dict(text=final_text, start_logit=pred.start_logit, end_logit=pred.end_logit,
                          window=pred.feature_index, start=pred.start_index, end=pred.end_index))
    if version_2_with_negative and '' not in seen_predictions:
        nbest.append(dict(text='', start_logit=null_start_logit, end_logit=null_end_logit,
                          window=min_null_feature_index, start=0, end=0))
    total_scores = []
    best_non_null_entry = None
    for entry in nbest:
        total_scores.append(entry['start_logit'] + entry['end_logit'])
        if not best_non_null_entry and entry['text']:
            best_non_null_entry = entry
    for entry, probability in zip(nbest, compute_softmax(total_scores)):
        entry['probability'] = probability
    if not version_2_with_negative:
        return (nbest[0]['text'] if nbest else ''), nbest, None
    if best_non_null_entry is None:
        return '', nbest, None
    score_diff = score_null - best_non_null_entry['start_logit'] - best_non_null_entry['end_logit']
    return ('' if score_diff > null_score_diff_threshold else best_non_null_entry['text']), nbest, score_diff
