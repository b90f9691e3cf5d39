import Foundation

/// Reading a data file's bytes, gunzipping `.gz` content (recognised by its magic bytes) in process with
/// zlib (`GzipSource`), within the process's `ReadLimits`. Errors are `DataReadError`s naming the file.
public enum DataFile {
    /// A stream of the file's bytes, gunzipped when they are gzip data.
    public static func source(of url: URL, limits: ReadLimits = .shared) throws -> ByteSource {
        let file = try FileSource(url)
        return file.starts(with: [0x1F, 0x8B]) ? try GzipSource(file, limit: limits.maxFileBytes) : file
    }

    /// The whole file (gunzipped), for formats that are one JSON text: refused past `maxRecordBytes`.
    public static func contents(of url: URL, limits: ReadLimits = .shared) throws -> Data {
        try source(of: url, limits: limits).readAll(
            limit: limits.maxRecordBytes,
            what: "\(ReadLimits.describe(limits.maxRecordBytes, option: "--max-record-mb")), the limit for one JSON text (a .json file is read as one)")
    }

    /// The file's lines (gunzipped), read one at a time.
    public static func lines(of url: URL, limits: ReadLimits = .shared) throws -> LineReader {
        LineReader(try source(of: url, limits: limits), limits: limits)
    }

    /// The dataset name a file stands for: its name without `.gz`, `.jsonl`, `.json`.
    public static func stem(of url: URL) -> String {
        var name = url.lastPathComponent
        for suffix in [".gz", ".jsonl", ".json"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        return name
    }
}
