import XCTest
@testable import Distillation

final class SoftLabelMergeTests: XCTestCase {
    private let windows = 31
    private let teacherCounts = [[1, 0, 2], [4, 2, 0], [0, 3, 1]]

    /// Writes the unsharded file and 3 shards whose teacher counts/statistics add up to the unsharded ones.
    private func writeRun(in directory: URL) throws -> (whole: URL, shards: [URL]) {
        let records = StoreFixture.records(windows)
        func statistics(_ part: Int) -> TeacherStatistics {
            TeacherStatistics(windowsScored: 10 + part, goldWindows: 5 + part, goldAgreement: 4, startEntropyMicronats: 1_000_003 * (part + 1),
                              endEntropyMicronats: 777_777 + part)
        }
        var totalStatistics = TeacherStatistics()
        var totalCounts = ["answers_not_found": 0, "questions_missing": 0]
        var shards: [URL] = []
        for index in 1...3 {
            let shard = try SoftLabelShard(index: index, count: 3)
            let range = shard.range(windows: windows, blockSize: 1)
            let counts = ["answers_not_found": teacherCounts[index - 1][0], "questions_missing": teacherCounts[index - 1][1] + teacherCounts[index - 1][2]]
            totalCounts.merge(counts, uniquingKeysWith: +)
            totalStatistics.add(statistics(index))
            let url = directory.appendingPathComponent("part-\(index).soft")
            try StoreFixture.write(records[range], provenance: StoreFixture.provenance(
                windows: windows, counts: counts, statistics: statistics(index), shard: shard.provenanceShard(windows: windows, blockSize: 1)), to: url)
            shards.append(url)
        }
        let whole = directory.appendingPathComponent("whole.soft")
        try StoreFixture.write(records[...], provenance: StoreFixture.provenance(windows: windows, counts: totalCounts,
                                                                                 statistics: totalStatistics), to: whole)
        return (whole, shards)
    }

    func testShardRangesAndParsing() throws {
        XCTAssertEqual((1...3).map { SoftLabelShard.range(index: $0, count: 3, windows: 31, blockSize: 1) }, [0..<10, 10..<20, 20..<31])
        XCTAssertEqual((1...4).map { SoftLabelShard.range(index: $0, count: 4, windows: 2, blockSize: 1) }, [0..<0, 0..<1, 1..<1, 1..<2])
        // Whole blocks of 64: 200 windows are 4 blocks.
        XCTAssertEqual((1...3).map { SoftLabelShard.range(index: $0, count: 3, windows: 200) }, [0..<64, 64..<128, 128..<200])
        XCTAssertEqual((1...2).map { SoftLabelShard.range(index: $0, count: 2, windows: 70) }, [0..<64, 64..<70])
        XCTAssertEqual(try SoftLabelShard.parse("2/4"), try SoftLabelShard(index: 2, count: 4))
        for bad in ["0/4", "5/4", "2", "a/b", "1/0", "", "1/2/3"] {
            XCTAssertThrowsError(try SoftLabelShard.parse(bad), bad) { XCTAssertTrue("\($0)".contains("shard \"\(bad)\""), "\($0)") }
        }
    }

    func testMergedFileIsByteIdenticalToTheUnshardedOne() throws {
        let directory = try DistillationTestSupport.temporaryDirectory("merge")
        let run = try writeRun(in: directory)
        let merged = directory.appendingPathComponent("merged.soft")
        let provenance = try SoftLabelMerge.merge(parts: [run.shards[2], run.shards[0], run.shards[1]], into: merged)
        XCTAssertNil(provenance.shard)
        XCTAssertEqual(try Data(contentsOf: merged), try Data(contentsOf: run.whole))
        XCTAssertEqual(try SoftLabelStore(url: merged).count, windows)
        XCTAssertTrue(try SoftLabelStore(url: run.shards[1]).summary().contains("shard 2/3: windows 10..<20 of 31"))
    }

    func testMergeRefusesMissingDuplicateAndForeignParts() throws {
        let directory = try DistillationTestSupport.temporaryDirectory("merge-bad")
        let run = try writeRun(in: directory)
        let out = directory.appendingPathComponent("out.soft")
        XCTAssertThrowsError(try SoftLabelMerge.merge(parts: [run.shards[0], run.shards[2]], into: out)) {
            XCTAssertTrue("\($0)".contains("shard 2/3 missing"), "\($0)")
        }
        XCTAssertThrowsError(try SoftLabelMerge.merge(parts: [run.shards[0], run.shards[1], run.shards[1], run.shards[2]], into: out)) {
            XCTAssertTrue("\($0)".contains("shard 2/3 is given twice"), "\($0)")
        }
        XCTAssertThrowsError(try SoftLabelMerge.merge(parts: [run.whole, run.shards[1]], into: out)) {
            XCTAssertTrue("\($0)".contains("is not a shard"), "\($0)")
        }
        // A shard of another run (different data fingerprint) is refused.
        let foreign = directory.appendingPathComponent("foreign.soft")
        var provenance = try SoftLabelStore(url: run.shards[1]).provenance
        provenance.dataFingerprint = "other"
        try StoreFixture.write(StoreFixture.records(windows)[10..<20], provenance: provenance, to: foreign)
        XCTAssertThrowsError(try SoftLabelMerge.merge(parts: [run.shards[0], foreign, run.shards[2]], into: out)) {
            XCTAssertTrue("\($0)".contains("provenance differs"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
