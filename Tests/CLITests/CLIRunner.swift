// Runs the built `gptoss` binary as a subprocess (stdin piped, stdout/stderr captured) with a private
// cache folder for the tiny model, so CLI tests exercise exactly what a user runs.
import Foundation
import XCTest

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The gptoss binary beside the test bundle (swift build --build-tests builds both), else .build/debug.
    static var binary: URL? {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("gptoss"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("gptoss"),
            packageRoot.appendingPathComponent(".build/debug/gptoss"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Where the tests' tiny model is generated once (inside .build, which git ignores).
    static let cache = packageRoot.appendingPathComponent(".build/cli-test-cache")

    static func run(_ args: [String], stdin: String? = nil, environment: [String: String]? = nil,
                    file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        guard let binary else {
            XCTFail("gptoss binary not found; run `swift build --build-tests` first", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        var env = environment ?? ProcessInfo.processInfo.environment
        if env["GPTOSS_CACHE"] == nil { env["GPTOSS_CACHE"] = cache.path }
        process.environment = env
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        // Drain both pipes concurrently so a chatty process never blocks on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let outData = Box(), errData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inPipe.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        return CLIResult(status: process.terminationStatus,
                         stdout: String(decoding: outData.data, as: UTF8.self),
                         stderr: String(decoding: errData.data, as: UTF8.self))
    }

    static func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            XCTFail("not a JSON object: \(text)", file: file, line: line)
            throw CocoaError(.coderReadCorrupt)
        }
        return object
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try json(String($0)) }
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gptoss-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

extension CLIResult {
    /// A clean failure: the given exit status, the message on stderr, no crash output.
    func assertFailure(status expected: Int32? = nil, contains message: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        if let expected {
            XCTAssertEqual(status, expected, "stderr: \(stderr)", file: file, line: line)
        } else {
            XCTAssertNotEqual(status, 0, "stderr: \(stderr)", file: file, line: line)
        }
        XCTAssertTrue(stderr.contains(message), "expected \"\(message)\" in stderr: \(stderr)", file: file, line: line)
        for crash in ["Fatal error", "Stack dump", "Backtrace", "Segmentation"] {
            XCTAssertFalse(stderr.contains(crash), "crash output in stderr: \(stderr)", file: file, line: line)
        }
    }
}
