import Foundation
import Hummingbird
import Serving
import TestSupport
import XCTest

/// The playground page in process: how it is served (HTML, a strict Content-Security-Policy, no MIME
/// sniffing, HEAD, 405), that it is self-contained, and that its examples are the demo data's.
final class PlaygroundPageTests: XCTestCase {
    func testThePageIsServedAsSelfContainedHTML() async throws {
        let service = ServingTestSupport.service(try ServingTestSupport.tinyCatalog())
        try await ServingTestSupport.withServer(service, settings: ServingSettings()) { client in
            let page = try await client.send(.get, "/?model=tiny&question=w1&ask=1")
            XCTAssertEqual(page.status, 200)
            XCTAssertEqual(page.headers[.contentType], "text/html; charset=utf-8")
            XCTAssertEqual(page.headers[.xContentTypeOptions], "nosniff")
            let policy = try XCTUnwrap(page.headers[.contentSecurityPolicy])
            XCTAssertTrue(policy.hasPrefix("default-src 'self';"), policy)
            for directive in policy.split(separator: ";") {
                let sources = directive.split(separator: " ").dropFirst()
                XCTAssertTrue(sources.allSatisfy { ["'self'", "'unsafe-inline'", "'none'", "data:"].contains($0) }, String(directive))
            }
            XCTAssertTrue(page.text.hasPrefix("<!doctype html>\n<html lang=\"en\">"))
            // The page's DOM contract, and a label for every control.
            for id in ["result-0", "result-1", "error-0", "error-1", "model", "compare", "context", "question", "ask", "examples"] {
                XCTAssertTrue(page.text.contains("id=\"\(id)\""), id)
            }
            for control in ["model", "compare", "context", "question"] {
                XCTAssertTrue(page.text.contains("<label for=\"\(control)\">"), control)
            }
            XCTAssertTrue(page.text.contains("data-max-body-bytes=\"\(ServingSettings().maxBodyBytes)\""))
            // Self-contained: no other origin, no external script, stylesheet, image or font.
            for needle in ["http://", "https://", "src=", "<link rel=\"stylesheet\"", "@import", "url("] {
                XCTAssertFalse(page.text.contains(needle), needle)
            }
            let head = try await client.send(.head, "/")
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.text, "")
            let post = try await client.send(.post, "/", body: "{}")
            XCTAssertEqual(post.status, 405)
            XCTAssertEqual(post.headers[.allow], "GET, HEAD")
            let metrics = try await client.send(.get, "/metrics")
            XCTAssertTrue(metrics.text.contains("mrc_http_requests_total{route=\"/\",status=\"200\"}"), "the page is counted as its route")
        }
    }

    /// Every example is a question of the demo's SQuAD file, verbatim, with its first gold answer.
    func testTheExamplesAreTheDemoDataQuestions() throws {
        let file = TestPaths.packageRoot.appendingPathComponent("data/demo/dev-v1.1.json")
        let root = try XCTUnwrap(TestJSON.parse(Data(contentsOf: file)) as? [String: Any])
        var questions: [String: (question: String, context: String, answer: String)] = [:]
        for article in root["data"] as? [[String: Any]] ?? [] {
            for paragraph in article["paragraphs"] as? [[String: Any]] ?? [] {
                let context = paragraph["context"] as? String ?? ""
                for qa in paragraph["qas"] as? [[String: Any]] ?? [] {
                    let answer = ((qa["answers"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
                    questions[qa["id"] as? String ?? ""] = (qa["question"] as? String ?? "", context, answer)
                }
            }
        }
        XCTAssertEqual(PlaygroundExamples.all.count, 4)
        for example in PlaygroundExamples.all {
            let gold = try XCTUnwrap(questions[example.id], example.id)
            XCTAssertEqual(example.question, gold.question)
            XCTAssertEqual(example.context, gold.context)
            XCTAssertEqual(example.answer, gold.answer)
            XCTAssertLessThan(example.context.count, 700, "\(example.id): the examples are short passages")
        }
        let embedded = try XCTUnwrap(TestJSON.parse(Data(PlaygroundExamples.json.utf8)) as? [[String: Any]])
        XCTAssertEqual(embedded.map { $0["context"] as? String }, PlaygroundExamples.all.map(\.context))
    }
}
