import Foundation

/// Reading a data file's bytes, gunzipping `.gz` content (recognised by its magic bytes).
///
/// Foundation on Linux has no gzip codec; rather than link zlib, the system `gzip -dc` decompresses
/// (MRQA files are a few MB compressed). Its failure becomes a `DataReadError` naming the file.
public enum DataFile {
    /// The file's bytes, gunzipped when they are gzip data; errors name the file.
    public static func contents(of url: URL) throws -> Data {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DataReadError(file: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        if data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b {
            return try gunzip(url)
        }
        return data
    }

    /// The dataset name a file stands for: its name without `.gz`, `.jsonl`, `.json`.
    public static func stem(of url: URL) -> String {
        var name = url.lastPathComponent
        for suffix in [".gz", ".jsonl", ".json"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
        }
        return name
    }

    static func gunzip(_ url: URL) throws -> Data {
        guard let gzip = ["/bin/gzip", "/usr/bin/gzip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw DataReadError(file: url.path, message: "is gzip-compressed, and no gzip executable was found")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gzip)
        process.arguments = ["-dc", url.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw DataReadError(file: url.path, message: "cannot run \(gzip): \(error.localizedDescription)")
        }
        // Drain stdout before waiting, or gzip blocks on a full pipe.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw DataReadError(file: url.path, message: "gzip data is corrupt (\(text))")
        }
        return data
    }

    /// Splits `data` into lines (LF or CRLF), with 1-based line numbers; a final unterminated line counts.
    static func lines(_ data: Data) -> [(number: Int, bytes: Data)] {
        var lines: [(number: Int, bytes: Data)] = []
        var start = data.startIndex
        var number = 0
        while start < data.endIndex {
            number += 1
            let newline = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            var end = newline
            if end > start && data[end - 1] == 0x0D { end -= 1 }
            lines.append((number, data[start..<end]))
            start = newline < data.endIndex ? newline + 1 : data.endIndex
        }
        return lines
    }
}
