import Foundation

/// Writes a soft-label store (layout: `SoftLabelStoreFormat`) record by record, in window order.
///
/// Records go to a temporary file beside `url`; `finish()` writes the header (with the provenance as
/// it stands then: teachers' counts and statistics are known only once every window is scored), the
/// records and the footer into a second temporary file and renames it over `url`, so a reader never
/// sees a half-written store; a writer dropped without `finish()` removes its temporary files.
/// Exactly `provenance.recordCount` records must be appended.
public final class SoftLabelStoreWriter {
    public let url: URL
    public private(set) var provenance: SoftLabelProvenance
    /// Records appended so far.
    public private(set) var count = 0

    private let temporaryURL: URL
    private var handle: FileHandle?
    private var buffer: [UInt8] = []
    private var recordsChecksum = CRC32()
    private var finished = false

    /// Checks the provenance and creates the temporary file of the records.
    public init(url: URL, provenance: SoftLabelProvenance) throws {
        self.url = url
        self.provenance = provenance
        self.temporaryURL = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        if let shard = provenance.shard {
            guard shard.count >= 1, (1...shard.count).contains(shard.index), shard.firstWindow >= 0, shard.windowCount >= 0,
                  shard.firstWindow + shard.windowCount <= provenance.windowCount else {
                throw SoftLabelStoreError(.shard, file: url.path, message: "shard \(shard.index)/\(shard.count) of windows "
                                          + "\(shard.firstWindow)..<\(shard.firstWindow + shard.windowCount) does not fit "
                                          + "\(provenance.windowCount) windows")
            }
        }
        guard provenance.windowCount >= 0 else {
            throw SoftLabelStoreError(.invalidValue, file: url.path, message: "negative window count \(provenance.windowCount)")
        }
        _ = try Self.header(provenance, file: url.path)
        guard FileManager.default.createFile(atPath: temporaryURL.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporaryURL.path) else {
            throw SoftLabelStoreError(.io, file: url.path, message: "cannot create \(temporaryURL.path)")
        }
        self.handle = handle
    }

    /// The header bytes for `provenance`: magic, version, precision, the JSON block and its CRC.
    static func header(_ provenance: SoftLabelProvenance, file: String) throws -> [UInt8] {
        let json: [UInt8]
        do { json = try provenance.encoded() } catch {
            throw SoftLabelStoreError(.format, file: file, message: "cannot encode the provenance: \(error)")
        }
        var header = SoftLabelStoreFormat.magic
        header.appendLittleEndian(SoftLabelStoreFormat.version)
        header.append(SoftLabelStoreFormat.precisionCode(provenance.precision))
        header += [0, 0, 0]
        header.appendLittleEndian(UInt32(json.count))
        header += json
        header.appendLittleEndian(CRC32.checksum(header))
        return header
    }

    deinit {
        if !finished {
            try? handle?.close()
            try? FileManager.default.removeItem(at: temporaryURL)
        }
    }

