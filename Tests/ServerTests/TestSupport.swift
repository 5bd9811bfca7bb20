// Helpers for route tests: build the router around stubs, send JSON, decode JSON and SSE bodies.
import Engine
import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import XCTest

struct Harness {
    let engine: StubEngine
    let state: ServerState
    let app: Application<RouterResponder<BasicRequestContext>>

    init(apiKey: String? = nil, maxContext: Int = 256, maxBodyBytes: Int = 4096,
         format: any ChatFormat = StubFormat(),
         script: @escaping @Sendable (GenerationRequest) -> Script) {
        engine = StubEngine(maxContext: maxContext, script: script)
        state = ServerState(engine: engine, format: format,
                            options: ServerOptions(modelID: "gpt-oss-test", apiKey: apiKey, maxBodyBytes: maxBodyBytes))
        app = Application(router: OpenAIServer.makeRouter(state: state, apiKey: apiKey))
    }
}

func jsonObject(_ buffer: ByteBuffer, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
    let text = String(buffer: buffer)
    guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
        XCTFail("not a JSON object: \(text)", file: file, line: line)
        return [:]
    }
    return object
}

/// `data:` payloads of an SSE body; the last must be [DONE], which is dropped.
func sseEvents(_ buffer: ByteBuffer, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
    let text = String(buffer: buffer)
    let frames = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
    XCTAssertEqual(frames.last, "data: [DONE]", "stream must end with [DONE]: \(text)", file: file, line: line)
    return frames.dropLast().compactMap { frame in
        XCTAssertTrue(frame.hasPrefix("data: "), "frame \(frame)", file: file, line: line)
        return (try? JSONSerialization.jsonObject(with: Data(frame.dropFirst(6).utf8))) as? [String: Any]
    }
}

/// The OpenAI error object of a body, asserting its four keys are there.
func errorObject(_ buffer: ByteBuffer, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
    let body = jsonObject(buffer, file: file, line: line)
    guard let error = body["error"] as? [String: Any] else {
        XCTFail("no error object in \(String(buffer: buffer))", file: file, line: line)
        return [:]
    }
    XCTAssertEqual(Set(error.keys), ["message", "type", "param", "code"], file: file, line: line)
    return error
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

extension TestClientProtocol {
    func post(_ uri: String, _ json: String, headers: HTTPFields = jsonHeaders) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }
}
