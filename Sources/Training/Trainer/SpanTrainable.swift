import Foundation
import Kernels

/// What the trainer needs from any model it optimises: one flat parameter buffer and a gradient
/// buffer of the same layout, the names of the tensors in it (for the weight-decay groups), and a way
/// to save and load weights in the Hugging Face layout. What a step computes is a `TrainingTask`'s.
public protocol TrainableModel: AnyObject {
    /// Number of floats in the parameter buffer.
    var parameterCount: Int { get }
    /// The parameters [parameterCount].
    var parameters: UnsafeMutablePointer<Float> { get }
    /// The gradients [parameterCount], accumulated by the tasks' forward/backward passes.
    var gradients: UnsafeMutablePointer<Float> { get }
    /// Every trainable tensor's Hugging Face name, its range in the flat buffer, and whether
    /// AdamW decays it (not biases and LayerNorm weights).
    var parameterRanges: [(name: String, range: Range<Int>, decays: Bool)] { get }
    /// Sets every gradient to zero.
    func zeroGradients()
    /// Writes config.json, vocab.txt and model.safetensors into `directory`, with the weights in
    /// `weights` [parameterCount] (the model's own parameters when nil).
    func save(to directory: URL, weights: UnsafePointer<Float>?) throws
    /// Writes only a model.safetensors-style file of `weights` (HF names) to `file`.
    func saveWeights(_ weights: UnsafePointer<Float>, to file: URL) throws
    /// Replaces the parameters with those of a checkpoint directory written by `save`.
    func loadWeights(from directory: URL) throws
    /// Writes the model users get at the end of training (by default what `save` writes; a model
    /// with training-only parts leaves them out).
    func export(to directory: URL) throws
    /// The number format of the model's matmuls in training (fp32, or bf16 mixed precision); a resume
    /// must use the same.
    var precision: Precision { get }
}

extension TrainableModel {
    public func export(to directory: URL) throws { try save(to: directory, weights: nil) }
    public var precision: Precision { .fp32 }
}

/// A span-QA model: a `TrainableModel` with a fused forward + backward of the span loss.
/// `BertSpanTrainable` conforms the Model target's BERT to it.
public protocol SpanTrainable: TrainableModel {
    /// Runs the span loss (mean over the batch's rows of (start CE + end CE) / 2, padding masked)
    /// forward and backward, ADDING `lossScale ×` its gradient into `gradients`. Dropout is on with
    /// masks drawn from `dropoutSeed` when it is not nil. Returns the unscaled mean loss.
    func accumulateGradients(_ batch: SpanBatch, dropoutSeed: UInt64?, lossScale: Float) throws -> Double
}
