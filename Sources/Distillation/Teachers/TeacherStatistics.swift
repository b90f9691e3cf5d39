import Foundation
import Kernels
import MRC

/// What a teacher's scores look like over the windows it scored, kept as integers so that the
/// statistics of contiguous shards add up exactly (in any order) to those of the whole run: a merged
/// soft-label store's header must be byte-identical to the unsharded one. Means are derived on display.
///
/// Entropies are in nats, each window's rounded to an integer number of micro-nats before summing.
public struct TeacherStatistics: Codable, Equatable, Sendable {
    /// Windows the teacher gave scores for (did not abstain).
    public var windowsScored: Int
    /// Of those, windows whose gold answer lies in the window (`AnswerLabel.inWindow`).
    public var goldWindows: Int
    /// Of `goldWindows`, those where the teacher's most likely start is the gold start.
    public var goldAgreement: Int
    /// Σ over scored windows of round(10⁶ × entropy of the start distribution).
    public var startEntropyMicronats: Int
    /// Σ over scored windows of round(10⁶ × entropy of the end distribution).
    public var endEntropyMicronats: Int

    enum CodingKeys: String, CodingKey {
        case windowsScored = "windows_scored"
        case goldWindows = "gold_windows"
        case goldAgreement = "gold_agreement"
        case startEntropyMicronats = "start_entropy_micronats"
        case endEntropyMicronats = "end_entropy_micronats"
    }

    public init(windowsScored: Int = 0, goldWindows: Int = 0, goldAgreement: Int = 0,
                startEntropyMicronats: Int = 0, endEntropyMicronats: Int = 0) {
        self.windowsScored = windowsScored
        self.goldWindows = goldWindows
        self.goldAgreement = goldAgreement
        self.startEntropyMicronats = startEntropyMicronats
        self.endEntropyMicronats = endEntropyMicronats
    }

    /// Mean entropy (nats) of the start distributions; 0 when nothing was scored.
    public var meanStartEntropy: Double { windowsScored > 0 ? Double(startEntropyMicronats) / 1e6 / Double(windowsScored) : 0 }
    /// Mean entropy (nats) of the end distributions; 0 when nothing was scored.
    public var meanEndEntropy: Double { windowsScored > 0 ? Double(endEntropyMicronats) / 1e6 / Double(windowsScored) : 0 }
    /// `goldAgreement / goldWindows`; 0 when there is no gold window.
    public var goldAgreementRate: Double { goldWindows > 0 ? Double(goldAgreement) / Double(goldWindows) : 0 }

    /// Below this share of answerable windows whose gold start the teacher picks, it is taken for collapsed or
    /// broken (a SQuAD 2.0 teacher that abstains everywhere, a wrong checkpoint, a misread prediction file).
    public static let collapsedAgreement = 0.2
    /// Fewer answerable windows than this say too little to call a teacher collapsed.
    public static let collapseEvidence = 20

    /// The loud warning for a teacher that agrees with gold on under `collapsedAgreement` of its answerable
    /// windows; nil when it does not (or has too few answerable windows to tell).
    public func collapseWarning(teacher name: String) -> String? {
        guard goldWindows >= Self.collapseEvidence, goldAgreementRate < Self.collapsedAgreement else { return nil }
        return String(format: "WARNING: teacher %@ picks the gold start on only %.1f%% of %d answerable windows (under %.0f%%): "
                      + "a collapsed or broken teacher (e.g. a SQuAD 2.0 model that always abstains); a student distilled "
                      + "from these labels learns the same", name, 100 * goldAgreementRate, goldWindows, 100 * Self.collapsedAgreement)
    }

    /// Adds one window's scores.
    public mutating func add(_ scores: TeacherScores, window: Window) {
        windowsScored += 1
        let start = TeacherStatistics.probabilities(scores.start, kind: scores.kind)
        let end = TeacherStatistics.probabilities(scores.end, kind: scores.kind)
        startEntropyMicronats += Int((TeacherStatistics.entropy(start) * 1e6).rounded())
        endEntropyMicronats += Int((TeacherStatistics.entropy(end) * 1e6).rounded())
        if window.label == .inWindow {
            goldWindows += 1
            if TeacherStatistics.argmax(start) == window.startPosition { goldAgreement += 1 }
        }
    }

    /// Adds another shard's statistics.
    public mutating func add(_ other: TeacherStatistics) {
        windowsScored += other.windowsScored
        goldWindows += other.goldWindows
        goldAgreement += other.goldAgreement
        startEntropyMicronats += other.startEntropyMicronats
        endEntropyMicronats += other.endEntropyMicronats
    }

    /// Scores as probabilities (the kernels' softmax of logits; probabilities as they are), in Double.
    public static func probabilities(_ scores: [Float], kind: TeacherScores.Kind) -> [Double] {
        switch kind {
        case .probabilities:
            return scores.map { Double($0) }
        case .logits:
            var probabilities = [Float](repeating: 0, count: scores.count)
            if !scores.isEmpty { softmaxForward(out: &probabilities, inp: scores, rows: 1, cols: scores.count) }
            return probabilities.map { Double($0) }
        }
    }

    /// −Σ p ln p (terms with p = 0 contribute 0).
    public static func entropy(_ probabilities: [Double]) -> Double {
        var entropy = 0.0
        for p in probabilities where p > 0 { entropy -= p * Foundation.log(p) }
        return max(0, entropy)
    }

    /// Index of the largest value (the first on a tie); -1 for an empty array.
    public static func argmax<T: Comparable>(_ values: [T]) -> Int {
        guard var best = values.indices.first else { return -1 }
        for index in values.indices where values[index] > values[best] { best = index }
        return best
    }
}
