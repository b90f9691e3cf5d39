import XCTest
@testable import Distillation

/// Synthetic records and provenance shared by the store and merge tests.
enum StoreFixture {
    struct Record {
        var key: String
        var windowIndex: Int
        var hash: UInt64
        var start: [Float]?
        var end: [Float]?
        var length: Int
    }

    static func provenance(precision: SoftLabelProvenance.Precision = .fp16, windows: Int,
                           counts: [String: Int] = ["answers_not_found": 3],
                           statistics: TeacherStatistics = TeacherStatistics(windowsScored: 5, goldWindows: 4, goldAgreement: 3,
                                                                             startEntropyMicronats: 1_234_567, endEntropyMicronats: 7_654_321),
                           shard: SoftLabelProvenance.Shard? = nil) -> SoftLabelProvenance {
        SoftLabelProvenance(
            teachers: [.init(name: "bert", kind: "black-box", fingerprint: "bert:abc", weight: 1, counts: counts, statistics: statistics),
                       .init(name: "xlnet", kind: "model", fingerprint: "def", weight: 0.5)],
            combination: .meanLogits, temperature: 1, precision: precision, studentVocabHash: "v123", lowerCase: true,
            maxSeqLen: 384, docStride: 128, maxQueryLen: 64, dataFingerprint: "d456", windowCount: windows, shard: shard)
    }

    /// Log-softmax of deterministic pseudo-random logits; every fifth record unlabelled, some -∞ entries.
    static func records(_ count: Int, maxLength: Int = 40, seed: UInt64 = 7) -> [Record] {
        var state = seed
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        func logSoftmax(_ length: Int) -> [Float] {
            var logits = (0..<length).map { _ in 8 * next() - 4 }
            if length > 3 { logits[length - 1] = -.infinity }   // probability 0: stored as the floor
            let maximum = logits.max()!
            let total = logits.reduce(0) { $0 + Foundation.exp($1 - maximum) }
            return logits.map { Float($0 - maximum - Foundation.log(total)) }
        }
        return (0..<count).map { index in
            let length = 3 + Int(next() * Double(maxLength - 3))
            let labelled = index % 5 != 4
            return Record(key: "q\(index / 3)-é", windowIndex: index % 3, hash: UInt64(index) &* 0x9E37_79B9_7F4A_7C15,
                          start: labelled ? logSoftmax(length) : nil, end: labelled ? logSoftmax(length) : nil, length: length)
        }
    }

    static func write(_ records: ArraySlice<Record>, provenance: SoftLabelProvenance, to url: URL) throws {
        let writer = try SoftLabelStoreWriter(url: url, provenance: provenance)
        for record in records {
            try writer.append(key: record.key, windowIndex: record.windowIndex, inputIdsHash: record.hash,
                              startLogProbs: record.start, endLogProbs: record.end, length: record.length)
        }
        try writer.finish()
    }
}

