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

    /// The tokens of one pre-token's bytes, as `(id, byte count)` pairs flattened into `output`.
    func merge(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        var symbols = [Int32](repeating: 0, count: bytes.count)
        var lengths = [Int32](repeating: 1, count: bytes.count)
        for index in bytes.indices { symbols[index] = byteIds[Int(bytes[index])] }
        var count = bytes.count
        while count > 1 {
            var bestRank = UInt64.max, bestIndex = -1
            var bestId: Int32 = 0
            for index in 0 ..< count - 1 {
                let key = UInt64(UInt32(symbols[index])) << 32 | UInt64(UInt32(symbols[index + 1]))
                if let rule = rules[key], rule >> 32 < bestRank {
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
