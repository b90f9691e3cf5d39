import Foundation

/// One contiguous, 64-byte aligned Float buffer laid out by a `ParameterLayout`: the model's weights, or
/// their gradients, or an optimizer's moments. Elements start at zero.
public final class ParameterBuffer: @unchecked Sendable {  // owns its memory; callers synchronise writes
    public let layout: ParameterLayout
    /// The first float; `count` floats follow.
    public let pointer: UnsafeMutablePointer<Float>
    public var count: Int { layout.count }

    public init(layout: ParameterLayout) {
        self.layout = layout
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, layout.count) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, layout.count))
        pointer.initialize(repeating: 0, count: max(1, layout.count))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// All elements as one buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// The elements of tensor `name`; a name the layout lacks is a programming error.
    public subscript(name: String) -> UnsafeMutableBufferPointer<Float> {
        guard let entry = layout.entry(name) else { preconditionFailure("no parameter named '\(name)'") }
        return UnsafeMutableBufferPointer(start: pointer + entry.offset, count: entry.count)
    }

    /// Tensor `name` copied to an array.
    public func values(_ name: String) -> [Float] { Array(self[name]) }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Copies every element of `other`, which must have the same layout size.
    public func copy(from other: ParameterBuffer) {
        precondition(other.count == count, "copying a buffer of \(other.count) floats into one of \(count)")
        pointer.update(from: other.pointer, count: count)
    }

    /// A new buffer with the same layout and values.
    public func clone() -> ParameterBuffer {
        let copy = ParameterBuffer(layout: layout)
        copy.copy(from: self)
        return copy
    }
}
