import Dispatch

/// Raw pointers that a `concurrentPerform` closure may capture (Swift 6 refuses bare pointers).
struct SendablePointers: @unchecked Sendable {
    let pointers: [UnsafeMutablePointer<Float>]
    init(_ pointers: UnsafeMutablePointer<Float>...) { self.pointers = pointers }
    subscript(_ index: Int) -> UnsafeMutablePointer<Float> { pointers[index] }
}

/// Splits `0..<count` into fixed chunks and runs `body` on them over the cores. The chunking
/// depends only on `count`, never on the thread count, so results are bit-identical however the
/// work is scheduled. Small buffers run inline: a hand-off costs microseconds.
func forEachChunk(count: Int, chunkSize: Int = 1 << 20, _ body: (Range<Int>) -> Void) {
    let chunks = (count + chunkSize - 1) / chunkSize
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedSendableClosure(body: escapable)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * chunkSize
            box.body(start..<min(count, start + chunkSize))
        }
    }
}

private struct UncheckedSendableClosure: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}
