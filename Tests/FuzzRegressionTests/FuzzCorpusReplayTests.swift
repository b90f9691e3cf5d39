import Foundation
import FuzzTargets
import XCTest

/// Replays every committed fuzz input — the seed corpora (fuzz/seeds/TARGET) and every input a fuzzing
/// run found to crash, hang or leak before its fix (fuzz/regressions/TARGET) — through its target, as
/// `mrc-fuzz replay` does. A crash fails the run; refusals must name the file (FuzzTarget.run traps if
/// not). The regressions' exact messages are pinned in FuzzRegressionTests.
final class FuzzCorpusReplayTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz")

    override func setUp() {
        // The targets read the fixture vocabulary relative to the repository root.
        FileManager.default.changeCurrentDirectoryPath(Self.root.deletingLastPathComponent().path)
    }

    func files(_ kind: String, _ target: String) -> [URL] {
        let directory = Self.root.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }

    func testEveryTargetHasSeeds() {
        for target in FuzzTarget.all {
            XCTAssertGreaterThanOrEqual(files("seeds", target.name).count, 2, "fuzz/seeds/\(target.name) holds too few seeds")
        }
    }

    func testSeedsReplayAndTheValidOnesAreAccepted() throws {
        for target in FuzzTarget.all {
            var accepted = 0
            for url in files("seeds", target.name) {
                let data = try Data(contentsOf: url)
                XCTAssertLessThanOrEqual(data.count, target.maxLength, "\(url.path) is longer than the target's max_len")
                if target.run(data) == nil { accepted += 1 }
            }
            // Seeds are cut from real files: most must be read, or the fuzzer starts from refusals only.
            XCTAssertGreaterThan(accepted, 0, "no seed of \(target.name) is accepted")
        }
    }

    func testRegressionInputsReplay() throws {
        for target in FuzzTarget.all {
            for url in files("regressions", target.name) {
                _ = target.run(try Data(contentsOf: url))
            }
        }
    }
}
