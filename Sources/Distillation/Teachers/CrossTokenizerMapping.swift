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
        /// Teacher token positions by the characters their tokens start and end at.
        var alignment: CharacterAlignment
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
                questionCache = (example.question, teacher.encode(example.questionToTokenise).ids)
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
        var alignment = CharacterAlignment()
        for token in lower..<upper { alignment.add(contextStart + token - lower, characters: context.offsets[token]) }
        let window = Window(exampleIndex: student.exampleIndex, windowIndex: student.windowIndex, inputIds: input.inputIds,
                            tokenTypeIds: input.tokenTypeIds, attentionMask: input.attentionMask, length: input.length,
                            contextStart: contextStart,
                            contextTokenStart: lower, contextOffsets: Array(context.offsets[lower..<upper]),
                            contextIsMaxContext: Array(repeating: true, count: upper - lower),
                            startPosition: 0, endPosition: 0, label: .outsideWindow)
        return TeacherWindow(window: window, alignment: alignment, cut: cut)
    }

    /// The teacher's logits on the student window's tokens.
    func studentScores(_ student: Window, teacher: TeacherWindow, scores: SpanScores) -> TeacherScores {
        teacher.alignment.studentScores(student, nullStart: scores.startLogits[0], nullEnd: scores.endLogits[0],
                                        start: { scores.startLogits[$0] }, end: { scores.endLogits[$0] }).scores
    }
}
