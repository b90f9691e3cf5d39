import Checkpoint
import Foundation
import Kernels
import Model
import Training

/// The weights and layer map of intermediate-layer distillation (TinyBERT, MiniLM): the student's hidden
/// states and attention distributions learn the intermediate teacher's, online, beside the span loss.
public struct IntermediateSettings: Sendable, Equatable {
    public var layerMap: LayerMap
    /// `hidden`: mean over the mapped layers of the mean squared error over real tokens and the teacher's
    /// channels, through a learned linear projection when the widths differ.
    public var hiddenWeight: Float
    /// `attention`: mean over the mapped layers of KL(teacher ‖ student) per head and real query, over the
    /// real keys (head counts must match).
    public var attentionWeight: Float
    /// `embedding`: the same squared error on the embeddings' output (hidden state 0).
    public var embeddingWeight: Float

    public init(layerMap: LayerMap, hiddenWeight: Float, attentionWeight: Float, embeddingWeight: Float = 0) {
        self.layerMap = layerMap; self.hiddenWeight = hiddenWeight
        self.attentionWeight = attentionWeight; self.embeddingWeight = embeddingWeight
    }

    /// Whether any term has a positive weight: with none, distillation is exactly the output-only run.
    public var isActive: Bool { hiddenWeight > 0 || attentionWeight > 0 || embeddingWeight > 0 }

    /// The loss terms the MRC task reports (`metrics.jsonl`).
    public var termNames: [String] {
        (hiddenWeight > 0 ? ["hidden"] : []) + (attentionWeight > 0 ? ["attention"] : [])
            + (embeddingWeight > 0 ? ["embedding"] : [])
    }

    /// A stable description for the resume fingerprint.
    public var fingerprint: String { "map \(layerMap) hidden \(hiddenWeight) attention \(attentionWeight) embedding \(embeddingWeight)" }

    /// The projection's tensor names for hidden state `index` (0 = embeddings) of the student.
    static func projectionNames(_ index: Int) -> (weight: String, bias: String) {
        let base = index == 0 ? "distillation.embedding_projection" : "distillation.hidden_projection.\(index)"
        return (base + ".weight", base + ".bias")
    }

    /// The student's training-only projections [teacher width, student width] + bias, one per hidden state
    /// it compares, when the widths differ (none when they are equal).
    public func projections(studentWidth: Int, teacherWidth: Int) -> [AuxiliaryTensor] {
        guard studentWidth != teacherWidth else { return [] }
        let indices = (embeddingWeight > 0 ? [0] : []) + (hiddenWeight > 0 ? layerMap.pairs.map(\.student) : [])
        return indices.flatMap { index -> [AuxiliaryTensor] in
            let names = Self.projectionNames(index)
            return [AuxiliaryTensor(name: names.weight, shape: [teacherWidth, studentWidth], decays: true),
                    AuxiliaryTensor(name: names.bias, shape: [teacherWidth], decays: false)]
        }
    }
}

/// The intermediate teacher and the per-step work: its captured forward, the losses and their gradients
/// (`IntermediateGradients` for the student's backward, projection gradients into the student's own
/// gradient buffer).
public final class IntermediateDistillation {
    public let settings: IntermediateSettings
    public let teacher: BertModel
    public let capture: LayerCapture
    /// Per compared hidden state of the student: its index, the teacher's, and the projection's offsets in
    /// the student's buffers (nil when the widths are equal).
    private let hiddenPairs: [(student: Int, teacher: Int, projection: (weight: Int, bias: Int)?)]
    private let attentionPairs: [(student: Int, teacher: Int)]
    /// The student's hidden states compared through a projection (none when the widths are equal).
    private let projectedStates: [Int]
    private let studentWidth: Int
    private var projected: FloatBuffer?, projectedCapacity = 0
    private var studentGradients: [Int: FloatBuffer] = [:], gradientCapacity = 0

    /// Checks the pair: same vocabulary size (the same windows feed both), head counts for the attention
    /// term, and a student built with `settings.projections` when the widths differ.
    public init(teacher: BertModel, student: BertModel, settings: IntermediateSettings) throws {
        let s = student.config, t = teacher.config
        guard s.vocabSize == t.vocabSize else {
            throw DistillationError("the intermediate teacher's vocabulary has \(t.vocabSize) tokens, the student's \(s.vocabSize): they must read the same windows")
        }
        if settings.attentionWeight > 0, s.numAttentionHeads != t.numAttentionHeads {
            throw DistillationError("--attention-kl compares heads one to one: the student has \(s.numAttentionHeads) attention heads, the intermediate teacher \(t.numAttentionHeads)")
        }
        var hidden: [(Int, Int)] = settings.embeddingWeight > 0 ? [(0, 0)] : []
        if settings.hiddenWeight > 0 { hidden += settings.layerMap.pairs.map { ($0.student, $0.teacher) } }
        hiddenPairs = try hidden.map { pair in
            guard s.hiddenSize != t.hiddenSize else { return (pair.0, pair.1, nil) }
            let names = IntermediateSettings.projectionNames(pair.0)
            guard let weight = student.layout.entry(names.weight), let bias = student.layout.entry(names.bias) else {
                throw DistillationError("the student (width \(s.hiddenSize)) has no projection \(names.weight) to the teacher's width \(t.hiddenSize)")
            }
            return (pair.0, pair.1, (weight.offset, bias.offset))
        }
        projectedStates = hiddenPairs.filter { $0.projection != nil }.map(\.student)
        attentionPairs = settings.attentionWeight > 0 ? settings.layerMap.pairs : []
        // The attention term reads the student's softmax and adds a gradient to its scores: no fused attention.
        if !attentionPairs.isEmpty { student.savesAttentionProbabilities = true }
        capture = try LayerCapture(config: t, hiddenLayers: hiddenPairs.map(\.teacher), attentionLayers: attentionPairs.map(\.teacher))
        self.teacher = teacher
        self.settings = settings
        studentWidth = s.hiddenSize
    }

