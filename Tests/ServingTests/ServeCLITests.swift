import Foundation
import TestSupport
import XCTest

/// `mrc-distill serve` as a process: its answers against `predict`'s on real SQuAD questions, the
/// graceful shutdown on SIGTERM, and the refusals of bad arguments.
final class ServeCLITests: XCTestCase {
    /// Windows of 128 tokens with a stride of 48 so that most SQuAD contexts take several windows.
    let windowArguments = ["--max-seq-len", "128", "--doc-stride", "48", "--max-query-len", "32"]

    /// The first two questions of each of the first `paragraphs` paragraphs of the SQuAD dev split.
    func squadSubset(paragraphs count: Int, into directory: URL) throws -> (file: URL, questions: [(id: String, question: String, context: String)]) {
        let source = TestPaths.sharedData("squad/dev-v1.1.json")
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw ServingTestError("\(source.path) is missing: the shared data (../shared/data) is needed")
        }
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        var articles: [[String: Any]] = []
        var questions: [(String, String, String)] = []
        for article in root["data"] as! [[String: Any]] where questions.count < 2 * count {
            var kept: [[String: Any]] = []
            for paragraph in (article["paragraphs"] as! [[String: Any]]).prefix(4) where questions.count < 2 * count {
                let qas = Array((paragraph["qas"] as! [[String: Any]]).prefix(2))
                let context = paragraph["context"] as! String
                questions += qas.map { ($0["id"] as! String, $0["question"] as! String, context) }
                kept.append(["context": context, "qas": qas])
            }
            articles.append(["title": article["title"]!, "paragraphs": kept])
        }
        let file = directory.appendingPathComponent("squad-subset.json")
        try JSONSerialization.data(withJSONObject: ["version": "1.1", "data": articles]).write(to: file)
        return (file, questions)
    }

    /// Same model, same window and decoder settings: the server's answers are `predict`'s.
    ///
    /// Logits depend on batch composition in their last bits (the padded width changes the BLAS
    /// blocking and so the summation order); PredictorTests bounds that at δ = 1e-4 per logit. So the
    /// answer text must be equal, except where `predict`'s own n-best has a near tie: a candidate
    /// within 4δ of the best (each of the two span scores moves by at most 2δ). The probability
    /// p = softmax(s) moves by at most p·2·max|Δs| ≤ 4δ. Offsets must cut the answer out of the
    /// context in code points. The 2-member ensemble of the same directory must agree the same way.
    func testAnswersEqualPredictOnRealSQuADQuestions() async throws {
        let root = try CLIProcess.temporaryDirectory("serve-predict")
        defer { try? FileManager.default.removeItem(at: root) }
        let student = try ServingTestSupport.miniLMStudent()
        let (file, questions) = try squadSubset(paragraphs: 16, into: root)
        let out = root.appendingPathComponent("predict")
        let predict = try CLIProcess.run(["predict", "--model", student.path, "--data", file.path, "--out", out.path] + windowArguments,
                                         logDirectory: root, name: "predict")
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let predicted = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("predictions.json"))) as? [String: String])
        let nBest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("nbest_predictions.json"))) as? [String: [[String: Any]]])

        let server = try await ServerProcess(["--model", student.path, "--ensemble", "twice=\(student.path),\(student.path)",
                                              "--max-wait-ms", "20", "--max-batch-tokens", "2048"] + windowArguments,
                                             logDirectory: root, name: "serve")
        let delta = 1e-4
        var multiWindow = 0, nearTies = 0
        for model in ["default", "twice"] {
            // Eight at a time, so that requests share batches as they do under load.
            for chunk in stride(from: 0, to: questions.count, by: 8) {
                let replies = try await withThrowingTaskGroup(of: (Int, Int, Data).self) { group in
                    for index in chunk..<min(chunk + 8, questions.count) {
                        var body = ["question": questions[index].question, "context": questions[index].context]
                        if model == "twice" { body["model"] = "twice" }
                        group.addTask { [body] in
                            let reply = try await server.post("/v1/answer", json: body)
                            return (index, reply.status, reply.body)
                        }
                    }
                    return try await group.reduce(into: [Int: (Int, Data)]()) { $0[$1.0] = ($1.1, $1.2) }
                }
                for (index, (status, body)) in replies {
                    XCTAssertEqual(status, 200, String(decoding: body, as: UTF8.self))
                    let reply = ServerProcess.object(body)
                    let (id, _, context) = questions[index]
                    let answer = try XCTUnwrap(reply["answer"] as? String), score = try XCTUnwrap(number(reply["score"]))
                    let start = try XCTUnwrap(reply["start"] as? Int), end = try XCTUnwrap(reply["end"] as? Int)
                    XCTAssertEqual(codePointSlice(context, start, end), answer, id)
                    let candidates = try XCTUnwrap(nBest[id])
                    func spanScore(_ candidate: [String: Any]) -> Double {
                        (candidate["start_logit"] as! Double) + (candidate["end_logit"] as! Double)
                    }
                    if answer == predicted[id] {
                        XCTAssertEqual(score, candidates[0]["probability"] as! Double, accuracy: 4 * delta, "\(model) \(id)")
                    } else {
                        // Only a near tie in predict's own ranking may flip.
                        let same = try XCTUnwrap(candidates.first { $0["text"] as? String == answer }, "\(model) \(id): \(answer) ≠ \(predicted[id] ?? "-")")
                        XCTAssertLessThanOrEqual(spanScore(candidates[0]) - spanScore(same), 4 * delta, "\(model) \(id): not a near tie")
                        nearTies += 1
                    }
                }
            }
        }
        for question in questions where question.context.unicodeScalars.count > 600 { multiWindow += 1 }
        XCTAssertGreaterThan(multiWindow, 0, "the subset must hold contexts longer than one window")
        XCTAssertLessThanOrEqual(nearTies, questions.count / 10, "too many flips to be near ties")
        let status = try await server.terminate()
        XCTAssertEqual(status, 0, server.log)
    }

    /// SIGTERM: the listener closes, a request in flight is still answered, and the process exits 0.
    func testSIGTERMFinishesTheRequestInFlightAndExitsZero() async throws {
        let root = try CLIProcess.temporaryDirectory("serve-sigterm")
        defer { try? FileManager.default.removeItem(at: root) }
        let student = try ServingTestSupport.miniLMStudent()
        let server = try await ServerProcess(["--model", student.path, "--max-windows", "512", "--max-queue", "512",
                                              "--max-body-bytes", "4000000"], logDirectory: root, name: "serve")
        // About 120 windows of 384 tokens: seconds of work, in flight when SIGTERM comes.
        let context = Array(repeating: "The committee met in the old town hall to discuss the bridge and its cost.",
                            count: 1000).joined(separator: " ")
        async let inFlight = server.post("/v1/answer", json: ["question": "Where did the committee meet?", "context": context])
        try await Task.sleep(for: .milliseconds(500))
        let started = Date()
        let status = try await server.terminate(within: 120)
        let reply = try await inFlight
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
        let answer = try XCTUnwrap(ServerProcess.object(reply.body)["answer"] as? String)
        XCTAssertTrue(!answer.isEmpty && context.contains(answer), answer)
        XCTAssertEqual(status, 0, server.log)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.2, "the request was not in flight at SIGTERM")
        XCTAssertTrue(server.log.contains("serve: stopped"), server.log)
        do {
            let after = try await server.get("/health")
            XCTFail("still answering after shutdown: \(after.status)")
        } catch {}
    }

    func testRefusesBadArgumentsWithClearMessages() throws {
        let root = try CLIProcess.temporaryDirectory("serve-refusals")
        defer { try? FileManager.default.removeItem(at: root) }
        let tiny = ServingTestSupport.tinyModel.path
        let window = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]
        let cases: [(name: String, arguments: [String], message: String)] = [
            ("no-model", window, "give a model to serve"),
            ("missing", ["--model", "/nonexistent/model"] + window, "--model /nonexistent/model is not a directory"),
            ("one-member", ["--ensemble", "e=\(tiny)"] + window, "an ensemble needs two members or more"),
            ("no-name", ["--ensemble", "\(tiny),\(tiny)"] + window, "expected NAME=DIR1,DIR2"),
            ("duplicate", ["--model", "a=\(tiny)", "--model", "a=\(tiny)"] + window, "two models are named a"),
            ("port", ["--model", tiny, "--port", "70000"] + window, "--port 70000 is not a TCP port"),
            ("queue", ["--model", tiny, "--max-queue", "8", "--max-windows", "64"] + window, "--max-queue 8 is below --max-windows 64"),
            ("timeout", ["--model", tiny, "--request-timeout", "0"] + window, "--request-timeout must be a positive"),
            ("log-level", ["--model", tiny, "--log-level", "loud"] + window, "--log-level must be one of"),
            ("position-table", ["--model", tiny], "--max-seq-len 384 exceeds the model's position table"),
            ("no-span-head", ["--model", TestPaths.miniLMDirectory.path], "has no span head (qa_outputs)"),
        ]
        for (name, arguments, message) in cases {
            let result = try CLIProcess.run(["serve", "--port", "0"] + arguments, logDirectory: root, name: name)
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("listening on"), "\(name) started serving")
        }
    }
}
