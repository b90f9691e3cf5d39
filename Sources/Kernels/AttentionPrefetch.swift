import CKernels
import Foundation

/// The rows of a worker's next (sequence, head) that the fused attention kernels prefetch while they run the current
/// one (`mrc_prefetch_rows`, 16 rows of each stream a block of queries). A head reads its q, k and v columns a q|k|v
/// row apart, a stride the hardware prefetchers do not run ahead on; at 8 × 384 tokens q|k|v has left the core's L2
/// when the attention reads it, and the inference kernel took 6–12 % longer without (Zen 5, in-process A/B). Where
/// a worker's share of q|k|v fits its L2 (one or two 384-token sequences) the lines are there already and the
/// prefetching only costs instructions (1–2 %): it runs above `minimumBytesPerWorker`.
/// One slot of streams per worker chunk, filled head by head: no allocation per head.
public struct AttentionPrefetch {
    /// Turns the prefetching off (`MRC_ATTENTION_PREFETCH=0`): for before/after benchmarks. The results are the same.
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["MRC_ATTENTION_PREFETCH"] != "0"

    /// The bf16 q|k|v bytes per worker above which the heads prefetch: the core's L2 (1 MiB if the system does not
    /// say).
    nonisolated(unsafe) static var minimumBytesPerWorker: Int = {
        let l2 = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        return l2 > 0 ? l2 : 1 << 20
    }()

    /// The most streams a head describes: q, k, v, and the output or dout, dq, dk, dv.
    static let streamsPerHead = 7
    private let slots: UnsafeMutablePointer<mrc_prefetch_rows>
    private let plan: AttentionPlan
    /// Whether this call's heads prefetch: turned on, and q|k|v larger than the workers' L2.
    let active: Bool

    init(_ plan: AttentionPlan) {
        self.plan = plan
        slots = .allocate(capacity: max(1, plan.chunks) * Self.streamsPerHead)
        let bytesPerWorker = plan.pairs / plan.heads * plan.T * 3 * plan.C * 2 / max(1, plan.chunks)
        active = Self.enabled && bytesPerWorker > Self.minimumBytesPerWorker
    }

    func deallocate() { slots.deallocate() }

    /// Runs `body` with the streams of the head after `pair` in the chunk's `range` (none at its end or when not
    /// `active`): q, k and v of the bf16 q|k|v `qkv16`, then those `more` adds for that head (from its `plan.head` offsets).
    func withNext<R>(chunk: Int, after pair: Int, in range: Range<Int>, qkv16: ConstBF16Buffer,
                     more: (_ head: (sequence: Int, keys: Int, qkv: Int, out: Int), _ add: (mrc_prefetch_rows) -> Void) -> Void = { _, _ in },
                     _ body: (UnsafePointer<mrc_prefetch_rows>?, Int64) -> R) -> R {
        guard active, pair + 1 < range.upperBound else { return body(nil, 0) }
        let streams = slots + chunk * Self.streamsPerHead
        var count = 0
        func add(_ rows: mrc_prefetch_rows) {
            precondition(count < Self.streamsPerHead, "AttentionPrefetch: more than \(Self.streamsPerHead) streams")
            streams[count] = rows
            count += 1
        }
        let head = plan.head(pair + 1)
        let q = qkv16 + head.qkv
        add(prefetchRows(q, stride: 3 * plan.C, count: plan.D, rows: plan.T))
        add(prefetchRows(q + plan.C, stride: 3 * plan.C, count: plan.D, rows: head.keys))
        add(prefetchRows(q + 2 * plan.C, stride: 3 * plan.C, count: plan.D, rows: head.keys))
        more(head, add)
        return body(UnsafePointer(streams), Int64(count))
    }
}

/// `rows` rows of `count` elements, `stride` elements apart from `base`, to prefetch (for writing with `write`).
func prefetchRows<T>(_ base: UnsafePointer<T>, stride: Int, count: Int, rows: Int, write: Bool = false) -> mrc_prefetch_rows {
    let size = MemoryLayout<T>.stride
    return mrc_prefetch_rows(base: UnsafeRawPointer(base), stride: Int64(stride * size), bytes: Int64(count * size),
                             rows: Int64(rows), write: write ? 1 : 0)
}
