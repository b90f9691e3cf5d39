import Foundation
import MRC
import TestSupport
import Text
import XCTest
@testable import Distillation

/// A mixed-architecture ensemble through `teach`: a RoBERTa teacher (byte-level BPE, `<s> q </s></s> c </s>`,
/// positions after pad_token_id, a 40-token position table) and a BERT teacher (its own 64-token WordPiece)
/// label the windows of a BERT student (all-MiniLM-L6-v2) whose tokenizer is neither's, against
/// fixtures/distillation/mixed (scripts/fixtures/make_mixed_ensemble_fixtures.py): each teacher's re-tokenised
/// windows, its logits mapped back through character offsets and the stored distributions, all computed by
/// `transformers` and float64 Python from ModelTeacher's documented rules.
final class MixedEnsembleTests: XCTestCase {
    let data = TestPaths.fixture("training/tiny_squad.json")
    let windowArguments = ["--max-seq-len", "36", "--doc-stride", "16", "--max-query-len", "16"]
    let teacherNames = ["roberta", "bert"]
    func teacherDirectory(_ name: String) -> URL { TestPaths.fixture("model/arch-\(name)") }

    /// The engine's logits against `transformers`' float32 logits of the same checkpoints: the bound
    /// ArchitectureParityTests holds these two models to (float32 arithmetic in another order). The fixture
    /// script checks that transformers' own float32 rounding (against float64) is at most half of it, and
    /// `testTeacherWindowsAndLogitsAreThoseOfTransformers` checks it on every mapped logit of these windows.
    static let logitTolerance = 1e-5

    struct ExpectedTeacherWindow {
        var inputIds: [Int32], tokenTypeIds: [Int32], contextStart: Int, cut: Bool
        var startLogits: [Float], endLogits: [Float]
    }

    struct ExpectedWindow {
        var key: String, window: Int, length: Int
        var teachers: [String: ExpectedTeacherWindow]
        var startLogProbs: [Double], endLogProbs: [Double]
    }

