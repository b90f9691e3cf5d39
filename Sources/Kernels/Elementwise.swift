import CKernels
/// Splitting pays above this many elements of pure memory traffic.
let memoryParallelThreshold = 1_000_000

/// Residual add: `out = a + b`. `out` may equal `a` or `b`.
public func addForward(out: FloatBuffer, a: ConstFloatBuffer, b: ConstFloatBuffer, count: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "addForward") }
    parallelElements(count: count, minimumWork: memoryParallelThreshold) { range in
        var i = range.lowerBound
        while i + 16 <= range.upperBound { store16(out + i, load16(a + i) + load16(b + i)); i += 16 }
        while i < range.upperBound { out[i] = a[i] + b[i]; i += 1 }
    }
}

/// Residual add backward: `da += dout`, `db += dout` (each when non-nil).
public func addBackward(da: FloatBuffer?, db: FloatBuffer?, dout: ConstFloatBuffer, count: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "addBackward") }
    for target in [da, db] {
        guard let target else { continue }
        parallelElements(count: count, minimumWork: memoryParallelThreshold) { range in
            addInPlace(target + range.lowerBound, dout + range.lowerBound, count: range.count)
        }
    }
}

/// Embedding gather: `out[i] = table[ids[i]]`.
/// - Parameters: out [count, channels], ids [count] in `0..<rows of table`, table [vocab, channels].
public func embeddingForward(out: FloatBuffer, ids: UnsafePointer<Int32>, table: ConstFloatBuffer, count: Int, channels: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "embeddingForward") }
    for i in 0..<count {
        let id = Int(ids[i])
        precondition(id >= 0, "embeddingForward: negative id \(id) at \(i)")
        (out + i * channels).update(from: table + id * channels, count: channels)
    }
}

/// Embedding scatter-add: `dtable[ids[i]] += dout[i]` (repeated ids accumulate).
public func embeddingBackward(dtable: FloatBuffer, ids: UnsafePointer<Int32>, dout: ConstFloatBuffer, count: Int, channels: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "embeddingBackward") }
    for i in 0..<count {
        let id = Int(ids[i])
        precondition(id >= 0, "embeddingBackward: negative id \(id) at \(i)")
        addInPlace(dtable + id * channels, dout + i * channels, count: channels)
    }
}

/// `memcpy` whose stores bypass the cache (`mrc_copy_streaming`), split over the workers: for copies into memory that
/// is read again only much later (a training forward's saved activations), where ordinary stores would first read
/// each destination line from memory. Its twin is `copyMemory`.
public func copyStreaming(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, bytes: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "copyStreaming") }
    let lines = (bytes + 63) / 64
    parallelFor(count: lines, minimumWork: memoryParallelThreshold / 16) { range in
        let begin = range.lowerBound * 64, end = min(bytes, range.upperBound * 64)
        mrc_copy_streaming(destination + begin, source + begin, Int64(end - begin))
    }
}
