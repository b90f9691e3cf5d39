import Foundation
@testable import Model
import MRC
import TestSupport
import Text
import XCTest
@testable import Distillation
@testable import Training

/// Distillation on SQuAD 2.0 keeps the no-answer skill: an unanswerable question's windows have the gold
/// span `[CLS]`, their soft labels put the teachers' no-answer mass on `[CLS]` (a model teacher's as it
/// scored it, a black-box teacher's "" wholly), both loss terms pull the student's null score that way, and
/// the distilled student records in config.json that it learnt to abstain. Tiny model, tiny v2.0 file.
final class SQuAD2DistillationTests: XCTestCase {
    let model = TestPaths.fixture("training/tiny_qa_parity")
    let v2 = TestPaths.fixture("training/tiny_squad_v2.json")
    let settings = WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8)
    let windowArguments = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]

    func tokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabFile: model.appendingPathComponent("vocab.txt"))
    }

    func testUnanswerableWindowsAreKeptWithTheGoldSpanOnCLS() throws {
        let data = try DistillationData.load(files: [v2], tokenizer: tokenizer(), settings: settings)
        let impossible = data.windows.indices.filter { data.windows[$0].label == .impossible }
        XCTAssertGreaterThanOrEqual(impossible.count, 18, "every unanswerable question's windows are trained on")
        XCTAssertEqual(data.unanswerableWindows, impossible.count)
        XCTAssertEqual(Set(impossible.map { data.examples[data.windows[$0].exampleIndex].id }).count, 18)
        let training = data.trainingWindows
        for index in impossible {
            XCTAssertTrue(data.examples[data.windows[index].exampleIndex].isImpossible)
            XCTAssertEqual([training[index].startPosition, training[index].endPosition], [0, 0], "window \(index)")
        }
        let v1 = try DistillationData.load(files: [TestPaths.fixture("training/tiny_squad.json")], tokenizer: tokenizer(), settings: settings)
        XCTAssertEqual(v1.unanswerableWindows, 0)
    }

    /// `teach` with the tiny model and a black-box teacher answering "" to unanswerable questions (and the gold
    /// answer to the others), mean of probabilities at weights 1 : 1: on an unanswerable window the label is
    /// ½·softmax(teacher logits) + ½·one-hot([CLS]). The teacher's logits are recomputed here by the predictor.
    func testTeachKeepsTheTeachersNullMassOnCLSAndDistillRecordsIt() throws {
        let root = try CLIProcess.temporaryDirectory("squad2-teach")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try DistillationData.load(files: [v2], tokenizer: tokenizer(), settings: settings)
        var oracle: [String: String] = [:]
        for example in data.examples { oracle[example.id] = example.isImpossible ? "" : example.answerSpans[0].text }
        let oracleFile = root.appendingPathComponent("oracle.json")
        try JSONSerialization.data(withJSONObject: oracle, options: [.sortedKeys]).write(to: oracleFile)
        let labels = root.appendingPathComponent("labels.bin")
        let teach = try CLIProcess.run(["teach", "--student", model.path, "--data", v2.path, "--out", labels.path,
                                        "--teacher", "tiny=\(model.path)", "--teacher", "oracle=\(oracleFile.path)",
                                        "--no-progress"] + windowArguments, logDirectory: root, name: "teach")
        XCTAssertEqual(teach.status, 0, teach.stderr)
        XCTAssertTrue((teach.stdout + teach.stderr).contains("no_answer_candidates 18"), teach.stdout + teach.stderr)

        let store = try SoftLabelStore(url: labels)
        let tokenizer = try tokenizer()
        let source = try StoreSoftLabels(store: store, data: data, expected: data.provenance(vocabulary: tokenizer.vocabulary,
                                                                                          lowercase: tokenizer.lowercase))
        let trainable = try BertSpanTrainable(directory: model)
        let logits = try Predictor(model: trainable.model, tokenizer: tokenizer, windowSettings: settings,
                                   decoderSettings: SpanDecoderSettings(), batchSize: 8).scores(data.windows)
        var checked = 0
        for index in data.windows.indices where data.windows[index].label == .impossible {
            let label = try XCTUnwrap(source.softLabel(window: index), "window \(index) has a soft label")
            for (side, stored, teacher) in [("start", label.start, logits[index].startLogits), ("end", label.end, logits[index].endLogits)] {
                let probabilities = Self.softmax(teacher.map(Double.init))
                for t in 0..<stored.count {
                    let expected = log(0.5 * probabilities[t] + (t == 0 ? 0.5 : 0))
                    // fp16 storage (half an ulp: 2⁻¹¹ relative) and batch-composition jitter of the logits (≤ 1e-4).
                    XCTAssertEqual(Double(stored[t]), expected, accuracy: 1e-3 + abs(expected) * 1e-3, "window \(index) \(side) token \(t)")
                }
                XCTAssertEqual(TeacherStatistics.argmax(stored), 0, "window \(index) \(side): [CLS] carries the most mass")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 18)

        let student = root.appendingPathComponent("student")
        let distill = try CLIProcess.run(["distill", "--student", model.path, "--soft-labels", labels.path, "--train", v2.path,
                                          "--out", student.path, "--max-steps", "2", "--batch-size", "8", "--no-progress"]
                                         + windowArguments, logDirectory: root, name: "distill")
        XCTAssertEqual(distill.status, 0, distill.stderr)
        XCTAssertTrue(try ModelAnswerability.isMarked(student), "the distilled student says it learnt to abstain")
        XCTAssertTrue(distill.stderr.contains("config.json records \(ModelAnswerability.configKey)"), distill.stderr)
    }

    /// One unanswerable row (gold start = end = 0) whose teacher puts most mass on [CLS]: the loss and the
    /// gradient at [CLS], computed here from the definition (α_hard · CE + α_soft · T² · KL at T = 2).
    func testBothLossTermsPullTheStudentsNullScoreTowardCLS() throws {
        let start: [Float] = [0.5, 1.0, -0.5, 0.2], end: [Float] = [0.1, -0.3, 0.8, 0.0]
        let teacherStart = [0.7, 0.1, 0.1, 0.1], teacherEnd = [0.6, 0.2, 0.1, 0.1]
        let loss = DistillationLoss(hardWeight: 0.5, softWeight: 0.5, temperature: 2, scaleByTemperatureSquared: true)
        let result = try loss.compute(SpanLogits(batch: 1, seqLen: 4, start: start, end: end), attentionMask: [1, 1, 1, 1],
                                      startPositions: [0], endPositions: [0],
                                      teacherStart: teacherStart.map { Float(log($0)) }, teacherEnd: teacherEnd.map { Float(log($0)) },
                                      hasSoftLabel: [true])
        func side(_ student: [Float], _ teacher: [Double]) -> (hard: Double, kl: Double, gradient: Double) {
            let p = Self.softmax(student.map(Double.init))
            let pT = Self.softmax(student.map { Double($0) / 2 }), qT = Self.softmax(teacher.map { log($0) / 2 })
            var kl = 0.0
            for (q, p) in zip(qT, pT) { kl += q * log(q / p) }
            // d/ds₀: α_hard · ½ · (p₀ − 1) + α_soft · T² · ½ · (pT₀ − qT₀) / T
            let hardGradient: Double = 0.5 * 0.5 * (p[0] - 1)
            let softGradient: Double = 0.5 * 4 * 0.5 * (pT[0] - qT[0]) / 2
            return (-log(p[0]), kl, hardGradient + softGradient)
        }
        let s = side(start, teacherStart), e = side(end, teacherEnd)
        XCTAssertEqual(Double(result.hard), (s.hard + e.hard) / 2, accuracy: 1e-5)
        XCTAssertEqual(Double(result.soft), (s.kl + e.kl) / 2, accuracy: 1e-5)
        let hard: Double = (s.hard + e.hard) / 2, kl: Double = (s.kl + e.kl) / 2
        let total: Double = 0.5 * hard + 0.5 * 4 * kl
        XCTAssertEqual(Double(result.total), total, accuracy: 1e-5)
        XCTAssertEqual(Double(result.dStartLogits[0]), s.gradient, accuracy: 1e-6)
        XCTAssertEqual(Double(result.dEndLogits[0]), e.gradient, accuracy: 1e-6)
        XCTAssertLessThan(result.dStartLogits[0], 0, "descent raises the start [CLS] logit")
        XCTAssertLessThan(result.dEndLogits[0], 0, "descent raises the end [CLS] logit")
    }

    static func softmax(_ values: [Double]) -> [Double] {
        let top = values.max()!
        let exponentials = values.map { exp($0 - top) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }
}
