// OpenAI-style errors: the one error type routes throw, rendered as
// {"error": {"message", "type", "param", "code"}} with the matching HTTP status.
// Owns: the status/type/code table for every way a request can fail, and the mapping from engine,
// router and body-size errors to it.
import Engine
import Hummingbird

public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's error `type`: invalid_request_error, authentication_error, not_found_error, server_error...
    public var type: String
    /// The request field at fault (`messages`, `max_tokens`, `messages[1].content`), if any.
    public var param: String?
    /// A stable machine-readable code (`model_not_found`, `context_length_exceeded`...), if any.
    public var code: String?

    public init(status: HTTPResponse.Status, message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil) {
        self.status = status; self.message = message; self.type = type; self.param = param; self.code = code
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    // MARK: The cases routes use

    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, param: param, code: code)
    }

    public static func invalidJSON(_ message: String) -> APIError {
        APIError(status: .badRequest, message: "We could not parse the JSON body of your request. (\(message))",
                 code: "invalid_json")
    }

    public static func modelNotFound(_ model: String) -> APIError {
        APIError(status: .notFound, message: "The model `\(model)` does not exist or you do not have access to it.",
                 param: "model", code: "model_not_found")
    }

    public static func contextLengthExceeded(maxContext: Int, promptTokens: Int, completionTokens: Int?,
                                             param: String) -> APIError {
        var message = "This model's maximum context length is \(maxContext) tokens. However, you requested "
        if let completionTokens {
            message += "\(promptTokens + completionTokens) tokens (\(promptTokens) in the prompt, \(completionTokens) in the completion)."
        } else {
            message += "\(promptTokens) tokens in the prompt alone."
        }
        message += " Please reduce the length of the prompt or the completion."
        return APIError(status: .badRequest, message: message, param: param, code: "context_length_exceeded")
    }

    public static let invalidAPIKey = APIError(
        status: .unauthorized,
        message: "Incorrect API key provided. Send it as `Authorization: Bearer KEY` (the key gptoss serve was started with).",
        type: "invalid_request_error", code: "invalid_api_key")

    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "The request body is larger than \(limit) bytes.",
                 code: "request_too_large")
    }

    public static func unknownURL(method: HTTPRequest.Method, path: String) -> APIError {
        APIError(status: .notFound, message: "Unknown request URL: \(method.rawValue) \(path).", code: "unknown_url")
    }

    public static func shuttingDown() -> APIError {
        APIError(status: .serviceUnavailable, message: "The server is shutting down and accepts no new requests.",
                 type: "server_error", code: "shutting_down")
    }

    public static func serverError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error")
    }

    /// Maps what `GenerationService.submit` or a token stream throws.
    public static func from(engine error: EngineError, param: String = "messages") -> APIError {
        switch error {
        case .emptyPrompt:
            return .invalidRequest("The prompt is empty.", param: param)
        case let .promptTooLong(n, ctx):
            return .contextLengthExceeded(maxContext: ctx, promptTokens: n, completionTokens: nil, param: param)
        case .invalidMaxTokens(let n):
            return .invalidRequest("max_tokens must be at least 1, got \(n).", param: "max_tokens")
        case let .tokenOutOfRange(t, i, v):
            return .invalidRequest("Prompt token \(t) at index \(i) is outside the vocabulary (0..<\(v)).", param: param)
        case .shuttingDown:
            return .shuttingDown()
        case .backendFailed(let message):
            return .serverError("The model failed while generating: \(message)")
        }
    }

    // MARK: Rendering

    /// The OpenAI error object: {"error": {"message", "type", "param", "code"}}.
    var json: JSONOut {
        .object([("error", .object([
            ("message", .string(message)),
            ("type", .string(type)),
            ("param", param.map(JSONOut.string) ?? .null),
            ("code", code.map(JSONOut.string) ?? .null),
        ]))])
    }

    public var bodyText: String { json.serialized() }
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: bodyText)))
    }
}
