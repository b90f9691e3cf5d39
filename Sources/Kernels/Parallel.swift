import CKernels
import Foundation

/// An unsafe pointer that may cross into `DispatchQueue.concurrentPerform` closures. The kernels
/// guarantee that concurrent workers touch disjoint ranges, which the type system cannot see.
public struct SendablePointer<Element>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Element>
    @inlinable public init(_ pointer: UnsafeMutablePointer<Element>) { self.pointer = pointer }
    @inlinable public init(_ pointer: UnsafePointer<Element>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// Process-wide parallelism settings of the kernels.
public enum Parallelism {
    /// Number of workers the kernels split large work over (default: active processor count).
    nonisolated(unsafe) public static var workers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Whether the model's large matmuls are split over the workers with single-threaded BLAS
    /// (`parallelGemm`, the default) or left to BLAS's own threads.
    nonisolated(unsafe) public static var splitsMatmuls = true
}

/// Runs `body` over `0..<count` split into at most `Parallelism.workers` contiguous chunks, or inline
/// when `count` is below `minimumWork` (a hand-off costs microseconds, so splitting only pays for ~200K
/// elements of GELU-like work). The chunks run on the kernels' pool (`WorkerPool`), or through
/// `DispatchQueue.concurrentPerform` where the pool does not take them (off, smaller, or busy with another
/// caller's chunks: nested or concurrent use).
@inlinable
public func parallelFor(count: Int, minimumWork: Int, _ body: (Range<Int>) -> Void) {
    parallelChunks(count: count, minimumWork: minimumWork) { _, range in body(range) }
}

/// How many chunks `parallelChunks` splits `count` items into.
@inlinable
public func parallelChunkCount(count: Int, minimumWork: Int) -> Int {
    if count < minimumWork || Parallelism.workers <= 1 || count < 2 { return count > 0 ? 1 : 0 }
    return min(Parallelism.workers, count)
}

/// Like `parallelFor`, but also passes the chunk index (in `0..<parallelChunkCount(...)`), so that
/// each worker can own a slice of preallocated scratch memory. No chunk is empty (there are at most `count`).
@inlinable
public func parallelChunks(count: Int, minimumWork: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
    let chunks = parallelChunkCount(count: count, minimumWork: minimumWork)
    if chunks == 0 { return }
    if chunks == 1 { body(0, 0..<count); return }
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedSendable(escapable)
        let run: (Int) -> Void = { chunk in box.value(chunk, count * chunk / chunks..<count * (chunk + 1) / chunks) }
        if runOnPool(chunks: chunks, run) { return }
        let sendable = UncheckedSendable(run)
        DispatchQueue.concurrentPerform(iterations: chunks) { sendable.value($0) }
    }
}

/// Runs `run(chunk)` for every chunk on the kernels' pool (`mrc_pool_run`: chunk 0 on the caller, chunk i always on
/// the same worker thread), or returns false when the pool is off, smaller than `chunks`, or busy.
@usableFromInline
func runOnPool(chunks: Int, _ run: (Int) -> Void) -> Bool {
    guard WorkerPool.size >= chunks else { return false }
    return withoutActuallyEscaping(run) { escapable in
        var task = escapable
        return withUnsafeMutablePointer(to: &task) { pointer in
            mrc_pool_run(Int64(chunks), { context, chunk in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(chunk))
            }, UnsafeMutableRawPointer(pointer)) == 0
        }
    }
}

/// The kernels' fork-join pool (`mrc_pool_start`, `mrc_pool_run`): `Parallelism.workers` − 1 threads, started at
/// the first parallel kernel, that spin for 200 µs after each run before they sleep, so that a kernel hands its
/// chunks over in well under a microsecond instead of waking dispatch's workers (measured on Zen 5: the batch-1
/// bf16 forward 7–20 % faster, docs/PRECISION.md). `MRC_POOL=0` turns it off (`concurrentPerform` only).
public enum WorkerPool {
    /// The pool's threads (counting the caller), started once with `Parallelism.workers` as it is then; 0 when off
    /// (or with one worker).
    public static let size: Int = ProcessInfo.processInfo.environment["MRC_POOL"] == "0" ? 0
        : Int(mrc_pool_start(Int32(min(Parallelism.workers, 64))))
}

/// Splits `count` elements into 16-aligned ranges over the workers (inline below `minimumWork`).
@inlinable
func parallelElements(count: Int, minimumWork: Int, _ body: (Range<Int>) -> Void) {
    let blocks = (count + 15) / 16
    parallelFor(count: blocks, minimumWork: max(1, minimumWork / 16)) { range in
        body(range.lowerBound * 16 ..< min(count, range.upperBound * 16))
    }
}

/// Wraps a value the compiler cannot prove Sendable (closures over disjoint unsafe ranges).
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}
