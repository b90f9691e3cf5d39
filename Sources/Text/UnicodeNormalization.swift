import Foundation

/// The Unicode mappings of BertNormalizer, per scalar, as `tokenizers` computes them: NFD (for
/// `strip_accents`) from its normalisation crate, whose tables are Unicode 9.0, and Rust's
/// `char::to_lowercase` (current Unicode; full mapping, no locale, no context: Σ becomes σ).
enum UnicodeNormalization {
    /// Whether the normalisation crate knows the scalar; later scalars neither decompose nor
    /// combine (combining class 0).
    @inline(__always)
    private static func assignedByUnicode9(_ properties: Unicode.Scalar.Properties) -> Bool {
        guard let age = properties.age else { return false }
        return age.major <= 9
    }

    /// The canonical (NFD) decomposition of one scalar; already in canonical order.
    static func canonicalDecomposition(of scalar: Unicode.Scalar) -> String.UnicodeScalarView {
        // Scalars below U+00C0 have no canonical decomposition.
        if scalar.value < 0xC0 || !assignedByUnicode9(scalar.properties) {
            return String(Character(scalar)).unicodeScalars
        }
        return String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars
    }

    /// The canonical combining class that orders marks in NFD (0 for starters).
    @inline(__always)
    static func combiningClass(of scalar: Unicode.Scalar) -> UInt8 {
        let properties = scalar.properties
        return assignedByUnicode9(properties) ? properties.canonicalCombiningClass.rawValue : 0
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
