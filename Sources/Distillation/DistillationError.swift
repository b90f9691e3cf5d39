/// A distillation step that cannot go on: the message says what, and where.
public struct DistillationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String

    public init(_ description: String) { self.description = description }
}
