import XCTest
@testable import Distillation

/// The Markdown tables for known rows, cell by cell.
final class ReportMarkdownTests: XCTestCase {
    static let rows = [
        ReportRow(name: "BERT-large", kind: .teacher, command: "mrc-distill predict --model runs/large", squadEM: 84.1,
                  squadF1: 90.9, oodF1: ["TextbookQA": 50.5, "BioASQ": 60], parameters: 335_141_888,
                  tokensPerSecond: 812.4, teachSeconds: 1234.4),
        ReportRow(name: "student 3L + KD", kind: .student, command: "mrc-distill train `--kd`", squadEM: 70,
                  squadF1: 79.454, oodF1: ["BioASQ": 40], parameters: 22_713_216, tokensPerSecond: 2300,
                  distillSeconds: 95.3, notes: "EMA on"),
        ReportRow(name: "a|b", kind: .student, command: "c", squadEM: .nan, squadF1: 1),
    ]

    func testSummaryTable() {
        let markdown = DistillationReport(title: "Ablation", entries: Self.rows.map { .init(row: $0) }).markdown
        let expected = """
            # Ablation

            ## Summary

            | name | kind | SQuAD dev EM | SQuAD dev F1 | out-of-domain macro-F1 | parameters | inference tokens/s | teach s | train s |
            | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
            | BERT-large | teacher | 84.10 | 90.90 | 55.25 | 335.1 M | 812 | 1234 | — |
            | student 3L + KD | student | 70.00 | 79.45 | 40.00 | 22.7 M | 2300 | — | 95.3 |
            | a\\|b | student | nan | 1.00 | — | — | — | — | — |
            """
        XCTAssertTrue(markdown.hasPrefix(expected), markdown)
    }

    func testOutOfDomainTableAndCommands() {
        let markdown = DistillationReport(title: "Ablation", entries: Self.rows.map { .init(row: $0) }).markdown
        let expected = """
            ## Out-of-domain F1 per dataset

            | name | BioASQ | TextbookQA | macro-F1 |
            | --- | ---: | ---: | ---: |
            | BERT-large | 60.00 | 50.50 | 55.25 |
            | student 3L + KD | 40.00 | — | 40.00 |
            | a\\|b | — | — | — |

            ## Commands

            - **BERT-large**: `mrc-distill predict --model runs/large`
            - **student 3L + KD**: `` mrc-distill train `--kd` ``
              - notes: EMA on
            - **a|b**: `c`

            """
        XCTAssertTrue(markdown.hasSuffix(expected), markdown)
    }

    /// MRQA's protocol (several in-domain datasets): D-NET's table shape, the macro-F1 of each group, every
    /// dataset's F1 (in-domain first) and the costs, with no separate out-of-domain table.
    func testMRQAProtocolTable() {
        let rows = [
            ReportRow(name: "ensemble", kind: .teacher, command: "mrc-distill predict --model a --model b", squadEM: 60,
                      squadF1: 70, inDomainF1: ["SQuAD": 70, "NewsQA": 50.5], oodF1: ["DROP": 30, "BioASQ": 41],
                      parameters: 45_000_000, secondsPer1kQuestions: 81.25, distillSeconds: 3000),
            ReportRow(name: "student", kind: .student, command: "c", squadEM: 50, squadF1: 61,
                      inDomainF1: ["SQuAD": 61, "NewsQA": 40], oodF1: ["BioASQ": 33], secondsPer1kQuestions: 20.5,
                      teachSeconds: 600, distillSeconds: 900),
        ]
        let markdown = DistillationReport(title: "D-NET", entries: rows.map { .init(row: $0) }).markdown
        let expected = """
            | name | kind | in-domain macro-F1 | out-of-domain macro-F1 | NewsQA | SQuAD | BioASQ | DROP | parameters | inference s / 1k questions | teach s | train s |
            | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
            | ensemble | teacher | 60.25 | 35.50 | 50.50 | 70.00 | 41.00 | 30.00 | 45.0 M | 81.2 | — | 3000 |
            | student | student | 50.50 | 33.00 | 40.00 | 61.00 | 33.00 | — | — | 20.5 | 600 | 900 |
            """
        XCTAssertTrue(markdown.contains(expected), markdown)
        XCTAssertFalse(markdown.contains("## Out-of-domain F1 per dataset"), "the summary has the datasets")
        XCTAssertEqual(rows[1].inDomainMacroF1, 50.5)
        XCTAssertEqual(Self.rows[0].inDomainMacroF1, 90.9, "one in-domain set: the SQuAD dev F1")
    }

    func testFormats() {
        XCTAssertEqual(ReportFormat.parameters(22_700_000), "22.7 M")
        XCTAssertEqual(ReportFormat.parameters(1_100_000_000), "1.10 B")
        XCTAssertEqual(ReportFormat.parameters(950_000), "950 k")
        XCTAssertEqual(ReportFormat.parameters(512), "512")
        XCTAssertEqual(ReportFormat.score(.infinity), "inf")
        XCTAssertEqual(ReportFormat.score(nil), "—")
        XCTAssertEqual(ReportFormat.quantity(12.34), "12.3")
        XCTAssertEqual(DistillationReport(title: "Empty", entries: []).markdown, "# Empty\n\nNo rows.\n")
    }
}
