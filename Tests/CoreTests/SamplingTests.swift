// CounterRNG: the counter-based uniform generator every backend samples with (deterministic, in [0, 1)).
import XCTest
@testable import Core

final class SamplingTests: XCTestCase {
    func testCounterRNGIsDeterministicAndInRange() {
        let a = (0..<1000).map { CounterRNG.uniform(seed: 42, counter: UInt64($0)) }
        let b = (0..<1000).map { CounterRNG.uniform(seed: 42, counter: UInt64($0)) }
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = a.reduce(0, +) / Float(a.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.05)
        XCTAssertNotEqual(CounterRNG.uniform(seed: 1, counter: 0), CounterRNG.uniform(seed: 2, counter: 0))
    }
}
