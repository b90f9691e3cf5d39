import Checkpoint
import Foundation
import MRC
import PropertyBased
import Training
import XCTest

/// Property-based round trips of the formats the project reads: random valid documents, written by an
/// independent writer (JSONSerialization, our writers only where the format is ours), must read back
/// identically. Strings are made of pieces that trip offset and escape handling (astral planes, combining
/// marks, U+FEFF, quotes, backslashes, controls). The seed is random per run and printed;
/// ROUND_TRIP_SEED replays one.
final class RoundTripPropertyTests: XCTestCase {
    static let cases = 300
    static let pieces = ["a", "word", "Zürich", " ", "  ", "\n", "\t", ",", ".", "?", "\"", "\\", "/", "😀", "👩‍👩‍👧", "🇫🇷",
                         "e\u{301}", "İ", "ß", "ﬁ", "中文", "𝔘", "\u{1}", "\u{7F}", "\u{200B}", "\u{FEFF}", "\u{10FFFF}", "{", "]"]
    static let piece = Gen<String?>.element(of: pieces).map { $0! }
    static let text = piece.array(of: 1...30).map { $0.joined() }

    func forEachCase(_ name: String, _ body: (inout Xoshiro, String) throws -> Void) rethrows {
        let start = ProcessInfo.processInfo.environment["ROUND_TRIP_SEED"].flatMap { Xoshiro(seed: $0) } ?? Xoshiro()
        print("RoundTripPropertyTests.\(name) seed: \(start.currentSeed) (ROUND_TRIP_SEED replays it)")
        var rng = start
        for index in 0..<Self.cases {
            try body(&rng, "case \(index) of seed \(start.currentSeed)")
        }
    }

    /// A random context and answers that are slices of it (offsets in code points, as SQuAD counts them).
    func paragraph(_ rng: inout Xoshiro) -> (context: String, answers: [(text: String, start: Int)]) {
        let context = Self.text.run(using: &rng)
        let scalars = Array(context.unicodeScalars)
        var answers: [(String, Int)] = []
        for _ in 0..<Gen.int(in: 0...3).run(using: &rng) {
            let start = Gen.int(in: 0...(scalars.count - 1)).run(using: &rng)
            let end = Gen.int(in: (start + 1)...scalars.count).run(using: &rng)
            answers.append((String(String.UnicodeScalarView(scalars[start..<end])), start))
        }
        return (context, answers)
    }

    func testSQuADDocumentsReadBackIdentically() throws {
        try forEachCase("squad") { rng, label in
            var expected: [(id: String, question: String, context: String, answers: [(String, Int)])] = []
            var articles: [[String: Any]] = []
            for article in 0..<Gen.int(in: 1...2).run(using: &rng) {
                var paragraphs: [[String: Any]] = []
                for _ in 0..<Gen.int(in: 1...2).run(using: &rng) {
                    let (context, answers) = paragraph(&rng)
                    var qas: [[String: Any]] = []
                    for _ in 0..<Gen.int(in: 1...2).run(using: &rng) {
                        let id = "\(article)-\(expected.count)-" + Self.text.run(using: &rng)
                        let question = Self.text.run(using: &rng)
                        qas.append(["id": id, "question": question,
                                    "answers": answers.map { ["text": $0.text, "answer_start": $0.start] }])
                        expected.append((id, question, context, answers))
                    }
                    paragraphs.append(["context": context, "qas": qas])
                }
                articles.append(["title": Self.text.run(using: &rng), "paragraphs": paragraphs])
            }
            let data = try JSONSerialization.data(withJSONObject: ["version": "1.1", "data": articles])
            let dataset = try SQuADReader.parse(data, file: "random.json", dataset: "random")
            XCTAssertEqual(dataset.report.skipped.count, 0, label)
            XCTAssertEqual(dataset.examples.count, expected.count, label)
            for (example, want) in zip(dataset.examples, expected) {
                XCTAssertEqual(example.id, want.id, label)
                XCTAssertEqual(example.question, want.question, label)
                XCTAssertEqual(example.context.string, want.context, label)
                XCTAssertEqual(example.answerSpans.map(\.text), want.answers.map(\.0), label)
                XCTAssertEqual(example.answerSpans.map(\.characters.lowerBound), want.answers.map(\.1), label)
                for span in example.answerSpans { XCTAssertEqual(example.context.slice(span.characters), span.text, label) }
            }
        }
    }

