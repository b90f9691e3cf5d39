import Checkpoint
import Foundation

/// Reads request bodies into `AnswerQuery`s. Every refusal is a 400 (422 for too many items) that
/// names the field; unknown fields are refused too, so that a misspelt option is not ignored.
///
/// - `POST /v1/answer`: `{"question", "context", "top_k"?, "max_answer_length"?, "model"?}`, or the
///   Hugging Face inference shape `{"inputs": {"question", "context"} | [{...}, ...],
///   "parameters"?: {"top_k"?, "max_answer_len"?}, "options"?: {...}}` (`options` is accepted and
///   ignored, as its keys concern the hosted API).
/// - `POST /v1/answer:batch`: `{"items": [{"question", "context", "top_k"?, "max_answer_length"?}, ...],
///   "top_k"?, "max_answer_length"?, "model"?}`; an item's options override the request's.
public struct RequestParser: Sendable {
    public var limits: QueryLimits

    public init(limits: QueryLimits) {
        self.limits = limits
    }

    static let singleKeys: Set<String> = ["question", "context", "top_k", "max_answer_length", "model"]
    static let huggingFaceKeys: Set<String> = ["inputs", "parameters", "options", "model"]
    static let huggingFaceParameterKeys: Set<String> = ["top_k", "max_answer_len"]
    static let batchKeys: Set<String> = ["items", "top_k", "max_answer_length", "model"]
    static let batchItemKeys: Set<String> = ["question", "context", "top_k", "max_answer_length"]

    /// The body of `POST /v1/answer`.
    public func answer(_ body: Data) throws(ServingError) -> AnswerQuery {
        let root = try JSONFields.parse(body)
        if root.object["inputs"] != nil { return try huggingFace(root) }
        try root.onlyKeys(Self.singleKeys)
        let item = QueryItem(pair: try pair(root), topK: try topK(root, "top_k") ?? 1,
                             maxAnswerLength: try maxAnswerLength(root, "max_answer_length"), path: "")
        return AnswerQuery(items: [item], model: try model(root), shape: .single)
    }

    /// The body of `POST /v1/answer:batch`.
    public func batch(_ body: Data) throws(ServingError) -> AnswerQuery {
        let root = try JSONFields.parse(body)
        try root.onlyKeys(Self.batchKeys)
        let defaultTopK = try topK(root, "top_k") ?? 1
        let defaultLength = try maxAnswerLength(root, "max_answer_length")
        var items: [QueryItem] = []
        for (index, element) in try root.array("items", maxCount: limits.maxItems).enumerated() {
            let path = "items[\(index)]"
            let fields = try JSONFields(element, path: path + ".", name: path)
            try fields.onlyKeys(Self.batchItemKeys)
            items.append(QueryItem(pair: try pair(fields), topK: try topK(fields, "top_k") ?? defaultTopK,
                                   maxAnswerLength: try maxAnswerLength(fields, "max_answer_length") ?? defaultLength,
                                   path: path + "."))
        }
        return AnswerQuery(items: items, model: try model(root), shape: .batch)
    }

    /// `{"inputs": ...}`: one input object, or a list of them.
    func huggingFace(_ root: JSONFields) throws(ServingError) -> AnswerQuery {
        try root.onlyKeys(Self.huggingFaceKeys)
        var topK = 1
        var length: Int?
        if root.has("parameters") {
            let parameters = try root.object("parameters")
            try parameters.onlyKeys(Self.huggingFaceParameterKeys)
            topK = try self.topK(parameters, "top_k") ?? 1
            length = try maxAnswerLength(parameters, "max_answer_len")
        }
        if let options = root.value("options") {
            guard case .object = options else { throw .badRequest("expected an object", field: "options") }
        }
        var items: [QueryItem] = []
        let list: Bool
        switch root.value("inputs") {
        case .object:
            let fields = try root.object("inputs")
            try fields.onlyKeys(["question", "context"])
            items = [QueryItem(pair: try pair(fields), topK: topK, maxAnswerLength: length, path: "inputs.")]
            list = false
        case .array:
            for (index, element) in try root.array("inputs", maxCount: limits.maxItems).enumerated() {
                let path = "inputs[\(index)]"
                let fields = try JSONFields(element, path: path + ".", name: path)
                try fields.onlyKeys(["question", "context"])
                items.append(QueryItem(pair: try pair(fields), topK: topK, maxAnswerLength: length, path: path + "."))
            }
            list = true
        default:
            throw .badRequest("expected an object {\"question\", \"context\"} or an array of them", field: "inputs")
        }
        return AnswerQuery(items: items, model: try model(root), shape: .huggingFace(list: list))
    }

    func pair(_ fields: JSONFields) throws(ServingError) -> QuestionContext {
        QuestionContext(question: try fields.text("question"), context: try fields.text("context"))
    }

    func topK(_ fields: JSONFields, _ key: String) throws(ServingError) -> Int? {
        try fields.integer(key, in: 1...limits.maxTopK)
    }

    func maxAnswerLength(_ fields: JSONFields, _ key: String) throws(ServingError) -> Int? {
        try fields.integer(key, in: 1...limits.maxAnswerLength)
    }

    func model(_ root: JSONFields) throws(ServingError) -> String? {
        guard let name = try root.optionalString("model") else { return nil }
        guard !name.isEmpty else { throw .badRequest("must not be empty", field: "model") }
        return name
    }
}
