import Distillation
import Foundation
import MRC
import TestSupport
import Text
import Training
import XCTest

/// `teach` without `--shard` labels in parts: a run stopped in a later part keeps its finished parts, the next
/// run labels only the rest, and the store equals — byte for byte — one written in one go.
final class ResumableTeachingTests: XCTestCase {
    /// A teacher that fails once asked to score a window of question `failAt` or later (the "kill").
    final class FailingTeacher: Teacher {
        let inner: Teacher
        let failAt: Int
        var scoredExamples: Set<Int> = []
        init(_ inner: Teacher, failAt: Int) { self.inner = inner; self.failAt = failAt }
        var name: String { inner.name }
        var kind: String { inner.kind }
        var fingerprint: String { inner.fingerprint }
        var counts: [String: Int] { inner.counts }
        struct Stop: Error {}
        func score(examples: [MRCExample], windows: [Window], progress: (Int) -> Void) throws -> [TeacherScores?] {
            if windows.contains(where: { $0.exampleIndex >= failAt }) { throw Stop() }
            windows.forEach { scoredExamples.insert($0.exampleIndex) }
            return try inner.score(examples: examples, windows: windows, progress: progress)
        }
    }

    func testAStoppedRunKeepsItsPartsAndTheResultIsTheOneGoStore() throws {
        let directory = try CLIProcess.temporaryDirectory("mrc-teach-parts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = TestPaths.sharedData("squad/dev-v1.1.json")
        let tokenizer = try DistillationTestSupport.tokenizer()
        let source = try DistillationSource.read(files: [data], tokenizer: tokenizer, settings: WindowSettings(maxSeqLen: 128, docStride: 64, maxQueryLen: 32))
        let survey = try source.survey()
        let predictions = TestPaths.sharedData("teachers/dev/bert-ensemble.json")
        func teaching(_ teacher: Teacher) throws -> Teaching {
            Teaching(source: source, survey: survey,
                     ensemble: try TeacherEnsemble(teachers: [teacher], weights: [1], combination: .meanProbabilities, temperature: 1),
                     vocabulary: tokenizer.vocabulary, lowercase: true, precision: .fp16, shard: nil)
        }
        let partWindows = 4 * SoftLabelShard.blockSize
        XCTAssertGreaterThan(survey.count, 5 * partWindows, "the data must span several parts")

        let whole = directory.appendingPathComponent("whole.bin")
        _ = try teaching(BlackBoxTeacher(name: "bert", url: predictions)).run(to: whole, showProgress: false)

        let out = directory.appendingPathComponent("labels.bin")
        let failing = FailingTeacher(try BlackBoxTeacher(name: "bert", url: predictions), failAt: source.examples.count / 2)
        XCTAssertThrowsError(try teaching(failing).runResumably(to: out, partWindows: partWindows, showProgress: false)) {
            XCTAssertTrue($0 is FailingTeacher.Stop)
        }
        let parts = try FileManager.default.contentsOfDirectory(atPath: out.path + ".parts").filter { $0.hasSuffix(".bin") }
        XCTAssertGreaterThanOrEqual(parts.count, 2, "finished parts stay")

        var messages: [String] = []
        let resumedTeacher = FailingTeacher(try BlackBoxTeacher(name: "bert", url: predictions), failAt: .max)
        _ = try teaching(resumedTeacher).runResumably(to: out, partWindows: partWindows, log: { messages.append($0) }, showProgress: false)
        XCTAssertEqual(messages.filter { $0.hasSuffix("labelled by an earlier run, kept") }.count, parts.count, messages.joined(separator: "\n"))
        XCTAssertFalse(resumedTeacher.scoredExamples.contains(0), "the first part is not labelled again")
        XCTAssertEqual(try Data(contentsOf: out), try Data(contentsOf: whole), "the merged store is the one-go store")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path + ".parts"), "the parts are removed after the merge")
    }
}
