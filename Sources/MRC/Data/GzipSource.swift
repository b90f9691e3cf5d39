import CZlib
import Foundation

/// The decompressed bytes of gzip data, inflated in process by zlib as they are read.
///
/// Several members one after another (what `cat a.gz b.gz` makes) read as one stream, and zero bytes
/// after the last member (block padding) are ignored, as `gzip -dc` does. Errors name the file and the
/// byte offset in the compressed file where zlib stopped (the damage lies at or just before it): corrupt
/// data (zlib's reason), data that ends inside a member (a truncated file), other bytes after the last
/// member, and output past `ReadLimits.maxFileBytes` (a decompression bomb).
public final class GzipSource: ByteSource {
    public let file: String
    private let inner: ByteSource
    private let limit: Int
    private var stream = z_stream()
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity = 1 << 16
    /// Compressed offset of `input[0]`, and valid bytes in `input`.
    private var inputBase = 0
    private var inputCount = 0
    private var innerEnded = false
    private var inMember = true
    private var finished = false
    private var produced = 0

    public init(_ inner: ByteSource, limit: Int = ReadLimits.shared.maxFileBytes) throws {
        self.inner = inner
        self.file = inner.file
        self.limit = limit
        input = .allocate(capacity: inputCapacity)
        // 16 + 15: a gzip wrapper (not zlib or raw deflate), 32 KB window.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            input.deallocate()
            throw DataReadError(file: file, message: "cannot start zlib's inflate")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// Offset in the compressed file of the next byte zlib would read.
    private var offset: Int { inputBase + inputCount - Int(stream.avail_in) }

    private func refill() throws {
        inputBase += inputCount
        inputCount = try inner.read(into: UnsafeMutableRawBufferPointer(start: input, count: inputCapacity))
        if inputCount == 0 { innerEnded = true }
        stream.next_in = input
        stream.avail_in = UInt32(inputCount)
    }

    private func failure(_ message: String) -> DataReadError {
        DataReadError(file: file, message: "gzip data \(message) at byte offset \(offset) of the compressed file")
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var written = 0
        while written < buffer.count && !finished {
            if stream.avail_in == 0 && !innerEnded { try refill() }
            if !inMember {
                // Between members: zero padding, another member, or the end.
                while stream.avail_in > 0 && stream.next_in.pointee == 0 { stream.next_in += 1; stream.avail_in -= 1 }
                if stream.avail_in == 0 {
                    if innerEnded { finished = true }
                    continue
                }
                guard stream.next_in.pointee == 0x1F else { throw failure("is followed by bytes that are not another gzip member") }
                inflateReset(&stream)
                inMember = true
            }
            stream.next_out = base.assumingMemoryBound(to: UInt8.self) + written
            stream.avail_out = UInt32(buffer.count - written)
            let status = inflate(&stream, Z_NO_FLUSH)
            written = buffer.count - Int(stream.avail_out)
            switch status {
            case Z_STREAM_END:
                inMember = false
            case Z_OK:
                break
            case Z_BUF_ERROR where stream.avail_in == 0 && innerEnded:
                throw failure("ends inside a member (the file is truncated)")
            case Z_BUF_ERROR:
                break
            case Z_MEM_ERROR:
                throw failure("needs more memory than zlib could get")
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                throw failure("is corrupt (\(reason))")
            }
        }
        produced += written
        guard produced <= limit else {
            throw DataReadError(file: file, message: "decompresses to more than \(ReadLimits.describe(limit, option: "--max-file-mb")), the limit for one file; refused at byte offset \(offset) of the compressed file")
        }
        return written
    }
}
