import Foundation
import XCTest
@testable import Distillation

/// The HTML page: self-contained, escaped, robust to odd values.
final class ReportHTMLTests: XCTestCase {
    func report(_ rows: [ReportRow], curves: [[LossSeries]]? = nil) -> DistillationReport {
        let entries = rows.enumerated().map { index, row in
            DistillationReport.Entry(row: row, lossCurves: curves?[index] ?? [])
        }
        return DistillationReport(title: "Report <1>", entries: entries, smoothing: 3)
    }

    static let series = [LossSeries(task: "mrc", term: "hard", steps: Array(1...30), values: (1...30).map { 3 / Double($0) }),
                         LossSeries(task: "mlm", term: "mlm", steps: Array(1...30), values: (1...30).map { 6 - Double($0) / 10 })]

    func testSelfContained() {
        let rows = [ReportRow(name: "t", kind: .teacher, command: "curl https://example.com", squadEM: 80, squadF1: 88,
                              oodF1: ["BioASQ": 50]),
                    ReportRow(name: "s", kind: .student, command: "c", squadEM: 60, squadF1: 70, oodF1: ["BioASQ": 40],
                              metrics: "m.jsonl")]
        let html = report(rows, curves: [[], Self.series]).html
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 4, "F1 bars, OOD bars, one loss chart per task")
        XCTAssertTrue(html.contains("<style>"))
        // The only URL is the escaped command text itself.
        let withoutCommand = html.replacingOccurrences(of: "curl https://example.com", with: "")
        for forbidden in ["http://", "https://", "src=", "<script", "<link", "@import", "url("] {
            XCTAssertFalse(withoutCommand.contains(forbidden), forbidden)
        }
        XCTAssertTrue(html.contains("<title>Report &lt;1&gt;</title>"))
        XCTAssertTrue(html.contains("moving average over the last 3 logged steps"))
    }

    func testEscapesEveryDataString() {
        let nasty = "<b>&\""
        let rows = [ReportRow(name: nasty, kind: .student, command: nasty, squadEM: 1, squadF1: 2, oodF1: [nasty: 3],
                              model: nasty, metrics: nasty, notes: nasty)]
        let html = report(rows, curves: [[LossSeries(task: nasty, term: nasty, steps: [1, 2], values: [1, 2])]]).html
        XCTAssertFalse(html.contains(nasty))
        XCTAssertFalse(html.contains("<b>"))
        XCTAssertTrue(html.contains("&lt;b&gt;&amp;&quot;"))
        XCTAssertEqual(HTMLEscaping.escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;")
    }

    func testNonFiniteValuesAreSkippedWithNotes() {
        let rows = [ReportRow(name: "broken", kind: .student, command: "c", squadEM: .nan, squadF1: .nan,
                              oodF1: ["BioASQ": .infinity], metrics: "m.jsonl"),
                    ReportRow(name: "fine", kind: .teacher, command: "c", squadEM: 1, squadF1: 2)]
        let curves = [[LossSeries(task: "", term: "loss", steps: [1, 2, 3], values: [.nan, .nan, .infinity]),
                       LossSeries(task: "", term: "empty", steps: [], values: [])], []]
        let html = report(rows, curves: curves).html
        XCTAssertTrue(html.contains("broken: nan, no bar drawn"))
        XCTAssertTrue(html.contains("broken on BioASQ: inf, no bar drawn"))
        XCTAssertTrue(html.contains("loss: no finite values (3 points), skipped"))
        XCTAssertTrue(html.contains("empty: no points, skipped"))
        let coordinates = try! NSRegularExpression(pattern: #"\b(x|y|x1|y1|x2|y2|width|height|points)="[^"]*(nan|inf)"#)
        XCTAssertNil(coordinates.firstMatch(in: html, range: NSRange(html.startIndex..., in: html)), "no non-finite coordinates")
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 1, "only the F1 bar chart of the finite row")
    }
}
