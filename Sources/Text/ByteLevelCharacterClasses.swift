/// The character classes of the ByteLevel pre-tokenizer's regex, exactly as `tokenizers` matches them.
///
/// `tokenizers` runs the GPT-2 pattern on Oniguruma, whose `\p{L}` and `\p{N}` are the general categories
/// L* and N* of the Unicode version built into it (16.0 for `tokenizers` 0.22) and whose `\s` is the
/// White_Space property (25 code points, U+00A0 and U+3000 among them; not U+001C–U+001F, which Python's
/// `str.isspace` counts). Swift's tables may be of a later Unicode, so a letter or number here must also
/// have been assigned by Unicode 16.0 (`age`). `ByteLevelBPEParityTests` checks every code point against
/// `tokenizers` (fixtures/tokenizer/bpe/regex_classes.json.gz).
enum ByteLevelCharacterClass: UInt8 {
    /// `\p{L}`
    case letter
    /// `\p{N}`
    case number
    /// `\s`
    case whitespace
    /// None of them: what `[^\s\p{L}\p{N}]` matches.
    case other
}

enum ByteLevelCharacterClasses {
    /// The Unicode version of Oniguruma's tables in `tokenizers`.
    static let regexUnicodeVersion = (major: 16, minor: 0)

    private static let ascii: [ByteLevelCharacterClass] = (0 ..< 128).map { value in
        switch value {
        case 0x41 ... 0x5A, 0x61 ... 0x7A: return .letter
        case 0x30 ... 0x39: return .number
        case 0x09 ... 0x0D, 0x20: return .whitespace
        default: return .other
        }
    }

    @inline(__always)
    static func classify(_ scalar: Unicode.Scalar) -> ByteLevelCharacterClass {
        if scalar.value < 0x80 { return ascii[Int(scalar.value)] }
        let properties = scalar.properties
        // White_Space has been stable since Unicode 6.3; no age test needed.
        if properties.isWhitespace { return .whitespace }
        guard let age = properties.age,
              age.major < regexUnicodeVersion.major
              || (age.major == regexUnicodeVersion.major && age.minor <= regexUnicodeVersion.minor) else { return .other }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }
}
