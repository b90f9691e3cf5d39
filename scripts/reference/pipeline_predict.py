#!/usr/bin/env python3
"""PyTorch's side of scripts/bench-predict: every question of a SQuAD file answered by a Hugging Face
`pipeline("question-answering")` on the same model directory, end to end (tokenising, windows, forward,
decoding), optionally under `torch.autocast(dtype=torch.bfloat16)`, and the official v1.1 scores.

    python3 scripts/reference/pipeline_predict.py --model DIR --data dev-v1.1.json [--precision bf16|fp32]
        [--threads 2] [--batch-size 8] [--out predictions.json]

Prints one JSON line: wall seconds (model loaded, data read; the answering only), questions, EM, F1.
Settings follow `mrc-distill predict`'s: windows of 384 tokens, overlap 128 (the pipeline's `doc_stride`
is the overlap), questions of at most 64 tokens, answers of at most 30. Needs transformers<5 and torch.
"""
import argparse
import contextlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import squad_eval  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="a SQuAD v1.1 JSON file")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--out", help="where to write the predictions (id → answer)")
    args = parser.parse_args()

    import torch
    import transformers
    from transformers import pipeline

    if int(transformers.__version__.split(".")[0]) >= 5:
        sys.exit(f"transformers {transformers.__version__}: the question-answering pipeline needs transformers<5")
    torch.set_num_threads(args.threads)
    with open(args.data) as f:
        dataset = json.load(f)["data"]
    inputs, ids = [], []
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                inputs.append({"question": qa["question"], "context": paragraph["context"]})
                ids.append(qa["id"])
    qa = pipeline("question-answering", model=args.model, tokenizer=args.model, device=-1)
    settings = dict(max_seq_len=384, max_question_len=64, max_answer_len=30, doc_stride=128, batch_size=args.batch_size)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if args.precision == "bf16" else contextlib.nullcontext()
    with torch.inference_mode(), autocast:
        qa(question="warm up", context="warm up the model", **settings)
        start = time.perf_counter()
        answers = qa(inputs, **settings)
        seconds = time.perf_counter() - start
    if isinstance(answers, dict):
        answers = [answers]
    predictions = {qid: answer["answer"] for qid, answer in zip(ids, answers)}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(predictions, f)
    scores = squad_eval.evaluate_v1(dataset, predictions)
    print(json.dumps({"engine": f"transformers {transformers.__version__} pipeline, torch {torch.__version__}",
                      "precision": args.precision, "seconds": round(seconds, 3), "questions": len(ids),
                      "exact_match": round(scores["exact_match"], 2), "f1": round(scores["f1"], 2)}))


if __name__ == "__main__":
    main()
