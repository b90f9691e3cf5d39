/// One batch of windows: which windows, and the length they are padded to.
public struct Batch: Sendable, Equatable {
    /// Indices into the window list.
    public var windows: [Int]
    /// Every window of the batch is padded (or cut) to this many tokens.
    public var paddedLength: Int
    public init(windows: [Int], paddedLength: Int) { self.windows = windows; self.paddedLength = paddedLength }
}

/// Length-bucketed dynamic padding: short windows travel with short windows, so a batch costs
/// its own longest window, not `max_seq_len`.
///
/// Per epoch: shuffle all windows, cut the shuffled list into pools of `poolBatches × batchSize`,
/// sort each pool by length, cut it into batches, and finally shuffle the order of all batches.
/// Every batch but possibly one is full; no window is dropped. The plan is a pure function of
/// (lengths, seed, epoch), which is what lets a resumed run find its place from the epoch and the
/// batch index alone.
public struct BatchPlanner: Sendable {
    /// Real (unpadded) token count of each window.
    public let lengths: [Int]
    public let batchSize: Int
    /// Padded lengths are rounded up to a multiple of this (and capped at `maxLength`).
    public let padMultiple: Int
    public let maxLength: Int
    /// How many batches' worth of windows are sorted together.
    public let poolBatches: Int
    public let seed: UInt64

    public init(lengths: [Int], batchSize: Int, maxLength: Int, seed: UInt64, padMultiple: Int = 8, poolBatches: Int = 50) throws {
        guard batchSize > 0 else { throw TrainingError.invalidArgument("--batch-size must be positive, got \(batchSize)") }
        guard !lengths.isEmpty else { throw TrainingError.invalidArgument("there are no training windows") }
        if let bad = lengths.firstIndex(where: { $0 <= 0 || $0 > maxLength }) {
            throw TrainingError.invalidArgument("window \(bad) has \(lengths[bad]) tokens, outside 1...\(maxLength)")
        }
        self.lengths = lengths
        self.batchSize = batchSize
        self.maxLength = maxLength
        self.padMultiple = max(1, padMultiple)
        self.poolBatches = max(1, poolBatches)
        self.seed = seed
    }

    /// Number of batches in one epoch.
    public var batchesPerEpoch: Int { (lengths.count + batchSize - 1) / batchSize }

    /// The batches of `epoch`, in training order.
    public func batches(epoch: Int) -> [Batch] {
        var generator = Xoshiro256(seed: seed, stream: 0x6261_7463_6800 &+ UInt64(epoch))
        var order = Array(lengths.indices)
        order.shuffle(using: &generator)
        var batches: [Batch] = []
        batches.reserveCapacity(batchesPerEpoch)
        let poolSize = poolBatches * batchSize
        var poolStart = 0
        while poolStart < order.count {
            let pool = order[poolStart..<min(order.count, poolStart + poolSize)]
            // Ties keep their shuffled order (stable by position) so the plan is fully determined.
            let sorted = pool.enumerated().sorted {
                (lengths[$0.element], $0.offset) < (lengths[$1.element], $1.offset)
            }.map(\.element)
            var start = 0
            while start < sorted.count {
                let members = Array(sorted[start..<min(sorted.count, start + batchSize)])
                let longest = members.map { lengths[$0] }.max()!
                let padded = min(maxLength, (longest + padMultiple - 1) / padMultiple * padMultiple)
                batches.append(Batch(windows: members, paddedLength: padded))
                start += batchSize
            }
            poolStart += poolSize
        }
        batches.shuffle(using: &generator)
        return batches
    }
}
