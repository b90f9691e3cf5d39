import Foundation

/// One tensor's entry in a safetensors header.
public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range in the data section (which starts right after the header).
    public let dataRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file read into memory (memory-mapped when the system allows) with its header fully
/// validated: the 8-byte little-endian header length fits the file, the header is a JSON object, every
/// tensor has a known dtype, a non-negative shape and `data_offsets` whose length is shape × dtype size,
/// lying inside the data section and not overlapping another tensor's.
public struct SafeTensorsFile: @unchecked Sendable {  // Data is immutable here
    /// The file name used in error messages.
    public let source: String
    /// String metadata from `__metadata__` (Hugging Face writes `{"format": "pt"}`).
    public let metadata: [String: String]
    /// Tensors by name.
    public let tensors: [String: SafeTensorInfo]
    private let data: Data
    private let dataStart: Int

    /// The longest header the reader parses (safetensors' own `MAX_HEADER_SIZE`, 100 MB).
    public static let maxHeaderBytes: UInt64 = 100_000_000

    /// Tensor names in the order of their data in the file.
    public var names: [String] {
        tensors.values.sorted { $0.dataRange.lowerBound < $1.dataRange.lowerBound }.map(\.name)
    }

    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws {
        let data = try CheckpointError.contents(of: url, options: .alwaysMapped)
        try self.init(data: data, source: url.path)
    }

