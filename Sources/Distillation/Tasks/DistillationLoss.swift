import Kernels
import Model

/// The span distillation loss of one batch:
///
///     loss = α_hard · CE(gold) + α_soft · τ · KL(softmax(teacher / T) ‖ softmax(student / T))
///
/// with τ = T² (Hinton et al.: keeps the soft gradients' size independent of T) or 1 (D-NET, which
/// used T = 1 and no factor). Both terms are (start + end) / 2; the hard term is the mean over the
/// batch's rows with a gold span (`SpanLoss`, padding masked; a transfer-set window has none), the soft
/// term the mean over the rows that have a soft label. Padding gets no probability on either side: the
/// student's padding logits are set to `SpanLoss.paddingLogit`, and the teacher distribution is taken over
/// real tokens only.
///
/// The soft term is reported as a KL divergence (0 when the student matches the teacher); its gradient
/// is the cross-entropy's, `τ / T · (softmax(student / T) − q)`, so with T = 1 and τ = 1 it is exactly
/// D-NET's cross-entropy objective.
public struct DistillationLoss: Sendable, Equatable {
    public var hardWeight: Float
    public var softWeight: Float
    public var temperature: Float
    /// Multiply the soft term by T².
    public var scaleByTemperatureSquared: Bool

    public init(hardWeight: Float = 0.5, softWeight: Float = 0.5, temperature: Float = 2,
                scaleByTemperatureSquared: Bool = true) {
        self.hardWeight = hardWeight; self.softWeight = softWeight
        self.temperature = temperature; self.scaleByTemperatureSquared = scaleByTemperatureSquared
    }

    /// The loss terms and the gradient with respect to the (unmasked) start and end logits.
    public struct Result: Sendable {
        public var total: Float
        public var hard: Float
        /// Mean KL divergence over the rows with soft labels (0 when there are none).
        public var soft: Float
        public var dStartLogits: [Float]
        public var dEndLogits: [Float]
    }

    /// - Parameters:
    ///   - logits: the student's start/end logits [B, T].
    ///   - teacherStart, teacherEnd: [B, T] teacher scores on the log scale (logits or log-probabilities;
    ///     only differences within a row matter), read at real tokens only.
    ///   - hasSoftLabel: [B] whether row b has a teacher distribution.
    public func compute(_ logits: SpanLogits, attentionMask: [Int32], startPositions: [Int32], endPositions: [Int32],
                        teacherStart: [Float], teacherEnd: [Float], hasSoftLabel: [Bool]) throws -> Result {
        let B = logits.batch, T = logits.seqLen
        guard teacherStart.count == B * T, teacherEnd.count == B * T, hasSoftLabel.count == B else {
            throw ModelError.invalidInput("distillation loss: teacher scores need \(B * T) values and soft-label flags \(B)")
        }
        guard temperature > 0, temperature.isFinite else {
            throw ModelError.invalidInput("distillation loss: temperature must be positive, got \(temperature)")
        }
        let hard = try SpanLoss.compute(logits, attentionMask: attentionMask, startPositions: startPositions,
                                        endPositions: endPositions)
        var result = Result(total: hardWeight * hard.loss, hard: hard.loss, soft: 0,
                            dStartLogits: hard.dStartLogits.map { hardWeight * $0 }, dEndLogits: hard.dEndLogits.map { hardWeight * $0 })
        let softRows = hasSoftLabel.filter { $0 }.count
        guard softRows > 0, softWeight > 0 else { return result }
        let tau: Float = scaleByTemperatureSquared ? temperature * temperature : 1
        // d(loss)/d(student/T) per row-side = weight · (p − q); d/d(student) divides by T.
        let gradientScale = softWeight * tau * 0.5 / Float(softRows) / temperature
        var kl: Float = 0
        kl += 0.5 / Float(softRows) * Self.softTerm(
            student: logits.start, teacher: teacherStart, attentionMask: attentionMask, hasSoftLabel: hasSoftLabel,
            rows: B, cols: T, temperature: temperature, gradientScale: gradientScale, into: &result.dStartLogits)
        kl += 0.5 / Float(softRows) * Self.softTerm(
            student: logits.end, teacher: teacherEnd, attentionMask: attentionMask, hasSoftLabel: hasSoftLabel,
            rows: B, cols: T, temperature: temperature, gradientScale: gradientScale, into: &result.dEndLogits)
        result.soft = kl
        result.total += softWeight * tau * kl
        return result
    }

    /// Σ over the soft-labelled rows of KL(q ‖ softmax(student / T)), q = softmax(teacher / T) over the
    /// row's real tokens; adds `gradientScale · (p − q)` into `gradient` at each row's tokens.
    static func softTerm(student: [Float], teacher: [Float], attentionMask: [Int32], hasSoftLabel: [Bool],
                         rows: Int, cols: Int, temperature: Float, gradientScale: Float, into gradient: inout [Float]) -> Float {
        var scaledStudent = [Float](repeating: 0, count: cols)
        var scaledTeacher = [Float](repeating: 0, count: cols)
        var q = [Float](repeating: 0, count: cols)
        var logQ = [Float](repeating: 0, count: cols)
        var rowGradient = [Float](repeating: 0, count: cols)
        var total: Double = 0
        for row in 0..<rows where hasSoftLabel[row] {
            let base = row * cols
            for c in 0..<cols {
                let real = attentionMask[base + c] != 0
                scaledStudent[c] = real ? student[base + c] / temperature : SpanLoss.paddingLogit
                scaledTeacher[c] = real ? teacher[base + c] / temperature : SpanLoss.paddingLogit
            }
            softmaxForward(out: &q, inp: scaledTeacher, rows: 1, cols: cols)
            logSoftmaxForward(out: &logQ, inp: scaledTeacher, rows: 1, cols: cols)
            for c in 0..<cols { rowGradient[c] = 0 }
            let crossEntropy = softTargetCrossEntropy(logits: scaledStudent, targetProbs: q, dlogits: &rowGradient,
                                                      rows: 1, cols: cols, scale: 1)
            var negativeEntropy: Double = 0
            for c in 0..<cols where q[c] > 0 { negativeEntropy += Double(q[c]) * Double(logQ[c]) }
            total += Double(crossEntropy) + negativeEntropy
            for c in 0..<cols { gradient[base + c] += gradientScale * rowGradient[c] }
        }
        return Float(total)
    }
}
