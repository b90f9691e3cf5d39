import Foundation

/// One reader of hostile input, driven by libFuzzer (`scripts/fuzz TARGET SECONDS`) and replayed by the
/// regression tests on every committed input.
///
/// A target feeds its bytes to the reader exactly as the CLI would. A thrown error is a correct outcome
/// (the reader refused the input); a crash, a hang, a sanitizer report, unbounded allocation, or an error
/// whose message does not name the file it is about, is a finding.
public struct FuzzTarget: Sendable {
    /// The name `scripts/fuzz` and `mrc-fuzz` take.
    public let name: String
    /// The format and the reader it exercises (for `mrc-fuzz list` and docs/FUZZING.md).
    public let summary: String
    /// libFuzzer's `-max_len` for this format: large enough for a real record, small enough to mutate fast.
    public let maxLength: Int
    let body: @Sendable (Data) throws -> Void

    init(_ name: String, _ summary: String, maxLength: Int = 16_384, body: @escaping @Sendable (Data) throws -> Void) {
        self.name = name
        self.summary = summary
        self.maxLength = maxLength
        self.body = body
    }

    /// Runs the reader on `data`. Returns the refusal's message, or nil when the input was accepted;
    /// traps when the refusal does not name the file (`FuzzScratch.fileName`).
    @discardableResult
    public func run(_ data: Data) -> String? {
        do {
            try body(data)
            return nil
        } catch {
            let message = String(describing: error)
            if !FuzzTarget.unnamed.contains(name) && !message.contains(FuzzScratch.fileName) {
                fatalError("\(name): the error does not name the file '\(FuzzScratch.fileName)': \(message)")
            }
            return message
        }
    }

    /// Runs the readers an input may be meant for (a prediction file of either shape, a corpus as jsonl or
    /// text, a body for either route): one accepting is a correct outcome; every refusal must still name the
    /// file (targets in `unnamed` excepted); when all refuse, the first refusal is the target's.
    static func eachReader(_ target: String, _ readers: [() throws -> Void]) throws {
        var refusals: [any Error] = []
        for reader in readers {
            do { try reader() } catch { refusals.append(error) }
        }
        for error in refusals where !unnamed.contains(target) && !String(describing: error).contains(FuzzScratch.fileName) {
            fatalError("\(target): the error does not name the file '\(FuzzScratch.fileName)': \(error)")
        }
        if refusals.count == readers.count, let first = refusals.first { throw first }
    }

    /// Targets whose input is not a file (an HTTP request body): their errors name the field instead.
    static let unnamed: Set<String> = ["request", "tokenizer"]

    /// Every target, in the order of docs/FUZZING.md.
    public static let all: [FuzzTarget] = DataFormatTargets.all + CheckpointTargets.all + TextTargets.all

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Fixed things the targets share: the file name errors must carry, a scratch file for readers that take
/// a path, and a small real tokenizer (the fixture model's vocabulary) for the featurisation steps.
public enum FuzzScratch {
    /// The name every target's input is read under; an error about the input must contain it.
    public static let fileName = "fuzz-input"

    /// A per-process scratch path ending in `fileName` + `suffix` (on tmpfs when there is one).
    public static func path(_ suffix: String) -> URL {
        let shm = URL(fileURLWithPath: "/dev/shm")
        let directory = FileManager.default.isWritableFile(atPath: shm.path) ? shm : FileManager.default.temporaryDirectory
        return directory.appendingPathComponent("mrc-fuzz-\(getpid())-\(fileName)\(suffix)")
    }

    /// Writes `data` to the scratch path with `suffix` and returns it.
    public static func write(_ data: Data, suffix: String) throws -> URL {
        let url = path(suffix)
        try data.write(to: url)
        return url
    }

    /// The vocabulary file the featurising targets tokenise with: `MRC_FUZZ_VOCAB`, else the tiny fixture
    /// model's (paths relative to the repository root, where scripts/fuzz and the tests run).
    public static var vocabularyURL: URL {
        if let path = ProcessInfo.processInfo.environment["MRC_FUZZ_VOCAB"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: "fixtures/model/tiny_qa_model/vocab.txt")
    }
}
