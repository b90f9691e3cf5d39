import Checkpoint
import Foundation
import TestSupport
import XCTest
@testable import Text

/// Identical ids, tokens and offsets to Hugging Face `RobertaTokenizerFast(add_prefix_space=False|True,
/// trim_offsets=True)` (expected outputs made by scripts/fixtures/make_bpe_fixtures.py) over held-out
/// SQuAD, NewsQA and BioASQ contexts and questions, fixtures/tokenizer/hard_strings.json, hostile
/// strings and random mixes of hostile pieces; and the regex's character classes, code point by code point.
final class ByteLevelBPEParityTests: XCTestCase {
    static let directory = TestPaths.fixture("tokenizer/bpe")

    static func tokenizer(addPrefixSpace: Bool, trimOffsets: Bool = true) throws -> ByteLevelBPETokenizer {
        try ByteLevelBPETokenizer(vocabFile: directory.appendingPathComponent("vocab.json"),
                                  mergesFile: directory.appendingPathComponent("merges.txt"),
                                  addPrefixSpace: addPrefixSpace, trimOffsets: trimOffsets)
    }

    func testFixtureTextsMatchHuggingFace() throws {
        let url = Self.directory.appendingPathComponent("expected.jsonl.gz")
        // FoundationJSON, not JSONSerialization: the latter drops a raw U+FEFF, and some texts hold one.
        let records = try FixtureFiles.gunzip(url).split(separator: UInt8(ascii: "\n")).enumerated().map { number, line in
            guard let record = try? FoundationJSON.parse(Data(line)) as? [String: Any] else {
                throw FixtureFiles.Failure(description: "\(url.path) line \(number + 1) is not a JSON object")
            }
            return record
        }
        XCTAssertTrue(records.contains { ($0["text"] as? String)?.unicodeScalars.contains("\u{FEFF}") == true })
        // trim_offsets=True for every text; trim_offsets=False too for the texts that are not real ones.
        let modes = [("noprefix", try Self.tokenizer(addPrefixSpace: false)), ("prefix", try Self.tokenizer(addPrefixSpace: true)),
                     ("noprefixNoTrim", try Self.tokenizer(addPrefixSpace: false, trimOffsets: false)),
                     ("prefixNoTrim", try Self.tokenizer(addPrefixSpace: true, trimOffsets: false))]
        var failures: [String] = []
        var tokens = 0
        var encodings: [String: Int] = [:]
        var sources: [String: Int] = [:]
        for (number, record) in records.enumerated() {
            guard let text = record["text"] as? String, let source = record["source"] as? String else {
                return XCTFail("\(url.path) line \(number + 1): no text or source")
            }
            sources[source, default: 0] += 1
            let real = source.hasSuffix(" context") || source.hasSuffix(" question")
            for (mode, tokenizer) in modes where !(real && mode.hasSuffix("NoTrim")) {
                encodings[mode, default: 0] += 1
                guard let entry = record[mode] as? [String: Any], let ids = entry["ids"] as? [Int],
                      let deltas = entry["offsetDeltas"] as? [Int], deltas.count == 2 * ids.count else {
                    return XCTFail("\(url.path) line \(number + 1): malformed \(mode) entry")
                }
                var offsets: [Range<Int>] = []
                var previousEnd = 0
                for index in ids.indices {
                    let start = previousEnd + deltas[2 * index]
                    previousEnd = start + deltas[2 * index + 1]
                    offsets.append(start ..< previousEnd)
                }
                tokens += ids.count
                let actual = tokenizer.encode(text)
                if let difference = Self.firstDifference(actual, ids: ids.map(Int32.init), offsets: offsets, text: text,
                                                         vocabulary: tokenizer.vocabulary) {
                    failures.append("\(mode) text \(number) (\(source)): \(difference)")
                }
            }
        }
        print("byte-level BPE parity: \(records.count) texts, \(tokens) tokens, encodings by mode \(encodings), "
            + "\(failures.count) differ; texts by source \(sources)")
        let realTexts = sources.filter { $0.key.hasSuffix(" context") || $0.key.hasSuffix(" question") }.values.reduce(0, +)
        XCTAssertGreaterThanOrEqual(realTexts, 500)
        XCTAssertGreaterThanOrEqual(sources["hard_strings.json"] ?? 0, 60)
        XCTAssertGreaterThanOrEqual(sources["random mix"] ?? 0, 400)
        XCTAssertTrue(failures.isEmpty, "\(failures.count) encodings differ from Hugging Face; first ones:\n"
            + failures.prefix(10).joined(separator: "\n"))
    }

