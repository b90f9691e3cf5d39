/// BERT's character classes exactly as Hugging Face `tokenizers` applies them.
///
/// `tokenizers` takes punctuation, format and nonspacing-mark categories from the
/// `unicode_categories` crate, whose tables are Unicode 8.0, while whitespace, lowercasing and
/// decomposition follow current Unicode. So a category test here is "has this category today and
/// was assigned by Unicode 8.0" (`age`), plus the scalars whose category changed since then.
/// `UnicodeClassParityTests` checks every code point against `tokenizers`.
enum BertCharacterClasses {
    /// Scalars that were punctuation (Po) in Unicode 8.0 and are not today.
    private static let formerPunctuation: Set<UInt32> = [0x166D, 0x111C9]

    @inline(__always)
    private static func assignedByUnicode8(_ properties: Unicode.Scalar.Properties) -> Bool {
        guard let age = properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }

    /// Removed by BertNormalizer's `clean_text`: NUL, U+FFFD and "other" characters (Cc, Cf, Co)
    /// except tab, newline and carriage return.
    static func isRemoved(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D) || value == 0x7F
        }
        if value == 0xFFFD { return true }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .privateUse: return true
        case .format: return assignedByUnicode8(properties)
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
        if formerPunctuation.contains(value) { return true }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return assignedByUnicode8(properties)
        default:
            return false
        }
    }

    /// Unicode 8.0 nonspacing mark (Mn): what `strip_accents` drops after NFD.
    static func isStrippedMark(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x300 { return false }
        let properties = scalar.properties
        return properties.generalCategory == .nonspacingMark && assignedByUnicode8(properties)
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
