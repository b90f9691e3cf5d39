/// Open-addressing hash table from a token's UTF-8 bytes to its id, so WordPiece can look up
/// candidate pieces straight from the word's bytes without building a `String` for each.
struct TokenTable: Sendable {
    /// All tokens' UTF-8 bytes, back to back; token `i` is `bytes[starts[i] ..< starts[i + 1]]`.
    private let bytes: [UInt8]
    private let starts: [Int32]
    /// Token id per slot, -1 for empty; the slot count is a power of two.
    private let slots: [Int32]
    private let mask: Int

    private static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01B3
    /// FNV-1a state after the continuation prefix "##".
    private static let continuationBasis: UInt64 = hash(continuing: offsetBasis, [0x23, 0x23])

    @inline(__always)
    private static func hash<C: Collection>(continuing state: UInt64, _ data: C) -> UInt64 where C.Element == UInt8 {
        var hash = state
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* prime
        }
        return hash
    }

    /// Builds the table; tokens must be distinct.
    init(tokens: [String]) {
        var bytes: [UInt8] = []
        var starts: [Int32] = [0]
        for token in tokens {
            bytes.append(contentsOf: token.utf8)
            starts.append(Int32(bytes.count))
        }
        var capacity = 16
        while capacity < 2 * tokens.count { capacity *= 2 }
        var slots = [Int32](repeating: -1, count: capacity)
        for id in tokens.indices {
            let token = bytes[Int(starts[id]) ..< Int(starts[id + 1])]
            var slot = Int(truncatingIfNeeded: Self.hash(continuing: Self.offsetBasis, token)) & (capacity - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = Int32(id)
        }
        self.bytes = bytes
        self.starts = starts
        self.slots = slots
        self.mask = capacity - 1
    }

    /// The id of the token spelled by `piece`, prefixed with "##" when `continuation`.
    @inline(__always)
    func id(of piece: UnsafeBufferPointer<UInt8>, continuation: Bool) -> Int32? {
        let prefix = continuation ? 2 : 0
        var slot = Int(truncatingIfNeeded: Self.hash(continuing: continuation ? Self.continuationBasis : Self.offsetBasis,
                                                     piece)) & mask
        return bytes.withUnsafeBufferPointer { stored in
            starts.withUnsafeBufferPointer { starts in
                slots.withUnsafeBufferPointer { slots in
                    while true {
                        let id = slots[slot]
                        if id < 0 { return nil }
                        let start = Int(starts[Int(id)]), end = Int(starts[Int(id) + 1])
                        if end - start == prefix + piece.count
                            && (!continuation || (stored[start] == 0x23 && stored[start + 1] == 0x23)) {
                            var index = 0
                            while index < piece.count && stored[start + prefix + index] == piece[index] { index += 1 }
                            if index == piece.count { return id }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }
}