    /// Describes the first token whose id or offsets differ, or a token spelling that is not the vocabulary's.
    static func firstDifference(_ actual: Encoding, ids: [Int32], offsets: [Range<Int>], text: String,
                                vocabulary: Vocabulary) -> String? {
        if let bad = actual.ids.indices.first(where: { actual.tokens[$0] != vocabulary.tokens[Int(actual.ids[$0])] }) {
            return "token \(bad) is spelt \(actual.tokens[bad].debugDescription), not as id \(actual.ids[bad])"
        }
        if actual.ids == ids && actual.offsets == offsets { return nil }
        var index = 0
        while index < min(actual.count, ids.count) && actual.ids[index] == ids[index] && actual.offsets[index] == offsets[index] {
            index += 1
        }
        func describe(_ ids: [Int32], _ offsets: [Range<Int>]) -> String {
            guard index < ids.count else { return "<end, \(ids.count) tokens>" }
            return "\(vocabulary.tokens[Int(ids[index])].debugDescription)(\(ids[index])) \(offsets[index])"
        }
        let scalars = Array(text.unicodeScalars)
        let at = index < offsets.count ? offsets[index].lowerBound : scalars.count
        var snippet = String.UnicodeScalarView()
        snippet.append(contentsOf: scalars[max(0, at - 20) ..< min(scalars.count, at + 20)])
        return "token \(index): expected \(describe(ids, offsets)), got \(describe(actual.ids, actual.offsets)) "
            + "near scalar \(at): \(String(snippet).debugDescription)"
    }

    /// `\p{L}`, `\p{N}` and `\s` as Oniguruma in `tokenizers` matches them, for every code point.
    func testRegexClassesMatchTokenizers() throws {
        let url = Self.directory.appendingPathComponent("regex_classes.json.gz")
        guard let classes = try JSONSerialization.jsonObject(with: FixtureFiles.gunzip(url)) as? [String: [[Int]]] else {
            return XCTFail("\(url.path) is not an object of runs")
        }
        var expected = [ByteLevelCharacterClass](repeating: .other, count: 0x110000)
        for (name, kind) in [("letter", ByteLevelCharacterClass.letter), ("number", .number), ("whitespace", .whitespace)] {
            guard let runs = classes[name], !runs.isEmpty else { return XCTFail("\(url.path): no \(name) runs") }
            for run in runs { for value in run[0] ... run[1] { expected[value] = kind } }
        }
        var wrong: [String] = []
        for value in 0 ..< 0x110000 {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            let actual = ByteLevelCharacterClasses.classify(scalar)
            if actual != expected[value] {
                wrong.append("U+\(String(value, radix: 16, uppercase: true)) \(actual) (tokenizers: \(expected[value]))")
            }
        }
        XCTAssertTrue(wrong.isEmpty, "\(wrong.count) code points classed unlike tokenizers: " + wrong.prefix(30).joined(separator: ", "))
    }

    /// Pieces and offsets as `pre_tokenizers.ByteLevel(add_prefix_space=True).pre_tokenize_str` gives them.
    func testPreTokenizerPiecesMatchHuggingFace() {
        let text = "a\u{3000} b  \n c "
        XCTAssertEqual(ByteLevelPreTokenizer.pieces(of: Array((" " + text).unicodeScalars)),
                       [0 ..< 2, 2 ..< 3, 3 ..< 5, 5 ..< 8, 8 ..< 10, 10 ..< 11])
        XCTAssertEqual(ByteLevelPreTokenizer.pieces(of: Array("I'm  'llama's x1.5\t\n".unicodeScalars)),
                       [0 ..< 1, 1 ..< 3, 3 ..< 4, 4 ..< 6, 6 ..< 11, 11 ..< 13, 13 ..< 15, 15 ..< 16, 16 ..< 17, 17 ..< 18, 18 ..< 20])
        XCTAssertEqual(ByteLevelAlphabet.spelling(of: Array(" \n\u{a0}é".utf8)), "ĠĊÂłÃ©")
    }

