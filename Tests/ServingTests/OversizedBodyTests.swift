import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Serving
import TestSupport
import XCTest

/// A body the server refuses unread (413 over `--max-body-bytes`, 405) reaches clients that send the
/// whole body before reading the answer: Python's urllib, against a real `serve` process. The server
/// must read and drop the rest, answer, and close; before, it stopped reading after answering a
/// request that says `Connection: close` (urllib's), and both sides waited until urllib's timeout.
final class OversizedBodyTests: XCTestCase {
    /// 40 MB: 40× the default `--max-body-bytes` of 1 MiB, and far more than the socket buffers of a
    /// loopback connection hold, so the client blocks unless the server reads it all.
    static let bodyBytes = 40_000_000

    /// A Python client, as a user would write it with the standard library: `mode` is `length` (a
    /// bytes body: Content-Length), `chunked` (a generator: Transfer-Encoding: chunked), `small` (a
    /// real question) or `raw` (a socket, keep-alive, whose body is made of `GET /health` requests:
    /// they must never be answered). Prints one JSON object: the status, headers and body, the
    /// seconds from the request to the full answer, or the error. The client gives up after 10 s.
    static let client = #"""
    import json, socket, sys, time, urllib.error, urllib.request
    mode, port, method, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    def report(**fields):
        print(json.dumps(fields))
        sys.exit(0)
    if mode == "raw":
        fake = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        body = fake * (size // len(fake))
        head = b"%s /v1/answer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        started = time.monotonic()
        try:
            connection.sendall(head % (method.encode(), len(body)) + body)
            reply = b""
            while part := connection.recv(65536):
                reply += part
        except OSError as error:
            report(error=repr(error), elapsed=time.monotonic() - started)
        report(elapsed=time.monotonic() - started, responses=reply.count(b"HTTP/1.1 "), head=reply.decode(errors="replace"))
    if mode == "small":
        body = json.dumps({"question": "w0 w23 w1", "context": "w9 w25 w41 w3 w4 w52 w34 w6 w23 w37"}).encode()
    else:
        body = b'{"question": "' + b"w1 " * (size // 3) + b'"}'
    data = (body[i:i + 65536] for i in range(0, len(body), 65536)) if mode == "chunked" else body
    request = urllib.request.Request("http://127.0.0.1:%d/v1/answer" % port, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers, text = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, text = error.code, error.headers, error.read()
    except OSError as error:
        report(error=repr(error), elapsed=time.monotonic() - started)
    report(status=status, elapsed=time.monotonic() - started, connection=headers.get("Connection"),
           contentType=headers.get("Content-Type"), body=text.decode(errors="replace"))
    """#

    /// Runs the Python client; its report.
    func python(_ mode: String, port: Int, method: String = "POST", size: Int = bodyBytes) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.client, mode, String(port), method, String(size)]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let report = try XCTUnwrap(TestJSON.parse(data) as? [String: Any], "python3 \(mode): \(String(decoding: data, as: UTF8.self)) \(stderr)")
        XCTAssertNil(report["error"], "\(mode) \(method): the client got no answer: \(report)")
        return report
    }

    /// urllib gets the 413 (and a 405) as JSON, with `Connection: close`, for a 40 MB body sent with a
    /// Content-Length or chunked; a raw keep-alive connection gets one answer and is closed, its body
    /// never answered as requests; then the server answers a real question on a new connection.
    ///
    /// The bound: a client sees the status only after the server has read all 40 MB, which it does
    /// within `LingeringClose.maxDiscardTime` (5 s) or cuts the connection; on loopback that takes a
    /// fraction of a second even on a loaded machine. Before the fix the client waited until its
    /// 10 s timeout and reported an error, so every case here failed.
    func testUrllibGetsTheRefusalOfA40MBBodyAndTheServerAnswersAfter() async throws {
        let root = try CLIProcess.temporaryDirectory("serve-oversized")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await ServerProcess(["--model", ServingTestSupport.tinyModel.path, "--max-seq-len", "32",
                                              "--doc-stride", "8", "--max-query-len", "8"], logDirectory: root, name: "serve")
        let bound = Double(LingeringClose.maxDiscardTime.nanoseconds) / 1e9
        for (mode, method, status) in [("length", "POST", 413), ("chunked", "POST", 413), ("length", "PUT", 405)] {
            let reply = try python(mode, port: server.port, method: method)
            let name = "\(mode) \(method)"
            XCTAssertEqual(reply["status"] as? Int, status, "\(name): \(reply)")
            XCTAssertLessThan(number(reply["elapsed"]) ?? .infinity, bound, name)
            XCTAssertEqual(reply["connection"] as? String, "close", name)
            XCTAssertEqual(reply["contentType"] as? String, "application/json; charset=utf-8", name)
            let error = try XCTUnwrap(TestJSON.parse(Data((reply["body"] as? String ?? "").utf8)) as? [String: Any], name)
            let fields = try XCTUnwrap(error["error"] as? [String: Any], name)
            XCTAssertEqual(fields["status"] as? Int, status, name)
            if status == 413 { XCTAssertTrue((fields["message"] as? String ?? "").contains("--max-body-bytes"), name) }
        }

        let raw = try python("raw", port: server.port)
        XCTAssertEqual(raw["responses"] as? Int, 1, "the body was answered as requests, or nothing: \(raw)")
        XCTAssertTrue((raw["head"] as? String ?? "").hasPrefix("HTTP/1.1 413 "), "\(raw)")
        XCTAssertLessThan(number(raw["elapsed"]) ?? .infinity, bound)

        // A body the route reads keeps the connection as it was: no Connection: close from the server.
        let small = try python("small", port: server.port)
        XCTAssertEqual(small["status"] as? Int, 200, "\(small)")
        XCTAssertNil(small["connection"] as? String, "\(small)")
        let reply = try await server.post("/v1/answer", json: ["question": "w0 w23 w1", "context": ServingRoutesTests.context])
        XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
        XCTAssertFalse((ServerProcess.object(reply.body)["answer"] as? String ?? "").isEmpty)
        let status = try await server.terminate()
        XCTAssertEqual(status, 0, server.log)
    }

    /// In process, on a test channel: after a 413 (from Content-Length, or from reading past the
    /// limit) or a 405 that left the body unread, the response says `Connection: close` and the
    /// connection is closed once it is written; a request without a body is untouched.
    func testTheResponderClosesTheConnectionOnlyAfterABodyLeftUnread() async throws {
        let service = ServingTestSupport.service(try ServingTestSupport.tinyCatalog())
        var logger = Logger(label: "serving-tests")
        logger.logLevel = .critical
        let responder = LingeringCloseResponder(inner: ServingApplication.responder(service: service, settings: ServingSettings(),
                                                                                    logger: logger))
        let oversized = [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20)
        let cases: [(HTTPRequest.Method, String, HTTPFields, [UInt8], Int, Bool)] = [
            (.get, "/health", [:], [], 200, false),
            (.post, "/v1/answer", [.contentLength: String(oversized.count)], oversized, 413, true),
            (.post, "/v1/answer", [.transferEncoding: "chunked"], oversized, 413, true),
            (.put, "/v1/answer", [.contentLength: "2"], Array("{}".utf8), 405, true),
        ]
        for (method, path, headers, body, status, closes) in cases {
            let channel = NIOAsyncTestingChannel()
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080))
            let head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path, headerFields: headers)
            let context = ConnectionRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            let response = try await responder.respond(to: Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: body))),
                                                       context: context)
            let collector = BodyCollector()
            try await response.body.write(collector)
            await channel.testingEventLoop.run()
            let name = "\(method) \(path) \(headers)"
            XCTAssertEqual(response.status.code, status, name)
            XCTAssertEqual(response.headers[.connection], closes ? "close" : nil, name)
            XCTAssertEqual(channel.isActive, !closes, name)
            XCTAssertNotNil(TestJSON.parse(Data(String(buffer: collector.buffer).utf8)) as? [String: Any], name)
        }
    }
}
