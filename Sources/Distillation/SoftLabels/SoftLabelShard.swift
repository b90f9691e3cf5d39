/// Splitting the windows into N contiguous shards, scored by separate processes and merged by
/// `SoftLabelMerge`.
///
/// Shards are numbered from 1, on the command line (`--shard 2/4`) and in this API alike: shard i of N
/// holds windows `(i-1)·W/N ..< i·W/N` (integer division), so sizes differ by at most one and the
/// shards cover `0..<W` exactly once, in order.
public struct SoftLabelShard: Sendable, Equatable, CustomStringConvertible {
    /// 1-based shard number.
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw DistillationError("shard count must be at least 1, not \(count)") }
        guard index >= 1 && index <= count else {
            throw DistillationError("shard number must be between 1 and \(count), not \(index) (shards are numbered from 1)")
        }
        self.index = index
        self.count = count
    }

    /// Parses "i/N", e.g. "2/4" (1 ≤ i ≤ N); errors quote the text.
    public static func parse(_ text: String) throws -> SoftLabelShard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0].trimmingSpaces), let count = Int(parts[1].trimmingSpaces) else {
            throw DistillationError("shard \"\(text)\": expected i/N, e.g. 2/4 (the second of four shards, numbered from 1)")
        }
        do { return try SoftLabelShard(index: index, count: count) } catch let error as DistillationError {
            throw DistillationError("shard \"\(text)\": \(error.description)")
        }
    }

    /// Windows are scored in blocks of this many, aligned to the start of the data, and a shard is made
    /// of whole blocks: a model teacher batches windows only within a block, so every window is computed
    /// in the same batch whatever the sharding, and merged shards are byte-identical to one run.
    public static let blockSize = 64

    /// The windows of shard `index` (1-based) of `count` over `windows` windows: blocks
    /// `(index − 1)·B / count ..< index·B / count` of the B blocks.
    public static func range(index: Int, count: Int, windows: Int, blockSize: Int = blockSize) -> Range<Int> {
        precondition(count >= 1 && index >= 1 && index <= count && windows >= 0, "shard \(index)/\(count) of \(windows) windows")
        let blocks = (windows + blockSize - 1) / blockSize
        return min(windows, (index - 1) * blocks / count * blockSize)..<min(windows, index * blocks / count * blockSize)
    }

    /// This shard's windows out of `windows`.
    public func range(windows: Int, blockSize: Int = SoftLabelShard.blockSize) -> Range<Int> {
        SoftLabelShard.range(index: index, count: count, windows: windows, blockSize: blockSize)
    }

    /// The provenance field of this shard of `windows` windows.
    public func provenanceShard(windows: Int, blockSize: Int = SoftLabelShard.blockSize) -> SoftLabelProvenance.Shard {
        let range = range(windows: windows, blockSize: blockSize)
        return SoftLabelProvenance.Shard(index: index, count: count, firstWindow: range.lowerBound, windowCount: range.count)
    }

    public var description: String { "\(index)/\(count)" }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
