import Foundation
import TestSupport
import XCTest

/// The limits a user sets on the command line reach the readers: a JSONL line past `--max-record-mb` and a
/// gzip file decompressing past `--max-file-mb` are refused with the file, line or byte offset, and the limit.
final class ReadLimitsCLITests: XCTestCase {
    func testTheLimitsOfTheCommandLineRefuseHostileFiles() throws {
        let directory = try CLIProcess.temporaryDirectory("mrc-limits")
        defer { try? FileManager.default.removeItem(at: directory) }
        let record: [String: Any] = ["context": String(repeating: "x", count: 3 << 20),
                                     "qas": [["qid": "q", "question": "?", "answers": ["x"]]]]
        let big = directory.appendingPathComponent("big.jsonl")
        try (JSONSerialization.data(withJSONObject: record) + Data("\n".utf8)).write(to: big)
        let predictions = directory.appendingPathComponent("predictions.json")
        try Data(#"{"q": "x"}"#.utf8).write(to: predictions)

        let refused = try CLIProcess.run(["evaluate", "--data", big.path, "--predictions", predictions.path, "--max-record-mb", "1"],
                                         logDirectory: directory, name: "record")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("\(big.path), line 1: is longer than 1 MiB (--max-record-mb), the limit for one record"), refused.stderr)
        let accepted = try CLIProcess.run(["evaluate", "--data", big.path, "--predictions", predictions.path, "--max-record-mb", "4"],
                                          logDirectory: directory, name: "accepted")
        XCTAssertEqual(accepted.status, 0, accepted.stderr)

        // 3 MiB of one repeated line compress to a few KB: past --max-file-mb 2 it is a bomb.
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-kf", big.path]
        try gzip.run()
        gzip.waitUntilExit()
        let bomb = directory.appendingPathComponent("big.jsonl.gz")
        let inflated = try CLIProcess.run(["evaluate", "--data", bomb.path, "--predictions", predictions.path, "--max-file-mb", "2"],
                                          logDirectory: directory, name: "bomb")
        XCTAssertEqual(inflated.status, 1)
        XCTAssertTrue(inflated.stderr.contains("\(bomb.path): decompresses to more than 2 MiB (--max-file-mb), the limit for one file; refused at byte offset"),
                      inflated.stderr)
    }
}
