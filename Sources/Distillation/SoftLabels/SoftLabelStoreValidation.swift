import Foundation

/// Opening a store: the header and record walk that `SoftLabelStore.init` runs, every failure located.
extension SoftLabelStore {
    /// The provenance and the offset of the first record; validates magic, version, precision,
    /// provenance JSON and the header CRC.
    static func readHeader(_ bytes: UnsafeRawBufferPointer, file: String) throws -> (SoftLabelProvenance, Int) {
        func fail(_ kind: SoftLabelStoreError.Kind, _ offset: Int, _ message: String) -> SoftLabelStoreError {
            SoftLabelStoreError(kind, file: file, offset: offset, message: message)
        }
        let fixed = SoftLabelStoreFormat.fixedHeaderSize
        guard bytes.count >= fixed else {
            throw fail(.truncated, bytes.count, "the file ends inside the \(fixed)-byte fixed header (size \(bytes.count))")
        }
        guard Array(bytes[0..<8]) == SoftLabelStoreFormat.magic else {
            throw fail(.format, 0, "not a soft-label store (bad magic \(Array(bytes[0..<8]).map { String($0, radix: 16) }))")
        }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == SoftLabelStoreFormat.version else {
            throw fail(.format, 8, "version \(version); this build reads version \(SoftLabelStoreFormat.version)")
        }
        let precisionCode = bytes[12]
        guard precisionCode == 1 || precisionCode == 2, bytes[13] == 0, bytes[14] == 0, bytes[15] == 0 else {
            throw fail(.format, 12, "bad precision code \(precisionCode) or non-zero reserved bytes")
        }
        let jsonLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        let recordsStart = fixed + jsonLength + 4
        guard recordsStart <= bytes.count else {
            throw fail(.truncated, bytes.count, "the file (size \(bytes.count)) ends inside the header, "
                       + "whose provenance of \(jsonLength) bytes and CRC need \(recordsStart) bytes")
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: fixed + jsonLength, as: UInt32.self))
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(fixed + jsonLength)]))
        guard stored == computed else {
            throw fail(.checksum, fixed + jsonLength, "header CRC mismatch (stored \(hex(stored)), computed \(hex(computed)))")
        }
        let provenance: SoftLabelProvenance
        do {
            provenance = try JSONDecoder().decode(SoftLabelProvenance.self, from: Data(bytes[fixed..<(fixed + jsonLength)]))
        } catch {
            throw fail(.format, fixed, "unreadable provenance JSON: \(error)")
        }
        guard SoftLabelStoreFormat.precisionCode(provenance.precision) == precisionCode else {
            throw fail(.format, 12, "precision code \(precisionCode) disagrees with the provenance's \(provenance.precision.rawValue)")
        }
        guard provenance.recordCount >= 0,
              provenance.recordCount <= (bytes.count - recordsStart) / SoftLabelStoreFormat.recordOverhead else {
            throw fail(.truncated, bytes.count, "the provenance announces \(provenance.recordCount) records; "
                       + "the file (size \(bytes.count)) cannot hold them")
        }
        return (provenance, recordsStart)
    }

    /// The offsets of the records and of the footer; checks each record's framing and (with `verify`)
    /// its CRC, then the footer.
    static func indexRecords(_ bytes: UnsafeRawBufferPointer, from recordsStart: Int, provenance: SoftLabelProvenance,
                             file: String, verify: Bool) throws -> [Int] {
        let expected = provenance.recordCount
        var offsets: [Int] = []
        offsets.reserveCapacity(expected + 1)
        var offset = recordsStart
        var allRecords = CRC32()
        for record in 0..<expected {
            func fail(_ kind: SoftLabelStoreError.Kind, _ at: Int, _ message: String) -> SoftLabelStoreError {
                SoftLabelStoreError(kind, file: file, record: record, offset: at, message: message)
            }
            let overhead = SoftLabelStoreFormat.recordOverhead
            guard offset + overhead <= bytes.count else {
                throw fail(.truncated, offset, "the file (size \(bytes.count)) ends inside record \(record) of \(expected)")
            }
            let size = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            guard offset + size <= bytes.count else {
                throw fail(.truncated, offset, "record of \(size) bytes runs past the end of the file (size \(bytes.count))")
            }
            let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt16.self)))
            let flags = bytes[offset + 10]
            let keyLength = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 20, as: UInt16.self)))
            let valueBytes = flags & 1 != 0 ? 4 * length : 0
            guard size == overhead + keyLength + valueBytes, flags & ~1 == 0, bytes[offset + 11] == 0 else {
                throw fail(.format, offset, "inconsistent record: \(size) bytes for a \(keyLength)-byte key, "
                           + "\(length) tokens, flags \(flags)")
            }
            let record = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)])
            if verify {
                let stored = UInt32(littleEndian: record.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self))
                let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: record[0..<(size - 4)]))
                guard stored == computed else {
                    throw fail(.checksum, offset, "record CRC mismatch (stored \(hex(stored)), computed \(hex(computed)))")
                }
                allRecords.update(record)
            }
            offsets.append(offset)
            offset += size
        }
        offsets.append(offset)
        let footerSize = SoftLabelStoreFormat.footerSize
        func fail(_ kind: SoftLabelStoreError.Kind, _ at: Int, _ message: String) -> SoftLabelStoreError {
            SoftLabelStoreError(kind, file: file, offset: at, message: message)
        }
        guard offset + footerSize <= bytes.count else {
            throw fail(.truncated, offset, "the file (size \(bytes.count)) ends inside the \(footerSize)-byte footer after \(expected) records")
        }
        guard offset + footerSize == bytes.count else {
            throw fail(.format, offset + footerSize, "\(bytes.count - offset - footerSize) unexpected bytes after the footer")
        }
        let count = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        guard count == UInt64(expected), Array(bytes[(offset + 12)..<(offset + 16)]) == SoftLabelStoreFormat.endMagic else {
            throw fail(.format, offset, "bad footer: record count \(count) (the provenance announces \(expected)) or end magic")
        }
        if verify {
            let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
            guard stored == allRecords.value else {
                throw fail(.checksum, offset + 8, "CRC of all records mismatch (stored \(hex(stored)), computed \(hex(allRecords.value)))")
            }
        }
        return offsets
    }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}
