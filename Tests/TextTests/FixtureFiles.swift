import Foundation
import TestSupport
import XCTest

/// Reading of the tokenizer fixtures and of the texts of ../shared/data, for the parity tests.
/// A missing or malformed file fails the test with the file's name.
enum FixtureFiles {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The whole decompressed content of a gzip file (Foundation on Linux has no gzip).
    static func gunzip(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Failure(description: "missing file \(url.path)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "gzip -dc \(url.path) exited with status \(process.terminationStatus)")
        }
        return data
    }

    /// Each non-empty line of `data` parsed as a JSON object.
    static func jsonLines(_ data: Data, file: URL) throws -> [[String: Any]] {
        var records: [[String: Any]] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            guard let record = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw Failure(description: "\(file.path) line \(lineNumber) is not a JSON object")
            }
            records.append(record)
        }
        return records
    }

    static func jsonObject(_ url: URL) throws -> Any {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw Failure(description: "missing file \(url.path)")
        }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url), options: [.fragmentsAllowed])
    }

    /// The corpus files, in the order scripts/fixtures/make_tokenizer_fixtures.py reads them.
    static let squadFiles = ["squad/train-v1.1.json", "squad/dev-v1.1.json", "squad/train-v2.0.json", "squad/dev-v2.0.json"]
    static let mrqaFiles = ["mrqa/in_domain/SQuAD-train.jsonl.gz", "mrqa/in_domain/SQuAD-dev.jsonl.gz"]
        + ["electronics", "grocery", "restaurants", "tripadvisor"].flatMap { domain in
            ["train", "dev"].map { "mrqa/out_of_domain/SubjQA-\(domain)-\($0).jsonl.gz" }
        }
        + ["mrqa/samples/NewsQA-sample.jsonl.gz"]

    /// Every context and question of the corpus, deduplicated, in first-occurrence order.
    static func corpusTexts() throws -> [String] {
        var seen = Set<String>()
        var texts: [String] = []
        func add(_ text: String) {
            if seen.insert(text).inserted { texts.append(text) }
        }
        func string(_ value: Any?, _ field: String, _ file: String) throws -> String {
            guard let text = value as? String else { throw Failure(description: "\(file): missing string field \(field)") }
            return text
        }
        for relative in squadFiles {
            let squad = try jsonObject(TestPaths.sharedData(relative)) as? [String: Any]
            guard let articles = squad?["data"] as? [[String: Any]] else {
                throw Failure(description: "\(relative): no data[] array")
            }
            for article in articles {
                for paragraph in article["paragraphs"] as? [[String: Any]] ?? [] {
                    add(try string(paragraph["context"], "context", relative))
                    for qa in paragraph["qas"] as? [[String: Any]] ?? [] {
                        add(try string(qa["question"], "question", relative))
                    }
                }
            }
        }
        for relative in mrqaFiles {
            let url = TestPaths.sharedData(relative)
            for record in try jsonLines(gunzip(url), file: url) where record["header"] == nil {
                add(try string(record["context"], "context", relative))
                for qa in record["qas"] as? [[String: Any]] ?? [] {
                    add(try string(qa["question"], "question", relative))
                }
            }
        }
        return texts
    }

    /// FNV-1a 64 of the UTF-8 bytes, 16 hex digits, as the fixture script writes it.
    static func fnv1a64(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The MiniLM vocab.txt the fixtures were made with.
    static var miniLMVocabulary: URL { TestPaths.miniLMDirectory.appendingPathComponent("vocab.txt") }
}
