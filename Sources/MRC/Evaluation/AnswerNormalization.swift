/// The official SQuAD/MRQA `normalize_answer`, with Python `str` semantics:
/// `' '.join(re.sub(r'\b(a|an|the)\b', ' ', remove_punc(s.lower())).split())`.
///
/// Everything works on Unicode scalars, as Python does: Swift `String` comparison and hashing use
/// canonical equivalence ("é" == "e\u{301}"), Python's do not, so tokens are scalar arrays.
public enum AnswerNormalization {
    /// A normalised token: compared scalar by scalar, as Python compares `str`.
    public typealias Token = [Unicode.Scalar]

    /// The normalised answer's tokens (`normalize_answer(s).split()`).
    public static func tokens(_ text: String) -> [Token] {
        let withoutArticles = removeArticles(removePunctuation(lowercased(Array(text.unicodeScalars))))
        var tokens: [Token] = []
        var current: Token = []
        for scalar in withoutArticles {
            if isPythonWhitespace(scalar) {
                if !current.isEmpty { tokens.append(current); current.removeAll(keepingCapacity: true) }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// The normalised answer as a string (tokens joined by single spaces).
    public static func normalize(_ text: String) -> String {
        var view = String.UnicodeScalarView()
        for (index, token) in tokens(text).enumerated() {
            if index > 0 { view.append(" ") }
            view.append(contentsOf: token)
        }
        return String(view)
    }

    /// Python's `str.lower()`: full lowercase mappings (SpecialCasing's unconditional ones, so
    /// "İ" → "i̇"), and the one contextual rule Python applies, Final_Sigma for "Σ".
    static func lowercased(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        for (index, scalar) in scalars.enumerated() {
            if scalar.value < 0x80 {
                let value = scalar.value
                result.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(value + 0x20)! : scalar)
            } else if scalar.value == 0x3A3 {
                result.append(isFinalSigma(scalars, at: index) ? "\u{3C2}" : "\u{3C3}")
            } else {
                result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return result
    }

    /// CPython's `handle_capital_sigma`: \p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        var before = index - 1
        while before >= 0 && scalars[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0 && scalars[before].properties.isCased else { return false }
        var after = index + 1
        while after < scalars.count && scalars[after].properties.isCaseIgnorable { after += 1 }
        return after == scalars.count || !scalars[after].properties.isCased
    }

    /// Removes the ASCII characters of Python's `string.punctuation` (Unicode punctuation stays).
    static func removePunctuation(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        scalars.filter { !isASCIIPunctuation($0) }
    }

    static func isASCIIPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: return false
        }
    }

    /// `re.sub(r'\b(a|an|the)\b', ' ', text)` with Python's Unicode `\b`: a boundary between a word
    /// character (`str.isalnum()` or "_") and a non-word character or the text's ends.
    static func removeArticles(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        var index = 0
        let count = scalars.count
        func isWordAt(_ position: Int) -> Bool { position >= 0 && position < count && isPythonWordCharacter(scalars[position]) }
        while index < count {
            if !isWordAt(index - 1) {
                var matchLength = 0
                for article in articles where index + article.count <= count && !isWordAt(index + article.count) {
                    if zip(article, scalars[index..<(index + article.count)]).allSatisfy({ $0 == $1 }) {
                        matchLength = article.count
                        break
                    }
                }
                if matchLength > 0 {
                    result.append(" ")
                    index += matchLength
                    continue
                }
            }
            result.append(scalars[index])
            index += 1
        }
        return result
    }

    private static let articles: [[Unicode.Scalar]] = [["a"], ["a", "n"], ["t", "h", "e"]]

    /// Python `re`'s word character for `str` patterns: `ch.isalnum() or ch == '_'`, where `isalnum`
    /// is a letter (Lu, Ll, Lt, Lm, Lo) or a character with a numeric type. Combining marks are not.
    static func isPythonWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            let value = scalar.value
            return (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A)
                || (value >= 0x61 && value <= 0x7A) || value == 0x5F
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return scalar.properties.numericType != nil
        }
    }

    /// Python's `str.isspace()`, which `str.split()` splits on: Unicode White_Space plus the ASCII
    /// separators U+001C…U+001F (bidi class B/S). U+200B (zero width space) is not whitespace.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
