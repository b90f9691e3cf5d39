import MRC

/// What one teacher says about one window: a score per real token of the window (positions
/// `0..<window.length` of its `inputIds`, `[CLS]` and question included), for the start and the end
/// of the answer. Model teachers give logits; black-box teachers give probabilities (which may be zero).
public struct TeacherScores: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case logits
        case probabilities
    }
    public var kind: Kind
    public var start: [Float]
    public var end: [Float]

    public init(kind: Kind, start: [Float], end: [Float]) {
        precondition(start.count == end.count, "teacher start and end scores differ in length")
        self.kind = kind
        self.start = start
        self.end = end
    }

    public var length: Int { start.count }
}

/// A teacher of the ensemble: anything that scores the student's windows.
///
/// `score` receives the examples and the student's own windows (built by the student's
/// `WindowBuilder`; `window.exampleIndex` indexes `examples`) and returns one entry per window, nil
/// where the teacher has nothing to say about that window's question (a black-box file without the
/// question): the ensemble then combines the teachers that do.
public protocol Teacher: AnyObject {
    /// Short name (reports, provenance, `name=PATH:weight` on the command line).
    var name: String { get }
    /// "model" or "black-box".
    var kind: String { get }
    /// A stable fingerprint of what the teacher is (weights file or prediction file contents).
    var fingerprint: String { get }
    /// Scores every window; `progress` is called with the number of windows done so far.
    func score(examples: [MRCExample], windows: [Window], progress: (Int) -> Void) throws -> [TeacherScores?]
    /// Counts the teacher gathered while scoring (e.g. answers not found in their context), by name.
    var counts: [String: Int] { get }
}
