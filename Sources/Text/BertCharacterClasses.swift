/// BERT's character classes exactly as Hugging Face `tokenizers` applies them.
///
/// `tokenizers` takes punctuation, format and nonspacing-mark categories from the
/// `unicode_categories` crate, whose tables are Unicode 8.0, while whitespace and lowercasing
/// follow current Unicode. So a category test here is "has this category today and was assigned
/// by Unicode 8.0" (`age`), corrected for the scalars whose category changed since then.
/// `UnicodeClassParityTests` checks every code point against `tokenizers`.
enum BertCharacterClasses {
    /// General category as Unicode 8.0 had it, nil for scalars assigned later (which the crate
    /// sees as unassigned: not punctuation, format or mark). A few scalars changed category since.
    @inline(__always)
    static func unicode8Category(_ scalar: Unicode.Scalar) -> Unicode.GeneralCategory? {
        switch scalar.value {
        case 0x166D, 0x111C9: return .otherPunctuation  // now So and Mn
        case 0x1734, 0x1171E: return .nonspacingMark  // now Mc
        case 0x1885, 0x1886: return .otherLetter  // now Mn
        case 0xA9BD: return .spacingMark  // now Mn
        default: break
        }
        let properties = scalar.properties
        guard let age = properties.age, age.major < 8 || (age.major == 8 && age.minor == 0) else { return nil }
        return properties.generalCategory
    }

    /// Removed by BertNormalizer's `clean_text`: NUL, U+FFFD and "other" characters (Cc, Cf, Co)
    /// except tab, newline and carriage return.
    static func isRemoved(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D) || value == 0x7F
        }
        if value == 0xFFFD { return true }
        switch unicode8Category(scalar) {
        case .control, .privateUse, .format: return true
        default: return false
        }
    }

    /// Rust's `char::is_whitespace` (the White_Space property), as BertPreTokenizer splits on it.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value == 0x20 || (value >= 0x09 && value <= 0x0D) }
        return scalar.properties.isWhitespace
    }

    /// ASCII punctuation (33–47, 58–64, 91–96, 123–126) or Unicode 8.0 category P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value >= 33 && value <= 47) || (value >= 58 && value <= 64)
                || (value >= 91 && value <= 96) || (value >= 123 && value <= 126)
        }
        switch unicode8Category(scalar) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// Unicode 8.0 nonspacing mark (Mn): what `strip_accents` drops after NFD.
    static func isStrippedMark(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x300 && unicode8Category(scalar) == .nonspacingMark
    }

    /// The CJK ideograph blocks that BERT surrounds with spaces.
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
