/// The OpenAPI 3 document of the API, served at `/openapi.json` (and read by scripts/schemathesis).
/// A test checks that it parses, that its paths are exactly the routes, and that its examples are
/// accepted by the server.
public enum OpenAPIDocument {
    public static let json = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "mrc-distill serve",
        "version": "1.0.0",
        "description": "Extractive question answering (SQuAD-style) with span-QA BERT models. Offsets are Unicode code points (Python str indices), end exclusive. Every error is {\"error\": {\"status\", \"message\", \"field\"?}}."
      },
      "paths": {
        "/v1/answer": {
          "post": {
            "summary": "Answer one question about one context, or the Hugging Face inference shape {\"inputs\": ...}",
            "operationId": "answer",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"anyOf": [
              {"$ref": "#/components/schemas/AnswerRequest"}, {"$ref": "#/components/schemas/HuggingFaceRequest"}]},
              "example": {"question": "Where is the Eiffel Tower?", "context": "The Eiffel Tower is in Paris."}}}},
            "responses": {
              "200": {"description": "The answer (Hugging Face shape: {score, start, end, answer}; a list of them for top_k > 1, and a list of those for a list of inputs)",
                      "content": {"application/json": {"schema": {"anyOf": [
                        {"$ref": "#/components/schemas/AnswerResponse"},
                        {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/Answer"},
                                                              {"type": "array", "items": {"$ref": "#/components/schemas/Answer"}}]}}]}}}},
              "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Busy"},
              "504": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/answer:batch": {
          "post": {
            "summary": "Answer many question/context pairs in one request (results in item order)",
            "operationId": "answerBatch",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"},
              "example": {"items": [{"question": "Where is the Eiffel Tower?", "context": "The Eiffel Tower is in Paris."}]}}}},
            "responses": {
              "200": {"description": "One result per item", "content": {"application/json": {"schema": {"type": "object", "required": ["results"],
                      "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/AnswerResponse"}}}}}}},
              "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Busy"},
              "504": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/models": {"get": {"summary": "The models served (the first is the default)", "operationId": "models",
          "responses": {"200": {"description": "Models", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/health": {"get": {"summary": "Liveness", "operationId": "health",
          "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/ready": {"get": {"summary": "Readiness: every model loaded and warmed up", "operationId": "ready",
          "responses": {"200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "503": {"$ref": "#/components/responses/Busy"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (text exposition format)", "operationId": "metrics",
          "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
          "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/": {"get": {"summary": "The question-answering playground: an HTML page that asks /v1/answer from the browser", "operationId": "playground",
          "responses": {"200": {"description": "The page (inline CSS and JavaScript only)", "content": {"text/html": {"schema": {"type": "string"}}}}}}}
      },
      "components": {
        "schemas": {
          "AnswerRequest": {
            "type": "object", "additionalProperties": false, "required": ["question", "context"],
            "properties": {
              "question": {"type": "string", "minLength": 1, "pattern": "\\S"},
              "context": {"type": "string", "minLength": 1, "pattern": "\\S"},
              "top_k": {"type": "integer", "minimum": 1, "description": "Answers returned: the best and top_k - 1 alternatives (at most the server's --n-best)"},
              "max_answer_length": {"type": "integer", "minimum": 1, "description": "Longest answer in tokens (at most --max-seq-len)"},
              "model": {"type": "string", "minLength": 1, "description": "A served model's name (GET /v1/models); the default when absent"}
            }
          },
          "HuggingFaceRequest": {
            "type": "object", "additionalProperties": false, "required": ["inputs"],
            "properties": {
              "inputs": {"oneOf": [{"$ref": "#/components/schemas/QuestionContext"},
                                   {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/QuestionContext"}}]},
              "parameters": {"type": "object", "additionalProperties": false,
                             "properties": {"top_k": {"type": "integer", "minimum": 1}, "max_answer_len": {"type": "integer", "minimum": 1}}},
              "options": {"type": "object"},
              "model": {"type": "string", "minLength": 1}
            }
          },
          "QuestionContext": {
            "type": "object", "additionalProperties": false, "required": ["question", "context"],
            "properties": {"question": {"type": "string", "minLength": 1, "pattern": "\\S"},
                           "context": {"type": "string", "minLength": 1, "pattern": "\\S"}}
          },
          "BatchRequest": {
            "type": "object", "additionalProperties": false, "required": ["items"],
            "properties": {
              "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/BatchItem"}},
              "top_k": {"type": "integer", "minimum": 1},
              "max_answer_length": {"type": "integer", "minimum": 1},
              "model": {"type": "string", "minLength": 1}
            }
          },
          "BatchItem": {
            "type": "object", "additionalProperties": false, "required": ["question", "context"],
            "properties": {
              "question": {"type": "string", "minLength": 1, "pattern": "\\S"},
              "context": {"type": "string", "minLength": 1, "pattern": "\\S"},
              "top_k": {"type": "integer", "minimum": 1},
              "max_answer_length": {"type": "integer", "minimum": 1}
            }
          },
          "Answer": {
            "type": "object", "required": ["answer", "start", "end", "score"],
            "properties": {
              "answer": {"type": "string"},
              "start": {"type": "integer", "minimum": 0, "description": "First character, in Unicode code points"},
              "end": {"type": "integer", "minimum": 0, "description": "One past the last character, in Unicode code points"},
              "score": {"type": "number", "minimum": 0, "maximum": 1, "description": "Probability among the question's n-best candidates"}
            }
          },
          "AnswerResponse": {
            "allOf": [{"$ref": "#/components/schemas/Answer"}, {"type": "object", "properties": {
              "null_score": {"type": "number", "description": "Models that may answer \"no answer\" (trained on SQuAD 2.0, or served with --null-score-threshold): the null score ([CLS] start + end logit) minus the best span's score, as predict's null_odds.json; where it exceeds the model's null_score_threshold (GET /v1/models; 0 by default) the answer is \"\" with start = end = 0 and the null answer's probability as score"},
              "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Answer"}}}}]
          },
          "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["status", "message"], "properties": {
              "status": {"type": "integer"}, "message": {"type": "string"},
              "field": {"type": "string", "description": "The request field it is about, e.g. items[2].context"}}}}
          }
        },
        "responses": {
          "Error": {"description": "A JSON error naming the field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Busy": {"description": "The queue is full, or the server not ready / stopping; retry after Retry-After seconds",
                   "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    }
    """#
}
