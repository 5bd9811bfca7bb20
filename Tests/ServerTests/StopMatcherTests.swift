// Stop strings: the first match anywhere wins, text before it is emitted, a possible partial match is
// held back until it is decided, and the held tail is released when the stream ends.
@testable import Server
import XCTest

final class StopMatcherTests: XCTestCase {
    func testMatchAcrossPushes() {
        var m = StopMatcher(["END"])
        XCTAssertEqual(m.push("abc E").emit, "abc ")
        XCTAssertEqual(m.push("N").emit, "")
        let last = m.push("Dxyz")
        XCTAssertEqual(last.emit, "")
        XCTAssertTrue(last.stopped)
    }

    func testFalseStartIsReleased() {
        var m = StopMatcher(["END"])
        XCTAssertEqual(m.push("xE").emit, "x")
        let r = m.push("Nd")
        XCTAssertEqual(r.emit, "ENd")
        XCTAssertFalse(r.stopped)
        XCTAssertEqual(m.push("E").emit, "")
        XCTAssertEqual(m.flush(), "E")
    }

    func testEarliestOfSeveralStops() {
        var m = StopMatcher(["world", "lo w"])
        let r = m.push("hello world")
        XCTAssertEqual(r.emit, "hel")
        XCTAssertTrue(r.stopped)
    }

    func testNoStopsPassesThrough() {
        var m = StopMatcher([])
        XCTAssertEqual(m.push("anything").emit, "anything")
        XCTAssertFalse(m.isActive)
        var empty = StopMatcher([""])
        XCTAssertFalse(empty.isActive, "an empty stop string is ignored")
        XCTAssertEqual(empty.push("x").emit, "x")
    }

    func testMultibyteText() {
        var m = StopMatcher(["🙂!"])
        XCTAssertEqual(m.push("é🙂").emit, "é")
        let r = m.push("!après")
        XCTAssertEqual(r.emit, "")
        XCTAssertTrue(r.stopped)
    }
}
