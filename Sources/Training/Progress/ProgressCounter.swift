import Foundation

/// A live progress bar for work counted in items (windows scored, questions predicted): done/total,
/// rate and ETA, redrawn in place on stderr at most 4 times a second, only on a terminal.
public final class ProgressCounter {
    public let label: String
    public let total: Int
    public let unit: String
    public let isEnabled: Bool
    private let startTime = ProgressLine.now()
    private var lastDraw = 0.0

    public init(label: String, total: Int, unit: String = "windows", enabled: Bool? = nil) {
        self.label = label
        self.total = total
        self.unit = unit
        isEnabled = enabled ?? (isatty(STDERR_FILENO) != 0)
    }

    /// The line for `done` items after `elapsed` seconds.
    public func text(done: Int, elapsed: Double) -> String {
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 24
        let filled = min(width, Int(fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        return String(format: "%@ [%@] %d/%d %@ (%.1f%%) | %.1f %@/s | ETA %@", label, bar, done, total, unit,
                      100 * fraction, rate, unit, ProgressLine.clock(eta))
    }

    /// Redraws the bar for `done` items (throttled; the last item always draws).
    public func update(_ done: Int) {
        guard isEnabled else { return }
        let now = ProgressLine.now()
        guard now - lastDraw >= 0.25 || done >= total else { return }
        lastDraw = now
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text(done: done, elapsed: now - startTime)).utf8))
    }

    /// Ends the bar's line.
    public func finish() {
        guard isEnabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
