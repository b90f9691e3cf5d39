import Checkpoint
import Foundation
import TestSupport
import XCTest

/// The JSON error locator: positions of known errors, and agreement with Foundation's parser (the
/// independent reference) on thousands of random edits of real files: it must call a text valid exactly
/// when Foundation can parse it.
final class JSONSyntaxTests: XCTestCase {
    func testPointsAtTheFirstError() {
        let cases: [(String, Int, Int, String)] = [
            ("{\"a\": 1,\n \"b\" 2}", 2, 6, "expected ':' after the key, found '2'"),
            ("[1, 2,\n\n  ,]", 3, 3, "expected a value, found ','"),
            ("{\"a\": [1, 2}", 1, 12, "expected ',' or ']' after an array element, found '}'"),
            ("{\"ü\": tru}", 1, 10, "expected a value (true?), found '}'"),
            ("{\"a\": \"x\ny\"}", 1, 9, "control character in a string (escape it), found byte 0x0A"),
            ("{\"a\": 01}", 1, 8, "expected ',' or '}' after an object member, found '1'"),
            ("{\"a\": -}", 1, 8, "invalid number: a digit must follow '-', found '}'"),
            ("{\"a\": \"\\x\"}", 1, 9, "invalid escape in a string, found 'x'"),
            ("{\"a\": 1} {", 1, 10, "unexpected text after the JSON value, found '{'"),
            ("", 1, 1, "expected a value, found the end of the text"),
            ("[1e999]", 1, 2, "number out of range, found '1'"),
            ("[\"\\ud800x\"]", 1, 3, "unpaired surrogate in a \\u escape, found '\\'"),
            ("[\"\\udc00\"]", 1, 3, "unpaired surrogate in a \\u escape, found '\\'"),
            ("{\"a\": \"open", 1, 12, "unterminated string (opened at line 1, column 7), found the end of the text"),
        ]
        for (text, line, column, message) in cases {
            let error = JSONSyntax.firstError(in: Data(text.utf8))
            XCTAssertEqual(error?.line, line, text)
            XCTAssertEqual(error?.column, column, text)
            XCTAssertEqual(error?.message, message, text)
        }
        // Foundation's parser takes a trailing comma; so does the locator (it explains Foundation's refusals).
        XCTAssertNil(JSONSyntax.firstError(in: Data("{\"a\": [1, 2,],}".utf8)))
        XCTAssertEqual(JSONSyntax.firstError(in: Data([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]))?.message, "invalid UTF-8, found byte 0xC3")
    }

    func testNestingBombIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertEqual(JSONSyntax.firstError(in: Data(deep.utf8))?.message, "nesting deeper than 512 levels, found '['")
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertNil(JSONSyntax.firstError(in: Data(fine.utf8)))
    }

    func testAgreesWithFoundationOnRandomEditsOfRealFiles() throws {
        // A slice of the real SQuAD dev file (non-ASCII text, escapes, numbers) and a real config.json.
        let squad = try Data(contentsOf: TestPaths.sharedData("squad/dev-v1.1.json")).prefix(6000)
        let cut = squad.lastIndex(of: UInt8(ascii: "}"))!
        var sliceText = String(decoding: squad[...cut], as: UTF8.self)
        let open = sliceText.filter { $0 == "{" }.count - sliceText.filter { $0 == "}" }.count
        let brackets = sliceText.filter { $0 == "[" }.count - sliceText.filter { $0 == "]" }.count
        sliceText += String(repeating: "]}", count: min(open, brackets)) + String(repeating: "}", count: max(0, open - brackets))
        let config = try Data(contentsOf: TestPaths.miniLMDirectory.appendingPathComponent("config.json"))
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [[0x22], [0x5C], [0x2C], [0x3A], [0x7B], [0x7D], [0x5B], [0x5D], [0x2D], [0x30], [0x65],
                                 [0x2E], [0x0A], [0xC3], [0xA9], Array("\\u00e9".utf8), Array("\\ud83d".utf8), Array("\\ude00".utf8),
                                 Array("e999".utf8), Array("true".utf8), Array("nul".utf8)]
        var disagreements: [String] = []
        var invalid = 0
        for base in [Data(sliceText.utf8), config] {
            XCTAssertNil(JSONSyntax.firstError(in: base), "the unedited text must be valid")
            for _ in 0..<1500 {
                var bytes = [UInt8](base)
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let at = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes.remove(at: at)
                    case 1: bytes.insert(contentsOf: pieces.randomElement(using: &generator)!, at: at)
                    default: bytes[at] = pieces.randomElement(using: &generator)![0]
                    }
                    if bytes.isEmpty { bytes = [0x7B] }
                }
                let data = Data(bytes)
                let foundationAccepts = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
                let ours = JSONSyntax.firstError(in: data)
                if ours != nil { invalid += 1 }
                if foundationAccepts != (ours == nil) {
                    disagreements.append("Foundation \(foundationAccepts), ours \(ours?.description ?? "valid"): "
                                         + String(decoding: data.prefix(200), as: UTF8.self))
                }
            }
        }
        XCTAssertGreaterThan(invalid, 1000, "the edits must break most texts")
        XCTAssertEqual(disagreements, [], "\(disagreements.count) disagreements")
    }
}
