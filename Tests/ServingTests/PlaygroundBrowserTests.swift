import Foundation
import TestSupport
import XCTest

/// The playground (`GET /`) in a real browser: headless Chromium opens a link with `?ask=1` on a real
/// `serve` process (the tiny fixture models), the page asks `/v1/answer` from the browser and renders
/// the reply, and the test reads the DOM it leaves (the page's DOM contract: `#result-N` with
/// `data-state`, `data-model`, `data-answer`, `data-start`, `data-end`, `data-score`; `#error-N`;
/// `<body data-ready="1">`). Without chromium the tests fail and say to run `make setup`.
final class PlaygroundBrowserTests: XCTestCase {
    static let windows = ["--max-seq-len", "32", "--doc-stride", "8", "--max-query-len", "8"]
    /// A second tiny span-QA model (letter vocabulary, other weights): other answers than model a's.
    static let otherModel = TestPaths.fixture("model/tiny_qa_model")
    static let question = "w0 w23 w1"
    /// é (one UTF-16 unit, two UTF-8 bytes) and 😀 (two UTF-16 units, four bytes) before the answer: a
    /// page that sliced the passage in UTF-16 units would highlight the wrong text.
    static let context = "é 😀 " + ServingRoutesTests.context

    /// `serve` with model a (tiny fixture), b (the other tiny model) and the ensemble pair = a + a.
    func serve(_ root: URL, _ extra: [String] = []) async throws -> ServerProcess {
        let tiny = ServingTestSupport.tinyModel.path
        return try await ServerProcess(["--model", "a=\(tiny)", "--model", "b=\(Self.otherModel.path)",
                                        "--ensemble", "pair=\(tiny),\(tiny)"] + Self.windows + extra,
                                       logDirectory: root, name: "serve")
    }

    /// The playground at `parameters`, once Chromium has run it; its body must say it is ready.
    func open(_ server: ServerProcess, _ parameters: KeyValuePairs<String, String>, root: URL, name: String,
              file: StaticString = #filePath, line: UInt = #line) async throws -> DumpedDOM {
        let url = server.url(HeadlessChromium.playgroundPath(parameters)).absoluteString
        let dom = DumpedDOM(html: try await HeadlessChromium.dumpDOM(url, in: root, name: name))
        XCTAssertEqual(dom.attributes(ofFirst: "body")?["data-ready"], "1", "\(name): the page never finished", file: file, line: line)
        return dom
    }

    /// What `/v1/answer` answers for the test's question with `model`.
    func apiAnswer(_ server: ServerProcess, model: String, context: String = PlaygroundBrowserTests.context) async throws -> [String: Any] {
        let reply = try await server.post("/v1/answer", json: ["question": Self.question, "context": context, "model": model])
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
        return ServerProcess.object(reply.body)
    }

    /// Pane `index` shows `expected` (a `/v1/answer` reply): done, for `model`, its answer, offsets and
    /// score as attributes, and the answer as the highlighted text of the pane's copy of the passage.
    func assertPane(_ dom: DumpedDOM, _ index: Int, model: String, shows expected: [String: Any],
                    file: StaticString = #filePath, line: UInt = #line) throws {
        let pane = try XCTUnwrap(dom.attributes(ofID: "result-\(index)"), "no #result-\(index)", file: file, line: line)
        let error = dom.text(ofID: "error-\(index)") ?? "?"
        XCTAssertEqual(pane["data-state"], "done", "pane \(index): \(error)", file: file, line: line)
        XCTAssertEqual(pane["data-model"], model, file: file, line: line)
        let answer = try XCTUnwrap(expected["answer"] as? String, file: file, line: line)
        XCTAssertEqual(pane["data-answer"], answer, file: file, line: line)
        XCTAssertEqual(pane["data-start"].flatMap { Int($0) }, expected["start"] as? Int, file: file, line: line)
        XCTAssertEqual(pane["data-end"].flatMap { Int($0) }, expected["end"] as? Int, file: file, line: line)
        // The same server answers the same windows; the bound is ServeCLITests' (batch composition).
        XCTAssertEqual(pane["data-score"].flatMap { Double($0) } ?? -1, number(expected["score"]) ?? -2, accuracy: 4e-4,
                       file: file, line: line)
        XCTAssertEqual(dom.markedText(inID: "passage-\(index)"), answer, "the highlight", file: file, line: line)
        XCTAssertEqual(error, "", file: file, line: line)
    }

