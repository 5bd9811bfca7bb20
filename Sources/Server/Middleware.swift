// Middleware around every route: request metrics (outermost, so it sees final statuses and, for SSE,
// the end of the stream), OpenAI-shaped errors for anything thrown (unknown URLs, body too large,
// unexpected failures), and bearer-token auth on /v1/* when the server has an API key.
import Foundation
import Hummingbird

/// Counts each request by route and status and times it to the last byte of its body.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let route = ServerMetrics.routeLabel(request.uri.path)
        metrics.requestStarted()
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // ErrorMiddleware sits inside, so only truly unexpected errors get here.
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            metrics.requestFinished(route: route, status: 500, seconds: seconds)
            throw error
        }
        let status = response.status.code
        let metrics = self.metrics
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                metrics.requestFinished(route: route, status: status, seconds: seconds)
            }
            try await body.write(writer)
        }
        return response
    }
}

/// Turns every thrown error into an OpenAI error body.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let api: APIError
            switch error.status {
            case .notFound:
                api = .unknownURL(method: request.method, path: request.uri.path)
            case .contentTooLarge:
                api = .bodyTooLarge(limit: maxBodyBytes)
            default:
                api = APIError(status: error.status, message: error.body ?? error.status.reasonPhrase,
                               type: error.status.code >= 500 ? "server_error" : "invalid_request_error")
            }
            return try api.response(from: request, context: context)
        } catch is CancellationError {
            // The client went away; nobody reads this.
            return try APIError(status: .init(code: 499, reasonPhrase: "Client Closed Request"),
                                message: "The client closed the connection.", code: "client_closed")
                .response(from: request, context: context)
        } catch {
            return try APIError.serverError("Internal error: \(error)").response(from: request, context: context)
        }
    }
}

/// `Authorization: Bearer KEY` on /v1/*, compared in constant time.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: [UInt8]

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.hasPrefix("/v1/") {
            let header = request.headers[.authorization] ?? ""
            let prefix = "Bearer "
            var given: [UInt8] = []
            if header.count > prefix.count, header.lowercased().hasPrefix(prefix.lowercased()) {
                given = Array(header.utf8.dropFirst(prefix.utf8.count))
            }
            guard constantTimeEquals(given, apiKey) else { throw APIError.invalidAPIKey }
        }
        return try await next(request, context)
    }
}

/// Compares in time that depends only on the expected key's length, not on where the bytes differ.
func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
    var diff: UInt8 = given.count == expected.count ? 0 : 1
    for i in 0 ..< expected.count {
        let g = i < given.count ? given[i] : 0
        diff |= g ^ expected[i]
    }
    return diff == 0 && !expected.isEmpty
}
