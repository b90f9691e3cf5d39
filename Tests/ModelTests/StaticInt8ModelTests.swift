import Checkpoint
import Foundation
import Kernels
@testable import Model
import TestSupport
import XCTest

/// Static int8 (`Int8Calibration`, `StaticInt8Weights`, `encoderLayerForwardInt8`) on all-MiniLM-L6-v2 and the
/// real SQuAD pairs of minilm_hidden.safetensors, held to PyTorch's dynamic int8 deviation from fp32 on the
/// same inputs (as `LowPrecisionModelTests` holds the dynamic path), on both backends. The calibration is
/// measured on the same three pairs: these tests check the machinery; the accuracy on data the calibration
/// never saw is the SQuAD dev F1 of `scripts/recipes/precision-squad`.
final class StaticInt8ModelTests: XCTestCase {
    private func model() throws -> BertModel { try ModelDirectory.load(TestPaths.miniLMDirectory, spanHead: .ifPresent).model }

    private func batch() throws -> EncoderBatch {
        try fixtureBatch(try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors")))
    }

    func testStaticInt8IsAtLeastAsCloseToFP32AsDynamicQuantization() throws {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        let fixture = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_hidden.safetensors"))
        let fp32 = try fixture.floats("last_hidden_state")
        let pytorch = try SafeTensorsFile(contentsOf: TestPaths.fixture("model/minilm_low_precision.safetensors")).floats("int8_dynamic")
        let calibration = try model().calibrateInt8(batches: [try batch()], source: "minilm_hidden.safetensors")
        for backend in [LowPrecisionBackend.onednn, .reference] {
            LowPrecision.backend = backend
            let bert = try model()
            bert.precision = .int8
            try bert.encode(try batch(), forTraining: false)
            let dynamic = bert.lastHiddenState()
            bert.int8Calibration = calibration
            try bert.encode(try batch(), forTraining: false)
            let ours = bert.lastHiddenState()
            XCTAssertNotEqual(ours, dynamic, "\(backend): the static layers did not run")
            assertAsCloseAsPyTorch(ours, fp32: fp32, pytorch: pytorch, "static int8 \(backend) vs PyTorch's dynamic int8")
        }
    }

    /// The static weights are made again when the masters change, and dropped with the calibration: without
    /// it the int8 forward is the dynamic one again, bit for bit.
    func testStaticWeightsFollowTheMastersAndTheCalibration() throws {
        let bert = try model(), input = try batch()
        bert.precision = .int8
        try bert.encode(input, forTraining: false)
        let dynamic = bert.lastHiddenState()
        bert.int8Calibration = try bert.calibrateInt8(batches: [input], source: "fixture")
        XCTAssertEqual(bert.precision, .int8, "calibration restores the precision")
        try bert.encode(input, forTraining: false)
        let before = bert.lastHiddenState()
        let w = bert.parameters.pointer, o = bert.layout.layers[0]
        for i in o.intermediateWeight..<(o.intermediateWeight + 2000) { w[i] *= 0.5 }
        bert.parametersDidChange()
        try bert.encode(input, forTraining: false)
        XCTAssertNotEqual(bert.lastHiddenState(), before, "the static int8 weights were not made again from the masters")
        for i in o.intermediateWeight..<(o.intermediateWeight + 2000) { w[i] *= 2 }
        bert.parametersDidChange()
        try bert.encode(input, forTraining: false)
        XCTAssertEqual(bert.lastHiddenState(), before, "the same masters give the same static forward")
        bert.int8Calibration = nil
        try bert.encode(input, forTraining: false)
        XCTAssertEqual(bert.lastHiddenState(), dynamic, "without a calibration int8 is the dynamic path")
    }

    /// The second feed-forward matmul runs int8 per token (centred) in every layer but the first where the calibration
    /// holds the GELU output's channel maxima; without them (a file made before), or switched off, it runs bf16, and
    /// the two ways to bf16 give the same forward bit for bit.
    func testSecondFeedForwardRunsPerTokenWhereTheCalibrationHasItsMaxima() throws {
        let bert = try model(), input = try batch()
        let calibration = try bert.calibrateInt8(batches: [input], source: "fixture")
        let intermediate = bert.config.intermediateSize
        XCTAssertTrue(calibration.layers.allSatisfy { ($0.feedForwardChannelMax?.count ?? 0) == intermediate && $0.feedForwardChannelMax!.max()! > 0 })
        bert.precision = .int8
        func forward(_ c: Int8Calibration, perToken: Bool = true) throws -> [Float] {
            let saved = StaticInt8Weights.perTokenSecondFeedForward
            defer { StaticInt8Weights.perTokenSecondFeedForward = saved }
            StaticInt8Weights.perTokenSecondFeedForward = perToken
            bert.int8Calibration = c
            try bert.encode(input, forTraining: false)
            return bert.lastHiddenState()
        }
        var old = calibration
        for l in old.layers.indices { old.layers[l].feedForwardChannelMax = nil }
        let centred = try forward(calibration), withoutMaxima = try forward(old), off = try forward(calibration, perToken: false)
        XCTAssertEqual(withoutMaxima, off, "a calibration without the maxima runs that matmul bf16, as switching it off does")
        XCTAssertNotEqual(centred, off, "the per-token second feed-forward matmul did not run")
        // Only the first layer's runs bf16 with the maxima: making them absent there changes nothing.
        var firstAbsent = calibration
        firstAbsent.layers[0].feedForwardChannelMax = nil
        XCTAssertEqual(try forward(firstAbsent), centred, "the first layer's second feed-forward matmul is bf16 either way")
    }

    /// The context's range: the nearest-rank 99.99th percentile of |x| over the rows that are not padding.
    func testPercentileIsTheNearestRankOverValidRows() {
        let width = 100, rows = 101
        // Rows 0..<100 hold ±1...±10,000 (every other value negative); row 100 is padding with larger values.
        var x = [Float](repeating: 0, count: rows * width)
        for i in 0..<(100 * width) { x[i] = Float(i + 1) * (i % 2 == 0 ? 1 : -1) }
        for j in 0..<width { x[100 * width + j] = 1e6 }
        let valid = Array(0..<100)
        XCTAssertEqual(Int8CalibrationStatistics.percentile(x, valid: valid, width: width), 9_999)
        XCTAssertEqual(Int8CalibrationStatistics.percentile(x, valid: valid + [100], width: width), 1e6,
                       "padding counts only when asked")
        XCTAssertEqual(Int8CalibrationStatistics.percentile(x, valid: [], width: width), 0)
    }

    func testCalibrationFilesRoundTripAndBadOnesNameThemselves() throws {
        let directory = try CLIProcess.temporaryDirectory("int8-calibration")
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertNil(try Int8Calibration.load(directory: directory), "no file, no calibration")
        let bert = try model()
        let calibration = try bert.calibrateInt8(batches: [try batch()], source: "fixture")
        XCTAssertEqual(calibration.layers.count, 6)
        XCTAssertTrue(calibration.layers.allSatisfy { $0.contextRange > 0 })
        let url = directory.appendingPathComponent(Int8Calibration.fileName)
        try calibration.write(to: url)
        XCTAssertEqual(try Int8Calibration.load(directory: directory), calibration)
        try Data("{\"format\": 1, \"source\": 3}".utf8).write(to: url)
        XCTAssertThrowsError(try Int8Calibration.load(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
        // A calibration of another model is refused at the first int8 forward, saying what it holds.
        var other = calibration
        other.layers.removeLast()
        bert.precision = .int8
        bert.int8Calibration = other
        XCTAssertThrowsError(try bert.encode(try batch(), forTraining: false)) { error in
            XCTAssertTrue("\(error)".contains("5 layers"), "\(error)")
        }
        // Read from a model directory, it is refused at once, naming the file; one that fits is taken.
        try other.write(to: url)
        XCTAssertThrowsError(try bert.usePrecision(.int8, modelDirectory: directory)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("5 layers"), "\(error)")
        }
        try calibration.write(to: url)
        try bert.usePrecision(.int8, modelDirectory: directory)
        XCTAssertEqual(bert.int8Calibration, calibration)
        try bert.usePrecision(.bf16, modelDirectory: directory)
        XCTAssertNil(bert.int8Calibration, "only int8 reads the calibration")
    }
}
