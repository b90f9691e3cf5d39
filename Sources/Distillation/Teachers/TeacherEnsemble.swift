import Foundation
import Kernels
import Model

/// The teachers with their weights, and how their scores become the soft labels: per window side,
/// the log-probabilities of the combined distribution over the window's real tokens.
///
/// Each teacher's scores are first put on the log-probability scale at temperature T: a model
/// teacher's logits z become log softmax(z / T); a black-box teacher's probabilities p become
/// log softmax(log p / T) (p^(1/T), renormalised; zeros stay zero). Teachers that abstain on a window
/// are left out of its combination (the weights of the others are renormalised); a window on which
/// every teacher abstains has no soft label. Under `meanLogits` a zero probability would veto a token
/// for the whole ensemble, so black-box distributions are smoothed first, p ← (1 − ε) p + ε / L with
/// ε = `blackBoxSmoothing` (L real tokens).
public struct TeacherEnsemble {
    public var teachers: [Teacher]
    public var weights: [Double]
    public var combination: SoftLabelProvenance.Combination
    public var temperature: Double
    public static let blackBoxSmoothing: Float = 0.01
    /// The log-probability stored for "no probability at all" (fp16 and bf16 hold it).
    public static let logZero: Float = -10_000

    public init(teachers: [Teacher], weights: [Double], combination: SoftLabelProvenance.Combination, temperature: Double) throws {
        guard teachers.count == weights.count, !teachers.isEmpty else {
            throw DistillationError("\(teachers.count) teachers for \(weights.count) weights")
        }
        if let bad = weights.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
            throw DistillationError("teacher \(teachers[bad].name): weight \(weights[bad]) is not positive")
        }
        guard temperature > 0, temperature.isFinite else {
            throw DistillationError("--temperature must be positive, got \(temperature)")
        }
        let names = teachers.map(\.name)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw DistillationError("two teachers are named \(duplicate): name them with NAME=PATH")
        }
        self.teachers = teachers; self.weights = weights; self.combination = combination; self.temperature = temperature
    }

    /// One teacher's log-probabilities of one side at temperature `temperature`.
    public static func logProbabilities(_ values: [Float], kind: TeacherScores.Kind, temperature: Float,
                                        smoothBlackBox: Bool = false) -> [Float] {
        var z = values
        if kind == .probabilities {
            let count = Float(values.count)
            z = values.map { p in
                let q = smoothBlackBox ? (1 - blackBoxSmoothing) * p + blackBoxSmoothing / count : p
                return q > 0 ? Foundation.log(q) : logZero
            }
        }
        for i in z.indices { z[i] /= temperature }
        var out = [Float](repeating: 0, count: z.count)
        logSoftmaxForward(out: &out, inp: z, rows: 1, cols: z.count)
        return out.map { max($0, logZero) }
    }

    /// The combined log-probabilities of one window (start, end), nil when every teacher abstains.
    public func combine(_ scores: [TeacherScores?]) -> (start: [Float], end: [Float])? {
        precondition(scores.count == teachers.count, "one score per teacher")
        let present = scores.indices.filter { scores[$0] != nil }
        guard !present.isEmpty else { return nil }
        let total = present.reduce(0) { $0 + weights[$1] }
        let length = scores[present[0]]!.length
        func side(_ pick: (TeacherScores) -> [Float]) -> [Float] {
            var sum = [Double](repeating: 0, count: length)
            for i in present {
                let teacher = scores[i]!
                precondition(teacher.length == length, "teacher \(teachers[i].name) scored \(teacher.length) tokens, not \(length)")
                let logP = Self.logProbabilities(pick(teacher), kind: teacher.kind, temperature: Float(temperature),
                                                 smoothBlackBox: combination == .meanLogits)
                let w = weights[i] / total
                for t in 0..<length {
                    sum[t] += combination == .meanLogits ? w * Double(logP[t]) : w * Foundation.exp(Double(logP[t]))
                }
            }
            let z = sum.map { combination == .meanLogits ? Float($0) : ($0 > 0 ? Float(Foundation.log($0)) : Self.logZero) }
            return Self.logProbabilities(z, kind: .logits, temperature: 1)
        }
        return (side(\.start), side(\.end))
    }
}
