import Foundation
import Model
import MRC

/// A teacher whose logits were computed elsewhere, by any framework (`teach --teacher logits:FILE`): a
/// teacher-logits file (`LogitsFile`, docs/TEACHER-LOGITS.md) holding, per teacher window, the character
/// offsets of its context tokens, their start/end logits and the null (`[CLS]`) logits.
///
/// Each student window of a question (looked up by `example.predictionKey`, then by `example.id`) takes one
/// teacher window of that question: the one whose characters (first context token's start to last's end)
/// share the most characters with the student window's, the earliest (lowest window index) on a tie. One
/// teacher window, not a mix, because logits of different teacher windows come from different forward passes
/// and do not share a softmax. None sharing any character: the teacher abstains on that student window.
///
/// The chosen window's logits reach the student's tokens by `CharacterAlignment`'s rule (the same as for model
/// teachers of another tokenizer); `[CLS]` gets the null logits.
///
/// The teacher abstains on every window of a question absent from the file. Counts (additive over shards):
/// - `questions_scored`, `questions_missing`: questions with / without teacher windows, counted with the
///   question's first student window;
/// - `questions_unknown`: question ids of the file that are in none of the examples, counted with the data's
///   first window (example 0, window 0);
/// - `windows_scored`, `windows_uncovered`: student windows of known questions given scores / abstained on
///   because no teacher window shares a character with them;
/// - `starts_unmatched`, `ends_unmatched`: context tokens of scored windows left at `paddingLogit` because no
///   teacher token starts / ends where they do.
public final class LogitsFileTeacher: Teacher {
    public let name: String
    public let kind = "logits"
    /// `HASH-SIZE`: FNV-1a 64 (`ModelTeacher.hash`) of the file's bytes as stored (gzipped or not), and its size.
    public let fingerprint: String
    public let logits: LogitsFile
    public private(set) var counts: [String: Int]

    public static let countNames = [
        "questions_scored", "questions_missing", "questions_unknown", "windows_scored", "windows_uncovered",
        "starts_unmatched", "ends_unmatched",
    ]

    public init(name: String, logits: LogitsFile, fingerprint: String) {
        self.name = name
        self.logits = logits
        self.fingerprint = fingerprint
        counts = Dictionary(uniqueKeysWithValues: Self.countNames.map { ($0, 0) })
    }

    /// Reads the file at `url` (`.gz` or not); errors name the file, line and field.
    public convenience init(name: String, url: URL) throws {
        let logits = try LogitsFile.read(url)
        let bytes = try Data(contentsOf: url, options: .alwaysMapped)
        self.init(name: name, logits: logits, fingerprint: ModelTeacher.hash(bytes) + "-\(bytes.count)")
    }

    public func score(examples: [MRCExample], windows: [Window], progress: (Int) -> Void) throws -> [TeacherScores?] {
        var result: [TeacherScores?] = []
        result.reserveCapacity(windows.count)
        var checked = Set<Int>()
        for (done, window) in windows.enumerated() {
            guard examples.indices.contains(window.exampleIndex) else {
                throw DistillationError("logits teacher \(name): window \(done) refers to example \(window.exampleIndex), "
                                        + "but there are \(examples.count) examples")
            }
            if window.exampleIndex == 0 && window.windowIndex == 0 { counts["questions_unknown", default: 0] += unknownQuestions(examples) }
            result.append(try score(window, example: examples[window.exampleIndex], checked: &checked))
            if (done + 1) % 1024 == 0 { progress(done + 1) }
        }
        progress(windows.count)
        return result
    }

    /// One student window's scores, nil when the teacher abstains; `checked` holds the examples whose teacher
    /// windows were checked against their context.
    func score(_ window: Window, example: MRCExample, checked: inout Set<Int>) throws -> TeacherScores? {
        let key = logits.questions[example.predictionKey] != nil ? example.predictionKey : example.id
        let teacherWindows = logits.questions[key]
        if window.windowIndex == 0 { counts[teacherWindows == nil ? "questions_missing" : "questions_scored", default: 0] += 1 }
        guard let teacherWindows else { return nil }
        if checked.insert(window.exampleIndex).inserted { try check(teacherWindows, id: key, context: example.context.count) }
        guard let chosen = Self.choose(for: window, among: teacherWindows) else {
            counts["windows_uncovered", default: 0] += 1
            return nil
        }
        counts["windows_scored", default: 0] += 1
        return scores(window, teacher: teacherWindows[chosen])
    }

    /// The index (in `teacherWindows`, window order) of the teacher window sharing the most characters with
    /// the student window's context, the earliest on a tie; nil when none shares any.
    public static func choose(for window: Window, among teacherWindows: [LogitsFile.TeacherWindow]) -> Int? {
        guard let first = window.contextOffsets.first, let last = window.contextOffsets.last else { return nil }
        let student = first.lowerBound..<max(first.lowerBound, last.upperBound)
        var best: Int?, bestOverlap = 0
        for (index, teacher) in teacherWindows.enumerated() {
            guard let characters = teacher.characters else { continue }
            let overlap = max(0, min(student.upperBound, characters.upperBound) - max(student.lowerBound, characters.lowerBound))
            if overlap > bestOverlap { best = index; bestOverlap = overlap }
        }
        return best
    }

    /// The teacher window's logits on the student window's `length` tokens.
    func scores(_ window: Window, teacher: LogitsFile.TeacherWindow) -> TeacherScores {
        var alignment = CharacterAlignment()
        for (token, (start, end)) in zip(teacher.starts, teacher.ends).enumerated() {
            alignment.add(token, characters: Int(start)..<Int(max(start, end)))
        }
        let mapped = alignment.studentScores(window, nullStart: teacher.nullStartLogit, nullEnd: teacher.nullEndLogit,
                                             start: { teacher.startLogits[$0] }, end: { teacher.endLogits[$0] })
        counts["starts_unmatched", default: 0] += mapped.startsUnmatched
        counts["ends_unmatched", default: 0] += mapped.endsUnmatched
        return mapped.scores
    }

    /// Refuses offsets past the end of the question's context (`characters` Unicode scalars).
    func check(_ teacherWindows: [LogitsFile.TeacherWindow], id: String, context characters: Int) throws {
        for teacher in teacherWindows {
            if let bad = teacher.ends.firstIndex(where: { Int($0) > characters }) {
                throw DataReadError(file: logits.file, location: "line \(teacher.line)", field: "offsets[\(bad)]", recordId: id,
                                    message: "[\(teacher.starts[bad]), \(teacher.ends[bad])] is outside the context, "
                                        + "which has \(characters) characters (was the file made from other data?)")
            }
        }
    }

    /// Question ids of the file that are neither the prediction key nor the id of any example.
    func unknownQuestions(_ examples: [MRCExample]) -> Int {
        var known = Set<String>()
        for example in examples {
            known.insert(example.predictionKey)
            known.insert(example.id)
        }
        return logits.questions.keys.filter { !known.contains($0) }.count
    }
}
