import Foundation
import TestSupport
import XCTest
@testable import Text

/// Every code point gets the treatment Hugging Face's BertNormalizer and BertPreTokenizer give it
/// (fixtures/tokenizer/unicode_classes.json.gz, made from `tokenizers` one code point at a time):
/// removed by clean_text, whitespace, punctuation, CJK ideograph, and the uncased normal form
/// (NFD, nonspacing marks dropped, lowercased).
final class UnicodeClassParityTests: XCTestCase {
    private func loadClasses() throws -> [String: Any] {
        let url = TestPaths.fixture("tokenizer/unicode_classes.json.gz")
        guard let classes = try JSONSerialization.jsonObject(with: FixtureFiles.gunzip(url)) as? [String: Any] else {
            throw FixtureFiles.Failure(description: "\(url.path) is not a JSON object")
        }
        return classes
    }

    /// The code points of the inclusive runs stored under `key`.
    private func codePoints(_ classes: [String: Any], _ key: String) throws -> Set<UInt32> {
        guard let runs = classes[key] as? [[Int]] else {
            throw FixtureFiles.Failure(description: "unicode_classes.json.gz: no \(key) runs")
        }
        var set = Set<UInt32>()
        for run in runs { for value in run[0] ... run[1] { set.insert(UInt32(value)) } }
        return set
    }

    private var allScalars: [Unicode.Scalar] {
        (0 ... 0x10FFFF).compactMap { Unicode.Scalar(UInt32($0)) }
    }

    private func check(_ name: String, expected: Set<UInt32>, actual: (Unicode.Scalar) -> Bool) {
        var wrong: [String] = []
        for scalar in allScalars where actual(scalar) != expected.contains(scalar.value) {
            wrong.append("U+\(String(scalar.value, radix: 16, uppercase: true))"
                + (expected.contains(scalar.value) ? "(missed)" : "(extra)"))
        }
        XCTAssertTrue(wrong.isEmpty, "\(name): \(wrong.count) code points differ from tokenizers: "
            + wrong.prefix(40).joined(separator: " "))
    }

    func testCharacterClassesMatchTokenizers() throws {
        let classes = try loadClasses()
        check("removed", expected: try codePoints(classes, "removed"), actual: BertCharacterClasses.isRemoved)
        // clean_text removes control characters before it maps whitespace to a space.
        check("whitespace", expected: try codePoints(classes, "whitespace")) {
            !BertCharacterClasses.isRemoved($0) && BertCharacterClasses.isWhitespace($0)
        }
        check("punctuation", expected: try codePoints(classes, "punctuation"), actual: BertCharacterClasses.isPunctuation)
        check("chinese", expected: try codePoints(classes, "chinese"), actual: BertCharacterClasses.isChineseCharacter)
        // NFD puts a scalar whose decomposition starts with a mark of class 1-239 before U+0345.
        check("combining class", expected: try codePoints(classes, "reorderedBeforeClass240")) { scalar in
            guard let first = UnicodeNormalization.canonicalDecomposition(of: scalar).first else { return false }
            let combiningClass = UnicodeNormalization.combiningClass(of: first)
            return combiningClass > 0 && combiningClass < 240
        }
    }

    func testUncasedNormalFormMatchesTokenizers() throws {
        let classes = try loadClasses()
        guard let normalized = classes["uncasedNormalized"] as? [String: String] else {
            throw FixtureFiles.Failure(description: "unicode_classes.json.gz: no uncasedNormalized map")
        }
        XCTAssertGreaterThan(normalized.count, 10000)
        var wrong: [String] = []
        var output: [Unicode.Scalar] = []
        for scalar in allScalars {
            // One scalar's NFD is already in canonical order: decompose, drop marks, lowercase.
            output.removeAll(keepingCapacity: true)
            for decomposed in UnicodeNormalization.canonicalDecomposition(of: scalar)
            where !BertCharacterClasses.isStrippedMark(decomposed) {
                UnicodeNormalization.appendLowercase(of: decomposed, to: &output)
            }
            var actual = String.UnicodeScalarView()
            actual.append(contentsOf: output)
            let expected = normalized[String(scalar.value, radix: 16)] ?? String(Character(scalar))
            if String(actual).unicodeScalars.elementsEqual(expected.unicodeScalars) == false {
                wrong.append("U+\(String(scalar.value, radix: 16, uppercase: true)) → "
                    + "\(expected.unicodeScalars.map { String($0.value, radix: 16) }) got \(output.map { String($0.value, radix: 16) })")
            }
        }
        XCTAssertTrue(wrong.isEmpty, "uncased normal form: \(wrong.count) code points differ from tokenizers:\n"
            + wrong.prefix(40).joined(separator: "\n"))
    }
}
