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

    // The fixed-point weights (Sampling.swift rule 4): q = ⌊expf(z − zmax)·2^44⌋, exact integer sums.
    func testWeightsBelowFixedPointResolutionAreNeverDrawn() {
        // expf(−31) ≈ 3.4e-14 < 2^-44 ≈ 5.7e-14: q = 0, so token 1 is never drawn.
        XCTAssertEqual(Sampler.weight(-31, 0), 0)
        XCTAssertEqual(Sampler.weight(0, 0), 1 << 44)
        for i in 0..<500 {
            XCTAssertEqual(Sampler.sample([0, -31], params: SamplingParams(temperature: 1, seed: 5), sampleIndex: UInt64(i)), 0)
        }
    }

    func testTopPThresholdIsExactOnIntegerSums() {
        // Four equal weights: M = 4·2^44, θ = 0.5·M = 2·2^44 is reached exactly after two candidates
        // (ties in ascending index), so top-p 0.5 keeps tokens 0 and 1 only, and u picks floor(u·2).
        let logits: [Float] = [1, 1, 1, 1]
        var seen = Set<Int32>()
        for i in 0..<100 {
            let u = CounterRNG.uniform(seed: 11, counter: UInt64(i))
            let tok = Sampler.sample(logits, params: SamplingParams(temperature: 1, topP: 0.5, seed: 11), sampleIndex: UInt64(i))
            XCTAssertEqual(tok, Int32(u * 2))
            seen.insert(tok)
        }
        XCTAssertEqual(seen, [0, 1])
    }

    func testMatchesIntegerInverseCDF() {
        // Without truncation: the first token whose running Σq exceeds ⌊u·S⌋ (rule 5), written out.
        var s: UInt64 = 3
        let logits: [Float] = (0..<300).map { _ in s = CounterRNG.mix(s); return Float(s >> 40) / Float(1 << 24) * 8 - 4 }
        let zmax = logits.max()!
        let q = logits.map { Sampler.weight($0 / 0.7, zmax / 0.7) }
        let S = q.reduce(0, +)
        for i in 0..<200 {
            let u = CounterRNG.uniform(seed: 17, counter: UInt64(i))
            let target = UInt64(Double(u) * Double(S))
            var acc: UInt64 = 0, expected = -1
            for (j, x) in q.enumerated() { acc += x; if acc > target { expected = j; break } }
            XCTAssertEqual(Sampler.sample(logits, params: SamplingParams(temperature: 0.7, seed: 17), sampleIndex: UInt64(i)), Int32(expected))
        }
    }

    func testTopKKeepsLowestIndicesAmongTies() {
        // Candidates by descending z then ascending index: top-3 of [5, 7, 7, 7, 7] is {1, 2, 3}.
        var seen = Set<Int32>()
        for i in 0..<300 {
            seen.insert(Sampler.sample([5, 7, 7, 7, 7], params: SamplingParams(temperature: 1, topK: 3, seed: 2), sampleIndex: UInt64(i)))
        }
        XCTAssertEqual(seen, [1, 2, 3])
    }

    func testSignedZerosAreTies() {
        // −0 == +0: with top-k 1 the lower index wins whichever zero it holds (the GPU kernel maps −0 to +0
        // before building its sort keys for this reason).
        for i in 0..<20 {
            XCTAssertEqual(Sampler.sample([-1, 0.0, -0.0], params: SamplingParams(temperature: 1, topK: 1, seed: 4), sampleIndex: UInt64(i)), 1)
            XCTAssertEqual(Sampler.sample([-1, -0.0, 0.0], params: SamplingParams(temperature: 1, topK: 1, seed: 4), sampleIndex: UInt64(i)), 1)
        }
    }
}
