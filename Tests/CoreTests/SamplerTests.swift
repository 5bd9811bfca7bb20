// The documented sampling rule (Sampling.swift): greedy ties, top-k, top-p, determinism.
import XCTest
@testable import Core

final class SamplerTests: XCTestCase {
    func testGreedyLowestIndexOnTies() {
        XCTAssertEqual(Sampler.sample([1, 3, 3, 2], params: .greedy, sampleIndex: 0), 1)
        XCTAssertEqual(Sampler.sample([.nan, -1, -2], params: .greedy, sampleIndex: 0), 1)
    }

    func testTopKOneIsGreedy() {
        let logits: [Float] = [0.1, 2, 0.3, 2, -1]
        for i in 0..<20 {
            XCTAssertEqual(Sampler.sample(logits, params: SamplingParams(temperature: 1, topK: 1, seed: 7), sampleIndex: UInt64(i)), 1)
        }
    }

    func testTopPKeepsNucleus() {
        // Probabilities ~ [0.665, 0.245, 0.09]: top-p 0.5 keeps only token 0; 0.8 keeps 0 and 1.
        let logits: [Float] = [2, 1, 0]
        var seen = Set<Int32>()
        for i in 0..<200 {
            XCTAssertEqual(Sampler.sample(logits, params: SamplingParams(temperature: 1, topP: 0.5, seed: 3), sampleIndex: UInt64(i)), 0)
            seen.insert(Sampler.sample(logits, params: SamplingParams(temperature: 1, topP: 0.8, seed: 3), sampleIndex: UInt64(i)))
        }
        XCTAssertEqual(seen, [0, 1])
    }

    func testInverseCDFInIndexOrder() {
        // Uniform weights over 4 tokens: token = floor(u·4).
        let logits: [Float] = [0, 0, 0, 0]
        for i in 0..<50 {
            let u = CounterRNG.uniform(seed: 9, counter: UInt64(i))
            let expected = Int32(min(3, Int(u * 4)))
            XCTAssertEqual(Sampler.sample(logits, params: SamplingParams(temperature: 0.7, seed: 9), sampleIndex: UInt64(i)), expected)
        }
    }

    func testFrequenciesFollowSoftmax() {
        let logits: [Float] = [0, log(3)]   // p = [0.25, 0.75]
        var ones = 0
        for i in 0..<4000 where Sampler.sample(logits, params: SamplingParams(temperature: 1, seed: 1), sampleIndex: UInt64(i)) == 1 { ones += 1 }
        XCTAssertEqual(Double(ones) / 4000, 0.75, accuracy: 0.03)
    }
}