    /// Appends the record of one window. `startLogProbs`/`endLogProbs` are the ensemble's
    /// log-probabilities over the window's real tokens (same length L ≥ 1, ≤ 65535), nil for a window no
    /// teacher scored (unlabelled; then give its `length`, else it is recorded as 0). -∞ and values below
    /// -10000 are stored as the floor -10000; NaN, +∞ and values above 10⁻³ are errors naming the window.
    public func append(key: String, windowIndex: Int, inputIdsHash: UInt64, startLogProbs: [Float]?,
                       endLogProbs: [Float]?, length: Int? = nil) throws {
        let label = "window \(count) (key \"\(key)\", window index \(windowIndex))"
        func invalid(_ message: String) -> SoftLabelStoreError {
            SoftLabelStoreError(.invalidValue, file: url.path, record: count, message: "\(label): \(message)")
        }
        guard !finished else { throw invalid("the store is already finished") }
        guard count < provenance.recordCount else {
            throw invalid("one record more than the \(provenance.recordCount) the provenance announces")
        }
        let keyBytes = Array(key.utf8)
        guard keyBytes.count <= Int(UInt16.max) else { throw invalid("key longer than 65535 bytes") }
        guard windowIndex >= 0 && windowIndex <= Int(UInt32.max) else { throw invalid("window index out of range") }
        guard (startLogProbs == nil) == (endLogProbs == nil) else {
            throw invalid("start and end log-probabilities must both be given or both be nil")
        }
        var values: [Float] = []
        var windowLength = length ?? 0
        if let start = startLogProbs, let end = endLogProbs {
            guard start.count == end.count, !start.isEmpty else {
                throw invalid("start has \(start.count) log-probabilities and end \(end.count); both need the window's length ≥ 1")
            }
            if let length, length != start.count {
                throw invalid("length \(length) but \(start.count) log-probabilities")
            }
            windowLength = start.count
            values = start + end
            for (position, value) in values.enumerated() where value.isNaN || value > 1e-3 {
                let row = position < start.count ? "start" : "end"
                throw invalid("\(row) log-probability at token \(position % start.count) is \(value), not a log-probability")
            }
        }
        guard windowLength >= 0 && windowLength <= Int(UInt16.max) else { throw invalid("length \(windowLength) out of range") }

        let recordStart = buffer.count
        let size = SoftLabelStoreFormat.recordOverhead + keyBytes.count + 2 * values.count
        buffer.appendLittleEndian(UInt32(size))
        buffer.appendLittleEndian(UInt32(windowIndex))
        buffer.appendLittleEndian(UInt16(windowLength))
        buffer.append(startLogProbs == nil ? 0 : 1)
        buffer.append(0)
        buffer.appendLittleEndian(inputIdsHash)
        buffer.appendLittleEndian(UInt16(keyBytes.count))
        buffer += keyBytes
        let precision = provenance.precision
        for value in values {
            buffer.appendLittleEndian(SoftLabelStoreFormat.encode(max(value, SoftLabelStoreFormat.logZeroFloor), precision))
        }
        let checksum = buffer.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[recordStart...])) }
        buffer.appendLittleEndian(checksum)
        buffer.withUnsafeBytes { recordsChecksum.update(UnsafeRawBufferPointer(rebasing: $0[recordStart...])) }
        count += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Appends records copied from another store (merging shards): `bytes` must be whole records,
    /// already verified by `SoftLabelStore`.
    func appendVerifiedRecords(_ bytes: UnsafeRawBufferPointer, count records: Int) throws {
        guard count + records <= provenance.recordCount else {
            throw SoftLabelStoreError(.shard, file: url.path, message: "the parts hold more than the \(provenance.recordCount) records announced")
        }
        recordsChecksum.update(bytes)
        buffer += bytes
        count += records
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes header, records and footer to `url` (atomically). `final` replaces the provenance given at
    /// the start — the teachers' counts and statistics gathered while scoring — and must agree with it
    /// on everything that ties the store to the student and its data and on the record count. Throws
    /// when fewer records than the provenance announces were appended.
    public func finish(provenance final: SoftLabelProvenance? = nil) throws {
        guard !finished else { return }
        if let final {
            if let field = final.mismatch(with: provenance) {
                throw SoftLabelStoreError(.invalidValue, file: url.path, field: field.field,
                                          message: "the final provenance changes \(field.field) from \(field.expected) to \(field.stored)")
            }
            guard final.recordCount == provenance.recordCount, final.precision == provenance.precision else {
                throw SoftLabelStoreError(.invalidValue, file: url.path, message: "the final provenance changes the record count or precision")
            }
            provenance = final
        }
        guard count == provenance.recordCount else {
            throw SoftLabelStoreError(.invalidValue, file: url.path,
                                      message: "\(count) records appended, but the provenance announces \(provenance.recordCount)")
        }
        buffer.appendLittleEndian(UInt64(count))
        buffer.appendLittleEndian(recordsChecksum.value)
        buffer += SoftLabelStoreFormat.endMagic
        try flush()
        do {
            try handle?.synchronize()
            try handle?.close()
        } catch {
            throw SoftLabelStoreError(.io, file: url.path, message: "cannot close \(temporaryURL.path): \(error.localizedDescription)")
        }
        handle = nil
        let complete = URL(fileURLWithPath: temporaryURL.path + ".complete")
        defer { try? FileManager.default.removeItem(at: temporaryURL); try? FileManager.default.removeItem(at: complete) }
        do {
            guard FileManager.default.createFile(atPath: complete.path, contents: Data(try Self.header(provenance, file: url.path))),
                  let output = FileHandle(forWritingAtPath: complete.path),
                  let input = FileHandle(forReadingAtPath: temporaryURL.path) else {
                throw SoftLabelStoreError(.io, file: url.path, message: "cannot create \(complete.path)")
            }
            defer { try? output.close(); try? input.close() }
            try output.seekToEnd()
            while let chunk = try input.read(upToCount: 1 << 22), !chunk.isEmpty { try output.write(contentsOf: chunk) }
            try output.synchronize()
        } catch let error as SoftLabelStoreError {
            throw error
        } catch {
            throw SoftLabelStoreError(.io, file: url.path, message: "cannot write \(complete.path): \(error.localizedDescription)")
        }
        guard rename(complete.path, url.path) == 0 else {
            throw SoftLabelStoreError(.io, file: url.path, message: "cannot rename \(complete.path) to it (errno \(errno))")
        }
        finished = true
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle?.write(contentsOf: buffer) } catch {
            throw SoftLabelStoreError(.io, file: url.path, message: "cannot write \(temporaryURL.path): \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