    /// Validates the safetensors bytes in `data`; `source` names them in errors.
    public init(data: Data, source: String) throws {
        self.source = source
        self.data = data
        func bad(_ reason: String) -> CheckpointError { .malformedHeader(file: source, reason: reason) }
        guard data.count >= 8 else {
            throw bad("file has \(data.count) bytes, fewer than the 8-byte header length")
        }
        let headerLength = data.withUnsafeBytes { raw in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw bad("header length \(headerLength) runs past the end of the \(data.count)-byte file")
        }
        guard headerLength >= 2 else { throw bad("header length \(headerLength) is too short for a JSON object") }
        // The reference implementation's limit: no real header comes near it (MiniLM's is 20 KB).
        guard headerLength <= Self.maxHeaderBytes else {
            throw bad("header length \(headerLength) exceeds the format's limit of \(Self.maxHeaderBytes) bytes")
        }
        let headerStart = data.startIndex + 8
        dataStart = headerStart + Int(headerLength)
        let headerBytes = data[headerStart..<dataStart]
        let json: Any
        do {
            json = try FoundationJSON.parse(headerBytes)
        } catch {
            throw bad("header is not valid JSON at \(JSONSyntax.explain(Data(headerBytes), refusal: error)) (header bytes from offset 8)")
        }
        guard let object = json as? [String: Any] else { throw bad("header is not a JSON object") }
        let dataSize = data.endIndex - dataStart

        var metadata: [String: String] = [:]
        var tensors: [String: SafeTensorInfo] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let entries = value as? [String: Any] else { throw bad("__metadata__ is not an object") }
                for (key, entry) in entries {
                    guard let string = entry as? String else { throw bad("__metadata__ value '\(key)' is not a string") }
                    metadata[key] = string
                }
                continue
            }
            tensors[name] = try Self.parseEntry(name: name, value: value, dataSize: dataSize, source: source)
        }
        // As in the reference implementation, the tensors tile the data section: no two share bytes, no
        // bytes lie between them or after the last one (a sign of a damaged or mis-written file).
        let ordered = tensors.values.sorted { ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound) }
        var covered = 0
        for tensor in ordered {
            let range = tensor.dataRange
            if range.lowerBound < covered {
                let previous = ordered.last { $0.dataRange.upperBound > range.lowerBound && $0.name != tensor.name }!
                throw CheckpointError.malformedTensor(
                    file: source, tensor: tensor.name,
                    reason: "data_offsets \(range) overlap those of '\(previous.name)' \(previous.dataRange)")
            }
            if range.lowerBound > covered {
                throw CheckpointError.malformedTensor(file: source, tensor: tensor.name,
                                                      reason: "data_offsets \(range) leave bytes \(covered)..<\(range.lowerBound) unused")
            }
            covered = range.upperBound
        }
        guard covered == dataSize else {
            throw bad("the tensors end at byte \(covered) of the \(dataSize)-byte data section")
        }
        self.metadata = metadata
        self.tensors = tensors
    }

    private static func parseEntry(name: String, value: Any, dataSize: Int, source: String) throws -> SafeTensorInfo {
        func bad(_ reason: String) -> CheckpointError { .malformedTensor(file: source, tensor: name, reason: reason) }
        guard let entry = value as? [String: Any] else { throw bad("header entry is not an object") }
        guard let dtypeName = entry["dtype"] as? String else { throw bad("missing or non-string 'dtype'") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw CheckpointError.unsupportedDType(file: source, tensor: name, dtype: dtypeName)
        }
        guard let shapeValues = entry["shape"] as? [Any] else { throw bad("missing or non-array 'shape'") }
        var shape: [Int] = []
        for dimension in shapeValues {
            guard let number = dimension as? NSNumber, let size = Int(exactly: number.doubleValue), size >= 0 else {
                throw bad("shape \(shapeValues) holds something other than non-negative integers")
            }
            shape.append(size)
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
              let beginNumber = offsets[0] as? NSNumber, let endNumber = offsets[1] as? NSNumber,
              let begin = Int(exactly: beginNumber.doubleValue), let end = Int(exactly: endNumber.doubleValue) else {
            throw bad("'data_offsets' is not a pair of integers")
        }
        guard 0 <= begin, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are not an ascending pair") }
        guard end <= dataSize else {
            throw bad("data_offsets [\(begin), \(end)] run past the \(dataSize)-byte data section")
        }
        let (count, overflow) = shape.reduce((1, false)) { partial, size in
            let product = partial.0.multipliedReportingOverflow(by: size)
            return (product.partialValue, partial.1 || product.overflow)
        }
        guard !overflow, count.multipliedReportingOverflow(by: dtype.byteSize).overflow == false,
              count * dtype.byteSize == end - begin else {
            throw bad("shape \(shape) of \(dtypeName) needs \(overflow ? "too many" : String(count * dtype.byteSize)) bytes, data_offsets give \(end - begin)")
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    /// The entry for `name`, or `CheckpointError.missingTensor`.
    public func info(_ name: String) throws -> SafeTensorInfo {
        guard let info = tensors[name] else { throw CheckpointError.missingTensor(file: source, tensor: name) }
        return info
    }

    /// Converts tensor `name` (F32, F16 or BF16) to Float, writing `elementCount` values to `destination`.
    public func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try info(name)
        guard destination.count == info.elementCount else {
            throw CheckpointError.malformedTensor(
                file: source, tensor: name,
                reason: "has \(info.elementCount) elements, destination holds \(destination.count)")
        }
        let start = dataStart + info.dataRange.lowerBound
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[(start - data.startIndex)...])
            switch info.dtype {
            case .f32:
                #if _endian(little)
                if let target = destination.baseAddress, let origin = bytes.baseAddress, info.elementCount > 0 {
                    target.withMemoryRebound(to: UInt8.self, capacity: 4 * info.elementCount) {
                        $0.update(from: origin.assumingMemoryBound(to: UInt8.self), count: 4 * info.elementCount)
                    }
                }
                #else
                for i in 0..<info.elementCount {
                    destination[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
                #endif
            case .f16:
                for i in 0..<info.elementCount {
                    destination[i] = floatFromHalfBits(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<info.elementCount {
                    destination[i] = floatFromBFloat16Bits(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            default:
                break
            }
        }
        guard [.f32, .f16, .bf16].contains(info.dtype) else {
            throw CheckpointError.unsupportedDType(file: source, tensor: name, dtype: info.dtype.rawValue + " (expected F32, F16 or BF16)")
        }
    }

    /// Tensor `name` (F32, F16 or BF16) as Floats.
    public func floats(_ name: String) throws -> [Float] {
        let count = try info(name).elementCount
        var result = [Float](repeating: 0, count: count)
        try result.withUnsafeMutableBufferPointer { try readFloats(name, into: $0) }
        return result
    }

    /// Tensor `name` (I32 or I64, values that fit in Int32) as Int32s: token ids, masks, positions.
    public func int32s(_ name: String) throws -> [Int32] {
        let info = try info(name)
        guard info.dtype == .i32 || info.dtype == .i64 else {
            throw CheckpointError.unsupportedDType(file: source, tensor: name, dtype: info.dtype.rawValue + " (expected I32 or I64)")
        }
        let start = dataStart + info.dataRange.lowerBound - data.startIndex
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Int32] in
            try (0..<info.elementCount).map { i in
                if info.dtype == .i32 {
                    return Int32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: Int32.self))
                }
                let wide = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: Int64.self))
                guard let narrow = Int32(exactly: wide) else {
                    throw CheckpointError.malformedTensor(file: source, tensor: name, reason: "value \(wide) at \(i) does not fit in Int32")
                }
                return narrow
            }
        }
    }
}
