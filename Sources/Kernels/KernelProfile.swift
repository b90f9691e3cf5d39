import Foundation

/// Opt-in wall-clock accounting of kernel calls, by kernel and shape (for `mrc-bench engine --profile`).
/// Disabled it costs one branch per kernel call.
public enum KernelProfile {
    /// One kernel and shape: calls, total seconds and counted floating-point operations.
    public struct Entry: Sendable {
        public var name: String
        public var calls: Int
        public var seconds: Double
        public var flops: Double
    }

    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var entries: [String: Entry] = [:]
    private static let lock = NSLock()

    /// Clears the accumulated entries.
    public static func reset() {
        lock.lock(); defer { lock.unlock() }
        entries = [:]
    }

    /// The accumulated entries, most expensive first.
    public static var report: [Entry] {
        lock.lock(); defer { lock.unlock() }
        return entries.values.sorted { $0.seconds > $1.seconds }
    }

    /// A start time when profiling, else nil.
    @inline(__always)
    public static func start() -> UInt64? {
        enabled ? DispatchTime.now().uptimeNanoseconds : nil
    }

    /// Adds the time since `start` to `name()` (evaluated only when profiling).
    @inline(__always)
    public static func stop(_ start: UInt64?, _ name: @autoclosure () -> String, flops: Double = 0) {
        guard let start else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let key = name()
        lock.lock(); defer { lock.unlock() }
        entries[key, default: Entry(name: key, calls: 0, seconds: 0, flops: 0)].calls += 1
        entries[key]!.seconds += seconds
        entries[key]!.flops += flops
    }
}
