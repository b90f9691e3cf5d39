import Foundation

/// The two Unicode mappings of BertNormalizer, per scalar, as `tokenizers` computes them: the
/// canonical decomposition (for `strip_accents`) and Rust's `char::to_lowercase` (full mapping,
/// no locale, no context: Σ always becomes σ).
enum UnicodeNormalization {
    /// The canonical (NFD) decomposition of one scalar; already in canonical order.
    static func canonicalDecomposition(of scalar: Unicode.Scalar) -> String.UnicodeScalarView {
        // Scalars below U+00C0 have no canonical decomposition. U+11938 DIVES AKURU VOWEL SIGN O
        // got its decomposition in Unicode 13.0, after the tables of the normalisation crate
        // `tokenizers` uses.
        if scalar.value < 0xC0 || scalar.value == 0x11938 { return String(Character(scalar)).unicodeScalars }
        return String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars
    }

    /// Appends the full lowercase mapping of `scalar` (one to three scalars) to `output`.
    @inline(__always)
    static func appendLowercase(of scalar: Unicode.Scalar, to output: inout [Unicode.Scalar]) {
        if scalar.isASCII {
            let value = scalar.value
            output.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(value + 0x20)! : scalar)
        } else if scalar.properties.changesWhenLowercased {
            output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        } else {
            output.append(scalar)
        }
    }
}
