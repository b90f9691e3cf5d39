// Kernels: llm.c-style free functions over flat row-major Float buffers.
//
// Conventions shared by every kernel in this target:
// - A forward writes its outputs (never reads them).
// - A backward ACCUMULATES (+=) into every gradient buffer it is given; callers zero gradients
//   once per step. A nil gradient buffer means "not needed".
// - Every fast kernel has a plain twin in `Reference/` named `naive...` with the same signature;
//   the twins are the test reference and are never called on a hot path.

/// A mutable flat Float buffer (row-major tensor storage).
public typealias FloatBuffer = UnsafeMutablePointer<Float>
/// A read-only flat Float buffer (row-major tensor storage).
public typealias ConstFloatBuffer = UnsafePointer<Float>
