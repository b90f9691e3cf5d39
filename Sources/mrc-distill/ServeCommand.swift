import ArgumentParser
import Foundation
import Logging
import Serving
import Training

/// `mrc-distill serve`: the HTTP question-answering API (see the Serving target and README "Serving").
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve span-QA models over HTTP: POST /v1/answer, /v1/answer:batch (and the Hugging Face shape).",
        discussion: """
            Models: --model DIR (named after the directory) or --model NAME=DIR, repeatable; --ensemble \
            NAME=DIR1,DIR2,... serves the mean of the members' logits through the same decoder. The first \
            --model (else the first --ensemble) answers requests that name no model. Windows and decoding follow \
            the window options exactly as `predict` does. Windows of concurrent requests are batched up to \
            --max-batch-tokens token positions, waiting at most --max-wait-ms. SIGTERM/SIGINT: stop accepting, \
            finish the requests in flight, exit 0. GET /openapi.json documents the API; /metrics is Prometheus.
            """)

    @Option(name: .long, help: "A span-QA model directory, or NAME=DIR (repeatable).")
    var model: [String] = []
    @Option(name: .long, help: "An ensemble NAME=DIR1,DIR2,... (repeatable): the mean of its members' logits.")
    var ensemble: [String] = []
    @Flag(name: .long, help: "Use each directory's EMA weights (ema.safetensors).")
    var ema = false
    @OptionGroup var windows: WindowOptions
    @OptionGroup var precision: InferencePrecisionOptions

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one; the chosen port is logged).") var port = 8080
    @Option(name: .customLong("max-batch-tokens"), help: "Token positions (windows × padded length) per forward batch.")
    var maxBatchTokens = 4096
    @Option(name: .customLong("max-wait-ms"), help: "Longest a window waits for others to fill its batch, in milliseconds.")
    var maxWaitMs = 5.0
    @Option(name: .customLong("max-queue"), help: "Windows that may wait for a batch; beyond, requests get 503 with Retry-After.")
    var maxQueue = 1024
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body (413 beyond).")
    var maxBodyBytes = 1 << 20
    @Option(name: .customLong("max-windows"), help: "Windows one request may make (422 beyond).")
    var maxWindows = 64
    @Option(name: .customLong("max-items"), help: "Question/context pairs in one batch or list request (422 beyond).")
    var maxItems = 64
    @Option(name: .customLong("request-timeout"), help: "Seconds a request may take (504 beyond).")
    var requestTimeout = 30.0
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    var specs: [ModelSpec] {
        get throws { try model.map(ModelSpec.model) + ensemble.map(ModelSpec.ensemble) }
    }

    var settings: ServingSettings {
        var settings = ServingSettings()
        settings.host = host
        settings.port = port
        settings.maxBodyBytes = maxBodyBytes
        settings.maxWindows = maxWindows
        settings.maxItems = maxItems
        settings.requestTimeout = requestTimeout
        settings.batching = .init(maxBatchTokens: maxBatchTokens, maxWait: .microseconds(Int64((maxWaitMs * 1000).rounded())),
                                  maxQueueWindows: maxQueue)
        return settings
    }

    func validate() throws {
        try windows.validateWindows()
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; not \(logLevel)")
        }
        guard maxWaitMs.isFinite, maxWaitMs >= 0 else { throw ValidationError("--max-wait-ms must be a number ≥ 0") }
        try refuse {
            try settings.validate()
            let specs = try self.specs
            guard !specs.isEmpty else { throw ServingSetupError("give a model to serve: --model DIR (or --ensemble NAME=DIR1,DIR2,...)") }
            for directory in specs.flatMap(\.directories) {
                _ = try Preflight.checkModel(URL(fileURLWithPath: directory), maxSequenceLength: windows.maxSeqLen,
                                             weightsFile: ema ? "ema.safetensors" : "model.safetensors")
            }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "mrc-distill.serve")
        let settings = self.settings
        let started = Date()
        let catalog: ModelCatalog
        do {
            catalog = try ModelCatalog(specs: try specs, weightsFile: ema ? "ema.safetensors" : nil,
                                       windowSettings: windows.windowSettings, decoderSettings: windows.decoderSettings,
                                       precision: precision.precision)
            announce(precision.precision, models: try specs.flatMap(\.directories))
        } catch let error as ServingSetupError {
            throw ValidationError(error.description)
        }
        for served in catalog.models {
            report("serve: model \(served.name)\(served === catalog.defaultModel ? " (default)" : ""): "
                + served.directories.map(\.path).joined(separator: ", "))
        }
        report(String(format: "serve: models loaded in %.1f s; warming up", Date().timeIntervalSince(started)))
        let metrics = ServingMetrics()
        let service = AnswerService(catalog: catalog, scheduler: BatchScheduler(settings: settings.batching, metrics: metrics),
                                    metrics: metrics, maxWindows: settings.maxWindows, requestTimeout: settings.requestTimeout,
                                    maxItems: settings.maxItems, logger: logger)
        let app = ServingApplication.make(service: service, settings: settings, logger: logger) { host, port in
            report("serve: listening on http://\(host):\(port)")
        }
        try await app.runService()
        report("serve: stopped")
    }
}