    func testSettingsAndSignature() throws {
        let plain = try Self.tokenizer(addPrefixSpace: false), prefixed = try Self.tokenizer(addPrefixSpace: true)
        XCTAssertFalse(plain.lowercase)
        XCTAssertEqual(plain.pairTemplate, .roberta)
        XCTAssertEqual(plain.vocabulary.specials, .roberta)
        XCTAssertFalse(plain.tokenisesLike(prefixed))
        XCTAssertTrue(plain.tokenisesLike(try Self.tokenizer(addPrefixSpace: false)))
        let fewerMerges = try ByteLevelBPETokenizer(vocabulary: plain.vocabulary,
                                                    merges: BPEMerges(Array(plain.merges.merges.dropLast())))
        XCTAssertFalse(plain.tokenisesLike(fewerMerges))
        // RobertaTokenizerFast(add_prefix_space=True) on this vocabulary.
        XCTAssertEqual(prefixed.encode("Hello world").tokens, ["ĠH", "ell", "o", "Ġworld"])
        XCTAssertEqual(prefixed.encode("Hello world").offsets, [0 ..< 1, 1 ..< 4, 4 ..< 5, 6 ..< 11])
        XCTAssertEqual(plain.encode("").count, 0)
        XCTAssertEqual(prefixed.encode("").count, 0)
    }

    /// One tokenizer shared by threads (its cache filling meanwhile) gives each text what it gives alone.
    func testSharedAcrossThreads() throws {
        let texts = (0 ..< 64).map { "Thread \($0): the words 😀 repeat, réussir \($0 * 7919) times, 'll \u{3000}end " }
        let alone = try Self.tokenizer(addPrefixSpace: true)
        let expected = texts.map { alone.encode($0) }
        let shared = try Self.tokenizer(addPrefixSpace: true)
        let results = Results(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: texts.count) { index in results.set(index, shared.encode(texts[index])) }
        XCTAssertEqual(results.encodings, expected)
    }

    /// The queue that merges long pieces merges as the scan that merges short ones does, on every piece of
    /// the fixture texts and on long pieces made of them.
    func testQueueAndScanMergeAlike() throws {
        let tokenizer = try Self.tokenizer(addPrefixSpace: false)
        let url = Self.directory.appendingPathComponent("expected.jsonl.gz")
        let text = String(decoding: try FixtureFiles.gunzip(url), as: UTF8.self)
        let scalars = Array(text.unicodeScalars)
        var seen = Set<[UInt8]>()
        var pieces = ByteLevelPreTokenizer.pieces(of: scalars).map { Array(String(String.UnicodeScalarView(scalars[$0])).utf8) }
            .filter { seen.insert($0).inserted }
        var random = SeededRandom(seed: 7)
        for _ in 0 ..< 300 {
            pieces.append((0 ..< 1 + Int(random.next() % 12)).flatMap { _ in pieces[Int(random.next() % UInt64(pieces.count))] })
        }
        var differ = 0
        for piece in pieces {
            var queued: [Int32] = [], scanned: [Int32] = []
            piece.withUnsafeBufferPointer {
                tokenizer.merger.mergeWithQueue($0, into: &queued)
                tokenizer.merger.mergeByScanning($0, into: &scanned)
            }
            if queued != scanned { differ += 1 }
        }
        XCTAssertEqual(differ, 0, "of \(pieces.count) pieces")
    }

    /// A long run of letters (one piece) is not merged in quadratic time.
    func testLongPieceIsNotQuadratic() throws {
        let tokenizer = try Self.tokenizer(addPrefixSpace: false)
        var random = SeededRandom(seed: 11)
        let letters = Array("etaoinshrdlucmfwypvbgkqjxz".unicodeScalars)
        var text = String.UnicodeScalarView()
        for _ in 0 ..< 400_000 { text.append(letters[Int(random.next() % 26)]) }
        let start = DispatchTime.now().uptimeNanoseconds
        let encoding = tokenizer.encode(String(text))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertEqual(encoding.offsets.last?.upperBound, 400_000)
        XCTAssertLessThan(seconds, 20, "400,000 letters took \(seconds) s")
    }

    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var storage: [Encoding]
        init(count: Int) { storage = Array(repeating: Encoding(), count: count) }
        func set(_ index: Int, _ encoding: Encoding) { lock.withLock { storage[index] = encoding } }
        var encodings: [Encoding] { lock.withLock { storage } }
    }
}
