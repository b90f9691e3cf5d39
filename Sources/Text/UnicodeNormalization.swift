import Foundation

/// The per-scalar part of BertNormalizer after cleaning: NFD and removal of nonspacing marks
/// (`strip_accents`), then the full Unicode lowercase mapping (Rust's `char::to_lowercase`).
enum UnicodeNormalization {
    /// Appends the normalised form of one non-removed input scalar to `output`.
    static func normalize(_ scalar: Unicode.Scalar, stripAccents: Bool, lowercase: Bool,
                          into output: inout [Unicode.Scalar]) {
        let start = output.count
        if stripAccents {
            for decomposed in canonicalDecomposition(of: scalar)
            where !BertCharacterClasses.isStrippedMark(decomposed) {
                output.append(decomposed)
            }
        } else {
            output.append(scalar)
        }
        guard lowercase else { return }
        var index = start
        while index < output.count {
            let current = output[index]
            let properties = current.properties
            guard properties.changesWhenLowercased else {
                index += 1
                continue
            }
            let lowered = Array(properties.lowercaseMapping.unicodeScalars)
            output.replaceSubrange(index ... index, with: lowered)
            index += lowered.count
        }
    }

    /// The canonical (NFD) decomposition of a single scalar, as `tokenizers` computes it.
    static func canonicalDecomposition(of scalar: Unicode.Scalar) -> String.UnicodeScalarView {
        // Scalars below U+00C0 have no canonical decomposition. U+11938 DIVES AKURU VOWEL SIGN O
        // got its decomposition in Unicode 13.0, after the tables of the normalisation crate
        // `tokenizers` uses.
        if scalar.value < 0xC0 || scalar.value == 0x11938 { return String(Character(scalar)).unicodeScalars }
        return String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars
    }
}
