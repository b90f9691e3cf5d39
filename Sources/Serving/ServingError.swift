import Foundation
import Hummingbird
import MRC

/// A refusal the API answers with: an HTTP status, a message, the request field it is about (as a
/// path: `items[2].context`), and extra headers (Retry-After for 503). Rendered as
/// `{"error": {"status": 400, "message": "...", "field": "..."}}` and nothing else.
public struct ServingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var field: String?
    /// Seconds a client should wait before retrying (503).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    public var description: String {
        "\(status.code) \(field.map { "\($0): " } ?? "")\(message)"
    }

    // The refusals of the API, one constructor each so that every place says the same thing.

    /// 400: the body is not the JSON the endpoint takes.
    public static func badRequest(_ message: String, field: String? = nil) -> ServingError {
        ServingError(.badRequest, message, field: field)
    }

    /// 413: the body is longer than `--max-body-bytes` (the connection closes after it: `LingeringClose`).
    public static func bodyTooLarge(limit: Int) -> ServingError {
        ServingError(.contentTooLarge, "the request body is larger than \(limit) bytes (--max-body-bytes)")
    }

    /// 422: the question and context make more windows than `--max-windows`, or no window at all.
    public static func unprocessable(_ message: String, field: String?) -> ServingError {
        ServingError(.unprocessableContent, message, field: field)
    }

    /// 503: the batching queue is full.
    public static func queueFull(windows: Int, limit: Int, retryAfter: Int) -> ServingError {
        ServingError(.serviceUnavailable,
                     "the server is busy: \(windows) windows would exceed the queue of \(limit) (--max-queue); retry later",
                     retryAfter: retryAfter)
    }

    /// 503: the server is shutting down, or not ready yet.
    public static func unavailable(_ message: String, retryAfter: Int = 1) -> ServingError {
        ServingError(.serviceUnavailable, message, retryAfter: retryAfter)
    }

    /// 504: the answer took longer than `--request-timeout`.
    public static func timeout(seconds: Double) -> ServingError {
        ServingError(.gatewayTimeout, "no answer within \(seconds) s (--request-timeout)")
    }

    /// The JSON body of the error.
    public var json: JSONText {
        var fields: [(String, JSONText)] = [("status", .integer(status.code)), ("message", .string(message))]
        if let field { fields.append(("field", .string(field))) }
        return .object([("error", .object(fields))])
    }
}

extension ServingError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response { jsonResponse }
}

/// JSON responses written with the project's one JSON writer (`JSONText`: key order kept, doubles
/// printed with round-trip precision).
public enum JSONResponse {
    public static func make(_ json: JSONText, status: HTTPResponse.Status = .ok) -> Response {
        make(rendered: json.rendered, status: status)
    }

    public static func make(rendered: String, status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(rendered)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: buffer))
    }
}
