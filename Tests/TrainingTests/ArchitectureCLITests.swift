import Checkpoint
import Foundation
import Model
import TestSupport
import XCTest

/// RoBERTa, DistilBERT and ELECTRA directories through the commands a user runs: `train` writes the
/// architecture's own directory (config, names, tokenizer files), `predict` answers every question with it.
/// Their numerics are ArchitectureParityTests'; here the plumbing is checked (tokenizer, pair template,
/// positions, names) on the tiny fixture models.
final class ArchitectureCLITests: XCTestCase {
    let tinySquad = TestPaths.fixture("training/tiny_squad.json")
    let windowArguments = ["--max-seq-len", "40", "--doc-stride", "16", "--max-query-len", "12"]

    private func trainThenPredict(_ name: String, tokenizerFiles: [String]) throws {
        let root = try CLIProcess.temporaryDirectory("arch-\(name)")
        defer { try? FileManager.default.removeItem(at: root) }
        let model = root.appendingPathComponent("model")
        let train = try CLIProcess.run(["train", "--model", TestPaths.fixture("model/arch-\(name)").path, "--train", tinySquad.path,
                                        "--out", model.path, "--max-steps", "3", "--batch-size", "4", "--ema-decay", "0.9",
                                        "--no-progress"] + windowArguments, logDirectory: root, name: "train")
        XCTAssertEqual(train.status, 0, train.stderr)
        for file in ["config.json", "model.safetensors", "ema.safetensors", "tokenizer_config.json"] + tokenizerFiles {
            XCTAssertTrue(FileManager.default.fileExists(atPath: model.appendingPathComponent(file).path), "\(name): missing \(file)")
        }
        let loaded = try ModelDirectory.load(model, spanHead: .require)
        XCTAssertEqual(loaded.model.config.architecture.rawValue, name)
        let fixture = try ModelDirectory.load(TestPaths.fixture("model/arch-\(name)"), spanHead: .require)
        XCTAssertEqual(loaded.tokenizer, fixture.tokenizer, "\(name): the tokenizer files are written back unchanged")

        let out = root.appendingPathComponent("predict")
        let predict = try CLIProcess.run(["predict", "--model", model.path, "--data", tinySquad.path, "--out", out.path]
                                         + windowArguments, logDirectory: root, name: "predict")
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let predictions = try JSONDecoder().decode([String: String].self,
                                                   from: Data(contentsOf: out.appendingPathComponent("predictions.json")))
        let data = try JSONSerialization.jsonObject(with: Data(contentsOf: tinySquad)) as! [String: Any]
        let ids = (data["data"] as! [[String: Any]]).flatMap { ($0["paragraphs"] as! [[String: Any]]).flatMap { ($0["qas"] as! [[String: Any]]).map { $0["id"] as! String } } }
        XCTAssertEqual(Set(predictions.keys), Set(ids), "\(name): one prediction per question")
        XCTAssertTrue(predictions.values.contains { !$0.isEmpty }, "\(name): answers are spans of the contexts")
    }

    func testRoBERTaTrainsAndPredicts() throws { try trainThenPredict("roberta", tokenizerFiles: ["vocab.json", "merges.txt"]) }
    func testDistilBERTTrainsAndPredicts() throws { try trainThenPredict("distilbert", tokenizerFiles: ["vocab.txt"]) }
    func testELECTRATrainsAndPredicts() throws { try trainThenPredict("electra", tokenizerFiles: ["vocab.txt"]) }

    /// A RoBERTa student distils a BERT teacher: the teacher reads re-tokenised windows (WordPiece, one [SEP]
    /// between question and context) and its logits reach the student's byte-level BPE tokens by characters.
    func testRoBERTaStudentDistilsABERTTeacher() throws {
        let root = try CLIProcess.temporaryDirectory("arch-distill")
        defer { try? FileManager.default.removeItem(at: root) }
        let student = TestPaths.fixture("model/arch-roberta").path
        let labels = root.appendingPathComponent("labels.bin").path
        let teach = try CLIProcess.run(["teach", "--student", student, "--data", tinySquad.path, "--out", labels,
                                        "--teacher", "bert=" + TestPaths.fixture("model/arch-bert").path, "--no-progress"]
                                       + windowArguments, logDirectory: root, name: "teach")
        XCTAssertEqual(teach.status, 0, teach.stderr)
        let out = root.appendingPathComponent("student")
        let distill = try CLIProcess.run(["distill", "--student", student, "--soft-labels", labels, "--train", tinySquad.path,
                                          "--out", out.path, "--max-steps", "2", "--batch-size", "4", "--no-progress"]
                                         + windowArguments, logDirectory: root, name: "distill")
        XCTAssertEqual(distill.status, 0, distill.stderr)
        XCTAssertEqual(try ModelDirectory.load(out, spanHead: .require).model.config.architecture, .roberta)
    }
}
