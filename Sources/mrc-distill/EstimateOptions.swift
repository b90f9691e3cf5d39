import ArgumentParser
import Foundation
import MRC
import Text
import Training

/// `--estimate` of `train`, `distill`, `teach` and `predict`. Every run tells its estimate (windows,
/// steps, wall time per phase, peak memory; `RunEstimate`) on stderr before it starts; with
/// `--estimate` it prints it on stdout and stops there, having read the data and loaded the models
/// but run and written nothing.
struct EstimateOptions: ParsableArguments {
    @Flag(help: "Print the run's estimate (windows, steps, wall time, peak memory) and exit without running it.")
    var estimate = false

    /// Makes and tells the estimate on rank 0 (`isRoot`); true when the command must stop here (on
    /// every rank).
    func tell(isRoot: Bool = true, _ make: () throws -> RunEstimate) throws -> Bool {
        if isRoot {
            let made = try make()
            if estimate { made.lines.forEach { print($0) } } else { made.lines.forEach(report) }
        }
        return estimate
    }
}

/// The real token count of the windows of `files` (`--dev` after training), as `predict` windows them,
/// and the seconds reading and windowing them took.
func windowLengths(_ files: [String], tokenizer: any Tokenizer, windows: WindowOptions, strict: Bool) throws
    -> (lengths: [Int], seconds: Double)
{
    guard !files.isEmpty else { return ([], 0) }
    return try RunEstimate.timed {
        try WindowBuilder(tokenizer: tokenizer, settings: windows.windowSettings)
            .windowLengths(files: files.map(URL.init(fileURLWithPath:)), strict: strict)
    }
}
