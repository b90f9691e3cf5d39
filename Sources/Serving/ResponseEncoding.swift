import MRC

/// The JSON of answers, shaped as the request was (see `ResponseShape`).
///
/// - `/v1/answer`: `{"answer", "start", "end", "score"}`, with `"null_score"` for a model that may abstain
///   (its answer is `""`, start = end = 0, where the null score wins) and `"alternatives": [...]` (the same
///   four fields) when `top_k` > 1;
/// - Hugging Face shape: `{"score", "start", "end", "answer"}` — a list of `top_k` of them when
///   `top_k` > 1 — and a list of those for a list of inputs, as `pipeline("question-answering")`;
/// - `/v1/answer:batch`: `{"results": [...]}` of `/v1/answer` objects, in item order.
public enum ResponseEncoding {
    public static func json(_ answers: [ItemAnswers], query: AnswerQuery) -> JSONText {
        switch query.shape {
        case .single:
            return native(answers[0], topK: query.items[0].topK)
        case .batch:
            return .object([("results", .array(zip(answers, query.items).map { native($0, topK: $1.topK) }))])
        case .huggingFace(let list):
            let each = zip(answers, query.items).map { huggingFace($0, topK: $1.topK) }
            return list ? .array(each) : each[0]
        }
    }

    static func native(_ item: ItemAnswers, topK: Int) -> JSONText {
        var fields = fields(item.best)
        if let nullScore = item.nullScore { fields.append(("null_score", .number(nullScore))) }
        if topK > 1 { fields.append(("alternatives", .array(item.answers.dropFirst().map { .object(self.fields($0)) }))) }
        return .object(fields)
    }

    static func fields(_ answer: Answer) -> [(String, JSONText)] {
        [("answer", .string(answer.text)), ("start", .integer(answer.start)), ("end", .integer(answer.end)),
         ("score", .number(answer.score))]
    }

    static func huggingFace(_ item: ItemAnswers, topK: Int) -> JSONText {
        func object(_ answer: Answer) -> JSONText {
            .object([("score", .number(answer.score)), ("start", .integer(answer.start)), ("end", .integer(answer.end)),
                     ("answer", .string(answer.text))])
        }
        return topK > 1 ? .array(item.answers.map(object)) : object(item.best)
    }
}
