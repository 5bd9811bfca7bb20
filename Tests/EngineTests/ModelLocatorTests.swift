// Model discovery over a fake home and fake hub caches in a temporary folder.
@testable import Engine
import XCTest

final class ModelLocatorTests: XCTestCase {
    private var root: URL!
    private var home: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("gptoss-locator-\(UUID().uuidString)")
        home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// Makes `<hub>/models--openai--<name>/snapshots/<rev>/config.json` with the given modification date.
    @discardableResult
    private func snapshot(hub: URL, repo: String, rev: String, modified: Date) throws -> URL {
        let dir = hub.appendingPathComponent("models--openai--\(repo)/snapshots/\(rev)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: dir.path)
        return dir
    }

    func testFlagWinsOverEnvironmentAndCache() throws {
        let dir = root.appendingPathComponent("ckpt")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
        try snapshot(hub: home.appendingPathComponent(".cache/huggingface/hub"), repo: "gpt-oss-20b", rev: "a", modified: Date())
        let loc = try ModelLocator.locate(flag: dir.path, environment: ["GPTOSS_MODEL": "/nope"], home: home)
        XCTAssertEqual(loc.origin, .flag)
        XCTAssertEqual(loc.directory.path, dir.path)
    }

    func testEnvironmentVariableIsUsedWithoutFlag() throws {
        let dir = root.appendingPathComponent("envckpt")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
        let loc = try ModelLocator.locate(flag: nil, environment: ["GPTOSS_MODEL": dir.path], home: home)
        XCTAssertEqual(loc.origin, .environment)
        XCTAssertEqual(loc.directory.path, dir.path)
    }

    func testHubCachePrefers20bThenNewestSnapshot() throws {
        let hfHome = root.appendingPathComponent("hfhome")
        let hub = hfHome.appendingPathComponent("hub")
        let old = Date(timeIntervalSince1970: 1_000_000)
        let new = Date(timeIntervalSince1970: 2_000_000)
        try snapshot(hub: hub, repo: "gpt-oss-120b", rev: "big", modified: new)
        try snapshot(hub: hub, repo: "gpt-oss-20b", rev: "older", modified: old)
        let newer = try snapshot(hub: hub, repo: "gpt-oss-20b", rev: "newer", modified: new)
        let loc = try ModelLocator.locate(flag: nil, environment: ["HF_HOME": hfHome.path], home: home)
        XCTAssertEqual(loc.origin, .huggingFaceCache(repo: "openai/gpt-oss-20b"))
        XCTAssertEqual(loc.directory.path, newer.path)
    }

    func testRefsMainPicksItsSnapshot() throws {
        let hub = root.appendingPathComponent("hubcache")
        let pinned = try snapshot(hub: hub, repo: "gpt-oss-20b", rev: "pinned", modified: Date(timeIntervalSince1970: 1))
        try snapshot(hub: hub, repo: "gpt-oss-20b", rev: "later", modified: Date())
        try "pinned\n".write(to: hub.appendingPathComponent("models--openai--gpt-oss-20b/refs/main", isDirectory: false)
            .creatingParent(), atomically: true, encoding: .utf8)
        let loc = try ModelLocator.locate(flag: nil, environment: ["HF_HUB_CACHE": hub.path], home: home)
        XCTAssertEqual(loc.directory.path, pinned.path)
    }

    func testFallsBackTo120bInDefaultCache() throws {
        let hub = home.appendingPathComponent(".cache/huggingface/hub")
        let big = try snapshot(hub: hub, repo: "gpt-oss-120b", rev: "r1", modified: Date())
        let loc = try ModelLocator.locate(flag: nil, environment: [:], home: home)
        XCTAssertEqual(loc.origin, .huggingFaceCache(repo: "openai/gpt-oss-120b"))
        XCTAssertEqual(loc.directory.path, big.path)
    }

    func testFlagMayNameAHubRepoFolder() throws {
        let hub = root.appendingPathComponent("h")
        let snap = try snapshot(hub: hub, repo: "gpt-oss-20b", rev: "x", modified: Date())
        let loc = try ModelLocator.locate(flag: hub.appendingPathComponent("models--openai--gpt-oss-20b").path,
                                          environment: [:], home: home)
        XCTAssertEqual(loc.directory.path, snap.path)
    }

    func testTinyNamesTheGeneratedModelFolder() throws {
        let loc = try ModelLocator.locate(flag: "tiny", environment: ["GPTOSS_CACHE": "/tmp/gc"], home: home)
        XCTAssertEqual(loc, ModelLocation(directory: URL(fileURLWithPath: "/tmp/gc/tiny-v1"), origin: .tiny))
        XCTAssertEqual(ModelLocator.tinyDirectory(environment: [:], home: home),
                       home.appendingPathComponent(".cache/gptoss/tiny-v1"))
    }

    func testNothingFoundExplainsHowToGetWeights() {
        XCTAssertThrowsError(try ModelLocator.locate(flag: nil, environment: [:], home: home)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("hf download openai/gpt-oss-20b"), text)
            XCTAssertTrue(text.contains("--model tiny"), text)
            XCTAssertTrue(text.contains(self.home.appendingPathComponent(".cache/huggingface/hub/models--openai--gpt-oss-20b").path), text)
        }
    }

    func testBadFlagPathsAreClearErrors() throws {
        XCTAssertThrowsError(try ModelLocator.locate(flag: "/does/not/exist", environment: [:], home: home)) {
            XCTAssertEqual($0 as? ModelLocatorError, .missingDirectory(path: "/does/not/exist", source: "--model"))
        }
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ModelLocator.locate(flag: nil, environment: ["GPTOSS_MODEL": empty.path], home: home)) {
            XCTAssertEqual($0 as? ModelLocatorError, .notACheckpoint(path: empty.path, source: "$GPTOSS_MODEL"))
            XCTAssertTrue(String(describing: $0).contains("no config.json"))
        }
    }
}

private extension URL {
    func creatingParent() throws -> URL {
        try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
        return self
    }
}
