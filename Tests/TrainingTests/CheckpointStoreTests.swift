import Foundation
import TestSupport
import XCTest
@testable import Training

final class CheckpointStoreTests: XCTestCase {
    func state(step: Int) -> TrainerState {
        TrainerState(step: step, epoch: 0, batchInEpoch: step, totalSteps: 10, generatorState: [1, 2, 3, 4], emaUpdates: step,
                     tokensSeen: 100 * step, trainingSeconds: Double(step), settingsFingerprint: "s", dataFingerprint: "d",
                     parameterCount: 5)
    }

    func testWriteReadKeepAndIgnoreHalfWrittenCheckpoints() throws {
        let root = try CLIProcess.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CheckpointStore(outputDirectory: root, keep: 2)
        let m: [Float] = [1, 2, 3, 4, 5], v: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5], shadow: [Float] = [9, 8, 7, 6, 5]
        for step in [2, 4, 6] {
            _ = try store.write(state: state(step: step), firstMoment: m, secondMoment: v, emaShadow: shadow) { directory in
                try Data("weights \(step)".utf8).write(to: directory.appendingPathComponent("model.safetensors"))
            }
        }
        XCTAssertEqual(store.checkpoints().map(\.step), [4, 6], "only the last two are kept")
        // A killed writer leaves a hidden temporary and a directory without trainer_state.json: neither counts.
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".checkpoint-8.tmp-123"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("checkpoint-9"), withIntermediateDirectories: true)
        XCTAssertEqual(store.latest?.step, 6)
        store.removeStaleTemporaries()
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent(".checkpoint-8.tmp-123").path))

        var readM = [Float](repeating: 0, count: 5), readV = readM, readShadow = readM
        let read = try store.read(store.latest!.url, firstMoment: &readM, secondMoment: &readV, emaShadow: &readShadow)
        XCTAssertEqual(read, state(step: 6))
        XCTAssertEqual(readM, m)
        XCTAssertEqual(readV, v)
        XCTAssertEqual(readShadow, shadow)
        XCTAssertEqual(try String(contentsOf: store.latest!.url.appendingPathComponent("model.safetensors"), encoding: .utf8), "weights 6")
    }

    func testFailedWriteLeavesNoCheckpoint() throws {
        let root = try CLIProcess.temporaryDirectory("store-fail")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = CheckpointStore(outputDirectory: root)
        XCTAssertThrowsError(try store.write(state: state(step: 3), firstMoment: [0, 0, 0, 0, 0], secondMoment: [0, 0, 0, 0, 0],
                                             emaShadow: nil) { _ in throw TrainingError.io("disk full") })
        XCTAssertNil(store.latest)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), [])
    }
}
