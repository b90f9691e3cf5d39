import Foundation
import TestSupport
import XCTest
@testable import Training

/// The distillation commands end to end on the tiny fixture model and data, as a user runs them:
/// `teach` with a model teacher and a black-box teacher, sharded `teach` + `merge` byte-identical to the
/// unsharded store, `distill` with MLM mixing resumed exactly after a SIGKILL, and a store made for
/// other windows refused before any work.
final class DistillCLITests: XCTestCase {
    let model = TestPaths.fixture("training/tiny_qa_parity").path
    let data = TestPaths.fixture("training/tiny_squad.json").path
    let windowArguments = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]

    /// A black-box teacher answering every question with its first gold answer but one, which it misses.
    func writeBlackBoxTeacher(_ url: URL) throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data))) as! [String: Any]
        var answers: [String: String] = [:]
        for case let article as [String: Any] in json["data"] as! [Any] {
            for case let paragraph as [String: Any] in article["paragraphs"] as! [Any] {
                for case let qa as [String: Any] in paragraph["qas"] as! [Any] {
                    answers[qa["id"] as! String] = ((qa["answers"] as! [[String: Any]])[0]["text"] as! String)
                }
            }
        }
        answers[answers.keys.sorted()[0]] = "words that are not in any context"
        try JSONSerialization.data(withJSONObject: answers, options: [.sortedKeys]).write(to: url)
    }

    func teach(_ root: URL, out: URL, extra: [String] = [], name: String) throws -> CLIProcess.Result {
        try CLIProcess.run(["teach", "--student", model, "--data", data, "--out", out.path,
                            "--teacher", "tiny=\(model):2", "--teacher", root.appendingPathComponent("oracle.json").path,
                            "--no-progress"] + windowArguments + extra, logDirectory: root, name: name)
    }

    func distillArguments(out: URL, labels: URL, resume: Bool) -> [String] {
        ["distill", "--student", model, "--soft-labels", labels.path, "--train", data, "--out", out.path,
         "--batch-size", "8", "--max-steps", "12", "--checkpoint-every", "4", "--learning-rate", "1e-3",
         "--dropout", "0.1", "--ema-decay", "0.9", "--seed", "7", "--mlm-mix-ratio", "2", "--temperature", "2",
         "--no-progress"] + windowArguments + (resume ? ["--resume"] : [])
    }

    func testTeachShardMergeDistillAndExactResume() throws {
        let root = try CLIProcess.temporaryDirectory("distill")
        defer { try? FileManager.default.removeItem(at: root) }
        try writeBlackBoxTeacher(root.appendingPathComponent("oracle.json"))
        let labels = root.appendingPathComponent("labels.bin")
        let taught = try teach(root, out: labels, name: "teach")
        XCTAssertEqual(taught.status, 0, taught.stderr)
        XCTAssertTrue(taught.stdout.contains("tiny (model, weight 2.0"), taught.stdout)
        XCTAssertTrue(taught.stdout.contains("answers_not_found 1"), "the missed answer is counted: \(taught.stdout)")

        // Sharded: three parts merged in another order are the same bytes as the unsharded store.
        var parts: [String] = []
        for i in [3, 1, 2] {
            let part = root.appendingPathComponent("labels.part\(i)")
            let result = try teach(root, out: part, extra: ["--shard", "\(i)/3"], name: "shard\(i)")
            XCTAssertEqual(result.status, 0, result.stderr)
            parts.append(part.path)
        }
        let merged = root.appendingPathComponent("merged.bin")
        let merge = try CLIProcess.run(["merge"] + parts + ["--out", merged.path], logDirectory: root, name: "merge")
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertEqual(try Data(contentsOf: merged), try Data(contentsOf: labels), "merged shards differ from the unsharded store")
        let missing = try CLIProcess.run(["merge", parts[0], parts[1], "--out", root.appendingPathComponent("bad.bin").path],
                                         logDirectory: root, name: "merge-missing")
        XCTAssertNotEqual(missing.status, 0, "a merge missing a shard must fail")

        // Distill with MLM mixing: straight, and killed inside step 7 then resumed.
        let straight = root.appendingPathComponent("straight"), killed = root.appendingPathComponent("killed")
        let reference = try CLIProcess.run(distillArguments(out: straight, labels: labels, resume: false), logDirectory: root, name: "straight")
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let expected = try DistillationTestSupport.trajectory(straight.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(expected.count, 12)
        let tasks = Set(try MetricsLog.read(straight.appendingPathComponent("metrics.jsonl")).compactMap(\.task))
        XCTAssertEqual(tasks, ["mrc", "mlm"], "12 steps at mix ratio 2 draw both tasks")
        let (process, _, errURL) = try CLIProcess.start(distillArguments(out: killed, labels: labels, resume: false),
                                                        environment: [FaultInjection.environmentVariable: "7"],
                                                        logDirectory: root, name: "killed")
        let marker = killed.appendingPathComponent(".paused-in-step-7")
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: marker.path) && process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(process.isRunning, "the run ended before step 7: \((try? String(contentsOf: errURL, encoding: .utf8)) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(CheckpointStore(outputDirectory: killed).latest?.step, 4)
        let resumed = try CLIProcess.run(distillArguments(out: killed, labels: labels, resume: true), logDirectory: root, name: "resumed")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try DistillationTestSupport.trajectory(killed.appendingPathComponent("metrics.jsonl")), expected,
                       "the resumed distillation (tasks, losses, terms, learning rates, norms) must equal the uninterrupted one")
        for file in ["model.safetensors", "ema.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent(file)),
                           try Data(contentsOf: killed.appendingPathComponent(file)), "\(file) differs after resume")
        }
        // The exported student is the span-QA model alone (no MLM head), loadable by `predict`.
        let exported = try String(contentsOf: straight.appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertTrue(exported.contains("BertForQuestionAnswering"))
        let header = try Data(contentsOf: straight.appendingPathComponent("model.safetensors")).prefix(4096)
        XCTAssertFalse(String(decoding: header, as: UTF8.self).contains("cls.predictions"), "the exported student carries the MLM head")

        // A store made for other window settings is refused before any training, naming the field.
        var other = distillArguments(out: root.appendingPathComponent("other"), labels: labels, resume: false)
        other[other.firstIndex(of: "--max-seq-len")! + 1] = "28"
        let refused = try CLIProcess.run(other, logDirectory: root, name: "refused")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("max_seq_len"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("other/metrics.jsonl").path))
    }

    /// `score` turns a black-box prediction file into a report row with the official metric, and
    /// `report` renders the rows: one answer of 72 is wrong, so EM is 71/72.
    func testScoreAndReportRows() throws {
        let root = try CLIProcess.temporaryDirectory("score")
        defer { try? FileManager.default.removeItem(at: root) }
        let oracle = root.appendingPathComponent("oracle.json")
        try writeBlackBoxTeacher(oracle)
        let rows = root.appendingPathComponent("rows.jsonl")
        let scored = try CLIProcess.run(["score", "--name", "oracle", "--kind", "teacher", "--predictions", oracle.path,
                                         "--data", data, "--rows", rows.path], logDirectory: root, name: "score")
        XCTAssertEqual(scored.status, 0, scored.stderr)
        let row = try JSONSerialization.jsonObject(with: Data(contentsOf: rows)) as! [String: Any]
        XCTAssertEqual((row["squad_em"] as! NSNumber).doubleValue, 100.0 * 71 / 72, accuracy: 1e-9)
        XCTAssertEqual(row["kind"] as? String, "teacher")
        let report = try CLIProcess.run(["report", "--rows", rows.path, "--out", root.path], logDirectory: root, name: "report")
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("| oracle | teacher | 98.61 |"), report.stdout)
        let html = try String(contentsOf: root.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<svg"))
    }

    /// `score --model A --model A --in-domain … --out-of-domain …`: an ensemble is one row, with MRQA's groups
    /// (F1 per dataset, each group's macro-F1), its members' parameters summed and its inference cost; a
    /// model with itself scores exactly as the model.
    func testScoreAnEnsembleUnderMRQAGroups() throws {
        let root = try CLIProcess.temporaryDirectory("score-ensemble")
        defer { try? FileManager.default.removeItem(at: root) }
        var files: [String] = []
        for name in ["news", "wiki", "bio"] {
            let url = root.appendingPathComponent("\(name).json")
            try FileManager.default.copyItem(at: URL(fileURLWithPath: data), to: url)
            files.append(url.path)
        }
        let rows = root.appendingPathComponent("rows.jsonl")
        for (name, members) in [("single", [model]), ("pair", [model, "\(model):3"])] {
            let scored = try CLIProcess.run(["score", "--name", name, "--kind", "teacher"] + members.flatMap { ["--model", $0] }
                                            + ["--in-domain", files[0], files[1], "--out-of-domain", files[2], "--rows", rows.path,
                                               "--out", root.appendingPathComponent(name).path] + windowArguments,
                                            logDirectory: root, name: name)
            XCTAssertEqual(scored.status, 0, scored.stderr)
            XCTAssertTrue(scored.stdout.contains("in-domain macro-F1"), scored.stdout)
        }
        let lines = try String(contentsOf: rows, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let single = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        let pair = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        let inDomain = try XCTUnwrap(single["in_domain_f1"] as? [String: Double])
        XCTAssertEqual(inDomain.keys.sorted(), ["news", "wiki"])
        XCTAssertEqual((single["ood_f1"] as? [String: Double])?.keys.sorted(), ["bio"])
        XCTAssertEqual(pair["in_domain_f1"] as? [String: Double], inDomain, "a model with itself scores as the model")
        XCTAssertEqual(pair["ood_f1"] as? [String: Double], single["ood_f1"] as? [String: Double])
        XCTAssertEqual((pair["parameters"] as! NSNumber).intValue, 2 * (single["parameters"] as! NSNumber).intValue)
        XCTAssertGreaterThan((pair["seconds_per_1k_questions"] as! NSNumber).doubleValue, 0)
        let report = try CLIProcess.run(["report", "--rows", rows.path, "--out", root.path], logDirectory: root, name: "report")
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("| name | kind | in-domain macro-F1 | out-of-domain macro-F1 | news | wiki | bio |"),
                      report.stdout)
    }

    /// `teach` warns loudly about a teacher that picks the gold start on under 20 % of the answerable windows
    /// (one answering every question with its context's first word), and not about one that answers well.
    func testTeachWarnsAboutACollapsedTeacher() throws {
        let root = try CLIProcess.temporaryDirectory("collapsed")
        defer { try? FileManager.default.removeItem(at: root) }
        try writeBlackBoxTeacher(root.appendingPathComponent("oracle.json"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data))) as! [String: Any]
        var firstWords: [String: String] = [:]
        for case let article as [String: Any] in json["data"] as! [Any] {
            for case let paragraph as [String: Any] in article["paragraphs"] as! [Any] {
                let context = paragraph["context"] as! String
                for case let qa as [String: Any] in paragraph["qas"] as! [Any] {
                    firstWords[qa["id"] as! String] = String(context.split(separator: " ")[0])
                }
            }
        }
        let collapsed = root.appendingPathComponent("collapsed.json")
        try JSONSerialization.data(withJSONObject: firstWords, options: [.sortedKeys]).write(to: collapsed)
        let taught = try CLIProcess.run(["teach", "--student", model, "--data", data, "--out", root.appendingPathComponent("labels.bin").path,
                                         "--teacher", root.appendingPathComponent("oracle.json").path, "--teacher", collapsed.path,
                                         "--no-progress"] + windowArguments, logDirectory: root, name: "teach")
        XCTAssertEqual(taught.status, 0, taught.stderr)
        XCTAssertTrue(taught.stderr.contains("WARNING: teacher collapsed picks the gold start on only"), taught.stderr)
        XCTAssertFalse(taught.stderr.contains("WARNING: teacher oracle"), taught.stderr)
        XCTAssertTrue(taught.stdout.contains("WARNING: teacher collapsed"), "inspect's summary carries it too: \(taught.stdout)")
    }
}
