import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stream of bytes read chunk by chunk: a file, its gunzipped content, or bytes in memory. Readers pull
/// from it so that no file has to be held whole unless its format is one JSON text.
public protocol ByteSource: AnyObject {
    /// The file the bytes come from (for errors).
    var file: String { get }
    /// Fills up to `buffer.count` bytes; returns how many, 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// The bytes of a file, read with POSIX `read` (never a `Data` of the whole file).
public final class FileSource: ByteSource {
    public let file: String
    private let descriptor: Int32

    public init(_ url: URL) throws {
        file = url.path
        descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DataReadError(file: file, message: "cannot read: \(String(cString: strerror(errno)))") }
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw DataReadError(file: file, message: "cannot read: it is a directory")
        }
    }

    deinit { close(descriptor) }

    /// Whether the file begins with `prefix` (read at offset 0 without moving the read position).
    public func starts(with prefix: [UInt8]) -> Bool {
        var head = [UInt8](repeating: 0, count: prefix.count)
        let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, prefix.count, 0) }
        return count == prefix.count && head == prefix
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw DataReadError(file: file, message: "cannot read: \(String(cString: strerror(errno)))") }
        }
    }
}

/// Bytes already in memory (tests, fuzzing, `parse(_ data:)` entries).
public final class MemorySource: ByteSource {
    public let file: String
    private let data: Data
    private var position: Int

    public init(_ data: Data, file: String) {
        self.data = data
        self.file = file
        position = data.startIndex
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, data.endIndex - position)
        if count > 0 { data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: position..<(position + count)) }
        position += count
        return count
    }
}

extension ByteSource {
    /// Everything left in the stream, refused past `limit` bytes (`what` says which limit, for the error).
    func readAll(limit: Int, what: String) throws -> Data {
        var result = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            guard result.count + count <= limit else {
                throw DataReadError(file: file, message: "holds more than \(what): refused before reading further")
            }
            result.append(contentsOf: chunk[0..<count])
        }
    }
}
