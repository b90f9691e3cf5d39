/// GPT-2's reversible map from bytes to printable characters, which byte-level BPE vocabularies are
/// spelt in (`bytes_to_unicode` of GPT-2's encoder.py, `BYTES_CHAR` of `tokenizers`' byte_level.rs).
///
/// The 188 bytes that are printable Latin-1 characters (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves;
/// the other 68 (controls, space, DEL, NBSP, soft hyphen) take U+0100, U+0101, … in byte order, so the
/// space 0x20 is `Ġ` (U+0120) and the line feed 0x0A is `Ċ` (U+010A).
enum ByteLevelAlphabet {
    /// Whether `byte` is a printable Latin-1 character that stands for itself.
    @inline(__always)
    static func isPrintable(_ byte: UInt8) -> Bool {
        (0x21 ... 0x7E).contains(byte) || (0xA1 ... 0xAC).contains(byte) || (0xAE ... 0xFF).contains(byte)
    }

    /// The character standing for each byte, indexed by the byte.
    static let characters: [Unicode.Scalar] = {
        var characters = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 0x100
        for byte in 0 ... 255 {
            if isPrintable(UInt8(byte)) {
                characters[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                characters[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return characters
    }()

    /// The byte-level spelling of `bytes` (as a vocabulary token would spell them).
    static func spelling<S: Sequence>(of bytes: S) -> String where S.Element == UInt8 {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(characters[Int(byte)]) }
        return String(text)
    }
}
