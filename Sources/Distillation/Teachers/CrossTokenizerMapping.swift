import MRC
import Model
import Text

/// Carries a student window over to a teacher with another tokenizer and the teacher's logits back,
/// through character offsets (see `ModelTeacher` for the rules).
struct CrossTokenizerMapping {
    let teacher: WordPieceTokenizer
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
                questionCache = (example.question, teacher.encode(example.question).ids)
            }
            return teacherWindow(student: window, context: contextCache!.encoding, question: questionCache!.ids)
        }
    }

    func teacherWindow(student: Window, context: Encoding, question: [Int32]) -> TeacherWindow {
        let vocabulary = teacher.vocabulary
        let first = student.contextOffsets.first!.lowerBound, last = student.contextOffsets.last!.upperBound
        // Teacher context tokens lying within the student's characters.
        let lower = context.offsets.firstIndex { $0.lowerBound >= first } ?? context.count
        var upper = lower
        while upper < context.count && context.offsets[upper].upperBound <= last { upper += 1 }
        let questionIds = Array(question.prefix(max(0, min(question.count, maxLength - 3 - 1))))
        let contextStart = questionIds.count + 2
        let room = maxLength - contextStart - 1
        let cut = upper - lower > room
        if cut { upper = lower + room }
        let length = contextStart + (upper - lower) + 1
        var ids = [Int32](repeating: vocabulary.padId, count: maxLength)
        var types = [Int32](repeating: 0, count: maxLength)
        var mask = [Int32](repeating: 0, count: maxLength)
        ids[0] = vocabulary.clsId
        for (i, id) in questionIds.enumerated() { ids[1 + i] = id }
        ids[contextStart - 1] = vocabulary.sepId
        var startAt: [Int: Int] = [:], endAt: [Int: Int] = [:]
        for token in lower..<upper {
            let position = contextStart + token - lower
            ids[position] = context.ids[token]
            let range = context.offsets[token]
            if startAt[range.lowerBound] == nil { startAt[range.lowerBound] = position }
            endAt[range.upperBound] = position
        }
        ids[length - 1] = vocabulary.sepId
        for position in contextStart..<length { types[position] = 1 }
        for position in 0..<length { mask[position] = 1 }
        let window = Window(exampleIndex: student.exampleIndex, windowIndex: student.windowIndex, inputIds: ids,
                            tokenTypeIds: types, attentionMask: mask, length: length, contextStart: contextStart,
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
