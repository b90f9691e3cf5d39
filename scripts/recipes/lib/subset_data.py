#!/usr/bin/env python3
"""Deterministic subsets of SQuAD JSON and MRQA jsonl(.gz) files, whole contexts only (never tuned on
content): `--first-questions N` keeps the contexts in file order until N questions are reached (the
context that crosses N is kept whole); `--every K` keeps every K-th context (0, K, 2K, ...);
`--without-questions-of FILE` (SQuAD JSON only) drops the questions whose id FILE holds, and the contexts
left without a question (scripts/recipes/squad2's transfer set: the SQuAD v1.1 questions that are not in the
SQuAD 2.0 split). Used by scripts/recipes/dnet-cpu to fit D-NET's protocol on one 2-core machine.

usage: subset_data.py (--first-questions N | --every K | --without-questions-of FILE) IN OUT
"""
import argparse
import gzip
import json


def keep(index, questions_before, args):
    if args.every:
        return index % args.every == 0
    return questions_before < args.first_questions


def question_ids(path):
    return {qa['id'] for article in json.load(open(path, encoding='utf-8'))['data']
            for paragraph in article['paragraphs'] for qa in paragraph['qas']}


def subset_squad(path, out, args):
    data = json.load(open(path, encoding='utf-8'))
    index = questions = 0
    articles = []
    dropped = question_ids(args.without_questions_of) if args.without_questions_of else None
    for article in data['data']:
        paragraphs = []
        for paragraph in article['paragraphs']:
            if dropped is not None:
                qas = [qa for qa in paragraph['qas'] if qa['id'] not in dropped]
                if qas:
                    paragraphs.append(dict(paragraph, qas=qas))
                    questions += len(qas)
            elif keep(index, questions, args):
                paragraphs.append(paragraph)
                questions += len(paragraph['qas'])
            index += 1
        if paragraphs:
            articles.append(dict(article, paragraphs=paragraphs))
    json.dump(dict(data, data=articles), open(out, 'w', encoding='utf-8'), ensure_ascii=False)
    return index, questions


def subset_mrqa(path, out, args):
    opener = gzip.open if path.endswith('.gz') else open
    index = questions = 0
    with opener(path, 'rt', encoding='utf-8') as source, opener(out, 'wt', encoding='utf-8') as target:
        for line in source:
            record = json.loads(line)
            if 'header' in record:
                target.write(line)
                continue
            if keep(index, questions, args):
                target.write(line)
                questions += len(record['qas'])
            index += 1
    return index, questions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--first-questions', type=int)
    group.add_argument('--every', type=int)
    group.add_argument('--without-questions-of', metavar='FILE')
    parser.add_argument('input')
    parser.add_argument('output')
    args = parser.parse_args()
    name = args.input[:-3] if args.input.endswith('.gz') else args.input
    if args.without_questions_of and not name.endswith('.json'):
        parser.error('--without-questions-of reads SQuAD JSON files only')
    contexts, questions = (subset_squad if name.endswith('.json') else subset_mrqa)(args.input, args.output, args)
    print(f'{args.output}: {questions} questions kept of the {contexts} contexts read')


if __name__ == '__main__':
    main()
