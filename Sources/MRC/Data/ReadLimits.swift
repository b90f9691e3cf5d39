import Foundation

/// How much one data file may make the process hold: the longest single JSON text (a JSONL line, or a
/// whole `.json` file, which is parsed at once) and the most bytes a file may decompress to. A hostile or
/// damaged file that goes past a limit is refused with an error naming the file, the line and the limit,
/// before the memory is taken. The CLI sets them from `--max-record-mb` / `--max-file-mb`.
public struct ReadLimits: Sendable, Equatable {
    /// The longest JSON text held at once, in bytes.
    public var maxRecordBytes: Int
    /// The most bytes one file may hold once decompressed.
    public var maxFileBytes: Int

    public init(maxRecordBytes: Int, maxFileBytes: Int) {
        self.maxRecordBytes = maxRecordBytes
        self.maxFileBytes = maxFileBytes
    }

    /// 1 GiB per record (SQuAD v1.1 train is 30 MB in one text), 16 GiB per decompressed file.
    public static let standard = ReadLimits(maxRecordBytes: 1 << 30, maxFileBytes: 16 << 30)

    /// The limits every reader applies in this process.
    public static var shared: ReadLimits {
        get { box.lock.withLock { box.value } }
        set { box.lock.withLock { box.value = newValue } }
    }

    private final class Box: @unchecked Sendable {  // value guarded by lock
        let lock = NSLock()
        var value = ReadLimits.standard
    }
    private static let box = Box()

    /// "N MiB (--max-record-mb)" for error messages (bytes when not a whole number of MiB).
    static func describe(_ bytes: Int, option: String) -> String {
        (bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes") + " (\(option))"
    }
}
