@testable import Distillation
import Foundation
import MRC
import XCTest

/// Combining teachers: temperature, mean of probabilities vs mean of logits, weights, abstentions.
final class TeacherEnsembleTests: XCTestCase {
    final class Fixed: Teacher {
        let name: String, kind = "test", fingerprint = "fixed"
        let counts: [String: Int] = [:]
        init(_ name: String) { self.name = name }
        func score(examples: [MRCExample], windows: [Window], progress: (Int) -> Void) throws -> [TeacherScores?] { [] }
    }

    func probabilities(_ logProbabilities: [Float]) -> [Double] { logProbabilities.map { Foundation.exp(Double($0)) } }

    func testMeanOfProbabilitiesWithWeightsAndAbstention() throws {
        let ensemble = try TeacherEnsemble(teachers: [Fixed("a"), Fixed("b"), Fixed("c")], weights: [1, 3, 1],
                                           combination: .meanProbabilities, temperature: 1)
        let a = TeacherScores(kind: .probabilities, start: [0, 1, 0], end: [0, 0, 1])
        let b = TeacherScores(kind: .logits, start: [0, 0, Foundation.log(3)], end: [5, 5, 5])
        let combined = try XCTUnwrap(ensemble.combine([a, b, nil]))
        // (1 · [0, 1, 0] + 3 · [0.2, 0.2, 0.6]) / 4
        for (value, expected) in zip(probabilities(combined.start), [0.15, 0.4, 0.45]) { XCTAssertEqual(value, expected, accuracy: 1e-6) }
        for (value, expected) in zip(probabilities(combined.end), [0.25, 0.25, 0.5]) { XCTAssertEqual(value, expected, accuracy: 1e-6) }
        XCTAssertNil(ensemble.combine([nil, nil, nil]), "every teacher abstains: no soft label")
    }

    func testMeanOfLogitsAtTemperatureIsTheGeometricMean() throws {
        let ensemble = try TeacherEnsemble(teachers: [Fixed("a"), Fixed("b")], weights: [1, 1], combination: .meanLogits, temperature: 2)
        let a = TeacherScores(kind: .logits, start: [2, 0, -2], end: [0, 0, 0])
        let b = TeacherScores(kind: .logits, start: [0, 4, 0], end: [1, 0, 0])
        let combined = try XCTUnwrap(ensemble.combine([a, b]))
        // softmax(((2 + 0) / 2, (0 + 4) / 2, (-2 + 0) / 2) / 2) = softmax(0.5, 1, -0.5)
        let z = [0.5, 1.0, -0.5].map(Foundation.exp), sum = z.reduce(0, +)
        for (value, expected) in zip(probabilities(combined.start), z.map { $0 / sum }) { XCTAssertEqual(value, expected, accuracy: 1e-6) }
    }

    func testZeroProbabilityIsTheFloorAndBlackBoxIsSmoothedUnderMeanLogits() throws {
        let logP = TeacherEnsemble.logProbabilities([0, 0.25, 0.75], kind: .probabilities, temperature: 1)
        XCTAssertEqual(logP[0], TeacherEnsemble.logZero)
        XCTAssertEqual(Double(logP[2]), Foundation.log(0.75), accuracy: 1e-6)
        // At T = 2 a black-box distribution becomes p^(1/2), renormalised.
        let soft = probabilities(TeacherEnsemble.logProbabilities([0, 0.25, 0.75], kind: .probabilities, temperature: 2))
        let root = [0, 0.5, 0.75.squareRoot()], total = root.reduce(0, +)
        for (value, expected) in zip(soft, root.map { $0 / total }) { XCTAssertEqual(value, expected, accuracy: 1e-6) }
        let ensemble = try TeacherEnsemble(teachers: [Fixed("a"), Fixed("b")], weights: [1, 1], combination: .meanLogits, temperature: 1)
        let blackBox = TeacherScores(kind: .probabilities, start: [0, 1, 0], end: [0, 1, 0])
        let model = TeacherScores(kind: .logits, start: [3, 0, 0], end: [0, 0, 0])
        let combined = probabilities(try XCTUnwrap(ensemble.combine([blackBox, model])).start)
        XCTAssertGreaterThan(combined[0], 0.01, "a black-box zero must not veto the model teacher's choice")
    }

    func testRefusesBadWeightsAndDuplicateNames() {
        XCTAssertThrowsError(try TeacherEnsemble(teachers: [Fixed("a")], weights: [0], combination: .meanLogits, temperature: 1))
        XCTAssertThrowsError(try TeacherEnsemble(teachers: [Fixed("a"), Fixed("a")], weights: [1, 1], combination: .meanLogits, temperature: 1))
        XCTAssertThrowsError(try TeacherEnsemble(teachers: [Fixed("a")], weights: [1], combination: .meanLogits, temperature: 0))
    }
}
