#!/usr/bin/env python3
"""The reference server of scripts/loadtest: a Hugging Face `pipeline("question-answering")` behind a
small Python HTTP server, as question-answering services are commonly deployed.

    python3 scripts/reference/pipeline_server.py --model runs/demo/student-distilled [--port 8090] [--threads 2]
                                                 [--precision fp32|bf16]

Takes the inference shape `{"inputs": {"question", "context"}}` (a list of inputs too) on POST
/v1/answer (and POST /) and answers `{"score", "start", "end", "answer"}`, as our server's
Hugging Face shape does; GET /health. The pipeline runs one request at a time (a lock: a pipeline and
its model are not made for concurrent calls) on `--threads` PyTorch threads; `--precision bf16` runs it under
`torch.autocast("cpu", dtype=torch.bfloat16)`, as scripts/reference/pipeline_predict.py does. Needs transformers<5 (the
question-answering pipeline was removed in 5) and torch.

Settings follow `mrc-distill serve`'s defaults where the pipeline has them: windows of 384 tokens,
questions of at most 64, answers of at most 30 tokens. (The pipeline's `doc_stride` is the overlap
between windows, not BERT's stride; its default 128 is kept.)
"""
import argparse
import contextlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="span-QA directory (config.json, model.safetensors, vocab.txt)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: under torch.autocast")
    args = parser.parse_args()

    import torch
    import transformers
    from transformers import pipeline

    if int(transformers.__version__.split(".")[0]) >= 5:
        sys.exit(f"transformers {transformers.__version__}: the question-answering pipeline needs transformers<5")
    torch.set_num_threads(args.threads)
    qa = pipeline("question-answering", model=args.model, tokenizer=args.model, device=-1)
    settings = dict(max_seq_len=384, max_question_len=64, max_answer_len=30, doc_stride=128)
    lock = threading.Lock()

    def precision():
        if args.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    with torch.inference_mode(), precision():
        qa(question="warm up", context="warm up the model", **settings)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def reply(self, status, value):
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path in ("/health", "/ready"):
                self.reply(200, {"status": "ok"})
            else:
                self.reply(404, {"error": {"status": 404, "message": "no route"}})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length))
                inputs = request["inputs"]
                pairs = inputs if isinstance(inputs, list) else [inputs]
                questions = [str(p["question"]) for p in pairs]
                contexts = [str(p["context"]) for p in pairs]
            except (ValueError, KeyError, TypeError) as error:
                self.reply(400, {"error": {"status": 400, "message": f"bad request: {error}"}})
                return
            try:
                with lock, torch.inference_mode(), precision():
                    result = qa(question=questions if len(pairs) > 1 else questions[0],
                                context=contexts if len(pairs) > 1 else contexts[0], **settings)
            except Exception as error:  # the pipeline refuses some inputs (e.g. empty) with exceptions
                self.reply(400, {"error": {"status": 400, "message": str(error)}})
                return
            if isinstance(inputs, list) and not isinstance(result, list):
                result = [result]
            self.reply(200, result)

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"pipeline_server: listening on http://{args.host}:{server.server_address[1]} (pid {os.getpid()})",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
