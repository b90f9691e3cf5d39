import CKernels
import Foundation
import XCTest
@testable import Kernels

/// The next head's rows that the fused attention kernels prefetch (`AttentionPrefetch`): the streams name exactly the
/// rows the next (sequence, head) of the worker's chunk reads and writes, for each kernel; none at the chunk's end,
/// when turned off or where q|k|v fits the workers' L2; and prefetching changes no result, bit for bit.
final class AttentionPrefetchTests: XCTestCase {
    private var saved: (enabled: Bool, minimum: Int, workers: Int) = (true, 0, 1)

    override func setUp() {
        saved = (AttentionPrefetch.enabled, AttentionPrefetch.minimumBytesPerWorker, Parallelism.workers)
        // Two workers (each chunk holds several heads, so every head but a chunk's last has a next one) and no
        // threshold (these cases are far smaller than an L2).
        (AttentionPrefetch.enabled, AttentionPrefetch.minimumBytesPerWorker, Parallelism.workers) = (true, 0, 2)
    }

    override func tearDown() {
        (AttentionPrefetch.enabled, AttentionPrefetch.minimumBytesPerWorker, Parallelism.workers) = saved
    }

    /// Batch 3 × 37 tokens, 2 heads of 32: sequence 1 attends to 29 keys. After pair 2 (sequence 1, head 0) comes pair 3
    /// (sequence 1, head 1): its rows start one sequence and one head (32 columns) in.
    func testStreamsDescribeTheNextHeadOfEachKernel() {
        let (batch, T, C, heads, D) = (3, 37, 64, 2, 32)
        var mask = [Int32](repeating: 1, count: batch * T)
        for t in 29..<T { mask[T + t] = 0 }
        let plan = mask.withUnsafeBufferPointer {
            AttentionPlan(keyMask: $0.baseAddress!, batch: batch, seqLen: T, channels: C, heads: heads, dropout: nil)
        }
        XCTAssertEqual(plan.chunks, 2)
        let qkv16 = BF16Buffer.allocate(capacity: batch * T * 3 * C), out16 = BF16Buffer.allocate(capacity: batch * T * C)
        let out = FloatBuffer.allocate(capacity: batch * T * C), dqkv = FloatBuffer.allocate(capacity: batch * T * 3 * C)
        defer { plan.deallocate(); qkv16.deallocate(); out16.deallocate(); out.deallocate(); dqkv.deallocate() }

        typealias Stream = (base: UnsafeRawPointer, stride: Int, bytes: Int, rows: Int, write: Bool)
        let q = UnsafeRawPointer(qkv16 + T * 3 * C + D)
        let qkvRows: [Stream] = [(q, 6 * C, 2 * D, T, false), (q + 2 * C, 6 * C, 2 * D, 29, false), (q + 4 * C, 6 * C, 2 * D, 29, false)]
        let dq = UnsafeRawPointer(dqkv + T * 3 * C + D)
        let cases: [(String, AttentionPrefetch.Outputs, [Stream])] = [
            ("inference", .inference(out16), [(UnsafeRawPointer(out16 + T * C + D), 2 * C, 2 * D, T, true)]),
            ("training forward", .trainingForward(out), [(UnsafeRawPointer(out + T * C + D), 4 * C, 4 * D, T, true)]),
            ("training backward", .trainingBackward(dout: UnsafePointer(out16), dqkv: dqkv),
             [(UnsafeRawPointer(out16 + T * C + D), 2 * C, 2 * D, T, false), (dq, 12 * C, 4 * D, T, true),
              (dq + 4 * C, 12 * C, 4 * D, T, true), (dq + 8 * C, 12 * C, 4 * D, T, true)]),
        ]
        for (name, outputs, more) in cases {
            let prefetch = AttentionPrefetch(plan, qkv16: qkv16, outputs)
            defer { prefetch.deallocate() }
            XCTAssertTrue(prefetch.active, name)
            let streams = prefetch.withNext(chunk: 1, after: 2, in: 0..<6) { next, count in
                Array(UnsafeBufferPointer(start: next, count: Int(count)))
            }
            let expected = qkvRows + more
            XCTAssertEqual(streams.count, expected.count, name)
            for (index, (stream, want)) in zip(streams, expected).enumerated() {
                XCTAssertEqual(stream.base, want.base, "\(name), stream \(index): base")
                XCTAssertEqual([stream.stride, stream.bytes, stream.rows], [Int64(want.stride), Int64(want.bytes), Int64(want.rows)],
                               "\(name), stream \(index): stride, bytes, rows")
                XCTAssertEqual(stream.write, want.write ? 1 : 0, "\(name), stream \(index): write")
            }
            // Nothing after the chunk's last pair.
            XCTAssertEqual(prefetch.withNext(chunk: 0, after: 2, in: 0..<3) { next, count in next == nil ? count : -1 }, 0, name)
        }
        // Turned off, or q|k|v (42 KB) within the workers' L2 at the real threshold: no streams.
        AttentionPrefetch.enabled = false
        let off = AttentionPrefetch(plan, qkv16: qkv16, .inference(out16))
        XCTAssertEqual(off.withNext(chunk: 0, after: 1, in: 0..<3) { _, count in count }, 0)
        off.deallocate()
        AttentionPrefetch.enabled = true
        AttentionPrefetch.minimumBytesPerWorker = 1 << 20
        let small = AttentionPrefetch(plan, qkv16: qkv16, .inference(out16))
        XCTAssertFalse(small.active)
        small.deallocate()
        XCTAssertTrue(AttentionPrefetch.runs(batch: 8, seqLen: 384, channels: 384, heads: 12), "8 × 384: 3.5 MB a worker")
        XCTAssertFalse(AttentionPrefetch.runs(batch: 1, seqLen: 384, channels: 384, heads: 12), "1 × 384: 0.4 MB a worker")
    }

    /// Batches of three sequences (one with suffix padding, one with interior padding), head sizes 32 and 64 (one and
    /// two lines a row), a partial last block of queries: the inference attention and, where it runs, the fused
    /// training attention forward and backward give the same bits with and without the prefetching.
    func testPrefetchingChangesNoResult() {
        var random = TestRandom(seed: 5)
        for (C, heads) in [(64, 2), (128, 2)] {
            for T in [37, 90] {
                let input = RoundedAttentionCase(T: T, C: C, heads: heads, &random)
                let (batch, qkv, mask) = (input.batch, input.qkv, input.mask)
                AttentionPrefetch.enabled = true
                XCTAssertTrue(AttentionPrefetch.runs(batch: batch, seqLen: T, channels: C, heads: heads))
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