    /// The answer in the browser is `predict`'s: the same text for the same question, and offsets (code
    /// points) that cut it out of the passage, after multi-byte characters; the n-best list has top_k = 5
    /// buttons, one of them pressed.
    func testTheBrowserShowsPredictsAnswerAtCodePointOffsets() async throws {
        let root = try CLIProcess.temporaryDirectory("playground-predict")
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try HeadlessChromium.binary()
        let data = root.appendingPathComponent("question.json")
        let squad: [String: Any] = ["version": "1.1", "data": [["title": "playground", "paragraphs": [[
            "context": Self.context,
            "qas": [["id": "q1", "question": Self.question, "answers": [["text": "w9", "answer_start": 4]]]],
        ]]]]]
        try JSONSerialization.data(withJSONObject: squad).write(to: data)
        let out = root.appendingPathComponent("predict")
        let predict = try CLIProcess.run(["predict", "--model", ServingTestSupport.tinyModel.path, "--data", data.path,
                                          "--out", out.path] + Self.windows, logDirectory: root, name: "predict")
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let predictions = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("predictions.json"))) as? [String: String])
        let predicted = try XCTUnwrap(predictions["q1"])

        let server = try await serve(root)
        let api = try await apiAnswer(server, model: "a")
        let dom = try await open(server, ["model": "a", "question": Self.question, "context": Self.context, "ask": "1"],
                                 root: root, name: "predict")
        try assertPane(dom, 0, model: "a", shows: api)
        let pane = try XCTUnwrap(dom.attributes(ofID: "result-0"))
        XCTAssertEqual(pane["data-answer"], predicted, "the browser's answer is not predict's")
        let start = try XCTUnwrap(pane["data-start"].flatMap { Int($0) }), end = try XCTUnwrap(pane["data-end"].flatMap { Int($0) })
        XCTAssertEqual(codePointSlice(Self.context, start, end), predicted)
        XCTAssertGreaterThan(start, 3, "the answer must come after the multi-byte characters")
        XCTAssertEqual(dom.count("aria-pressed=", inID: "nbest-0", endTag: "</ol>"), 5, "top_k 5 candidates")
        XCTAssertEqual(dom.count("aria-pressed=\"true\"", inID: "nbest-0", endTag: "</ol>"), 1)
        XCTAssertEqual(dom.attributes(ofID: "result-1")?["data-state"], "idle")
        XCTAssertNotNil(dom.attributes(ofID: "result-1")?["hidden"], "no second model: its pane is hidden")
        let status = try await server.terminate()
        XCTAssertEqual(status, 0, server.log)
    }

    /// `compare=`: the same question goes to both models and each pane shows that model's answer (two
    /// models with other answers, so that swapped panes would show); an ensemble is labelled as one.
    func testTwoModelsSideBySideEachWithItsOwnAnswer() async throws {
        let root = try CLIProcess.temporaryDirectory("playground-compare")
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try HeadlessChromium.binary()
        let server = try await serve(root)
        let a = try await apiAnswer(server, model: "a"), b = try await apiAnswer(server, model: "b")
        let pair = try await apiAnswer(server, model: "pair")
        XCTAssertNotEqual(a["answer"] as? String, b["answer"] as? String, "the two models must answer differently for this test")

        let dom = try await open(server, ["model": "a", "compare": "b", "question": Self.question, "context": Self.context, "ask": "1"],
                                 root: root, name: "a-b")
        try assertPane(dom, 0, model: "a", shows: a)
        try assertPane(dom, 1, model: "b", shows: b)
        XCTAssertEqual(dom.optionLabel(inID: "model", value: "a"), "a")
        XCTAssertEqual(dom.optionLabel(inID: "model", value: "pair"), "pair (ensemble of 2)")
        XCTAssertEqual(dom.optionLabel(inID: "compare", value: "pair"), "pair (ensemble of 2)")

        let ensemble = try await open(server, ["model": "pair", "compare": "a", "question": Self.question, "context": Self.context,
                                               "ask": "1"], root: root, name: "pair-a")
        try assertPane(ensemble, 0, model: "pair", shows: pair)
        try assertPane(ensemble, 1, model: "a", shows: a)
        XCTAssertTrue(ensemble.text(ofID: "result-0-title")?.contains("ensemble of 2") == true, ensemble.text(ofID: "result-0-title") ?? "")
        let status = try await server.terminate()
        XCTAssertEqual(status, 0, server.log)
    }

    /// Refusals read as sentences in the pane's alert, from the server's JSON message (never raw JSON):
    /// an unknown model (400, naming the models served), a passage over --max-windows (422) and one
    /// over --max-body-bytes (413, quoting the limit); the other pane of a comparison still answers.
    func testRefusalsAreReadableMessages() async throws {
        let root = try CLIProcess.temporaryDirectory("playground-errors")
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try HeadlessChromium.binary()
        let server = try await serve(root, ["--max-windows", "2", "--max-body-bytes", "3000"])
        func refusal(_ name: String, model: String = "a", context: String = PlaygroundBrowserTests.context) async throws -> (state: String?, message: String) {
            let dom = try await open(server, ["model": model, "question": Self.question, "context": context, "ask": "1"],
                                     root: root, name: name)
            let pane = dom.attributes(ofID: "result-0")
            XCTAssertEqual(pane?["data-model"], model, name)
            let message = dom.text(ofID: "error-0") ?? ""
            XCTAssertFalse(message.contains("{") || message.contains("\"error\""), "\(name): raw JSON: \(message)")
            XCTAssertEqual(dom.attributes(ofID: "error-0")?["role"], "alert", name)
            return (pane?["data-state"], message)
        }

        let unknown = try await refusal("unknown-model", model: "nope")
        XCTAssertEqual(unknown.state, "error")
        XCTAssertEqual(unknown.message, "The server refused the request (model): no model named \"nope\"; this server has: a, b, pair.")

        let words = ServingRoutesTests.context
        let long = try await refusal("too-many-windows", context: Array(repeating: words, count: 4).joined(separator: " "))
        XCTAssertEqual(long.state, "error")
        XCTAssertTrue(long.message.hasPrefix("The passage is too long for one request to this model: the request makes "), long.message)
        XCTAssertTrue(long.message.hasSuffix("more than --max-windows 2."), long.message)

        let huge = try await refusal("too-large", context: Array(repeating: words, count: 60).joined(separator: " "))
        XCTAssertEqual(huge.state, "error")
        XCTAssertTrue(huge.message.hasPrefix("The passage is too long for this server (limit 3,000 bytes per request, --max-body-bytes)."),
                      huge.message)

        let mixed = try await open(server, ["model": "a", "compare": "nope", "question": Self.question, "context": Self.context,
                                            "ask": "1"], root: root, name: "a-nope")
        let a = try await apiAnswer(server, model: "a")
        try assertPane(mixed, 0, model: "a", shows: a)
        XCTAssertEqual(mixed.attributes(ofID: "result-1")?["data-state"], "error")
        XCTAssertTrue(mixed.text(ofID: "error-1")?.contains("no model named \"nope\"") == true, mixed.text(ofID: "error-1") ?? "")
        XCTAssertEqual(mixed.optionLabel(inID: "compare", value: "nope"), "nope (not listed by this server)")

        let health = try await server.get("/health")
        XCTAssertEqual(health.status, 200)
        let status = try await server.terminate()
        XCTAssertEqual(status, 0, server.log)
    }
}
