import Foundation

/// Runs the real `mrc-distill` binary (built beside the test bundle) as a subprocess, or as an MPI job.
public enum CLIProcess {
    public static var binary: URL {
        // The test runner lives in .build/<configuration>/; so does the CLI executable.
        let bundle = Bundle.main.bundleURL
        let candidates = [bundle.deletingLastPathComponent().appendingPathComponent("mrc-distill"),
                          bundle.appendingPathComponent("mrc-distill"),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mrc-distill")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    public struct Result { public var status: Int32; public var stdout: String; public var stderr: String }

    /// Starts the CLI with `arguments`; output goes to files in `logDirectory`. With `ranks`, the CLI
    /// runs as an Open MPI job of that many processes, started by scripts/mpirun-local.
    public static func start(_ arguments: [String], environment: [String: String] = [:], logDirectory: URL,
                      name: String, ranks: Int? = nil) throws -> (Process, URL, URL) {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw CLIProcessError(description: "\(binary.path) is missing: build the package (swift build) before running the tests")
        }
        let process = Process()
        if let ranks {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [TestPaths.packageRoot.appendingPathComponent("scripts/mpirun-local").path, "\(ranks)"] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        // The engine rates the tests' runs measure (tiny models, a busy machine) stay out of the user's cache.
        env["MRC_ENGINE_RATES"] = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-tests-engine-rates-\(getpid()).json").path
        for (key, value) in environment { env[key] = value }
        if ranks != nil { env["MRC_DISTILL_BIN"] = binary.path }
        process.environment = env
        let out = logDirectory.appendingPathComponent("\(name).stdout"), err = logDirectory.appendingPathComponent("\(name).stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return (process, out, err)
    }

    /// Runs the CLI to completion.
    public static func run(_ arguments: [String], environment: [String: String] = [:], logDirectory: URL, name: String,
                           ranks: Int? = nil) throws -> Result {
        let (process, out, err) = try start(arguments, environment: environment, logDirectory: logDirectory, name: name,
                                            ranks: ranks)
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Throws, with the way to get it, when Open MPI's mpirun is not on PATH (the MPI tests fail then,
    /// they are never skipped).
    public static func requireMPIRun() throws {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/mpirun") }
        guard found else { throw CLIProcessError(description: "mpirun is missing: run make setup (it installs openmpi-bin)") }
    }

    public static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The CLI binary could not be run.
public struct CLIProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
