import Kernels

/// One zero-filled allocation of floats handed out as consecutive buffers: the activation
/// stores (`Activations`, `MLMActivations`) carve all their buffers from one arena so a
/// reserve is a single allocation. The owner deallocates `base`.
struct ArenaCarver {
    /// The start of the allocation, `capacity` floats, all zero.
    let base: FloatBuffer
    let capacity: Int
    /// Floats handed out so far.
    private(set) var used = 0

    init(zeroedCapacity capacity: Int) {
        base = .allocate(capacity: capacity)
        base.initialize(repeating: 0, count: capacity)
        self.capacity = capacity
    }

    /// The next `count` floats of the arena.
    mutating func take(_ count: Int) -> FloatBuffer {
        precondition(used + count <= capacity, "arena overflow: \(used) + \(count) > \(capacity) floats")
        defer { used += count }
        return base + used
    }
}
