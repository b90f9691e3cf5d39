import Checkpoint
import Foundation
import Hummingbird
import NIOCore
import NIOEmbedded
import ServiceLifecycle
import Logging
import MRC
import Serving
import TestSupport
import Training
import XCTest

/// Models, servers and HTTP helpers of the serving tests.
enum ServingTestSupport {
    /// The tiny span-QA fixture (2 layers, 32 channels, a 64-word vocabulary): fast, for the API's paths.
    static let tinyModel = TestPaths.fixture("training/tiny_qa_parity")
    static let tinyWindows = WindowSettings(maxSeqLen: 32, docStride: 8, maxQueryLen: 8)

    /// A span-QA directory with MiniLM's real vocabulary and its first two layers (span head drawn
    /// from seed 42, as `train` initialises one): real tokenisation of real questions, at test speed.
    /// Built once per test process.
    static func miniLMStudent() throws -> URL {
        if let cachedStudent { return cachedStudent }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrc-serve-student-\(UUID().uuidString)")
        let trainable = try BertSpanTrainable(directory: TestPaths.miniLMDirectory, layers: [0, 1])
        try trainable.export(to: directory)
        cachedStudent = directory
        return directory
    }

    nonisolated(unsafe) static var cachedStudent: URL?

    /// An answer service over `catalog` (not yet running: put it in an application).
    static func service(_ catalog: ModelCatalog, settings: ServingSettings = ServingSettings()) -> AnswerService {
        let metrics = ServingMetrics()
        var logger = Logger(label: "serving-tests")
        logger.logLevel = .critical
        return AnswerService(catalog: catalog, scheduler: BatchScheduler(settings: settings.batching, metrics: metrics),
                             metrics: metrics, maxWindows: settings.maxWindows, requestTimeout: settings.requestTimeout,
                             maxItems: settings.maxItems, logger: logger)
    }

    static func tinyCatalog(decoder: SpanDecoderSettings = SpanDecoderSettings()) throws -> ModelCatalog {
        try ModelCatalog(specs: [ModelSpec(name: "tiny", directories: [tinyModel.path])], windowSettings: tinyWindows,
                         decoderSettings: decoder)
    }

    /// Runs `body` against the server's responder, in process (no socket), while `service` runs in a
    /// service group as it does in the application; once the service is ready.
    static func withServer<Value: Sendable>(_ service: AnswerService, settings: ServingSettings = ServingSettings(),
                                            _ body: @Sendable (InProcessClient) async throws -> Value) async throws -> Value {
        var logger = Logger(label: "serving-tests")
        logger.logLevel = .critical
        let client = InProcessClient(responder: ServingApplication.responder(service: service, settings: settings, logger: logger),
                                     logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        return try await withThrowingTaskGroup(of: Value?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            defer { tasks.cancelAll() }
            do {
                let deadline = ContinuousClock.now + .seconds(120)
                while !service.isReady {
                    guard ContinuousClock.now < deadline else { throw ServingTestError("the service never became ready") }
                    try await Task.sleep(for: .milliseconds(10))
                }
                let value = try await body(client)
                await group.triggerGracefulShutdown()
                while let finished = try await tasks.next() { if finished == nil { break } }
                return value
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }
}

/// Sends requests straight to the server's responder, as Hummingbird's server would.
struct InProcessClient: Sendable {
    let responder: ServingResponder<RouterResponder<BasicRequestContext>>
    let logger: Logger

    func send(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(method, uri, bytes: body.map { Array($0.utf8) }, headers: headers)
    }

    func send(_ method: HTTPRequest.Method, _ uri: String, bytes: [UInt8]?, headers: HTTPFields = [:]) async throws -> Reply {
        let head = HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers)
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(bytes: bytes ?? [])))
        let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: NIOAsyncTestingChannel(), logger: logger))
        let response = try await responder.respond(to: request, context: context)
        let collector = BodyCollector()
        try await response.body.write(collector)
        return Reply(status: response.status.code, headers: response.headers, text: String(buffer: collector.buffer))
    }

    func post(_ uri: String, json: Any) async throws -> Reply {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed])
        return try await send(.post, uri, bytes: Array(data))
    }
}

/// Collects a response body.
final class BodyCollector: ResponseBodyWriter {
    var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// A response as the tests read it.
struct Reply: Sendable {
    var status: Int
    var headers: HTTPFields
    var text: String

    /// The body parsed as JSON.
    var json: Any? { TestJSON.parse(Data(text.utf8)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    /// The error body's field and message.
    var errorField: String? { (object["error"] as? [String: Any])?["field"] as? String }
    var errorMessage: String { (object["error"] as? [String: Any])?["message"] as? String ?? "" }
}

/// The substring of `text` from code point `start` to `end` (Python's `text[start:end]`).
func codePointSlice(_ text: String, _ start: Int, _ end: Int) -> String {
    let scalars = Array(text.unicodeScalars)
    guard start >= 0, end <= scalars.count, start <= end else { return "<out of range \(start)..<\(end) of \(scalars.count)>" }
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars[start..<end])
    return String(view)
}

/// A test could not set up what it needs.
struct ServingTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// JSON read as the server reads it (JSONDecoder: JSONSerialization here drops a U+FEFF that starts a
/// string or follows an escape), as Foundation values: objects, arrays, String, Int, Double, Bool, NSNull.
enum TestJSON {
    static func parse(_ data: Data) -> Any? {
        (try? JSONDecoder().decode(JSONValue.self, from: data)).map(foundation)
    }

    static func foundation(_ value: JSONValue) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let bool): return bool
        case .int(let int): return int
        case .double(let double): return double
        case .string(let string): return string
        case .array(let array): return array.map(foundation)
        case .object(let object): return object.mapValues(foundation)
        }
    }
}

/// A JSON number as a Double (1.0 may come back as an integer).
func number(_ value: Any?) -> Double? { (value as? Double) ?? (value as? Int).map(Double.init) }
