import Foundation

/// Shared reading of the report's JSON-lines inputs (`rows.jsonl`, `metrics.jsonl`).
enum JSONLines {
    /// A decoder that also accepts the strings "nan", "inf" and "-inf" as numbers.
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// Decodes every non-blank line of `text`; a line that does not decode is a `ReportError` with
    /// its 1-based line number.
    static func decode<T: Decodable>(_ type: T.Type, from text: String, file: String, what: String) throws -> [T] {
        let decoder = decoder()
        var records: [T] = []
        // Split on "\n" only, keeping empty lines, so that line numbers match an editor's.
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            do {
                records.append(try decoder.decode(T.self, from: Data(trimmed.utf8)))
            } catch {
                throw ReportError(file: file, line: index + 1, message: "not \(what): \(describe(error))")
            }
        }
        return records
    }

    /// Reads a UTF-8 file, turning a failure into a `ReportError`.
    static func readText(_ url: URL) throws -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw ReportError(file: url.path, message: "cannot read: \(error.localizedDescription)")
        }
    }

    /// A one-line account of a decoding error: the key path and what was wrong.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing key \"\(key.stringValue)\"\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.debugDescription + path(context)
        @unknown default: return String(describing: error)
        }
    }
}
