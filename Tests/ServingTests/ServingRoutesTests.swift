import Foundation
import Hummingbird
import MRC
import Serving
import XCTest

/// The HTTP API in process (requests straight to the server's responder), on the tiny model: the
/// shapes, the offsets, and every documented refusal as JSON.
final class ServingRoutesTests: XCTestCase {
    static let context = "w9 w25 w41 w3 w4 w52 w34 w6 w23 w37 w3 w58 w32 w13 w2 w5 w27 w26 w4 w15"

    func testHealthReadyMetricsModelsAndTheOpenAPIDocument() async throws {
        let service = ServingTestSupport.service(try ServingTestSupport.tinyCatalog())
        try await ServingTestSupport.withServer(service) { client in
            let health = try await client.send(.get, "/health")
            XCTAssertEqual(health.status, 200)
            let head = try await client.send(.head, "/health")
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(health.object["status"] as? String, "ok")
            let ready = try await client.send(.get, "/ready")
            XCTAssertEqual(ready.status, 200, ready.text)
            let models = try await client.send(.get, "/v1/models")
            XCTAssertEqual(models.object["default"] as? String, "tiny")
            _ = try await client.post("/v1/answer", json: ["question": "w0 w23 w1", "context": Self.context])
            let metrics = try await client.send(.get, "/metrics")
            XCTAssertEqual(metrics.status, 200)
            for name in ["mrc_http_requests_total{route=\"/v1/answer\",status=\"200\"} 1", "mrc_http_request_duration_seconds_bucket",
                         "mrc_batch_windows_count", "mrc_batch_tokens_sum", "mrc_queue_windows", "mrc_tokens_total",
                         "mrc_tokens_per_second", "mrc_ready 1"] {
                XCTAssertTrue(metrics.text.contains(name), "metrics lack \(name)")
            }
            let document = try await client.send(.get, "/openapi.json")
            let paths = try XCTUnwrap(document.object["paths"] as? [String: Any])
            XCTAssertEqual(Set(paths.keys), Set(ServingRoutes.methods.keys), "the document and the routes differ")
            for (path, methods) in ServingRoutes.methods {
                let operations = try XCTUnwrap(paths[path] as? [String: Any])
                XCTAssertEqual(Set(operations.keys), Set(methods.map { $0.rawValue.lowercased() }), path)
                // Every documented request example is answered.
                if let post = operations["post"] as? [String: Any],
                   let example = (((post["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["example"] {
                    let reply = try await client.post(path, json: example)
                    XCTAssertEqual(reply.status, 200, "\(path) example: \(reply.text)")
                }
            }
        }
    }

    func testTheThreeShapesAndCodePointOffsets() async throws {
        let service = ServingTestSupport.service(try ServingTestSupport.tinyCatalog())
        // Astral-plane characters (two UTF-16 units, four UTF-8 bytes) before the answers: offsets in
        // any unit but code points would cut the wrong text.
        let context = "😀 𝔘 é " + Self.context + " 🎉 w7 w8"
        try await ServingTestSupport.withServer(service) { client in
            let single = try await client.post("/v1/answer", json: ["question": "w0 w23 w1", "context": context, "top_k": 5])
            XCTAssertEqual(single.status, 200, single.text)
            let alternatives = try XCTUnwrap(single.object["alternatives"] as? [[String: Any]])
            XCTAssertEqual(alternatives.count, 4)
            for answer in [single.object] + alternatives {
                let text = try XCTUnwrap(answer["answer"] as? String)
                let start = try XCTUnwrap(answer["start"] as? Int), end = try XCTUnwrap(answer["end"] as? Int)
                XCTAssertFalse(text.isEmpty)
                XCTAssertEqual(codePointSlice(context, start, end), text)
                let score = try XCTUnwrap(number(answer["score"]))
                XCTAssertTrue((0...1).contains(score))
            }
            let scores = ([single.object] + alternatives).map { number($0["score"])! }
            XCTAssertEqual(scores, scores.sorted(by: >), "best first")

            let hf = try await client.post("/v1/answer", json: ["inputs": ["question": "w0 w23 w1", "context": context]])
            XCTAssertEqual(Set(hf.object.keys), ["score", "start", "end", "answer"])
            XCTAssertEqual(hf.object["answer"] as? String, single.object["answer"] as? String)
            let hfList = try await client.post("/v1/answer", json: ["inputs": [["question": "w0 w23 w1", "context": context],
                                                                                ["question": "w4", "context": Self.context]],
                                                                     "parameters": ["top_k": 2]])
            let lists = try XCTUnwrap(hfList.json as? [[[String: Any]]], hfList.text)
            XCTAssertEqual(lists.map(\.count), [2, 2])

            let batch = try await client.post("/v1/answer:batch", json: ["items": [["question": "w0 w23 w1", "context": context],
                                                                                    ["question": "w4", "context": Self.context, "top_k": 3]]])
            let results = try XCTUnwrap(batch.object["results"] as? [[String: Any]], batch.text)
            XCTAssertEqual(results.count, 2)
            XCTAssertEqual(results[0]["answer"] as? String, single.object["answer"] as? String, "batched = alone")
            XCTAssertNil(results[0]["alternatives"])
            XCTAssertEqual((results[1]["alternatives"] as? [Any])?.count, 2)
        }
    }

    func testEveryRefusalIsJSONWithItsStatus() async throws {
        var settings = ServingSettings()
        settings.maxBodyBytes = 2000
        settings.maxWindows = 3
        settings.requestTimeout = 0.2
        settings.batching = .init(maxBatchTokens: 1 << 20, maxWait: .seconds(20), maxQueueWindows: 3)
        let service = ServingTestSupport.service(try ServingTestSupport.tinyCatalog(), settings: settings)
        let long = Array(repeating: "w5", count: 200).joined(separator: " ")
        try await ServingTestSupport.withServer(service, settings: settings) { client in
            func expect(_ reply: Reply, _ status: Int, field: String? = nil, _ message: String,
                        file: StaticString = #filePath, line: UInt = #line) {
                XCTAssertEqual(reply.status, status, reply.text, file: file, line: line)
                XCTAssertEqual(reply.errorField, field, reply.text, file: file, line: line)
                XCTAssertTrue(reply.errorMessage.contains(message), reply.text, file: file, line: line)
                XCTAssertEqual(reply.headers[.contentType], "application/json; charset=utf-8", file: file, line: line)
            }
            expect(try await client.send(.post, "/v1/answer", body: "{\"question\": "), 400, "malformed JSON")
            expect(try await client.post("/v1/answer", json: ["question": ["x"], "context": "c"]), 400, field: "question",
                   "expected a string, found an array")
            expect(try await client.post("/v1/answer", json: ["question": "q", "context": "w1", "model": "nope"]), 400, field: "model",
                   "no model named \"nope\"; this server has: tiny")
            expect(try await client.post("/v1/answer", json: ["question": "q", "context": String(repeating: "w1 ", count: 1000)]), 413,
                   "larger than 2000 bytes")
            expect(try await client.post("/v1/answer", json: ["question": "q", "context": long]), 422, field: "context",
                   "more than --max-windows 3")
            let twoWindows = Array(repeating: "w5", count: 36).joined(separator: " ")
            expect(try await client.post("/v1/answer:batch", json: ["items": [["question": "q", "context": twoWindows],
                                                                               ["question": "q", "context": twoWindows]]]),
                   422, field: "items", "more than --max-windows 3")
            expect(try await client.post("/v1/answer", json: ["question": "q", "context": "\u{0}\u{1}"]), 422, field: "context",
                   "no tokens")
            expect(try await client.send(.get, "/nowhere"), 404, "no route GET /nowhere")
            let wrongMethod = try await client.send(.get, "/v1/answer")
            expect(wrongMethod, 405, "use POST")
            XCTAssertEqual(wrongMethod.headers[.allow], "POST")
            // A request announced that never comes: the batcher waits 20 s for it, the next request times out.
            service.scheduler.announce()
            expect(try await client.post("/v1/answer", json: ["question": "q", "context": Self.context]), 504,
                   "no answer within 0.2 s")
            XCTAssertEqual(service.scheduler.queueDepth, 0, "a timed-out request leaves no window behind")
        }
    }

    func testQueueFullIs503WithRetryAfter() async throws {
        var settings = ServingSettings()
        settings.maxWindows = 3
        settings.requestTimeout = 5
        settings.batching = .init(maxBatchTokens: 1 << 20, maxWait: .seconds(2), maxQueueWindows: 3)
        let service = ServingTestSupport.service(try ServingTestSupport.tinyCatalog(), settings: settings)
        let threeWindows = Array(repeating: "w5", count: 40).joined(separator: " ")
        try await ServingTestSupport.withServer(service, settings: settings) { client in
            service.scheduler.announce()  // a request that never comes: the first batch waits 2 s for it
            async let first = client.post("/v1/answer", json: ["question": "q", "context": threeWindows])
            while service.scheduler.queueDepth < 3 { try await Task.sleep(for: .milliseconds(5)) }
            let busy = try await client.post("/v1/answer", json: ["question": "q", "context": "w1 w2"])
            XCTAssertEqual(busy.status, 503, busy.text)
            XCTAssertNotNil(busy.headers[.retryAfter].flatMap { Int($0) }, "503 without Retry-After")
            XCTAssertTrue(busy.errorMessage.contains("--max-queue"), busy.text)
            let answered = try await first
            XCTAssertEqual(answered.status, 200, answered.text)
        }
    }
}
