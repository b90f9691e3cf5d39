import Hummingbird
import Logging
import NIOCore

/// How much of a request body the server still reads after answering without it (a 413 on an
/// oversized body, a 404 or 405 that came with a body), before it closes the connection.
///
/// Why read at all: many clients (Python's urllib, anything that writes the whole body before it
/// reads the response) only see the answer once their body is sent. A server that stops reading
/// leaves them blocked on a full socket buffer until their own timeout; one that closes at once
/// with their data unread makes the kernel reset the connection, which can discard the response
/// before they read it. So the server reads and drops the rest, then closes: nginx's lingering close.
public enum LingeringClose {
    /// Most bytes discarded after the response: 64 MiB. Enough to hear out what clients really send
    /// by mistake (a whole document, tens of MB, against the default `--max-body-bytes` of 1 MiB),
    /// which takes well under a second on loopback or a LAN; a bound on the work one refused request
    /// can cause. A larger body is cut off: the client sees a reset instead of the status.
    public static let maxDiscardBytes = 64 << 20

    /// Longest time spent discarding: 5 s (nginx's `lingering_timeout`). A client that stalls, or
    /// sends slower than 64 MiB / 5 s ≈ 13 MB/s, is cut off then, so a slow or idle sender cannot
    /// hold the connection open.
    public static let maxDiscardTime = TimeAmount.seconds(5)
}

/// A request context that keeps the connection's channel, so that `LingeringCloseResponder` can
/// close the connection after its response.
public struct ConnectionRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Answers as `inner` does; when `inner` answered without reading the request body to its end, the
/// response says `Connection: close`, and once it is written the rest of the body is read and
/// dropped (within `LingeringClose`'s bounds) and the connection closed. Hummingbird alone would
/// stop reading after answering a request that says `Connection: close` (urllib's), and wait for
/// the client to close: both sides wait. Closing also means the dropped rest can never be taken
/// for a next request. A request without a body, or whose body `inner` read, is untouched.
public struct LingeringCloseResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    public typealias Context = ConnectionRequestContext
    let inner: Inner

    public init(inner: Inner) {
        self.inner = inner
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let innerContext = BasicRequestContext(source: ApplicationRequestContextSource(channel: context.channel, logger: context.logger))
        guard Self.hasBody(request.headers) else { return try await inner.respond(to: request, context: innerContext) }
        let body = TrackedRequestBody(request.body)
        var request = request
        request.body = body.requestBody
        var response = try await inner.respond(to: request, context: innerContext)
        guard !body.isEnded else { return response }
        response.headers[.connection] = "close"
        let written = response.body, channel = context.channel, logger = context.logger, path = request.uri.path
        response.body = ResponseBody(contentLength: written.contentLength) { writer in
            defer { channel.close(promise: nil) }
            try await written.write(writer)
            let (bytes, cutOff) = await body.discard(on: channel, maxBytes: LingeringClose.maxDiscardBytes,
                                                     maxTime: LingeringClose.maxDiscardTime)
            logger.debug("discarded an unread request body; closing the connection",
                         metadata: ["path": "\(path.prefix(200))", "bytes": "\(bytes)", "cut_off": "\(cutOff)"])
        }
        return response
    }

    /// Whether the request has a body (HTTP/1.1: a Content-Length above 0, or a Transfer-Encoding).
    static func hasBody(_ headers: HTTPFields) -> Bool {
        headers[.transferEncoding] != nil || headers[.contentLength].flatMap { Int($0) }.map { $0 > 0 } ?? false
    }
}

/// A request body that remembers whether it was read to its end: the routes read it through
/// `requestBody`, then `LingeringCloseResponder` drops what they left. One task reads it at a time
/// (the request's: the routes while they answer, then the response's writer), hence unchecked.
final class TrackedRequestBody: @unchecked Sendable {
    private var iterator: RequestBody.AsyncIterator
    /// The end of the body was read, or reading failed (the connection broke: nothing more comes).
    private(set) var isEnded = false

    init(_ body: RequestBody) {
        iterator = body.makeAsyncIterator()
    }

    /// The next part of the body (nil at its end).
    func next() async throws -> ByteBuffer? {
        guard !isEnded else { return nil }
        do {
            var iterator = self.iterator
            let part = try await iterator.next()
            self.iterator = iterator
            if part == nil { isEnded = true }
            return part
        } catch {
            isEnded = true
            throw error
        }
    }

    /// The body as the routes read it.
    var requestBody: RequestBody { RequestBody(asyncSequence: Parts(body: self)) }

    /// Reads and drops the rest of the body: until its end, `maxBytes` (overshot by at most one
    /// read), or `maxTime` (when `channel` is closed under the pending read). The bytes dropped, and
    /// whether a bound cut it off before the end.
    func discard(on channel: any Channel, maxBytes: Int, maxTime: TimeAmount) async -> (bytes: Int, cutOff: Bool) {
        let started = ContinuousClock.now
        let deadline = channel.eventLoop.scheduleTask(in: maxTime) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        var discarded = 0
        while discarded < maxBytes, let part = try? await next() {
            discarded += part.readableBytes
        }
        return (discarded, discarded >= maxBytes || started.duration(to: .now) >= .nanoseconds(maxTime.nanoseconds))
    }

    /// The parts of a `TrackedRequestBody`, as an async sequence.
    struct Parts: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let body: TrackedRequestBody

        struct AsyncIterator: AsyncIteratorProtocol {
            let body: TrackedRequestBody
            mutating func next() async throws -> ByteBuffer? { try await body.next() }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: body) }
    }
}
