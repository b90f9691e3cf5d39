import Foundation

/// Where tests find their inputs. Fixtures are committed under `fixtures/`; real data lives in
/// `../shared/data` beside the checkout (override with MRC_SHARED_DATA); the real MiniLM model is
/// installed by `scripts/setup` (override with MRC_MINILM_DIR). A missing input is a test failure
/// with a message that says how to get it, never a skip.
public enum TestPaths {
    /// The package root, found from this file's location (Tests/TestSupport/TestPaths.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let fixtures: URL = packageRoot.appendingPathComponent("fixtures")

    public static func fixture(_ relativePath: String) -> URL {
        fixtures.appendingPathComponent(relativePath)
    }

    public static var sharedData: URL {
        if let env = ProcessInfo.processInfo.environment["MRC_SHARED_DATA"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    public static func sharedData(_ relativePath: String) -> URL {
        sharedData.appendingPathComponent(relativePath)
    }

    /// Directory of the installed all-MiniLM-L6-v2 (config.json, model.safetensors, vocab.txt).
    public static var miniLMDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["MRC_MINILM_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return URL(fileURLWithPath: runScript("scripts/minilm-dir"))
    }

    private static func runScript(_ script: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", packageRoot.appendingPathComponent(script).path]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return "/nonexistent-run-scripts-setup" }
        process.waitUntilExit()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
