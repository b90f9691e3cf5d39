import Foundation

/// Which teacher layer each student layer learns from in intermediate-layer distillation: pairs
/// `student:teacher` of encoder layers numbered 1…L as Hugging Face's `hidden_states` (0, the
/// embeddings, is `--embedding-mse`'s). The default is uniform, last layer to last layer: student layer
/// i of Ls learns from teacher layer round(i · Lt / Ls), e.g. 1:2, 2:4, 3:6 for 3 of 6 layers.
public struct LayerMap: Sendable, Equatable, CustomStringConvertible {
    public let pairs: [(student: Int, teacher: Int)]

    public static func == (a: LayerMap, b: LayerMap) -> Bool {
        a.pairs.elementsEqual(b.pairs) { $0.student == $1.student && $0.teacher == $1.teacher }
    }

    /// `pairs`, checked against the layer counts: every layer exists, no student layer twice.
    public init(pairs: [(student: Int, teacher: Int)], studentLayers: Int, teacherLayers: Int) throws {
        guard !pairs.isEmpty else { throw DistillationError("the layer map is empty") }
        for (s, t) in pairs {
            guard s >= 1, t >= 1 else {
                throw DistillationError("layer map \(s):\(t): encoder layers are numbered from 1 (the embeddings, 0, are --embedding-mse's)")
            }
            guard s <= studentLayers else {
                throw DistillationError("layer map \(s):\(t): the student has \(studentLayers) layers")
            }
            guard t <= teacherLayers else {
                throw DistillationError("layer map \(s):\(t): the intermediate teacher has \(teacherLayers) layers")
            }
        }
        let students = pairs.map(\.student)
        guard Set(students).count == students.count else {
            throw DistillationError("layer map \(Self.format(pairs)): a student layer may learn from one teacher layer only")
        }
        let teachers = pairs.map(\.teacher)
        guard Set(teachers).count == teachers.count else {
            throw DistillationError("layer map \(Self.format(pairs)): a teacher layer may teach one student layer only")
        }
        self.pairs = pairs
    }

    /// Parses `s:t,s:t,…`.
    public init(parsing text: String, studentLayers: Int, teacherLayers: Int) throws {
        var pairs: [(student: Int, teacher: Int)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let s = Int(parts[0].trimmingCharacters(in: .whitespaces)),
                  let t = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
                throw DistillationError("--layer-map '\(text)': '\(item)' is not student:teacher (e.g. 1:2,2:4,3:6)")
            }
            pairs.append((s, t))
        }
        try self.init(pairs: pairs, studentLayers: studentLayers, teacherLayers: teacherLayers)
    }

    /// The uniform map of `studentLayers` onto `teacherLayers`.
    public static func uniform(studentLayers: Int, teacherLayers: Int) throws -> LayerMap {
        guard studentLayers >= 1, teacherLayers >= 1 else {
            throw DistillationError("intermediate distillation needs encoder layers in the student and the teacher")
        }
        let pairs = (1...studentLayers).map { i in
            (student: i, teacher: max(1, Int((Double(i * teacherLayers) / Double(studentLayers)).rounded())))
        }
        return try LayerMap(pairs: pairs, studentLayers: studentLayers, teacherLayers: teacherLayers)
    }

    public var description: String { Self.format(pairs) }

    static func format(_ pairs: [(student: Int, teacher: Int)]) -> String {
        pairs.map { "\($0.student):\($0.teacher)" }.joined(separator: ",")
    }
}