    func testMRQALinesReadBackIdenticallyPlainAndGzipped() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-roundtrip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try forEachCase("mrqa") { rng, label in
            var lines = [try JSONSerialization.data(withJSONObject: ["header": ["dataset": "Random", "split": "dev"]])]
            var expected: [(qid: String, context: String, spans: [Range<Int>])] = []
            for _ in 0..<Gen.int(in: 1...3).run(using: &rng) {
                let (context, answers) = paragraph(&rng)
                let qid = "q\(expected.count)" + Self.text.run(using: &rng)
                let detected = answers.map { ["text": $0.text, "char_spans": [[$0.start, $0.start + $0.text.unicodeScalars.count - 1]]] }
                let qa: [String: Any] = ["qid": qid, "question": Self.text.run(using: &rng), "answers": answers.map(\.text),
                                         "detected_answers": detected]
                lines.append(try JSONSerialization.data(withJSONObject: ["context": context, "qas": [qa]]))
                expected.append((qid, context, answers.map { $0.start..<($0.start + $0.text.unicodeScalars.count) }))
            }
            let body = lines.reduce(Data()) { $0 + $1 + Data("\n".utf8) }
            let plain = directory.appendingPathComponent("random.jsonl")
            try body.write(to: plain)
            var readings = [try MRCReader.read(plain)]
            if Gen.bool(0.2).run(using: &rng) {  // through the gzip layer (compressed by /bin/gzip, the reference)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/gzip")
                process.arguments = ["-kf", plain.path]
                try process.run()
                process.waitUntilExit()
                readings.append(try MRCReader.read(directory.appendingPathComponent("random.jsonl.gz")))
            }
            for dataset in readings {
                XCTAssertEqual(dataset.name, "Random", label)
                XCTAssertEqual(dataset.examples.map(\.qid), expected.map(\.qid), label)
                XCTAssertEqual(dataset.examples.map(\.context.string), expected.map(\.context), label)
                XCTAssertEqual(dataset.examples.map { $0.answerSpans.map(\.characters) }, expected.map(\.spans), label)
            }
        }
    }

    func testVocabulariesConfigsAndTrainerStatesRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-roundtrip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try forEachCase("checkpoint formats") { rng, label in
            // vocab.txt: the specials and unique tokens without line ends or trailing White_Space (the format cannot hold them).
            var tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
            for _ in 0..<Gen.int(in: 0...20).run(using: &rng) {
                var token = Self.text.run(using: &rng).replacingOccurrences(of: "\n", with: "")
                while let last = token.unicodeScalars.last, last.properties.isWhitespace { token.unicodeScalars.removeLast() }
                if !token.isEmpty && !tokens.contains(token) { tokens.insert(token, at: Gen.int(in: 0...tokens.count).run(using: &rng)) }
            }
            let vocabulary = try Vocabulary(tokens: tokens)
            try vocabulary.write(to: directory.appendingPathComponent("vocab.txt"))
            XCTAssertEqual(try Vocabulary(contentsOf: directory.appendingPathComponent("vocab.txt")).tokens, tokens, label)

            let heads = Gen.int(in: 1...4).run(using: &rng)
            let config = BertConfig(hiddenSize: heads * Gen.int(in: 1...16).run(using: &rng), numHiddenLayers: Gen.int(in: 1...6).run(using: &rng),
                                    numAttentionHeads: heads, intermediateSize: Gen.int(in: 1...64).run(using: &rng),
                                    vocabSize: tokens.count, layerNormEps: Double(Gen.int(in: 1...1000).run(using: &rng)) * 1e-15,
                                    hiddenDropoutProb: Double(Gen.int(in: 0...9).run(using: &rng)) / 10,
                                    architecture: [.bert, .roberta, .electra][Gen.int(in: 0...2).run(using: &rng)],
                                    extra: ["note": .string(Self.text.run(using: &rng))])
            try config.write(to: directory.appendingPathComponent("config.json"))
            XCTAssertEqual(try BertConfig.load(from: directory.appendingPathComponent("config.json")), config, label)

            let total = Gen.int(in: 1...100_000).run(using: &rng)
            let step = Gen.int(in: 0...total).run(using: &rng)
            var state = TrainerState(step: step, epoch: Gen.int(in: 0...9).run(using: &rng), batchInEpoch: Gen.int(in: 0...999).run(using: &rng),
                                     totalSteps: total, generatorState: (0..<4).map { _ in UInt64.random(in: 1...UInt64.max, using: &rng) },
                                     emaUpdates: Gen.int(in: 0...step).run(using: &rng), tokensSeen: Gen.int(in: 0...Int.max).run(using: &rng),
                                     trainingSeconds: Double(Gen.int(in: 0...1_000_000).run(using: &rng)) / 3,
                                     settingsFingerprint: Self.text.run(using: &rng), dataFingerprint: "abc", parameterCount: Gen.int(in: 1...1 << 40).run(using: &rng))
            if Gen.bool.run(using: &rng) { state.auxiliaryCursors = [TaskCursor(epoch: 1, batchInEpoch: Gen.int(in: 0...50).run(using: &rng))] }
            XCTAssertEqual(try TrainerState.decode(JSONEncoder().encode(state), file: "state.json"), state, label)
        }
    }
}
