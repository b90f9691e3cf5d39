import Checkpoint
import Foundation

/// The BPE model of `tokenizers` (`models::bpe`, no dropout, no unknown token, no continuing-subword
/// prefix) over the bytes of one pre-token: start from one symbol per byte (the vocabulary id of its
/// byte-level character), then again and again merge the adjacent pair whose merge rule ranks first,
/// the leftmost such pair on a tie, until no adjacent pair has a rule. This is the order in which
/// `Word::merge_all` pops its priority queue of (rank, position).
struct BytePairMerger: Sendable {
    /// Vocabulary id of each byte's byte-level character.
    private let byteIds: [Int32]
    /// `left id << 32 | right id` → `rank << 32 | merged id`.
    private let rules: [UInt64: UInt64]

    /// Resolves the merge rules against `vocabulary`. Errors name the merges file and line of a rule
    /// whose tokens or merged token are not in the vocabulary (`tokenizers` refuses those too).
    init(vocabulary: Vocabulary, merges: BPEMerges) throws {
        var byteIds = [Int32](repeating: -1, count: 256)
        var missing: [String] = []
        for byte in 0 ..< 256 {
            let character = String(Character(ByteLevelAlphabet.characters[byte]))
            if let id = vocabulary.id(for: character) { byteIds[byte] = id } else { missing.append(character) }
        }
        guard missing.isEmpty else { throw CheckpointError.incompleteByteAlphabet(missing: missing) }
        var rules = [UInt64: UInt64](minimumCapacity: merges.count)
        for (rank, (merge, line)) in zip(merges.merges, merges.lines).enumerated() {
            func id(_ token: String) throws -> Int32 {
                guard let id = vocabulary.id(for: token) else {
                    throw CheckpointError.invalidVocabulary(
                        file: merges.source, line: line,
                        reason: "merge '\(merge.left) \(merge.right)': \(jsonStringLiteral(token)) is not in the vocabulary")
                }
                return id
            }
            let key = UInt64(UInt32(try id(merge.left))) << 32 | UInt64(UInt32(try id(merge.right)))
            rules[key] = UInt64(rank) << 32 | UInt64(UInt32(try id(merge.left + merge.right)))
        }
        self.byteIds = byteIds
        self.rules = rules
    }

    /// Up to this many bytes a pre-token is merged by scanning all pairs for each merge (quadratic, but no
    /// heap); longer ones go through a priority queue, so that a hostile megabyte without a space is not
    /// quadratic. Both merge in the same order.
    static let scanLimit = 48

    @inline(__always)
    private func lookup(_ left: Int32, _ right: Int32) -> UInt64? {
        rules[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))]
    }

    /// The tokens of one pre-token's bytes, as `(id, byte count)` pairs flattened into `output`.
    func merge(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        if bytes.count > Self.scanLimit { mergeWithQueue(bytes, into: &output) } else { mergeByScanning(bytes, into: &output) }
    }

    /// Each merge found by a scan of all adjacent pairs.
    func mergeByScanning(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        var symbols = [Int32](repeating: 0, count: bytes.count)
        var lengths = [Int32](repeating: 1, count: bytes.count)
        for index in bytes.indices { symbols[index] = byteIds[Int(bytes[index])] }
        var count = bytes.count
        while count > 1 {
            var bestRank = UInt64.max, bestIndex = -1
            var bestId: Int32 = 0
            for index in 0 ..< count - 1 {
                if let rule = lookup(symbols[index], symbols[index + 1]), rule >> 32 < bestRank {
                    bestRank = rule >> 32
                    bestIndex = index
                    bestId = Int32(truncatingIfNeeded: rule & 0xFFFF_FFFF)
                }
            }
            if bestIndex < 0 { break }
            symbols[bestIndex] = bestId
            lengths[bestIndex] += lengths[bestIndex + 1]
            for index in bestIndex + 1 ..< count - 1 {
                symbols[index] = symbols[index + 1]
                lengths[index] = lengths[index + 1]
            }
            count -= 1
        }
        for index in 0 ..< count {
            output.append(symbols[index])
            output.append(lengths[index])
        }
    }

    /// `Word::merge_all`: a min-heap of `rank << 32 | position` over the pairs, symbols in a linked list
    /// (a merged symbol keeps its left part's position); an entry whose pair has changed since is skipped.
    func mergeWithQueue(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        let count = bytes.count
        var symbols = bytes.map { byteIds[Int($0)] }
        var lengths = [Int32](repeating: 1, count: count)  // 0 once merged into the symbol before it
        var previous = Array(-1 ..< count - 1), next = Array(1 ... count)  // `count`: none
        var heap = BinaryMinHeap()
        for index in 0 ..< count - 1 {
            if let rule = lookup(symbols[index], symbols[index + 1]) { heap.push(rule & 0xFFFF_FFFF_0000_0000 | UInt64(index)) }
        }
        while let top = heap.pop() {
            let rank = top >> 32, position = Int(top & 0xFFFF_FFFF)
            let right = next[position]
            guard lengths[position] > 0, right < count, let rule = lookup(symbols[position], symbols[right]),
                  rule >> 32 == rank else { continue }
            symbols[position] = Int32(truncatingIfNeeded: rule & 0xFFFF_FFFF)
            lengths[position] += lengths[right]
            lengths[right] = 0
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0, let rule = lookup(symbols[previous[position]], symbols[position]) {
                heap.push(rule & 0xFFFF_FFFF_0000_0000 | UInt64(previous[position]))
            }
            if next[position] < count, let rule = lookup(symbols[position], symbols[next[position]]) {
                heap.push(rule & 0xFFFF_FFFF_0000_0000 | UInt64(position))
            }
        }
        var index = 0
        while index < count {
            output.append(symbols[index])
            output.append(lengths[index])
            index = next[index]
        }
    }
}

/// A binary min-heap of `UInt64`.
struct BinaryMinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// Results of `BytePairMerger` by pre-token bytes, shared by the threads that use one tokenizer (under a
/// lock). Like `tokenizers`' cache it stops taking words when full rather than evicting.
final class BytePairCache: @unchecked Sendable {
    private let lock = NSLock()
    private var words: [[UInt8]: [Int32]] = [:]
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func tokens(of bytes: [UInt8]) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return words[bytes]
    }

    func store(_ tokens: [Int32], for bytes: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        if words.count < capacity { words[bytes] = tokens }
    }
}
