import Foundation

/// Builds a safetensors file the way Hugging Face writes one: an 8-byte little-endian header length, a
/// JSON header (`__metadata__` first, then each tensor with dtype, shape and data_offsets) padded with
/// spaces to a multiple of 8 bytes so that the data section is aligned, then the raw little-endian data in
/// the order the tensors were added.
public struct SafeTensorsWriter: Sendable {
    private struct Entry: Sendable {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let range: Range<Int>
    }

    public var metadata: [String: String]
    private var entries: [Entry] = []
    private var names: Set<String> = []
    private var payload = Data()

    /// `metadata` goes to `__metadata__`; Hugging Face expects `format: pt` there.
    public init(metadata: [String: String] = ["format": "pt"]) {
        self.metadata = metadata
    }

    /// Adds an F32 tensor; `values.count` must equal the product of `shape`.
    public mutating func add(_ name: String, shape: [Int], floats values: UnsafeBufferPointer<Float>) throws {
        try checkNew(name, shape: shape, count: values.count)
        let begin = payload.count
        #if _endian(little)
        payload.append(UnsafeBufferPointer(start: values.baseAddress, count: values.count))
        #else
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { payload.append(contentsOf: $0) } }
        #endif
        entries.append(Entry(name: name, dtype: .f32, shape: shape, range: begin..<payload.count))
    }

    /// Adds an F32 tensor from an array.
    public mutating func add(_ name: String, shape: [Int], floats values: [Float]) throws {
        try values.withUnsafeBufferPointer { try add(name, shape: shape, floats: $0) }
    }

    /// Adds an I32 tensor (ids, masks, positions).
    public mutating func add(_ name: String, shape: [Int], int32s values: [Int32]) throws {
        try checkNew(name, shape: shape, count: values.count)
        let begin = payload.count
        for value in values { withUnsafeBytes(of: value.littleEndian) { payload.append(contentsOf: $0) } }
        entries.append(Entry(name: name, dtype: .i32, shape: shape, range: begin..<payload.count))
    }

    private mutating func checkNew(_ name: String, shape: [Int], count: Int) throws {
        guard name != "__metadata__", !names.contains(name) else {
            throw CheckpointError.malformedTensor(file: "<safetensors writer>", tensor: name, reason: "added twice or reserved name")
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == count else {
            throw CheckpointError.malformedTensor(file: "<safetensors writer>", tensor: name,
                                                  reason: "shape \(shape) does not hold \(count) values")
        }
        names.insert(name)
    }

    /// The whole file.
    public func serialized() -> Data {
        var file = header()
        file.append(payload)
        return file
    }

    /// The length prefix and the JSON header, padded to 8 bytes: everything before the payload.
    func header() -> Data {
        var header = "{\"__metadata__\":{"
        header += metadata.keys.sorted().map { "\(jsonStringLiteral($0)):\(jsonStringLiteral(metadata[$0]!))" }.joined(separator: ",")
        header += "}"
        for entry in entries {
            header += ",\(jsonStringLiteral(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":["
            header += entry.shape.map(String.init).joined(separator: ",")
            header += "],\"data_offsets\":[\(entry.range.lowerBound),\(entry.range.upperBound)]}"
        }
        header += "}"
        var headerBytes = Data(header.utf8)
        let padding = (8 - headerBytes.count % 8) % 8
        headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: padding))
        var file = Data(capacity: 8 + headerBytes.count)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(headerBytes)
        return file
    }

    /// Writes the file atomically (a temporary file beside it, renamed), header then payload: the
    /// payload is not copied again (an optimizer state of 8 bytes per parameter would be held twice).
    public func write(to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CheckpointError.unwritable(file: url.path, reason: "cannot create \(temporary.path)")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try handle.write(contentsOf: header())
                try handle.write(contentsOf: payload)
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary.path, url.path) == 0 else {
                throw CheckpointError.unwritable(file: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let error as CheckpointError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
