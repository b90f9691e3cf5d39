import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The next head's rows that the fused attention kernels prefetch (`AttentionPrefetch`): the streams name exactly the
/// rows the next (sequence, head) of the worker's chunk reads and writes, none at the chunk's end or when turned off,
/// and prefetching changes no result, bit for bit, on the kernels that run here.
final class AttentionPrefetchTests: XCTestCase {
    func testStreamsDescribeTheNextHeadOfTheChunk() {
        let (batch, T, C, heads) = (3, 37, 64, 2)
        var mask = [Int32](repeating: 1, count: batch * T)
        for t in 29..<T { mask[T + t] = 0 }  // sequence 1 attends to 29 keys
        let plan = mask.withUnsafeBufferPointer {
            AttentionPlan(keyMask: $0.baseAddress!, batch: batch, seqLen: T, channels: C, heads: heads, dropout: nil)
        }
        let qkv16 = BF16Buffer.allocate(capacity: batch * T * 3 * C), out = FloatBuffer.allocate(capacity: batch * T * C)
        let saved = (AttentionPrefetch.enabled, AttentionPrefetch.minimumBytesPerWorker)
        defer {
            qkv16.deallocate(); out.deallocate(); plan.deallocate()
            (AttentionPrefetch.enabled, AttentionPrefetch.minimumBytesPerWorker) = saved
        }
        // q|k|v here is 42 KB: above a threshold of 0 the heads prefetch, below the core's L2 they do not.
        AttentionPrefetch.enabled = true
        XCTAssertFalse(AttentionPrefetch(plan).active, "q|k|v within the workers' L2")
        AttentionPrefetch.minimumBytesPerWorker = 0
        let prefetch = AttentionPrefetch(plan)
        defer { prefetch.deallocate() }
        XCTAssertTrue(prefetch.active)

        // Pair 1 (sequence 0, head 1) is followed by pair 2 (sequence 1, head 0, 29 keys).
        let streams: [mrc_prefetch_rows] = prefetch.withNext(chunk: 1, after: 1, in: 0..<6, qkv16: qkv16, more: { head, add in
            XCTAssertEqual(head.sequence, 1)
            add(prefetchRows(UnsafePointer(out + head.out), stride: C, count: C / heads, rows: T, write: true))
        }) { next, count in Array(UnsafeBufferPointer(start: next, count: Int(count))) }
        XCTAssertEqual(streams.count, 4)
        let q = UnsafeRawPointer(qkv16 + T * 3 * C), rowBytes = Int64(3 * C * 2)
        let expected: [(UnsafeRawPointer, Int64, Int64, Int64, Int32)] = [
            (q, rowBytes, 64, Int64(T), 0), (q + 2 * C, rowBytes, 64, 29, 0), (q + 4 * C, rowBytes, 64, 29, 0),
            (UnsafeRawPointer(out + T * C), Int64(C * 4), 128, Int64(T), 1)]
        for (index, (stream, want)) in zip(streams, expected).enumerated() {
            XCTAssertEqual(stream.base, want.0, "stream \(index): base")
            XCTAssertEqual([stream.stride, stream.bytes, stream.rows], [want.1, want.2, want.3], "stream \(index): stride, bytes, rows")
            XCTAssertEqual(stream.write, want.4, "stream \(index): write")
        }
        // Nothing after the chunk's last pair, nor when turned off.
        XCTAssertEqual(prefetch.withNext(chunk: 0, after: 2, in: 0..<3, qkv16: qkv16) { next, count in count }, 0)
        XCTAssertNil(prefetch.withNext(chunk: 0, after: 2, in: 0..<3, qkv16: qkv16) { next, _ in next })
        AttentionPrefetch.enabled = false
        let off = AttentionPrefetch(plan)
        defer { off.deallocate() }
        XCTAssertEqual(off.withNext(chunk: 0, after: 1, in: 0..<6, qkv16: qkv16) { next, count in count }, 0)
    }

    /// Batches of three sequences (one with suffix padding, one with interior padding), head sizes 32 and 64 (one and
    /// two lines a row), a partial last block of queries: the inference attention and, where it runs, the fused
    /// training attention forward and backward give the same bits with and without the prefetching.
    func testPrefetchingChangesNoResult() {
        let saved = (AttentionPrefetch.enabled, AttentionPrefetch.minimumBytesPerWorker)
        defer { (AttentionPrefetch.enabled, AttentionPrefetch.minimumBytesPerWorker) = saved }
        AttentionPrefetch.minimumBytesPerWorker = 0  // these small cases prefetch too
        var random = TestRandom(seed: 5)
        for (C, heads) in [(64, 2), (128, 2)] {
            for T in [37, 90] {
                let input = RoundedAttentionCase(T: T, C: C, heads: heads, &random)
                let (batch, qkv, mask) = (input.batch, input.qkv, input.mask)
                let qkv16 = BF16Buffer.allocate(capacity: qkv.count)
                defer { qkv16.deallocate() }
                for i in 0..<qkv.count { qkv16[i] = bfloat16(qkv.p[i]) }
                let dout = TestBuffer(normal: batch * T * C, &random)
                let dropout = Dropout(probability: 0.1, seed: 3, stream: UInt64(T))
                var results: [[UInt32]] = []
                for on in [true, false] {
                    AttentionPrefetch.enabled = on
                    var bits: [UInt32] = []
                    let out16 = BF16Buffer.allocate(capacity: batch * T * C)
                    defer { out16.deallocate() }
                    attentionForwardBF16(out16: out16, qkv16: qkv16, keyMask: mask, batch: batch, seqLen: T, channels: C, heads: heads)
                    bits += (0..<batch * T * C).map { UInt32(out16[$0]) }
                    if FusedTrainingAttention.runs(headSize: C / heads) {
                        let out = TestBuffer(count: batch * T * C), dqkv = TestBuffer(count: batch * T * 3 * C)
                        let savedStats = TestBuffer(count: FusedTrainingAttention.savedFloats(batch: batch, heads: heads, seqLen: T,
                                                                                              dropout: true))
                        attentionForwardBF16Fused(out: out.p, saved: savedStats.p, qkv16: qkv16, keyMask: mask, batch: batch,
                                                  seqLen: T, channels: C, heads: heads, dropout: dropout)
                        attentionBackwardBF16Fused(dqkv: dqkv.p, dout: dout.c, qkv16: qkv16, saved: savedStats.p, keyMask: mask,
                                                   batch: batch, seqLen: T, channels: C, heads: heads, dropout: dropout,
                                                   doutScratch: out16)
                        bits += [out, savedStats, dqkv].flatMap { buffer in (0..<buffer.count).map { buffer.p[$0].bitPattern } }
                    }
                    results.append(bits)
                }
                XCTAssertEqual(results[0].count, results[1].count)
                let differing = zip(results[0], results[1]).filter { $0 != $1 }.count
                XCTAssertEqual(differing, 0, "C=\(C) T=\(T): \(differing) values differ with the prefetching")
            }
        }
    }
}
