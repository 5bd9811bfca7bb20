// Building the server: `ServerState` (the engine seam, the chat format, the served model's name,
// metrics, limits), the router with its middleware and routes, and the Hummingbird application that
// `gptoss serve` runs and tests drive in-process. Info routes (/health, /v1/models, /metrics) live here.
import Engine
import Foundation
import Hummingbird
import NIOCore

public struct ServerOptions: Sendable {
    /// The model id clients name (`gpt-oss-20b`); requests naming another model get 404.
    public var modelID: String
    /// Bearer token required on /v1/* (nil: no auth).
    public var apiKey: String?
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes: Int

    public init(modelID: String, apiKey: String? = nil, maxBodyBytes: Int = 4 << 20) {
        self.modelID = modelID; self.apiKey = apiKey; self.maxBodyBytes = maxBodyBytes
    }
}

/// What every route shares. Immutable; the engine and metrics are thread-safe.
public struct ServerState: Sendable {
    public let engine: any GenerationService
    public let format: any ChatFormat
    public let modelID: String
    public let metrics: ServerMetrics
    public let maxBodyBytes: Int
    /// Unix time the server started (`created` of the model object).
    public let startedAt: Int

    public init(engine: any GenerationService, format: any ChatFormat, options: ServerOptions,
                metrics: ServerMetrics = ServerMetrics()) {
        self.engine = engine; self.format = format; self.modelID = options.modelID
        self.metrics = metrics; self.maxBodyBytes = options.maxBodyBytes
        self.startedAt = Int(Date().timeIntervalSince1970)
    }
}

public enum OpenAIServer {
    /// The router with every route and middleware; tests run it with HummingbirdTesting.
    public static func makeRouter(state: ServerState, apiKey: String?) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(MetricsMiddleware(metrics: state.metrics))
        router.middlewares.add(ErrorMiddleware(maxBodyBytes: state.maxBodyBytes))
        if let apiKey, !apiKey.isEmpty {
            router.middlewares.add(BearerAuthMiddleware(apiKey: Array(apiKey.utf8)))
        }

        router.get("/health") { _, _ -> Response in
            jsonResponse(.object([("status", .string("ok"))]))
        }
        router.get("/v1/models") { _, _ -> Response in
            jsonResponse(.object([("object", .string("list")), ("data", .array([state.modelObject]))]))
        }
        router.get("/v1/models/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard id == state.modelID else { throw APIError.modelNotFound(id) }
            return jsonResponse(state.modelObject)
        }
        router.get("/metrics") { _, _ -> Response in
            let text = state.metrics.prometheusText(engine: state.engine.metrics(), model: state.modelID)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/v1/chat/completions") { request, _ -> Response in
            try await state.chatCompletions(request)
        }
        router.post("/v1/completions") { request, _ -> Response in
            try await state.completions(request)
        }
        return router
    }

    /// The application `gptoss serve` runs: HTTP/1.1 on host:port.
    public static func makeApplication(state: ServerState, apiKey: String?, host: String, port: Int,
                                       onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(router: makeRouter(state: state, apiKey: apiKey),
                    configuration: .init(address: .hostname(host, port: port), serverName: "gptoss"),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) })
    }
}

extension ServerState {
    var modelObject: JSONOut {
        .object([("id", .string(modelID)), ("object", .string("model")), ("created", .int(startedAt)),
                 ("owned_by", .string("gptoss"))])
    }

    /// Reads the whole body (413 past the limit).
    func readBody(_ request: inout Request) async throws -> [UInt8] {
        do {
            let buffer = try await request.collectBody(upTo: maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: maxBodyBytes)
        }
    }
}

func jsonResponse(_ value: JSONOut, status: HTTPResponse.Status = .ok, closeConnection: Bool = false) -> Response {
    var headers: HTTPFields = [.contentType: "application/json"]
    if closeConnection { headers[.connection] = "close" }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.serialized())))
}

/// Server-sent events: `data: JSON\n\n` frames, ending with `data: [DONE]\n\n`.
/// Generation responses say `Connection: close`: watching the connection for a disconnect while
/// generating (`consumeWithCancellationOnInboundClose`) uses up the connection's request stream, so
/// Hummingbird closes it after the response; saying so keeps clients from reusing it.
enum SSE {
    static let headers: HTTPFields = [
        .contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "close",
    ]
    static func frame(_ value: JSONOut) -> String { "data: " + value.serialized() + "\n\n" }
    static let done = "data: [DONE]\n\n"
}