    func expected() throws -> (windowsCut: [String: Int], windows: [ExpectedWindow]) {
        let url = TestPaths.fixture("distillation/mixed/expected.json.gz")
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: DataFile.contents(of: url)) as? [String: Any])
        XCTAssertEqual(root["combination"] as? String, "mean-probabilities")
        XCTAssertEqual(root["temperature"] as? Double, 1)
        let windowsCut = try XCTUnwrap(root["windows_cut"] as? [String: Int])
        let windows = try XCTUnwrap(root["windows"] as? [[String: Any]]).map { entry in
            let teachers = (entry["teachers"] as! [String: [String: Any]]).mapValues { t in
                ExpectedTeacherWindow(inputIds: (t["input_ids"] as! [Int]).map(Int32.init),
                                      tokenTypeIds: (t["token_type_ids"] as! [Int]).map(Int32.init),
                                      contextStart: t["context_start"] as! Int, cut: t["cut"] as! Bool,
                                      startLogits: (t["start_logits"] as! [Double]).map { Float($0) },
                                      endLogits: (t["end_logits"] as! [Double]).map { Float($0) })
            }
            return ExpectedWindow(key: entry["key"] as! String, window: entry["window"] as! Int, length: entry["length"] as! Int,
                                  teachers: teachers, startLogProbs: entry["start_log_probs"] as! [Double],
                                  endLogProbs: entry["end_log_probs"] as! [Double])
        }
        return (windowsCut, windows)
    }

    /// The teacher API: each teacher's re-tokenised windows are exactly transformers' (ids, token types, where the
    /// context starts, which are cut), its mapped logits are transformers' within `logitTolerance` with the
    /// padding (-10000) exactly where Python puts it, and `windows_cut` is Python's count.
    func testTeacherWindowsAndLogitsAreThoseOfTransformers() throws {
        let (windowsCut, expectedWindows) = try expected()
        let examples = try MRCReader.read(data).examples
        let windows = try DistillationTestSupport.windows(examples, maxSeqLen: 36, docStride: 16, maxQueryLen: 16)
        XCTAssertEqual(windows.count, expectedWindows.count, "Python's student windows are Swift's")
        let student = try DistillationTestSupport.tokenizer()
        var cutSeen = 0, compared = 0
        for name in teacherNames {
            let teacher = try ModelTeacher(directory: teacherDirectory(name), studentTokenizer: student, name: name)
            XCTAssertFalse(teacher.sharesTokenizer(with: student), name)
            XCTAssertEqual(teacher.model.config.maxSequenceLength, 40, name)
            let mapping = CrossTokenizerMapping(teacher: teacher.tokenizer, maxLength: teacher.model.config.maxSequenceLength)
            let teacherWindows = mapping.teacherWindows(for: windows, examples: examples)
            let scores = try teacher.score(examples: examples, windows: windows, progress: { _ in })
            XCTAssertEqual(teacher.counts["windows_cut"], windowsCut[name], name)
            for (index, (window, expected)) in zip(windows, expectedWindows).enumerated() {
                let label = "\(name), window \(index) (\(expected.key) #\(expected.window))"
                XCTAssertEqual(examples[window.exampleIndex].id, expected.key, label)
                XCTAssertEqual(window.windowIndex, expected.window, label)
                XCTAssertEqual(window.length, expected.length, label)
                let want = try XCTUnwrap(expected.teachers[name], label)
                let got = teacherWindows[index]
                XCTAssertEqual(Array(got.window.inputIds[..<got.window.length]), want.inputIds, label)
                XCTAssertEqual(Array(got.window.tokenTypeIds[..<got.window.length]), want.tokenTypeIds, label)
                XCTAssertEqual(got.window.contextStart, want.contextStart, label)
                XCTAssertEqual(got.cut, want.cut, label)
                if got.cut { cutSeen += 1 }
                let score = try XCTUnwrap(scores[index], label)
                XCTAssertEqual(score.kind, .logits, label)
                for (side, ours, theirs) in [("start", score.start, want.startLogits), ("end", score.end, want.endLogits)] {
                    XCTAssertEqual(ours.count, theirs.count, "\(side) of \(label)")
                    for (position, (a, b)) in zip(ours, theirs).enumerated() {
                        if b == -10_000 {
                            XCTAssertEqual(a, b, "\(side) of \(label), position \(position): no teacher token starts/ends there")
                        } else {
                            XCTAssertLessThanOrEqual(abs(Double(a) - Double(b)), Self.logitTolerance,
                                                     "\(side) of \(label), position \(position)")
                            compared += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(cutSeen, windowsCut.values.reduce(0, +))
        XCTAssertGreaterThan(cutSeen, 0, "the fixture cuts some RoBERTa windows to its 40 positions")
        XCTAssertGreaterThan(compared, 10_000)
    }

    /// `teach --teacher roberta=DIR --teacher bert=DIR` (mean-probabilities, temperature 1, fp16): every stored
    /// distribution is Python's within the derived tolerance, and the provenance names both teachers with their
    /// kind and windows_cut.
    func testTeachStoresTheEnsemblesDistributions() throws {
        let (windowsCut, expectedWindows) = try expected()
        let root = try CLIProcess.temporaryDirectory("mrc-mixed-teach")
        defer { try? FileManager.default.removeItem(at: root) }
        let labels = root.appendingPathComponent("labels.bin")
        let result = try CLIProcess.run(["teach", "--student", TestPaths.miniLMDirectory.path, "--data", data.path,
                                         "--out", labels.path, "--no-progress"]
                                        + teacherNames.flatMap { ["--teacher", "\($0)=\(teacherDirectory($0).path)"] }
                                        + windowArguments,
                                        logDirectory: root, name: "teach")
        XCTAssertEqual(result.status, 0, result.stderr)
        let store = try SoftLabelStore(url: labels)
        XCTAssertEqual(store.provenance.teachers.map(\.name), teacherNames)
        XCTAssertEqual(store.provenance.teachers.map(\.kind), ["model", "model"])
        XCTAssertEqual(store.provenance.teachers.map(\.weight), [1, 1])
        XCTAssertEqual(store.provenance.teachers.map { $0.counts["windows_cut"] }, teacherNames.map { windowsCut[$0] })
        XCTAssertEqual(store.provenance.combination, .meanProbabilities)
        XCTAssertEqual(store.provenance.temperature, 1)
        XCTAssertEqual(store.provenance.precision, .fp16)
        XCTAssertEqual(store.count, expectedWindows.count)
        var start = [Float](repeating: 0, count: 512), end = start
        var compared = 0, floors = 0
        for (index, expected) in expectedWindows.enumerated() {
            let label = "record \(index) (\(expected.key) #\(expected.window))"
            XCTAssertEqual(store.key(at: index), expected.key, label)
            XCTAssertEqual(store.windowIndex(at: index), expected.window, label)
            XCTAssertEqual(store.length(at: index), expected.length, label)
            XCTAssertTrue(store.isLabelled(at: index), label)
            guard store.logProbabilities(at: index, start: &start, end: &end) else { XCTFail(label); continue }
            for (side, stored, want) in [("start", start, expected.startLogProbs), ("end", end, expected.endLogProbs)] {
                let logits = teacherNames.map { side == "start" ? expected.teachers[$0]!.startLogits : expected.teachers[$0]!.endLogits }
                let bound = DistillationTestSupport.float32Bound(logits) + Self.modelBound
                for position in 0..<expected.length {
                    if want[position] == -10_000 { floors += 1 }
                    XCTAssertLessThanOrEqual(abs(Double(stored[position]) - want[position]), DistillationTestSupport.storeTolerance(want[position], bound: bound),
                                             "\(side) of \(label), position \(position): stored \(stored[position]), Python \(want[position])")
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 10_000)
        XCTAssertGreaterThan(floors, 0, "positions neither teacher can start or end at are stored as the floor")
    }

    /// The model's share of the error: each teacher's logits z are within δ = `logitTolerance` of Python's
    /// (padding exactly). A log-softmax moves by at most 2δ (δ for z_i, δ for the log-sum-exp, which is
    /// 1-Lipschitz in the largest difference); each teacher's probability so moves by a factor within e^{±2δ}, so the
    /// mean of the two probabilities does too and its log moves by at most 2δ; the mean of two normalised
    /// distributions is normalised, so the last log-softmax (the renormalisation) subtracts 0 on both sides.
    static let modelBound = 2 * logitTolerance
}
