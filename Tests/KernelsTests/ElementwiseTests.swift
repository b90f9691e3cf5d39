import XCTest
import TestSupport
@testable import Kernels

final class ElementwiseTests: XCTestCase {
    /// The copy past the cache equals memcpy at every alignment of the destination and the source, around its 16-byte
    /// stores and 64-byte lines, and over the workers; bytes outside the destination stay untouched.
    func testCopyStreamingEqualsMemcpy() {
        var random = SeededRandom(seed: 33)
        for bytes in [0, 1, 15, 16, 63, 64, 65, 1000, 4_000_037] {
            for (destinationOffset, sourceOffset) in [(0, 0), (1, 0), (0, 3), (7, 9), (16, 1), (48, 0)] {
                let source = (0..<bytes + sourceOffset).map { _ in UInt8.random(in: 0...255, using: &random) }
                var destination = [UInt8](repeating: 0xA5, count: bytes + destinationOffset + 8)
                source.withUnsafeBytes { s in
                    destination.withUnsafeMutableBytes { d in
                        copyStreaming(to: d.baseAddress! + destinationOffset, from: s.baseAddress! + sourceOffset, bytes: bytes)
                    }
                }
                XCTAssertEqual(Array(destination[destinationOffset ..< destinationOffset + bytes]), Array(source[sourceOffset...]),
                               "\(bytes) bytes, offsets \(destinationOffset), \(sourceOffset)")
                XCTAssertTrue(destination[..<destinationOffset].allSatisfy { $0 == 0xA5 }
                              && destination[(destinationOffset + bytes)...].allSatisfy { $0 == 0xA5 }, "\(bytes) bytes: outside")
            }
        }
    }

    func testAddForwardAndBackward() {
        var random = TestRandom(seed: 70)
        for count in [37, 1_000_037] {
            let a = TestBuffer(normal: count, &random), b = TestBuffer(normal: count, &random)
            let fast = TestBuffer(count: count), naive = TestBuffer(count: count)
            addForward(out: fast.p, a: a.c, b: b.c, count: count)
            naiveAddForward(out: naive.p, a: a.c, b: b.c, count: count)
            XCTAssertEqual(fast.array, naive.array)
            let dout = TestBuffer(normal: count, &random)
            let da = TestBuffer(copying: a), db = TestBuffer(copying: b)
            let nda = TestBuffer(copying: a), ndb = TestBuffer(copying: b)
            addBackward(da: da.p, db: db.p, dout: dout.c, count: count)
            naiveAddBackward(da: nda.p, db: ndb.p, dout: dout.c, count: count)
            XCTAssertEqual(da.array, nda.array)
            XCTAssertEqual(db.array, ndb.array)
        }
    }

    func testEmbeddingGatherAndScatterWithRepeatedIds() {
        var random = TestRandom(seed: 71)
        let (vocab, channels) = (11, 37)
        let ids: [Int32] = [3, 0, 10, 3, 3, 7, 0]
        let table = TestBuffer(normal: vocab * channels, &random)
        let fast = TestBuffer(count: ids.count * channels), naive = TestBuffer(count: ids.count * channels)
        let dout = TestBuffer(normal: ids.count * channels, &random)
        let start = TestBuffer(normal: vocab * channels, &random)
        let dFast = TestBuffer(copying: start), dNaive = TestBuffer(copying: start)
        ids.withUnsafeBufferPointer { idp in
            embeddingForward(out: fast.p, ids: idp.baseAddress!, table: table.c, count: ids.count, channels: channels)
            naiveEmbeddingForward(out: naive.p, ids: idp.baseAddress!, table: table.c, count: ids.count, channels: channels)
            embeddingBackward(dtable: dFast.p, ids: idp.baseAddress!, dout: dout.c, count: ids.count, channels: channels)
            naiveEmbeddingBackward(dtable: dNaive.p, ids: idp.baseAddress!, dout: dout.c, count: ids.count, channels: channels)
        }
        XCTAssertEqual(fast.array, naive.array)
        assertClose(dFast, dNaive, absolute: 1e-6, relative: 1e-6, "embeddingBackward")
        // Row 3 got three contributions.
        for c in 0..<channels {
            let expected = start.p[3 * channels + c] + dout.p[c] + dout.p[3 * channels + c] + dout.p[4 * channels + c]
            XCTAssertEqual(dFast.p[3 * channels + c], expected, accuracy: 1e-5)
        }
    }
}
