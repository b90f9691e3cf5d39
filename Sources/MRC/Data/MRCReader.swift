import Foundation

/// Reads SQuAD JSON or MRQA jsonl(.gz), choosing by file name: `.json` (or `.json.gz`) is SQuAD,
/// `.jsonl` / `.jsonl.gz` is MRQA.
public enum MRCReader {
    /// Reads `url` with `SQuADReader` or `MRQAReader`; the dataset is named after the MRQA header or the file.
    /// `strict` turns the first record the reader would skip into an error (`--strict`).
    public static func read(_ url: URL, strict: Bool = false) throws -> MRCDataset {
        let dataset = try read(url)
        if strict { try dataset.report.requireNothingSkipped() }
        return dataset
    }

    private static func read(_ url: URL) throws -> MRCDataset {
        let name = url.lastPathComponent
        if name.hasSuffix(".jsonl") || name.hasSuffix(".jsonl.gz") {
            return try MRQAReader.read(url)
        }
        if name.hasSuffix(".json") || name.hasSuffix(".json.gz") {
            return try SQuADReader.parse(DataFile.contents(of: url), file: url.path, dataset: DataFile.stem(of: url))
        }
        throw DataReadError(file: url.path, message: "unknown data format: expected .json (SQuAD) or .jsonl/.jsonl.gz (MRQA)")
    }
}
