import Foundation
@testable import MRC
import TestSupport
import XCTest

/// The in-process gzip layer against the reference, `gzip -dc`: the same bytes for real files, the same
/// verdict on damaged ones; and the errors that point (byte offsets) and limits (bombs, long lines).
final class GzipSourceTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    /// `gzip -dc` of `url`: its output, or nil when it fails (exit status not 0).
    func reference(_ url: URL) throws -> Data? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", url.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? data : nil
    }

    func ours(_ url: URL, limit: Int = ReadLimits.standard.maxFileBytes) -> Result<Data, Error> {
        Result { try GzipSource(FileSource(url), limit: limit).readAll(limit: .max, what: "") }
    }

    func compressed(_ text: String, name: String) throws -> URL {
        let plain = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: plain)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-nf", plain.path]
        try process.run()
        process.waitUntilExit()
        return directory.appendingPathComponent(name + ".gz")
    }

    func testRealFilesInflateToGzipsBytes() throws {
        for path in ["mrqa/out_of_domain/SubjQA-grocery-dev.jsonl.gz", "mrqa/samples/NewsQA-sample.jsonl.gz"] {
            let url = TestPaths.sharedData(path)
            let expected = try XCTUnwrap(try reference(url))
            XCTAssertEqual(try ours(url).get(), expected, path)
        }
    }

    func testDamagedFilesGetGzipsVerdict() throws {
        let original = try Data(contentsOf: compressed(String(repeating: "the quick brown fox 0123456789 ", count: 200)
                                                        + "unique tail", name: "damage.txt"))
        var generator = SeededRandom(seed: 11)
        var refused = 0
        for trial in 0..<150 {
            var bytes = original
            if trial % 3 == 0 {
                bytes = bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator))
            } else {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] ^= UInt8.random(in: 1...255, using: &generator)
            }
            let url = directory.appendingPathComponent("trial-\(trial).gz")
            try bytes.write(to: url)
            guard bytes.count >= 2, bytes.prefix(2) == Data([0x1F, 0x8B]) else { continue }  // not gzip: DataFile reads it as plain
            let expected = try reference(url)
            switch ours(url) {
            case .success(let data):
                XCTAssertEqual(data, expected, "trial \(trial): we accept what gzip -dc refuses, or read other bytes")
            case .failure(let error):
                refused += 1
                XCTAssertNil(expected, "trial \(trial): we refuse what gzip -dc reads: \(error)")
                XCTAssertTrue("\(error)".contains("at byte offset"), "\(error)")
            }
        }
        XCTAssertGreaterThan(refused, 50, "most damage must be caught (CRC-32 and length trailer)")
    }

    func testErrorsNameTheByteOffset() throws {
        let url = try compressed("{\"context\": \"a b\"}\n", name: "offsets.jsonl")
        let whole = try Data(contentsOf: url)
        let truncated = directory.appendingPathComponent("truncated.gz")
        try whole.prefix(whole.count - 5).write(to: truncated)
        XCTAssertEqual("\(ours(truncated).error!)",
                       "\(truncated.path): gzip data ends inside a member (the file is truncated) at byte offset \(whole.count - 5) of the compressed file")
        let trailing = directory.appendingPathComponent("trailing.gz")
        try (whole + Data("junk".utf8)).write(to: trailing)
        XCTAssertEqual("\(ours(trailing).error!)",
                       "\(trailing.path): gzip data is followed by bytes that are not another gzip member at byte offset \(whole.count) of the compressed file")
        let corrupt = directory.appendingPathComponent("corrupt.gz")
        var bytes = whole
        bytes[2] = 0x07  // compression method 7: not deflate; zlib stops after reading method and flags (offset 4)
        try bytes.write(to: corrupt)
        XCTAssertEqual("\(ours(corrupt).error!)",
                       "\(corrupt.path): gzip data is corrupt (unknown compression method) at byte offset 4 of the compressed file")
        // Zero padding after the last member is ignored, as gzip -dc does; two members read as one stream.
        let padded = directory.appendingPathComponent("padded.gz")
        try (whole + Data(count: 512) + whole).write(to: padded)
        XCTAssertEqual(try ours(padded).get(), Data("{\"context\": \"a b\"}\n{\"context\": \"a b\"}\n".utf8))
    }

    func testDecompressionBombIsRefusedAtTheLimit() throws {
        let bomb = try compressed(String(repeating: "0", count: 4 << 20), name: "bomb.jsonl")
        XCTAssertLessThan(try Data(contentsOf: bomb).count, 8_000)
        let error = "\(ours(bomb, limit: 1 << 20).error!)"
        XCTAssertTrue(error.hasPrefix("\(bomb.path): decompresses to more than 1 MiB (--max-file-mb), the limit for one file"), error)
        XCTAssertEqual(try ours(bomb, limit: 4 << 20).get().count, 4 << 20)
    }

    func testALineLongerThanTheLimitIsRefusedBeforeItIsHeld() throws {
        let text = "{\"context\": \"short\"}\n" + String(repeating: "x", count: 300_000) + "\nlast"
        var lines = LineReader(MemorySource(Data(text.utf8), file: "long.jsonl"),
                               limits: ReadLimits(maxRecordBytes: 100_000, maxFileBytes: 1 << 30))
        XCTAssertEqual(try lines.next()?.number, 1)
        XCTAssertThrowsError(try lines.next()) { error in
            XCTAssertEqual("\(error)", "long.jsonl, line 2: is longer than 100000 bytes (--max-record-mb), the limit for one record")
        }
        var whole = LineReader(MemorySource(Data(text.utf8), file: "long.jsonl"), limits: ReadLimits(maxRecordBytes: 1 << 20, maxFileBytes: 200_000))
        XCTAssertThrowsError(try { while try whole.next() != nil {} }()) { error in
            XCTAssertTrue("\(error)".contains("the limit for one file"), "\(error)")
        }
    }
}

extension Result {
    var error: Failure? { if case .failure(let error) = self { return error } else { return nil } }
}

