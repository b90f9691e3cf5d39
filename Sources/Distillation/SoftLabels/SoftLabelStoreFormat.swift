import MRC

/// The soft-label store's binary layout (version 1). All integers are little-endian; offsets are bytes.
///
/// Header (H = 24 + P bytes):
///
///     0       8  magic "MRCSOFT\0" (4D 52 43 53 4F 46 54 00)
///     8       4  version, UInt32 = 1
///     12      1  precision, UInt8: 1 = fp16, 2 = bf16 (as the provenance's `precision`)
///     13      3  zero
///     16      4  P, UInt32: length of the provenance JSON
///     20      P  provenance: `SoftLabelProvenance` as JSON, UTF-8, sorted keys, no whitespace
///     20+P    4  CRC-32 of bytes 0 ..< 20+P
///
/// Records, from offset H: exactly `provenance.recordCount` of them, one per window in the student's
/// window order. A record refers to nothing outside itself, so the records of contiguous shards,
/// concatenated, are byte for byte the records of the unsharded file:
///
///     +0      4  n, UInt32: the record's length in bytes, this field and the CRC included
///     +4      4  window index (among its example's windows), UInt32
///     +8      2  L, UInt16: the window's real tokens
///     +10     1  flags, UInt8: bit 0 = labelled (some teacher scored the window); other bits 0
///     +11     1  zero
///     +12     8  hash of the window's L real input ids (`inputIdsHash`), UInt64
///     +20     2  K, UInt16: length of the example key
///     +22     K  example key (`MRCExample.predictionKey`), UTF-8
///     +22+K   4L labelled only: L start log-probabilities, then L end log-probabilities, 16 bits
///                each (fp16 or bf16); log 0 (and anything below) is stored as the floor -10000
///                (fp16 holds it exactly, bf16 as -9984). Unlabelled records hold no values.
///     n-4     4  CRC-32 of the record's bytes +0 ..< n-4
///
/// Footer, the last 16 bytes:
///
///     +0      8  record count, UInt64 (= `provenance.recordCount`)
///     +8      4  CRC-32 of all record bytes (H ..< footer)
///     +12     4  end magic "MRCE"
///
/// The values are ensemble log-probabilities over the window's real tokens, at the provenance's
/// temperature; `exp` of each row sums to 1 up to the 16-bit rounding.
public enum SoftLabelStoreFormat {
    public static let magic: [UInt8] = Array("MRCSOFT\0".utf8)
    public static let endMagic: [UInt8] = Array("MRCE".utf8)
    public static let version: UInt32 = 1
    /// Bytes of the header before the provenance JSON.
    static let fixedHeaderSize = 20
    /// Bytes of a record without its key and values.
    static let recordOverhead = 26
    static let footerSize = 16
    /// What log 0 is stored as; values are clamped to it from below.
    public static let logZeroFloor: Float = -10000

    static func precisionCode(_ precision: SoftLabelProvenance.Precision) -> UInt8 {
        precision == .fp16 ? 1 : 2
    }

    /// A 16-bit pattern of `value` (round to nearest, ties to even).
    @inline(__always)
    static func encode(_ value: Float, _ precision: SoftLabelProvenance.Precision) -> UInt16 {
        switch precision {
        case .fp16:
            return Float16(value).bitPattern
        case .bf16:
            let bits = value.bitPattern
            return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
        }
    }

    /// The Float a 16-bit pattern stands for.
    @inline(__always)
    static func decode(_ bits: UInt16, _ precision: SoftLabelProvenance.Precision) -> Float {
        switch precision {
        case .fp16: return Float(Float16(bitPattern: bits))
        case .bf16: return Float(bitPattern: UInt32(bits) << 16)
        }
    }

    /// FNV-1a 64 of the ids' little-endian bytes: ties a record to the window it was made for.
    public static func inputIdsHash<C: Collection>(_ ids: C) -> UInt64 where C.Element == Int32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids {
            var value = UInt32(bitPattern: id)
            for _ in 0..<4 {
                hash ^= UInt64(value & 0xFF)
                hash &*= 0x0000_0100_0000_01B3
                value >>= 8
            }
        }
        return hash
    }

    /// The hash of a window's real input ids (`inputIds[0..<length]`).
    public static func inputIdsHash(of window: Window) -> UInt64 {
        inputIdsHash(window.inputIds[0..<window.length])
    }
}

/// Appending little-endian integers to a byte buffer.
extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Why a soft-label store could not be written, read, checked or merged: the file, and where in it
/// (byte offset, record number) when the fault is at a place.
public struct SoftLabelStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case io, format, truncated, checksum, invalidValue, provenanceMismatch, shard
    }

    public var kind: Kind
    public var file: String
    /// 0-based record number, when the fault is in (or about) one record.
    public var record: Int?
    /// Byte offset in the file where the fault is.
    public var offset: Int?
    /// The provenance field that differs (`provenanceMismatch`).
    public var field: String?
    public var message: String

    public init(_ kind: Kind, file: String, record: Int? = nil, offset: Int? = nil, field: String? = nil, message: String) {
        self.kind = kind
        self.file = file
        self.record = record
        self.offset = offset
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = file
        if let record { text += ", record \(record)" }
        if let offset { text += (record == nil ? ", at" : " at") + " byte offset \(offset)" }
        if let field { text += ", field `\(field)`" }
        return text + ": " + message
    }
}
