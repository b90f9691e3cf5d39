import Foundation
import TestSupport
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `mrc-distill serve` process on a free loopback port, and a small HTTP client for it.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let stderr: URL

    /// Starts `serve` with `arguments` (plus `--port 0`) and waits until it listens and is ready.
    init(_ arguments: [String], logDirectory: URL, name: String) async throws {
        let (process, _, stderr) = try CLIProcess.start(["serve", "--port", "0"] + arguments, logDirectory: logDirectory, name: name)
        self.process = process
        self.stderr = stderr
        let deadline = Date().addingTimeInterval(120)
        var port: Int?
        while port == nil {
            guard process.isRunning else {
                throw ServingTestError("serve exited (\(process.terminationStatus)): \(Self.read(stderr))")
            }
            guard Date() < deadline else { process.terminate(); throw ServingTestError("serve never listened") }
            port = Self.read(stderr).split(separator: "\n").lazy.compactMap { line -> Int? in
                guard let range = line.range(of: "listening on http://127.0.0.1:") else { return nil }
                return Int(line[range.upperBound...])
            }.first
            try await Task.sleep(for: .milliseconds(50))
        }
        self.port = port!
        while try await get("/ready").status != 200 {
            guard Date() < deadline, process.isRunning else { process.terminate(); throw ServingTestError("serve never ready") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func read(_ file: URL) -> String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }

    var log: String { Self.read(stderr) }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    func get(_ path: String) async throws -> (status: Int, body: Data) {
        try await Self.send(URLRequest(url: url(path)))
    }

    /// POSTs a JSON object of strings; the reply's status and body.
    func post(_ path: String, json: [String: String]) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: url(path))
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return try await Self.send(request)
    }

    /// A reply body as a JSON object ([:] when it is not one).
    static func object(_ body: Data) -> [String: Any] {
        TestJSON.parse(body) as? [String: Any] ?? [:]
    }

    static func send(_ request: URLRequest) async throws -> (status: Int, body: Data) {
        var request = request
        request.timeoutInterval = 120
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// SIGTERM, then the exit status (nil if it did not exit within `seconds`).
    func terminate(within seconds: Double = 30) async throws -> Int32? {
        process.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.interrupt(); return nil }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
