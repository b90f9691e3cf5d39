import Foundation
import Hummingbird
import MRC
import NIOCore

/// The routes of the API (documented in `OpenAPIDocument`).
public enum ServingRoutes {
    /// Every route and its methods: the responder answers 405 with Allow for another method, and
    /// labels metrics by these paths (anything else is "other").
    public static let methods: [String: [HTTPRequest.Method]] = [
        "/health": [.get], "/ready": [.get], "/metrics": [.get], "/openapi.json": [.get], "/v1/models": [.get],
        "/v1/answer": [.post], "/v1/answer:batch": [.post], "/": [.get],
    ]

    public static func router(service: AnswerService, maxBodyBytes: Int) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        let playground = PlaygroundPage(maxBodyBytes: maxBodyBytes)
        router.get("/") { _, _ in playground.response }
        router.get("/health") { _, _ in
            JSONResponse.make(.object([("status", .string("ok"))]))
        }
        router.get("/ready") { _, _ in
            guard service.isReady else { throw ServingError.unavailable("the models are loading or warming up, or the server is stopping") }
            return JSONResponse.make(.object([("status", .string("ready")), ("queued_windows", .integer(service.scheduler.queueDepth))]))
        }
        router.get("/metrics") { _, _ in
            var buffer = ByteBuffer()
            buffer.writeString(service.metrics.render())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: buffer))
        }
        router.get("/openapi.json") { _, _ in
            JSONResponse.make(rendered: OpenAPIDocument.json)
        }
        router.get("/v1/models") { _, _ in
            models(service)
        }
        router.post("/v1/answer") { request, _ in
            JSONResponse.make(try await service.respond {
                try service.parser.answer(try await body(of: request, limit: maxBodyBytes))
            })
        }
        router.post("/v1/answer:batch") { request, _ in
            JSONResponse.make(try await service.respond {
                try service.parser.batch(try await body(of: request, limit: maxBodyBytes))
            })
        }
        return router
    }

    /// The request body, at most `limit` bytes (413 beyond, refused from Content-Length when it says so).
    /// The rest of a refused body is left unread: `LingeringCloseResponder` drops it after the 413 and
    /// closes the connection.
    static func body(of request: Request, limit: Int) async throws -> Data {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw ServingError.bodyTooLarge(limit: limit)
        }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ServingError.bodyTooLarge(limit: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw ServingError.bodyTooLarge(limit: limit)
        }
    }

    static func models(_ service: AnswerService) -> Response {
        let models = service.catalog.models.map { model -> JSONText in
            var fields: [(String, JSONText)] = [
                ("name", .string(model.name)),
                ("members", .array(model.directories.map { .string($0.path) })),
                ("layers", .array(model.layers.map { .integer($0) })),
                ("max_seq_len", .integer(model.windowSettings.maxSeqLen)),
                ("doc_stride", .integer(model.windowSettings.docStride)),
                ("max_query_len", .integer(model.windowSettings.maxQueryLen)),
                ("n_best", .integer(model.decoderSettings.nBest)),
                ("max_answer_length", .integer(model.decoderSettings.maxAnswerLength)),
            ]
            // A model that may answer "no answer" says at which null-score threshold.
            if let threshold = model.decoderSettings.nullScoreThreshold { fields.append(("null_score_threshold", .number(threshold))) }
            return .object(fields)
        }
        return JSONResponse.make(.object([("default", .string(service.catalog.defaultModel.name)), ("models", .array(models))]))
    }
}
