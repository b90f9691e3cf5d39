/// FNV-1a, 64 bit, of a text fed in pieces: the same value as of the pieces concatenated, without holding them
/// (the fingerprint of a million windows' entries, a vocabulary's tokens). A stable fingerprint of settings and
/// data, the same in every process (unlike `Hasher`); not a security hash.
public struct Fingerprinter: Sendable {
    private var hash: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ text: String) {
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
    }

    /// The hash so far.
    public var bits: UInt64 { hash }
    /// The hash so far, as hex.
    public var value: String { String(hash, radix: 16) }
}
