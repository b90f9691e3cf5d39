import Foundation
import Serving
import XCTest

/// Request bodies → queries, and every refusal naming its field.
final class RequestParserTests: XCTestCase {
    let parser = RequestParser(limits: QueryLimits(maxTopK: 20, maxAnswerLength: 384, maxItems: 4))

    func refusal(_ body: String, batch: Bool = false, file: StaticString = #filePath, line: UInt = #line) -> ServingError? {
        do {
            _ = batch ? try parser.batch(Data(body.utf8)) : try parser.answer(Data(body.utf8))
            XCTFail("accepted \(body)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testTheThreeShapes() throws {
        let single = try parser.answer(Data(#"{"question": "Who?", "context": "Ann did.", "top_k": 3, "max_answer_length": 5, "model": "m"}"#.utf8))
        XCTAssertEqual(single, AnswerQuery(items: [QueryItem(pair: QuestionContext(question: "Who?", context: "Ann did."), topK: 3,
                                                             maxAnswerLength: 5, path: "")], model: "m", shape: .single))
        let hf = try parser.answer(Data(#"{"inputs": {"question": "Who?", "context": "Ann did."}, "parameters": {"top_k": 2}, "options": {"wait_for_model": true}}"#.utf8))
        XCTAssertEqual(hf.shape, .huggingFace(list: false))
        XCTAssertEqual(hf.items.map(\.topK), [2])
        XCTAssertEqual(hf.items[0].path, "inputs.")
        let list = try parser.answer(Data(#"{"inputs": [{"question": "a", "context": "b"}, {"question": "c", "context": "d"}]}"#.utf8))
        XCTAssertEqual(list.shape, .huggingFace(list: true))
        XCTAssertEqual(list.items.map(\.pair.question), ["a", "c"])
        XCTAssertEqual(list.items.map(\.path), ["inputs[0].", "inputs[1]."])
        let batch = try parser.batch(Data(#"{"items": [{"question": "a", "context": "b"}, {"question": "c", "context": "d", "top_k": 4}], "top_k": 2}"#.utf8))
        XCTAssertEqual(batch.shape, .batch)
        XCTAssertEqual(batch.items.map(\.topK), [2, 4], "an item's top_k overrides the request's")
    }

    func testRefusalsNameTheField() {
        let cases: [(body: String, batch: Bool, field: String?, message: String)] = [
            (#"{"question": 1, "context": "c"}"#, false, "question", "expected a string, found a number"),
            (#"{"question": "q"}"#, false, "context", "missing"),
            (#"{"question": "q", "context": "   \n"}"#, false, "context", "must not be empty"),
            (#"{"question": "q", "context": "c", "top_k": true}"#, false, "top_k", "expected an integer, found a boolean"),
            (#"{"question": "q", "context": "c", "top_k": 2.5}"#, false, "top_k", "expected an integer"),
            (#"{"question": "q", "context": "c", "top_k": 0}"#, false, "top_k", "between 1 and 20"),
            (#"{"question": "q", "context": "c", "top_k": 21}"#, false, "top_k", "between 1 and 20"),
            (#"{"question": "q", "context": "c", "max_answer_length": "5"}"#, false, "max_answer_length", "expected an integer, found a string"),
            (#"{"question": "q", "context": "c", "topk": 2}"#, false, "topk", "unknown field"),
            (#"{"question": "q", "context": "c", "model": ""}"#, false, "model", "must not be empty"),
            (#"{"question": "q", "context": "c", "model": 3}"#, false, "model", "expected a string"),
            (#"{"inputs": "q"}"#, false, "inputs", "expected an object"),
            (#"{"inputs": {"question": "q"}}"#, false, "inputs.context", "missing"),
            (#"{"inputs": [{"question": "q", "context": "c"}, {"question": null, "context": "c"}]}"#, false, "inputs[1].question", "missing"),
            (#"{"inputs": [{"question": "q", "context": "c"}, 7]}"#, false, "inputs[1]", "expected a JSON object, found a number"),
            (#"{"inputs": []}"#, false, "inputs", "must not be empty"),
            (#"{"inputs": {"question": "q", "context": "c"}, "parameters": {"topk": 1}}"#, false, "parameters.topk", "unknown field"),
            (#"{"inputs": {"question": "q", "context": "c"}, "parameters": []}"#, false, "parameters", "expected a JSON object, found an array"),
            (#"{"items": [{"question": "q", "context": "c", "top_k": -1}]}"#, true, "items[0].top_k", "between 1 and 20"),
            (#"{"items": {}}"#, true, "items", "expected an array, found an object"),
            (#"{"items": [1, 2, 3, 4, 5]}"#, true, "items", "more than the 4"),
            (#"{"question": "q", "context": "c"}"#, true, "context", "unknown field"),
        ]
        for (body, batch, field, message) in cases {
            guard let error = refusal(body, batch: batch) else { continue }
            XCTAssertEqual(error.field, field, body)
            XCTAssertTrue(error.message.contains(message), "\(body): \(error.message)")
            XCTAssertTrue(error.status == .badRequest || error.status == .unprocessableContent, "\(body): \(error.status)")
        }
    }

    func testMalformedBodiesAre400WithoutAField() {
        for body in ["", "{", "[1, 2]", "\"just a string\"", "null", "\u{FF}\u{FE}"] {
            guard let error = refusal(body) else { continue }
            XCTAssertEqual(error.status, .badRequest, body)
            XCTAssertNil(error.field, body)
        }
        XCTAssertTrue(refusal("[1]")?.message.contains("must be a JSON object, found an array") ?? false)
        let invalidUTF8 = Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
        XCTAssertThrowsError(try parser.answer(invalidUTF8))
    }

    /// Foundation's JSONSerialization drops a U+FEFF that starts a string or follows an escape; the
    /// parser must keep every code point, or every answer offset after it would shift.
    func testEveryCodePointIsKept() throws {
        for context in ["\u{FEFF}starts with a BOM", "a tab\t\u{FEFF}then a BOM", "\u{FEFF}", "\u{200B}\u{FEFF}\u{0}😀\u{10FFFF}"] {
            let body = try JSONSerialization.data(withJSONObject: ["question": "q", "context": context])
            XCTAssertEqual(Array(try parser.answer(body).items[0].pair.context.unicodeScalars), Array(context.unicodeScalars))
        }
    }

    func testDeepNestingIsRefusedNotACrash() {
        let depth = 100_000
        let body = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let wrapped = #"{"question": "q", "context": "c", "top_k": "# + body + "}"
        XCTAssertNotNil(refusal(wrapped))
    }
}
