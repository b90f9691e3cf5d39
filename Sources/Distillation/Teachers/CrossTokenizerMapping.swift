import MRC
import Model
import Text

/// Carries a student window over to a teacher with another tokenizer and the teacher's logits back,
/// through character offsets (see `ModelTeacher` for the rules).
struct CrossTokenizerMapping {
    let teacher: any Tokenizer
    /// The teacher's longest input (its position table, at most 512).
    let maxLength: Int

    /// A teacher window and what is needed to map its logits back.
    struct TeacherWindow {
        var window: Window
        /// Teacher token position of each context character where a teacher token starts / ends
        /// (keyed by the character index; the end key is the exclusive end).
        var startAt: [Int: Int]
        var endAt: [Int: Int]
        /// Whether the window was cut to `maxLength`.
        var cut: Bool
    }

    /// The teacher windows of `windows`, tokenising each context and question once.
    func teacherWindows(for windows: [Window], examples: [MRCExample]) -> [TeacherWindow] {
        var contextCache: (text: String, encoding: Encoding)? = nil
        var questionCache: (text: String, ids: [Int32])? = nil
        return windows.map { window in
            let example = examples[window.exampleIndex]
            if contextCache?.text != example.context.string {
                contextCache = (example.context.string, teacher.encode(example.context.string))
            }
            if questionCache?.text != example.question {
                questionCache = (example.question, teacher.encode(String(example.question.drop { $0.isWhitespace })).ids)
            }
            return teacherWindow(student: window, context: contextCache!.encoding, question: questionCache!.ids)
        }
    }

    func teacherWindow(student: Window, context: Encoding, question: [Int32]) -> TeacherWindow {
        let first = student.contextOffsets.first!.lowerBound, last = student.contextOffsets.last!.upperBound
        // Teacher context tokens lying within the student's characters.
        let lower = context.offsets.firstIndex { $0.lowerBound >= first } ?? context.count
        var upper = lower
        while upper < context.count && context.offsets[upper].upperBound <= last { upper += 1 }
        let template = teacher.pairTemplate
        let questionIds = Array(question.prefix(max(0, min(question.count, maxLength - template.specialTokenCount - 1))))
        let contextStart = template.contextStart(questionTokens: questionIds.count)
        let room = maxLength - contextStart - 1
        let cut = upper - lower > room
        if cut { upper = lower + room }
        let input = PairInput(question: questionIds, context: context.ids[lower..<upper], template: template,
                              vocabulary: teacher.vocabulary, paddedLength: maxLength)
        var startAt: [Int: Int] = [:], endAt: [Int: Int] = [:]
        for token in lower..<upper {
            let position = contextStart + token - lower
            let range = context.offsets[token]
            // A token that covers no character (a byte-level BPE's lone "Ġ", its offsets trimmed) starts and
            // ends nothing.
            if range.isEmpty { continue }
            if startAt[range.lowerBound] == nil { startAt[range.lowerBound] = position }
            endAt[range.upperBound] = position
        }
        let window = Window(exampleIndex: student.exampleIndex, windowIndex: student.windowIndex, inputIds: input.inputIds,
                            tokenTypeIds: input.tokenTypeIds, attentionMask: input.attentionMask, length: input.length,
                            contextStart: contextStart,
                            contextTokenStart: lower, contextOffsets: Array(context.offsets[lower..<upper]),
                            contextIsMaxContext: Array(repeating: true, count: upper - lower),
                            startPosition: 0, endPosition: 0, label: .outsideWindow)
        return TeacherWindow(window: window, startAt: startAt, endAt: endAt, cut: cut)
    }

    /// The teacher's logits on the student window's tokens.
    func studentScores(_ student: Window, teacher: TeacherWindow, scores: SpanScores) -> TeacherScores {
        var start = [Float](repeating: SpanLoss.paddingLogit, count: student.length)
        var end = start
        start[0] = scores.startLogits[0]
        end[0] = scores.endLogits[0]
        for (i, range) in student.contextOffsets.enumerated() {
            let position = student.contextStart + i
            if let t = teacher.startAt[range.lowerBound] { start[position] = scores.startLogits[t] }
            if let t = teacher.endAt[range.upperBound] { end[position] = scores.endLogits[t] }
        }
        return TeacherScores(kind: .logits, start: start, end: end)
    }
}
