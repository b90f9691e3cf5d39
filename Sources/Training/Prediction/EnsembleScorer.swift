import Foundation
import Kernels
import MRC
import Model

/// An ensemble of scorers decoded as one system: every member scores the same windows (so the members
/// must share a tokenizer), and their logits are combined per token with normalised weights wᵢ:
///
/// - `meanLogits` (the default): z = Σ wᵢ zᵢ, the weighted mean of the raw start/end logits. Raw logits,
///   not per-window log-probabilities: the decoder ranks spans across a question's windows by
///   start + end logit, and a per-window normalisation would change that ranking.
/// - `meanProbabilities`: z = log Σ wᵢ softmax(zᵢ), each member's distribution over the window's real
///   tokens averaged (a member that is sure of a token cannot be outvoted by raw scale alone); windows
///   are then compared by probability, not by logit.
///
/// One member with weight 1 gives its own logits unchanged, and so do equal members of any weights.
public final class EnsembleScorer: SpanScorer {
    public enum Combination: String, CaseIterable, Sendable {
        case meanLogits = "mean-logits"
        case meanProbabilities = "mean-probabilities"
    }

    public let members: [SpanScorer]
    /// The weights, normalised to sum to 1.
    public let weights: [Double]
    public let combination: Combination

    public init(members: [SpanScorer], weights: [Double]? = nil, combination: Combination = .meanLogits) throws {
        guard !members.isEmpty else { throw TrainingError.invalidArgument("an ensemble needs at least one model") }
        let raw = weights ?? Array(repeating: 1, count: members.count)
        guard raw.count == members.count else {
            throw TrainingError.invalidArgument("\(raw.count) weights for \(members.count) ensemble members")
        }
        if let bad = raw.first(where: { !($0 > 0 && $0.isFinite) }) {
            throw TrainingError.invalidArgument("an ensemble weight must be positive, not \(bad)")
        }
        let total = raw.reduce(0, +)
        self.members = members
        self.weights = raw.map { $0 / total }
        self.combination = combination
    }

    public var parameterCount: Int { members.reduce(0) { $0 + $1.parameterCount } }
    public var layerCount: Int { members.reduce(0) { $0 + $1.layerCount } }
    public var models: [BertModel] { members.flatMap(\.models) }
    public var settingsDescription: String {
        "ensemble \(combination.rawValue) [" + zip(members, weights).map { "\($0.settingsDescription) w \($1)" }.joined(separator: ", ") + "]"
    }

    public func scores(_ windows: [Window], block: Int?, progress: (Int) -> Void) throws -> [SpanScores] {
        var perMember: [[SpanScores]] = []
        for (index, member) in members.enumerated() {
            // Progress counts the members' windows together, reported in windows of the whole ensemble.
            let done = index * windows.count
            perMember.append(try member.scores(windows, block: block) { progress((done + $0) / members.count) })
        }
        return Self.combine(perMember, weights: weights, combination: combination)
    }

    /// The members' scores of each window combined (see the type's documentation); `weights` sum to 1.
    public static func combine(_ members: [[SpanScores]], weights: [Double], combination: Combination) -> [SpanScores] {
        precondition(members.count == weights.count && !members.isEmpty, "one weight per member")
        if members.count == 1 && combination == .meanLogits { return members[0] }
        return members[0].indices.map { index in
            let length = members[0][index].startLogits.count
            func side(_ pick: (SpanScores) -> [Float]) -> [Float] {
                var sum = [Double](repeating: 0, count: length)
                for (member, weight) in zip(members, weights) {
                    var values = pick(member[index])
                    precondition(values.count == length, "ensemble members scored windows of different lengths")
                    if combination == .meanProbabilities {
                        var logP = [Float](repeating: 0, count: length)
                        logSoftmaxForward(out: &logP, inp: values, rows: 1, cols: length)
                        values = logP
                    }
                    for t in 0..<length {
                        sum[t] += combination == .meanLogits ? weight * Double(values[t]) : weight * Foundation.exp(Double(values[t]))
                    }
                }
                return sum.map { combination == .meanLogits ? Float($0) : Float(Foundation.log(max($0, Double.leastNormalMagnitude))) }
            }
            return SpanScores(startLogits: side(\.startLogits), endLogits: side(\.endLogits))
        }
    }
}
