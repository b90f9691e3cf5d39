import Foundation
import Hummingbird
import Logging
import NIOCore

/// The server's settings (the `serve` command's options).
public struct ServingSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Largest request body (413 beyond).
    public var maxBodyBytes = 1 << 20
    /// Windows one request may make (422 beyond).
    public var maxWindows = 64
    /// Items of one batch or Hugging Face list (422 beyond).
    public var maxItems = 64
    /// Seconds from a request's arrival to its answer (504 beyond).
    public var requestTimeout = 30.0
    public var batching = BatchScheduler.Settings()

    public init() {}

    /// Refuses settings that cannot work together; the message names the option.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw ServingSetupError(message) }
        }
        try check((0...65535).contains(port), "--port \(port) is not a TCP port (0...65535; 0 picks a free one)")
        try check(!host.isEmpty, "--host is empty")
        try check(maxBodyBytes > 0, "--max-body-bytes must be positive")
        try check(maxWindows > 0, "--max-windows must be positive")
        try check(maxItems > 0, "--max-items must be positive")
        try check(requestTimeout > 0 && requestTimeout.isFinite, "--request-timeout must be a positive number of seconds")
        try check(batching.maxBatchTokens > 0, "--max-batch-tokens must be positive")
        try check(batching.maxWait >= .zero, "--max-wait-ms must not be negative")
        try check(batching.maxQueueWindows >= maxWindows,
                  "--max-queue \(batching.maxQueueWindows) is below --max-windows \(maxWindows): a request at the limit could never be queued")
    }
}

/// Assembles the server: the routes behind `ServingResponder`, behind `LingeringCloseResponder`
/// (a body the routes refused unread is read and dropped, within bounds, then the connection
/// closed), and the answer service (batching thread, warm-up, drain on shutdown) as one of the
/// application's services. Run it with
/// `runService()` (SIGTERM/SIGINT shut it down gracefully: the listener closes, requests in flight
/// finish, the queue drains, then the process exits 0) or inside a `ServiceGroup`.
public enum ServingApplication {
    public static func make(service: AnswerService, settings: ServingSettings, logger: Logger,
                            onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in })
        -> some ApplicationProtocol
    {
        Application(
            responder: LingeringCloseResponder(inner: responder(service: service, settings: settings, logger: logger)),
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: "mrc-distill"),
            services: [service],
            onServerRunning: { channel in
                onListening(settings.host, channel.localAddress?.port ?? settings.port)
            },
            logger: logger
        )
    }

    /// What answers every request: the routes behind `ServingResponder`.
    public static func responder(service: AnswerService, settings: ServingSettings, logger: Logger)
        -> ServingResponder<RouterResponder<BasicRequestContext>>
    {
        let router = ServingRoutes.router(service: service, maxBodyBytes: settings.maxBodyBytes)
        return ServingResponder(inner: router.buildResponder(), metrics: service.metrics, logger: logger)
    }
}
