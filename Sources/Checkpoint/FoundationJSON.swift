import Foundation

/// `JSONSerialization.jsonObject`, without its silent loss of U+FEFF.
///
/// Foundation's parser drops a raw U+FEFF (ZERO WIDTH NO-BREAK SPACE, bytes EF BB BF) at the start of a
/// string and after an escape — shifting every character offset after it, which for SQuAD and MRQA
/// means answer spans pointing at the wrong text. An escaped `\uFEFF` survives, so every raw one past
/// the document's first bytes (where it is a byte-order mark, which Foundation rightly skips) is
/// rewritten to its escape first. Outside strings a raw U+FEFF is not JSON and its escape is not either,
/// so what is refused stays refused.
public enum FoundationJSON {
    public static func parse(_ data: Data, options: JSONSerialization.ReadingOptions = []) throws -> Any {
        try JSONSerialization.jsonObject(with: escapingByteOrderMarks(data), options: options)
    }

    /// `data` with each EF BB BF after offset 0 replaced by the six bytes `\uFEFF`.
    static func escapingByteOrderMarks(_ data: Data) -> Data {
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        var searchFrom = data.startIndex + (data.starts(with: mark) ? 3 : 0)
        guard var next = data[searchFrom...].firstRange(of: mark) else { return data }
        var result = Data(capacity: data.count + 16)
        result.append(data[data.startIndex..<searchFrom])
        while true {
            result.append(data[searchFrom..<next.lowerBound])
            result.append(contentsOf: Array("\\uFEFF".utf8))
            searchFrom = next.upperBound
            guard let found = data[searchFrom...].firstRange(of: mark) else { break }
            next = found
        }
        result.append(data[searchFrom...])
        return result
    }
}
