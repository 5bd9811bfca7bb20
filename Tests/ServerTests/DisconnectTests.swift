// A client that goes away cancels its generation in the engine (freeing its slot), for streaming and
// non-streaming requests, while other requests keep being served. Runs a real server on a loopback
// port and talks to it with a raw socket so the test can hang up mid-request.
import Engine
import Foundation
import HummingbirdTesting
import Server
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client on 127.0.0.1.
final class RawClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    func send(post path: String, json: String) {
        let request = "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
        _ = request.withCString { write(fd, $0, strlen($0)) }
    }

    /// Reads until `marker` appears (or the peer closes).
    func read(until marker: String) -> String {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains(marker) {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            received += buffer[0 ..< n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func hangUp() { close(fd) }
}

/// Waits (bounded) for a condition that another task makes true.
func eventually(_ what: String, within seconds: Double = 10, _ condition: () -> Bool,
                file: StaticString = #filePath, line: UInt = #line) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { XCTFail("timed out waiting for: \(what)", file: file, line: line); return }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
}

final class DisconnectTests: XCTestCase {
    /// "hang" never finishes by itself; anything else answers at once.
    let h = Harness { request in
        request.promptTokens == bytes("hang") ? Script(tokens: bytes("x"), finish: nil) : .reply(bytes("ok") + [Marker.return])
    }
    static let hang = #"{"messages":[{"role":"user","content":"hang"}]"#

    func testStreamingClientDisconnectCancelsItsRequest() async throws {
        try await h.app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let raw = try RawClient(port: port)
            raw.send(post: "/v1/chat/completions", json: Self.hang + #","stream":true}"#)
            let head = raw.read(until: #""content":"x""#)
            XCTAssertTrue(head.hasPrefix("HTTP/1.1 200"), head)
            XCTAssertEqual(h.engine.openCount, 1)

            // Another client is served while the first one is streaming.
            let other = try await client.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}]}"#)
            XCTAssertEqual(other.status, .ok)

            raw.hangUp()
            try await eventually("the engine request is cancelled") { h.engine.openCount == 0 && h.engine.cancelCount >= 1 }
            try await eventually("the disconnect is counted") { h.state.metrics.disconnectCount == 1 }
        }
        XCTAssertEqual(h.engine.submitCount, 2)
    }

    func testNonStreamingClientDisconnectCancelsItsRequest() async throws {
        try await h.app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let raw = try RawClient(port: port)
            raw.send(post: "/v1/chat/completions", json: Self.hang + "}")
            try await eventually("the request reaches the engine") { h.engine.openCount == 1 }
            raw.hangUp()
            try await eventually("the engine request is cancelled") { h.engine.openCount == 0 && h.engine.cancelCount >= 1 }
            let health = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(health.status, .ok)
        }
    }
}