    deinit {
        projected?.deallocate()
        for buffer in studentGradients.values { buffer.deallocate() }
    }

    /// The losses of one pass whose student training forward just ran on `batch`: the named terms
    /// (unweighted), their weighted sum, and the gradients of `lossScale ×` that sum for the student's
    /// backward. Projection gradients are added into `student.gradients` here.
    public func compute(student: BertModel, batch: EncoderBatch, lossScale: Float) throws
        -> (terms: [String: Double], total: Double, gradients: IntermediateGradients) {
        try teacher.encode(batch, capturing: capture)
        let N = batch.tokenCount, Cs = student.config.hiddenSize, Ct = teacher.config.hiddenSize
        let realTokens = max(1, batch.attentionMask.reduce(0) { $0 + ($1 != 0 ? 1 : 0) })
        reserve(tokens: N)
        var gradients = IntermediateGradients()
        var terms: [String: Double] = [:]
        let layerCount = Float(settings.layerMap.pairs.count)
        let w = student.parameters.pointer, g = student.gradients.pointer
        try batch.attentionMask.withUnsafeBufferPointer { mask in
            for pair in hiddenPairs {
                let isEmbedding = pair.student == 0
                let weight = isEmbedding ? settings.embeddingWeight : settings.hiddenWeight / layerCount
                let hiddenS = student.hiddenState(pair.student)
                guard let hiddenT = capture.hidden(pair.teacher) else { throw DistillationError("hidden state \(pair.teacher) was not captured") }
                let compared = pair.projection == nil ? hiddenS : UnsafePointer(projected!)
                if let p = pair.projection {
                    matmulForward(out: projected!, inp: hiddenS, weight: w + p.weight, bias: w + p.bias, rows: N, inFeatures: Cs, outFeatures: Ct)
                }
                // The teacher's buffer becomes the gradient of the compared states.
                let sum = maskedSquaredError(student: compared, teacher: hiddenT, dStudent: hiddenT, tokenMask: mask.baseAddress!,
                                             tokens: N, channels: Ct, gradientScale: weight * lossScale / Float(realTokens * Ct))
                let mean = sum / Double(realTokens * Ct)
                terms[isEmbedding ? "embedding" : "hidden", default: 0] += isEmbedding ? mean : mean / Double(layerCount)
                if let p = pair.projection {
                    let dHidden = studentGradients[pair.student]!
                    dHidden.update(repeating: 0, count: N * Cs)
                    matmulBackward(dinp: dHidden, dweight: g + p.weight, dbias: g + p.bias, dout: hiddenT, inp: hiddenS,
                                   weight: w + p.weight, rows: N, inFeatures: Cs, outFeatures: Ct)
                    gradients.hidden[pair.student] = UnsafePointer(dHidden)
                } else {
                    gradients.hidden[pair.student] = UnsafePointer(hiddenT)
                }
            }
            let heads = student.config.numAttentionHeads
            for pair in attentionPairs {
                guard let probsT = capture.attention(pair.teacher) else { throw DistillationError("attention \(pair.teacher) was not captured") }
                let rows = realTokens * heads
                let sum = attentionKLDivergence(student: student.attentionProbabilities(pair.student), teacher: probsT, dScores: probsT,
                                                keyMask: mask.baseAddress!, batch: batch.batch, heads: heads, seqLen: batch.seqLen,
                                                gradientScale: settings.attentionWeight / layerCount * lossScale / Float(rows))
                terms["attention", default: 0] += sum / Double(rows) / Double(layerCount)
                gradients.attentionScores[pair.student] = UnsafePointer(probsT)
            }
        }
        let total = Double(settings.hiddenWeight) * (terms["hidden"] ?? 0) + Double(settings.attentionWeight) * (terms["attention"] ?? 0)
            + Double(settings.embeddingWeight) * (terms["embedding"] ?? 0)
        return (terms, total, gradients)
    }

    /// The projection's output [N, Ct] and one gradient buffer [N, Cs] per projected hidden state.
    private func reserve(tokens N: Int) {
        let Cs = studentWidth, Ct = teacher.config.hiddenSize
        guard !projectedStates.isEmpty else { return }
        if N * Ct > projectedCapacity {
            projected?.deallocate()
            projected = .allocate(capacity: N * Ct)
            projectedCapacity = N * Ct
        }
        if N * Cs > gradientCapacity {
            for buffer in studentGradients.values { buffer.deallocate() }
            studentGradients = Dictionary(uniqueKeysWithValues: projectedStates.map { ($0, FloatBuffer.allocate(capacity: N * Cs)) })
            gradientCapacity = N * Cs
        }
    }

    /// What the run estimate counts for the teacher: its shape up to the deepest mapped layer, and the buffers.
    public func passTeacher(rows: Int, seqLen: Int) -> PassTeacher {
        var config = teacher.config
        config.numHiddenLayers = capture.deepestLayer
        return PassTeacher(config: config, bufferBytes: bufferBytes(rows: rows, seqLen: seqLen),
                           studentSavesAttention: !attentionPairs.isEmpty)
    }

    /// Bytes of the teacher's capture and this object's buffers for a pass of `rows` × `seqLen` tokens (the
    /// teacher's own inference arena comes on top; see `ModelMemory`).
    public func bufferBytes(rows: Int, seqLen: Int) -> Int {
        let N = rows * seqLen
        return capture.bytes(batch: rows, seqLen: seqLen)
            + (projectedStates.isEmpty ? 0 : 4 * N * (teacher.config.hiddenSize + projectedStates.count * studentWidth))
    }
}
