import Foundation
import MRC

/// The record of a prediction run in progress, so that a stopped run resumes without redoing finished work.
///
/// `predict` goes through a file's questions in chunks; after each chunk it appends one JSON line with that
/// chunk's decoded predictions to `<out>/predictions.journal.jsonl` and flushes it to disk. The first line
/// holds a fingerprint of everything the predictions depend on (model weights, precision, window, decoder
/// and batch settings, the data file); a later run with the same fingerprint reads the finished chunks back
/// and starts after them; a different fingerprint starts over. A line cut short by a kill is dropped. The
/// journal is removed once the prediction files are written.
struct PredictionJournal {
    struct Header: Codable { var journal = 1; var fingerprint: String }
    struct Chunk: Codable { var chunk: Int; var predictions: [ExamplePrediction] }

    let url: URL
    /// The predictions of the chunks finished by earlier runs, in chunk order.
    private(set) var finished: [[ExamplePrediction]] = []
    private let handle: FileHandle

    /// Opens the journal at `url`, keeping the finished chunks of a run with the same `fingerprint`; without
    /// one (nothing identifies the model) an earlier journal is never kept.
    init(url: URL, fingerprint: String?) throws {
        self.url = url
        var keep = Data()
        if let fingerprint, let data = try? Data(contentsOf: url) {
            let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
            let decoder = JSONDecoder()
            if lines.count > 1, let header = try? decoder.decode(Header.self, from: lines[0]), header.fingerprint == fingerprint {
                keep = Data(lines[0]) + Data([0x0A])
                // Complete lines only (each ends with a line feed: the last element after split is what follows it).
                for line in lines.dropFirst().dropLast() {
                    guard let chunk = try? decoder.decode(Chunk.self, from: line), chunk.chunk == finished.count else { break }
                    finished.append(chunk.predictions)
                    keep += Data(line) + Data([0x0A])
                }
            }
        }
        if keep.isEmpty { keep = try JSONEncoder().encode(Header(fingerprint: fingerprint ?? "")) + Data([0x0A]) }
        do {
            try keep.write(to: url, options: .atomic)
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw TrainingError.io("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// Appends chunk `finished.count` and makes it durable.
    mutating func append(_ predictions: [ExamplePrediction]) throws {
        let line = try JSONEncoder().encode(Chunk(chunk: finished.count, predictions: predictions)) + Data([0x0A])
        do {
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch {
            throw TrainingError.io("cannot write \(url.path): \(error.localizedDescription)")
        }
        finished.append(predictions)
    }

    /// Closes and removes the journal (its predictions are in the prediction files now).
    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(at: url)
    }
}
