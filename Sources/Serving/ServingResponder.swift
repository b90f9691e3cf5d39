import Foundation
import Hummingbird
import Logging
import MRC

/// Wraps the router so that every response is JSON, every error included: `ServingError`s render
/// themselves; the router's own refusals (404, and 405 with Allow for a known path with another
/// method) and any other error get the same `{"error": {...}}` body — an unexpected error is a 500
/// that is logged, never a crash or an empty reply. Counts every request in the metrics.
public struct ServingResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    public typealias Context = BasicRequestContext
    let inner: Inner
    let metrics: ServingMetrics
    let logger: Logger

    public init(inner: Inner, metrics: ServingMetrics, logger: Logger) {
        self.inner = inner
        self.metrics = metrics
        self.logger = logger
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let path = request.uri.path
        // The router answers HEAD wherever it answers GET (`autoGenerateHeadEndpoints`).
        let allowed = ServingRoutes.methods[path].map { $0.contains(.get) ? $0 + [.head] : $0 }
        var response: Response
        do {
            if let allowed, !allowed.contains(request.method) {
                throw Self.methodNotAllowed(request.method, allowed: allowed)
            }
            response = try await inner.respond(to: request, context: context)
        } catch let error as ServingError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError {
            response = Self.error(error.status, error.body ?? error.status.reasonPhrase, headers: error.headers)
        } catch let error as any HTTPResponseError {
            response = Self.error(error.status, error.status.reasonPhrase)
        } catch {
            logger.error("unexpected error", metadata: ["path": "\(path)", "error": "\(error)"])
            response = Self.error(.internalServerError, "internal error: \(type(of: error))")
        }
        if response.status.code >= 400, response.headers[.contentType]?.hasPrefix("application/json") != true {
            response = Self.error(response.status, response.status == .notFound ? "no route \(request.method) \(path.prefix(200))"
                                                                                : response.status.reasonPhrase,
                                  headers: response.headers)
        }
        let duration = started.duration(to: .now)
        metrics.recordRequest(route: allowed == nil ? "other" : path, status: response.status.code, duration: duration)
        if response.status.code >= 500 && response.status != .serviceUnavailable && response.status != .gatewayTimeout {
            logger.error("\(request.method) \(path) → \(response.status.code)")
        } else {
            logger.debug("\(request.method) \(path) → \(response.status.code) in \(duration)")
        }
        return response
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> HTTPError {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return HTTPError(.methodNotAllowed, headers: [.allow: list], message: "\(method) is not allowed here; use \(list)")
    }

    /// A JSON error response, keeping headers other than the body's.
    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var response = ServingError(status, message).jsonResponse
        for field in headers where field.name != .contentType && field.name != .contentLength {
            response.headers.append(field)
        }
        return response
    }
}

extension ServingError {
    /// This error as a JSON response (with Retry-After when it has one).
    var jsonResponse: Response {
        var response = JSONResponse.make(json, status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