final class SoftLabelStoreTests: XCTestCase {
    func testCRC32KnownValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        var running = CRC32()
        running.update(Array("12345".utf8))
        running.update(Array("6789".utf8))
        XCTAssertEqual(running.value, 0xCBF4_3926)
    }

    func testRoundTripWithinTheFormatsRounding() throws {
        let directory = try DistillationTestSupport.temporaryDirectory("store-roundtrip")
        let records = StoreFixture.records(60)
        // Round to nearest: relative error ≤ 2^-11 (fp16, 11 significant bits) or 2^-8 (bf16, 8 bits).
        for (precision, bound) in [(SoftLabelProvenance.Precision.fp16, Float(1) / 2048), (.bf16, Float(1) / 256)] {
            let url = directory.appendingPathComponent("\(precision.rawValue).soft")
            let provenance = StoreFixture.provenance(precision: precision, windows: records.count)
            try StoreFixture.write(records[...], provenance: provenance, to: url)
            let store = try SoftLabelStore(url: url)
            XCTAssertEqual(store.provenance, provenance)
            XCTAssertEqual(store.count, records.count)
            var start = [Float](repeating: .nan, count: 64)
            var end = start
            for (index, record) in records.enumerated() {
                XCTAssertEqual(store.key(at: index), record.key)
                XCTAssertEqual(store.windowIndex(at: index), record.windowIndex)
                XCTAssertEqual(store.length(at: index), record.length)
                XCTAssertEqual(store.inputIdsHash(at: index), record.hash)
                XCTAssertEqual(store.isLabelled(at: index), record.start != nil)
                guard let expectedStart = record.start, let expectedEnd = record.end else {
                    XCTAssertFalse(store.logProbabilities(at: index, start: &start, end: &end))
                    continue
                }
                XCTAssertTrue(store.logProbabilities(at: index, start: &start, end: &end))
                for (expected, actual) in zip(expectedStart + expectedEnd, start[0..<record.length] + end[0..<record.length]) {
                    if expected == -.infinity {
                        // log 0 → the floor: -10000 in fp16, -9984 (bf16's nearest) in bf16.
                        XCTAssertEqual(actual, precision == .fp16 ? -10000 : -9984)
                    } else {
                        XCTAssertLessThanOrEqual(abs(actual - expected), bound * abs(expected) + 1e-7, "\(precision) record \(index)")
                    }
                }
            }
            let summary = store.recordSummary()
            XCTAssertEqual(summary.labelled, 48)
            XCTAssertEqual(summary.unlabelled, 12)
            XCTAssertLessThan(summary.largestMassError, precision == .fp16 ? 0.01 : 0.05)
            XCTAssertTrue(store.summary().contains("48 labelled, 12 unlabelled"))
        }
    }

    func testWriterRefusesBadValuesAndCounts() throws {
        let url = try DistillationTestSupport.temporaryDirectory("store-bad").appendingPathComponent("s.soft")
        let writer = try SoftLabelStoreWriter(url: url, provenance: StoreFixture.provenance(windows: 2))
        XCTAssertThrowsError(try writer.append(key: "k", windowIndex: 0, inputIdsHash: 1, startLogProbs: [0, .nan], endLogProbs: [0, -1])) {
            XCTAssertTrue("\($0)".contains("window 0 (key \"k\""), "\($0)")
            XCTAssertTrue("\($0)".contains("start log-probability at token 1 is nan"), "\($0)")
        }
        XCTAssertThrowsError(try writer.append(key: "k", windowIndex: 0, inputIdsHash: 1, startLogProbs: [0], endLogProbs: [0, -1]))
        try writer.append(key: "k", windowIndex: 0, inputIdsHash: 1, startLogProbs: nil, endLogProbs: nil, length: 7)
        XCTAssertThrowsError(try writer.finish()) { XCTAssertTrue("\($0)".contains("1 records appended")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testTruncatedFilesNameTheOffset() throws {
        let url = try DistillationTestSupport.temporaryDirectory("store-cut").appendingPathComponent("s.soft")
        let records = StoreFixture.records(10)
        try StoreFixture.write(records[...], provenance: StoreFixture.provenance(windows: 10), to: url)
        let bytes = try Data(contentsOf: url)
        let store = try SoftLabelStore(url: url)
        let fourth = store.recordOffset(at: 4)
        for cut in [0, 5, 19, 40, fourth + 10, fourth, bytes.count - 16, bytes.count - 1] {
            let truncated = url.deletingLastPathComponent().appendingPathComponent("cut-\(cut).soft")
            try bytes.prefix(cut).write(to: truncated)
            XCTAssertThrowsError(try SoftLabelStore(url: truncated), "cut at \(cut)") { error in
                let error = error as! SoftLabelStoreError
                XCTAssertNotNil(error.offset, "\(error)")
                XCTAssertTrue(error.description.contains(truncated.path), "\(error)")
                XCTAssertTrue(error.description.contains("byte offset"), "\(error)")
                if cut == fourth + 10 || cut == fourth {
                    XCTAssertEqual(error.record, 4, "\(error)")
                    XCTAssertEqual(error.offset, fourth, "\(error)")
                    XCTAssertEqual(error.kind, .truncated)
                }
            }
        }
    }

    func testFlippedByteIsACRCErrorNamingTheRecord() throws {
        let url = try DistillationTestSupport.temporaryDirectory("store-flip").appendingPathComponent("s.soft")
        try StoreFixture.write(StoreFixture.records(10)[...], provenance: StoreFixture.provenance(windows: 10), to: url)
        let offset = try SoftLabelStore(url: url).recordOffset(at: 3)
        var bytes = try Data(contentsOf: url)
        bytes[offset + 30] ^= 0x10
        try bytes.write(to: url)
        XCTAssertThrowsError(try SoftLabelStore(url: url)) { error in
            let error = error as! SoftLabelStoreError
            XCTAssertEqual(error.kind, .checksum)
            XCTAssertEqual(error.record, 3)
            XCTAssertEqual(error.offset, offset)
            XCTAssertTrue(error.description.contains("record 3 at byte offset \(offset)"), "\(error)")
        }
        bytes[offset + 30] ^= 0x10
        bytes[0] = UInt8(ascii: "X")
        try bytes.write(to: url)
        XCTAssertThrowsError(try SoftLabelStore(url: url)) { error in
            XCTAssertEqual((error as! SoftLabelStoreError).kind, .format)
            XCTAssertTrue("\(error)".contains("bad magic"), "\(error)")
        }
    }

    func testProvenanceMismatchNamesTheField() throws {
        let url = try DistillationTestSupport.temporaryDirectory("store-check").appendingPathComponent("s.soft")
        let provenance = StoreFixture.provenance(windows: 3)
        try StoreFixture.write(StoreFixture.records(3)[...], provenance: provenance, to: url)
        let store = try SoftLabelStore(url: url)
        var expected = provenance
        expected.teachers = []
        expected.temperature = 2
        expected.combination = .meanProbabilities
        XCTAssertNoThrow(try store.check(expected: expected))
        for (field, change) in [("doc_stride", { (p: inout SoftLabelProvenance) in p.docStride = 64 }),
                                ("student_vocab_hash", { $0.studentVocabHash = "other" }), ("lower_case", { $0.lowerCase = false }),
                                ("max_seq_len", { $0.maxSeqLen = 512 }), ("max_query_len", { $0.maxQueryLen = 32 }),
                                ("data_fingerprint", { $0.dataFingerprint = "x" }), ("window_count", { $0.windowCount = 4 })] {
            var other = provenance
            change(&other)
            XCTAssertThrowsError(try store.check(expected: other), field) { error in
                XCTAssertEqual((error as! SoftLabelStoreError).field, field)
                XCTAssertEqual((error as! SoftLabelStoreError).kind, .provenanceMismatch)
            }
        }
        var other = provenance
        other.docStride = 64
        XCTAssertThrowsError(try store.check(expected: other)) {
            XCTAssertTrue("\($0)".contains("doc_stride = 128") && "\($0)".contains("doc_stride = 64"), "\($0)")
        }
    }

    func testOpenAndVerifySpeedAt10kWindowsOf384() throws {
        let url = try DistillationTestSupport.temporaryDirectory("store-speed").appendingPathComponent("s.soft")
        let count = 10_000
        let row = (0..<384).map { Float(-Double($0 % 50) * 0.37 - 1) }
        let writer = try SoftLabelStoreWriter(url: url, provenance: StoreFixture.provenance(windows: count))
        let clock = ContinuousClock()
        let writing = try clock.measure {
            for index in 0..<count {
                try writer.append(key: "5733be284776f41900661182-\(index / 2)", windowIndex: index % 2, inputIdsHash: UInt64(index),
                                  startLogProbs: row, endLogProbs: row)
            }
            try writer.finish()
        }
        var store: SoftLabelStore?
        let opening = try clock.measure { store = try SoftLabelStore(url: url) }
        let unverified = try clock.measure { _ = try SoftLabelStore(url: url, verify: false) }
        var start = [Float](repeating: 0, count: 384)
        var end = start
        var total: Float = 0
        let reading = clock.measure {
            for index in 0..<count {
                store!.logProbabilities(at: index, start: &start, end: &end)
                total += start.reduce(0, +) + end.reduce(0, +)
            }
        }
        XCTAssertEqual(Double(total), Double(count) * 2 * Double(row.reduce(0, +)), accuracy: 1e-3 * abs(Double(total)))
        print("soft-label store, \(count) windows × 384 tokens fp16 (\(store!.fileSize) bytes): write \(writing), "
              + "open+verify \(opening), open without CRC \(unverified), read all \(reading)")
        XCTAssertEqual(store!.count, count)
        XCTAssertEqual(start[7], row[7], accuracy: abs(row[7]) / 2048)
        XCTAssertLessThan(opening, .seconds(2))
    }
}
