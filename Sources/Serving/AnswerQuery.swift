/// One question about one context, as a request gives it.
public struct QuestionContext: Sendable, Equatable {
    public var question: String
    public var context: String

    public init(question: String, context: String) {
        self.question = question
        self.context = context
    }
}

/// One question to answer, with its options and where it sits in the request body (the prefix of
/// the field names its errors use: "" for `/v1/answer`, `inputs[2].` for a Hugging Face list,
/// `items[2].` for a batch).
public struct QueryItem: Sendable, Equatable {
    public var pair: QuestionContext
    /// Answers to return: the best plus `topK - 1` alternatives.
    public var topK: Int
    /// Longest answer in tokens; nil for the server's `--max-answer-length`.
    public var maxAnswerLength: Int?
    public var path: String

    public init(pair: QuestionContext, topK: Int = 1, maxAnswerLength: Int? = nil, path: String = "") {
        self.pair = pair
        self.topK = topK
        self.maxAnswerLength = maxAnswerLength
        self.path = path
    }

    /// The name of one of this item's fields in error messages, e.g. `items[2].context`.
    public func field(_ name: String) -> String { path + name }
}

/// How the response is shaped, from the shape of the request.
public enum ResponseShape: Sendable, Equatable {
    /// `/v1/answer` with `{"question", "context", ...}`: one answer object.
    case single
    /// The Hugging Face inference shape: `{"inputs": {...}}` → one answer (a list of `top_k` answers
    /// when `top_k` > 1); `{"inputs": [...]}` → a list of those.
    case huggingFace(list: Bool)
    /// `/v1/answer:batch`: `{"results": [answer, ...]}`.
    case batch
}

/// A parsed, validated request: what to answer, with which model, and how to shape the response.
public struct AnswerQuery: Sendable, Equatable {
    public var items: [QueryItem]
    /// The model to answer with; nil for the server's default.
    public var model: String?
    public var shape: ResponseShape

    public init(items: [QueryItem], model: String? = nil, shape: ResponseShape) {
        self.items = items
        self.model = model
        self.shape = shape
    }
}

/// Limits a request's options must respect (from the server's settings).
public struct QueryLimits: Sendable, Equatable {
    /// `top_k` at most this: the decoder keeps `--n-best` candidates.
    public var maxTopK: Int
    /// `max_answer_length` at most this (tokens of a window's context).
    public var maxAnswerLength: Int
    /// Items of a batch (or Hugging Face list) at most this.
    public var maxItems: Int

    public init(maxTopK: Int, maxAnswerLength: Int, maxItems: Int) {
        self.maxTopK = maxTopK
        self.maxAnswerLength = maxAnswerLength
        self.maxItems = maxItems
    }
}
