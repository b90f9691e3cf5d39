import Foundation
import XCTest
@testable import Distillation

/// rows.jsonl and metrics.jsonl reading.
final class ReportRowsTests: XCTestCase {
    func testFullAndMinimalRows() throws {
        let text = """
            {"name": "BERT-large", "kind": "teacher", "command": "mrc-distill predict --model L", "squad_em": 84.1, \
            "squad_f1": 90.9, "ood_f1": {"BioASQ": 60, "TextbookQA": 50.5}, "parameters": 335141888, \
            "tokens_per_second": 812.4, "teach_seconds": null, "distill_seconds": null, "model": "runs/l", \
            "metrics": null, "notes": "baseline"}

            {"name": "s", "kind": "student", "command": "c", "squad_em": 1, "squad_f1": "nan"}
            """
        let rows = try ReportRows.parse(text, file: "rows.jsonl")
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0], ReportRow(name: "BERT-large", kind: .teacher, command: "mrc-distill predict --model L",
                                          squadEM: 84.1, squadF1: 90.9, oodF1: ["BioASQ": 60, "TextbookQA": 50.5],
                                          parameters: 335_141_888, tokensPerSecond: 812.4, model: "runs/l", notes: "baseline"))
        XCTAssertEqual(rows[0].oodMacroF1!, 55.25, accuracy: 1e-12)
        XCTAssertEqual(rows[1].oodF1, [:])
        XCTAssertNil(rows[1].oodMacroF1)
        XCTAssertNil(rows[1].parameters)
        XCTAssertNil(rows[1].metrics)
        XCTAssertTrue(rows[1].squadF1.isNaN)
    }

    func testSQuAD2RowsKeepTheirNoAnswerColumnsAndGetTheirOwnSummary() throws {
        let text = """
            {"name": "teacher", "kind": "teacher", "command": "c", "squad_em": 60.5, "squad_f1": 63.25, "has_ans_f1": 70.126, \
            "no_ans_f1": 56.5, "best_f1": 64, "no_ans_share": 48.75, "null_score_threshold": -1.2345}
            {"name": "student", "kind": "student", "command": "c", "squad_em": 50, "squad_f1": 51}
            """
        let rows = try ReportRows.parse(text, file: "rows.jsonl")
        XCTAssertEqual(rows[0].squad2, ReportRow.SQuAD2Scores(hasAnswerF1: 70.126, noAnswerF1: 56.5, bestF1: 64, noAnswerShare: 48.75,
                                                              nullScoreThreshold: -1.2345))
        XCTAssertNil(rows[1].squad2)
        // Written back (as `score` appends rows) and read again: the same rows.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let written = try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        XCTAssertTrue(written[0].contains(#""no_ans_share":48.75"#), written[0])
        XCTAssertFalse(written[1].contains("no_ans"), written[1])
        XCTAssertEqual(try ReportRows.parse(written.joined(separator: "\n"), file: "again.jsonl"), rows)
        let summary = ReportTable.summary(rows)
        XCTAssertEqual(summary.header, ["name", "kind", "dev EM", "dev F1", "HasAns F1", "NoAns F1", "NoAns share %",
                                        "null-score threshold", "best F1", "parameters", "inference tokens/s", "teach s", "train s"])
        XCTAssertEqual(summary.rows[0], ["teacher", "teacher", "60.50", "63.25", "70.13", "56.50", "48.75", "-1.23", "64.00", "—", "—", "—", "—"])
        XCTAssertEqual(Array(summary.rows[1][4...8]), ["—", "—", "—", "—", "—"])
        // Rows without SQuAD 2.0 columns keep the v1.1 summary.
        XCTAssertEqual(ReportTable.summary([rows[1]]).header[2], "SQuAD dev EM")
        XCTAssertTrue(DistillationReport(title: "t", entries: rows.map { .init(row: $0) }).markdown.contains(ReportTable.squad2Note))
    }

    func testBadLineNamesFileAndLine() {
        let text = """
            {"name": "a", "kind": "teacher", "command": "c", "squad_em": 1, "squad_f1": 2}

            {"name": "b", "kind": "professor", "command": "c", "squad_em": 1, "squad_f1": 2}
            """
        XCTAssertThrowsError(try ReportRows.parse(text, file: "runs/rows.jsonl")) { error in
            let error = error as! ReportError
            XCTAssertEqual(error.file, "runs/rows.jsonl")
            XCTAssertEqual(error.line, 3)
            XCTAssertTrue(error.description.hasPrefix("runs/rows.jsonl line 3: not a report row"), error.description)
        }
        XCTAssertThrowsError(try ReportRows.parse("{\"name\": \"a\", \"kind\": \"student\"}\n", file: "r")) { error in
            XCTAssertTrue(String(describing: error).contains("line 1"), "\(error)")
            XCTAssertTrue(String(describing: error).contains("command"), "\(error)")
        }
        XCTAssertThrowsError(try ReportRows.parse("not json\n", file: "r")) { error in
            XCTAssertEqual((error as? ReportError)?.line, 1)
        }
    }

    func testLossCurvesByTaskAndTerm() throws {
        let text = """
            {"step": 1, "epoch": 0, "loss": 2.0, "learning_rate": 0.0001, "grad_norm": 1, "tokens_per_s": 9, "elapsed_s": 1, \
            "task": "mrc", "terms": {"total": 2.0, "soft": 0.8, "hard": 1.2}}
            {"step": 2, "loss": 6.1, "task": "mlm", "terms": {"mlm": 6.1}}
            {"step": 3, "loss": 1.5, "task": "mrc", "terms": {"hard": 1.0, "soft": "nan", "total": 1.5}}
            """
        let series = try LossCurves.parse(text, file: "m.jsonl")
        XCTAssertEqual(series.map(\.label), ["mrc: hard", "mrc: soft", "mrc: total", "mlm: mlm"])
        XCTAssertEqual(series[0].steps, [1, 3])
        XCTAssertEqual(series[0].values, [1.2, 1.0])
        XCTAssertTrue(series[1].values[1].isNaN)
        XCTAssertEqual(series[3].steps, [2])

        // A log written before `task` and `terms` existed: one series, "loss".
        let old = try LossCurves.parse("{\"step\": 1, \"loss\": 3}\n{\"step\": 2, \"loss\": \"inf\"}\n", file: "m")
        XCTAssertEqual(old, [LossSeries(task: "", term: "loss", steps: [1, 2], values: [3, .infinity])])
        XCTAssertThrowsError(try LossCurves.parse("{\"step\": 1, \"loss\": 3}\n{\"loss\": 2}\n", file: "m.jsonl")) { error in
            XCTAssertEqual((error as? ReportError)?.line, 2)
        }
    }

    func testLoadResolvesMetricsRelativeToRowsFile() throws {
        let directory = try DistillationTestSupport.temporaryDirectory("report-load")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("s"), withIntermediateDirectories: true)
        try Data("{\"step\": 1, \"loss\": 3}\n{\"step\": 2, \"loss\": 2}\n".utf8)
            .write(to: directory.appendingPathComponent("s/metrics.jsonl"))
        let rows = """
            {"name": "s", "kind": "student", "command": "c", "squad_em": 1, "squad_f1": 2, "metrics": "s/metrics.jsonl"}
            {"name": "gone", "kind": "student", "command": "c", "squad_em": 1, "squad_f1": 2, "metrics": "gone.jsonl"}
            """
        let rowsURL = directory.appendingPathComponent("rows.jsonl")
        try Data(rows.utf8).write(to: rowsURL)
        let report = try DistillationReport.load(rowsFile: rowsURL, title: "T", smoothing: 2)
        XCTAssertEqual(report.entries[0].lossCurves.first?.values, [3, 2])
        XCTAssertEqual(report.entries[1].metricsNote, "metrics file gone.jsonl not found")
        let written = try report.write(to: directory.appendingPathComponent("out"))
        XCTAssertEqual(try String(contentsOf: written.markdown, encoding: .utf8), report.markdown)
        XCTAssertTrue(try String(contentsOf: written.html, encoding: .utf8).contains("metrics file gone.jsonl not found"))
    }
}
