import Foundation
import Serving
import Text

/// Targets for free text that reaches the program without a file: the server's request bodies and any
/// text the tokenizer is given.
enum TextTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget("request", "the server's request bodies: POST /v1/answer and /v1/answer:batch (RequestParser)", maxLength: 8_192) { data in
            let parser = RequestParser(limits: QueryLimits(maxTopK: 20, maxAnswerLength: 30, maxItems: 64))
            // A body is for one route; refused by both is a refusal (the single route's message is reported).
            try FuzzTarget.eachReader("request", [{ _ = try parser.answer(data) }, { _ = try parser.batch(data) }])
        },
        FuzzTarget("tokenizer", "the WordPiece tokenizer on arbitrary text (BertTokenizerFast's rules): offsets in range, ascending", maxLength: 4_096) { data in
            let text = String(decoding: data, as: UTF8.self)
            let encoding = try DataFormatTargets.tokenizer().encode(text)
            let scalars = text.unicodeScalars.count
            var previous = 0
            for range in encoding.offsets {
                precondition(range.lowerBound >= previous && range.upperBound <= scalars && !range.isEmpty,
                             "offset \(range) out of order or outside the \(scalars)-scalar text")
                previous = range.lowerBound
            }
        },
    ]
}
