/// The number format of the encoder's matmuls. Everything else (embeddings, LayerNorm statistics,
/// softmax, GELU, residual sums, losses, the optimizer) stays fp32 in every precision.
public enum Precision: String, CaseIterable, Sendable, CustomStringConvertible {
    /// fp32 everywhere: the reference.
    case fp32
    /// bf16 matmul inputs (weights and activations rounded to nearest even), fp32 accumulation and
    /// outputs: the scheme of PyTorch's `torch.autocast(dtype=torch.bfloat16)`.
    case bf16
    /// Linear layers in int8 (per-channel symmetric weights, per-token symmetric activations quantised
    /// at every call, int32 accumulation), attention products in bf16: inference only.
    case int8

    public var description: String { rawValue }
}
