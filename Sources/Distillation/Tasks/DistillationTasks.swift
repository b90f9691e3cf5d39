import Foundation
import Model
import Training

/// Where the span task finds each training window's soft label (the ensemble's log-probabilities over
/// its real tokens), nil for a window no teacher labelled.
public protocol SoftLabelSource: AnyObject {
    func softLabel(window: Int) -> (start: [Float], end: [Float])?
}

/// The MRC half of distillation: span windows trained on the gold span and the teachers' soft labels
/// together (`DistillationLoss`), and with `intermediate`, on an intermediate teacher's hidden states and
/// attention too (its forward runs inside each pass).
public final class SoftLabelSpanTask: TrainingTask {
    public let name = "mrc"
    public let student: BertSpanTrainable
    public let windows: [SpanTrainingWindow]
    public let labels: SoftLabelSource
    public let loss: DistillationLoss
    public let padId: Int32
    public let intermediate: IntermediateDistillation?

    public init(student: BertSpanTrainable, windows: [SpanTrainingWindow], labels: SoftLabelSource, loss: DistillationLoss,
                padId: Int32, intermediate: IntermediateDistillation? = nil) {
        self.student = student; self.windows = windows; self.labels = labels; self.loss = loss; self.padId = padId
        self.intermediate = intermediate
    }

    public var termNames: [String] { ["hard", "soft"] + (intermediate?.settings.termNames ?? []) }

    public var lengths: [Int] { windows.map(\.length) }

    /// The windows' fingerprint, and the intermediate settings when there are any (a resume must keep them).
    public var dataFingerprint: String {
        let windows = SpanTask.fingerprint(self.windows)
        guard let intermediate else { return windows }
        return Training.fingerprint(windows + ";intermediate " + intermediate.settings.fingerprint)
    }

    public func accumulateGradients(items: [Int], paddedLength: Int, dropoutSeed: UInt64?, seed: UInt64,
                                    lossScale: Float) throws -> TaskLoss {
        let batch = SpanBatch(windows: items.map { windows[$0] }, sequenceLength: paddedLength, padId: padId)
        let T = batch.sequenceLength
        var teacherStart = [Float](repeating: 0, count: batch.rows * T)
        var teacherEnd = teacherStart
        var hasSoftLabel = [Bool](repeating: false, count: batch.rows)
        for (row, item) in items.enumerated() {
            guard let label = labels.softLabel(window: item) else { continue }
            guard label.start.count == windows[item].length else {
                throw DistillationError("soft label of window \(item) has \(label.start.count) tokens, the window \(windows[item].length)")
            }
            hasSoftLabel[row] = true
            for t in 0..<label.start.count {
                teacherStart[row * T + t] = label.start[t]
                teacherEnd[row * T + t] = label.end[t]
            }
        }
        let encoderBatch = try EncoderBatch(batch: batch.rows, seqLen: T, inputIds: batch.inputIds,
                                            tokenTypeIds: batch.tokenTypeIds, attentionMask: batch.attentionMask)
        let model = student.model
        let logits = try model.forward(encoderBatch, dropoutSeed: dropoutSeed)
        let result = try loss.compute(logits, attentionMask: batch.attentionMask, startPositions: batch.startPositions,
                                      endPositions: batch.endPositions, teacherStart: teacherStart, teacherEnd: teacherEnd,
                                      hasSoftLabel: hasSoftLabel)
        var total = Double(result.total)
        var terms = ["hard": Double(result.hard), "soft": Double(result.soft)]
        var extra: IntermediateGradients? = nil
        if let intermediate {
            let layers = try intermediate.compute(student: model, batch: encoderBatch, lossScale: lossScale)
            total += layers.total
            terms.merge(layers.terms) { $1 }
            extra = layers.gradients
        }
        model.backward(dStartLogits: result.dStartLogits.map { $0 * lossScale }, dEndLogits: result.dEndLogits.map { $0 * lossScale },
                       intermediate: extra)
        return TaskLoss(total: total, terms: terms, realTokens: batch.realTokens)
    }
}

/// The MLM auxiliary task: sequences of unlabelled text, masked afresh at every step from the step's seed.
public final class MLMTask: TrainingTask {
    public let name = "mlm"
    public let termNames = ["mlm"]
    public let student: BertSpanTrainable
    public let corpus: MLMCorpus
    public let masking: MLMMasking

    public init(student: BertSpanTrainable, corpus: MLMCorpus, masking: MLMMasking) throws {
        guard student.model.heads.contains(.mlm) else {
            throw DistillationError("the MLM task needs a student loaded with its MLM head")
        }
        self.student = student; self.corpus = corpus; self.masking = masking
    }

    public var lengths: [Int] { corpus.sequences.map(\.count) }

    public var maskedFraction: Double { masking.probability }

    public var dataFingerprint: String { fingerprint(corpus.sequences.map { "\($0.count):\($0.first ?? 0)" }.joined(separator: ",")) }

    public func accumulateGradients(items: [Int], paddedLength: Int, dropoutSeed: UInt64?, seed: UInt64,
                                    lossScale: Float) throws -> TaskLoss {
        let masked = masking.mask(items.map { corpus.sequences[$0] }, paddedLength: paddedLength, seed: seed)
        let batch = try EncoderBatch(batch: masked.rows, seqLen: masked.paddedLength, inputIds: masked.inputIds,
                                     tokenTypeIds: [Int32](repeating: 0, count: masked.inputIds.count),
                                     attentionMask: masked.attentionMask)
        let scaled = try student.model.mlmLossStep(batch, maskedPositions: masked.positions, labels: masked.labels,
                                                   dropoutSeed: dropoutSeed, scale: lossScale)
        let loss = Double(scaled) / Double(lossScale)
        return TaskLoss(total: loss, terms: ["mlm": loss], realTokens: masked.realTokens)
    }
}
