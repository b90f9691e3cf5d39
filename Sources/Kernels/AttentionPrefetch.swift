import CKernels
import Foundation

/// The rows of a worker's next (sequence, head) that the fused attention kernels prefetch while they run the current
/// one (`mrc_prefetch_rows`, 16 rows of each stream a block of queries). A head reads its q, k and v columns a q|k|v
/// row apart, a stride the hardware prefetchers do not run ahead on; at 8 × 384 tokens q|k|v has left the core's L2
/// when the attention reads it, and the inference kernel took 1–12 % longer without (median 6 %; Zen 5, in-process
/// A/B). Where a worker's share of q|k|v fits its L2 (one or two 384-token sequences) the lines are there already and
/// the prefetching only costs instructions (1–2 %): it runs above `minimumBytesPerWorker`.
/// One slot of streams per worker chunk, filled head by head: no allocation per head.
public struct AttentionPrefetch {
    /// Turns the prefetching off (`MRC_ATTENTION_PREFETCH=0`): for before/after benchmarks. The results are the same.
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["MRC_ATTENTION_PREFETCH"] != "0"

    /// The bf16 q|k|v bytes per worker above which the heads prefetch: the core's L2 (1 MiB where the system does
    /// not say).
    nonisolated(unsafe) static var minimumBytesPerWorker: Int = {
        #if os(Linux)
        let l2 = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        if l2 > 0 { return l2 }
        #endif
        return 1 << 20
    }()

    /// Whether an attention over `batch` sequences of `seqLen` tokens, `channels` channels and `heads` heads prefetches:
    /// turned on, and each worker's share of q|k|v (its chunk of the (sequence, head) pairs) larger than its L2.
    public static func runs(batch: Int, seqLen: Int, channels: Int, heads: Int) -> Bool {
        let chunks = parallelChunkCount(count: batch * heads, minimumWork: 2)
        return enabled && batch * seqLen * 3 * channels * 2 / max(1, chunks) > minimumBytesPerWorker
    }

    /// What a kernel writes and, for the backward, reads besides q, k and v (each [batch, T, ·] like them).
    enum Outputs {
        /// The inference context, bf16 [batch, T, C].
        case inference(BF16Buffer)
        /// The training forward's context, fp32 [batch, T, C].
        case trainingForward(FloatBuffer)
        /// The training backward's output gradient, bf16 [batch, T, C], and dq|dk|dv, fp32 [batch, T, 3C].
        case trainingBackward(dout: ConstBF16Buffer, dqkv: FloatBuffer)
    }

    /// The most streams a head describes: q, k, v, dout, dq, dk, dv.
    static let streamsPerHead = 7
    private let slots: UnsafeMutablePointer<mrc_prefetch_rows>
    private let plan: AttentionPlan
    private let qkv16: ConstBF16Buffer
    private let outputs: Outputs
    /// Whether this call's heads prefetch (`runs`).
    let active: Bool

    init(_ plan: AttentionPlan, qkv16: ConstBF16Buffer, _ outputs: Outputs) {
        (self.plan, self.qkv16, self.outputs) = (plan, qkv16, outputs)
        slots = .allocate(capacity: max(1, plan.chunks) * Self.streamsPerHead)
        active = Self.runs(batch: plan.pairs / plan.heads, seqLen: plan.T, channels: plan.C, heads: plan.heads)
    }

    func deallocate() { slots.deallocate() }

    /// Runs `body` with the streams of the head after `pair` in chunk `chunk`'s `range` (none at its end or when not
    /// `active`): q, k and v, then the `outputs`' rows of that head.
    func withNext<R>(chunk: Int, after pair: Int, in range: Range<Int>,
                     _ body: (UnsafePointer<mrc_prefetch_rows>?, Int64) -> R) -> R {
        precondition((0..<max(1, plan.chunks)).contains(chunk), "AttentionPrefetch: chunk \(chunk) of \(plan.chunks)")
        guard active, pair + 1 < range.upperBound else { return body(nil, 0) }
        let streams = slots + chunk * Self.streamsPerHead
        return body(UnsafePointer(streams), Int64(describe(pair + 1, into: streams)))
    }

    /// Writes the streams of (sequence, head) `pair` into `streams`; returns how many.
    func describe(_ pair: Int, into streams: UnsafeMutablePointer<mrc_prefetch_rows>) -> Int {
        let (_, keys, qkvOffset, outOffset) = plan.head(pair)
        let (T, C, D) = (plan.T, plan.C, plan.D)
        let q = qkv16 + qkvOffset
        var count = 0
        func add<Element>(_ base: UnsafePointer<Element>, stride: Int, rows: Int, write: Bool = false) {
            let size = MemoryLayout<Element>.stride
            streams[count] = mrc_prefetch_rows(base: UnsafeRawPointer(base), stride: Int64(stride * size), bytes: Int64(D * size),
                                               rows: Int64(rows), write: write ? 1 : 0)
            count += 1
        }
        add(q, stride: 3 * C, rows: T)
        add(q + C, stride: 3 * C, rows: keys)
        add(q + 2 * C, stride: 3 * C, rows: keys)
        switch outputs {
        case .inference(let out): add(UnsafePointer(out + outOffset), stride: C, rows: T, write: true)
        case .trainingForward(let out): add(UnsafePointer(out + outOffset), stride: C, rows: T, write: true)
        case .trainingBackward(let dout, let dqkv):
            add(dout + outOffset, stride: C, rows: T)
            // dk and dv have T rows too: the backward writes zeros past the keys.
            for offset in stride(from: 0, through: 2 * C, by: C) {
                add(UnsafePointer(dqkv + qkvOffset + offset), stride: 3 * C, rows: T, write: true)
            }
        }
        return count
    }
}
