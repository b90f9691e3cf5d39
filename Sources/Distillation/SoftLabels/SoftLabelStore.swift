import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A soft-label store opened for reading (layout: `SoftLabelStoreFormat`).
///
/// The file is memory-mapped (POSIX `mmap`, unmapped on deinit). Opening validates the header (magic,
/// version, provenance JSON, header CRC), walks the records to index their offsets, checks each
/// record's length and fields and, with `verify` (the default), its CRC, then the footer (record count,
/// CRC of all records, end magic). A truncated or corrupt file is a `SoftLabelStoreError` naming the
/// file, the byte offset and the record where it breaks.
public final class SoftLabelStore {
    public let url: URL
    public let provenance: SoftLabelProvenance
    /// Byte size of the file.
    public let fileSize: Int
    private let base: UnsafeRawPointer
    private let mappedSize: Int
    /// Offset of each record, and one past the last record (the footer's offset).
    private let offsets: [Int]

    /// Maps and validates the store at `url`.
    public init(url: URL, verify: Bool = true) throws {
        self.url = url
        let file = url.path
        let descriptor = open(file, O_RDONLY)
        guard descriptor >= 0 else {
            throw SoftLabelStoreError(.io, file: file, message: "cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SoftLabelStoreError(.io, file: file, message: "cannot stat (\(String(cString: strerror(errno))))")
        }
        let size = Int(status.st_size)
        guard size > 0 else { throw SoftLabelStoreError(.truncated, file: file, offset: 0, message: "the file is empty") }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw SoftLabelStoreError(.io, file: file, message: "cannot mmap (\(String(cString: strerror(errno))))")
        }
        let base = UnsafeRawPointer(mapped)
        do {
            let bytes = UnsafeRawBufferPointer(start: base, count: size)
            let (provenance, recordsStart) = try SoftLabelStore.readHeader(bytes, file: file)
            self.offsets = try SoftLabelStore.indexRecords(bytes, from: recordsStart, provenance: provenance,
                                                           file: file, verify: verify)
            self.provenance = provenance
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.base = base
        self.mappedSize = size
        self.fileSize = size
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), mappedSize)
    }

    /// Number of records (windows).
    public var count: Int { offsets.count - 1 }

    /// Byte offset of record `index` in the file (diagnostics).
    public func recordOffset(at index: Int) -> Int { offsets[index] }

    /// The example key of record `index`.
    public func key(at index: Int) -> String {
        let offset = offsets[index]
        let length = Int(u16(offset + 20))
        return String(decoding: UnsafeRawBufferPointer(start: base + offset + 22, count: length), as: UTF8.self)
    }

    /// The window's index among its example's windows.
    public func windowIndex(at index: Int) -> Int { Int(u32(offsets[index] + 4)) }

    /// The window's number of real tokens L.
    public func length(at index: Int) -> Int { Int(u16(offsets[index] + 8)) }

    /// Hash of the window's real input ids (`SoftLabelStoreFormat.inputIdsHash`).
    public func inputIdsHash(at index: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offsets[index] + 12, as: UInt64.self))
    }

    /// Whether some teacher scored the window (the record holds log-probabilities).
    public func isLabelled(at index: Int) -> Bool { base.load(fromByteOffset: offsets[index] + 10, as: UInt8.self) & 1 != 0 }

    /// Fills `start[0..<L]` and `end[0..<L]` with the record's log-probabilities (the floor -10000, or
    /// -9984 in bf16, stands for log 0) and returns true; returns false, leaving the buffers alone, for an
    /// unlabelled record. The buffers must hold at least `length(at: index)` values.
    @discardableResult
    public func logProbabilities(at index: Int, start: inout [Float], end: inout [Float]) -> Bool {
        guard isLabelled(at: index) else { return false }
        let length = self.length(at: index)
        precondition(start.count >= length && end.count >= length,
                     "buffers of \(start.count) and \(end.count) values for a window of \(length) tokens")
        let values = base + offsets[index] + 22 + Int(u16(offsets[index] + 20))
        let precision = provenance.precision
        start.withUnsafeMutableBufferPointer { start in
            for position in 0..<length {
                let bits = UInt16(littleEndian: values.loadUnaligned(fromByteOffset: 2 * position, as: UInt16.self))
                start[position] = SoftLabelStoreFormat.decode(bits, precision)
            }
        }
        end.withUnsafeMutableBufferPointer { end in
            for position in 0..<length {
                let bits = UInt16(littleEndian: values.loadUnaligned(fromByteOffset: 2 * (length + position), as: UInt16.self))
                end[position] = SoftLabelStoreFormat.decode(bits, precision)
            }
        }
        return true
    }

    /// Refuses a store made for other windows: throws `provenanceMismatch` naming the first differing
    /// field (vocabulary hash, lower_case, window settings, data fingerprint, window count) with both values.
    public func check(expected: SoftLabelProvenance) throws {
        if let difference = provenance.mismatch(with: expected) {
            throw SoftLabelStoreError(.provenanceMismatch, file: url.path, field: difference.field,
                                      message: "the store was made with \(difference.field) = \(difference.stored), "
                                          + "the student's data has \(difference.field) = \(difference.expected)")
        }
    }

    /// The bytes of records `range`, for merging.
    func recordBytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + offsets[range.lowerBound], count: offsets[range.upperBound] - offsets[range.lowerBound])
    }

    private func u16(_ offset: Int) -> UInt16 { UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    private func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
}
