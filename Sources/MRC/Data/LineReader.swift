import Foundation

/// The lines of a `ByteSource` (LF or CRLF ends; a final unterminated line counts), numbered from 1,
/// one at a time: only the current line is held. A line longer than `ReadLimits.maxRecordBytes`, or a
/// stream longer than `maxFileBytes`, is refused with the file and line number before it is read whole.
public struct LineReader {
    public let source: ByteSource
    private let limits: ReadLimits
    private var chunk: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false
    private var number = 0
    private var total = 0

    public init(_ source: ByteSource, limits: ReadLimits = .shared) {
        self.source = source
        self.limits = limits
        chunk = [UInt8](repeating: 0, count: 1 << 16)
    }

    /// The next line without its line end, or nil after the last.
    public mutating func next() throws -> (number: Int, bytes: Data)? {
        var line = Data()
        var sawAny = false
        while true {
            if start == end {
                if atEnd { break }
                end = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
                start = 0
                total += end
                if end == 0 { atEnd = true; break }
                guard total <= limits.maxFileBytes else {
                    throw DataReadError(file: source.file, location: "line \(number + 1)",
                                        message: "the file holds more than \(ReadLimits.describe(limits.maxFileBytes, option: "--max-file-mb")), the limit for one file")
                }
            }
            sawAny = true
            let newline = chunk[start..<end].firstIndex(of: 0x0A)
            let stop = newline ?? end
            guard line.count + (stop - start) <= limits.maxRecordBytes else {
                throw DataReadError(file: source.file, location: "line \(number + 1)",
                                    message: "is longer than \(ReadLimits.describe(limits.maxRecordBytes, option: "--max-record-mb")), the limit for one record")
            }
            line.append(contentsOf: chunk[start..<stop])
            if let newline {
                start = newline + 1
                return finish(line)
            }
            start = end
        }
        return sawAny ? finish(line) : nil
    }

    private mutating func finish(_ line: Data) -> (number: Int, bytes: Data) {
        number += 1
        var line = line
        if line.last == 0x0D { line.removeLast() }
        return (number, line)
    }
}
