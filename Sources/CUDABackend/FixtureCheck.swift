// FixtureCheck: runs any Backend over a tiny fixture model's reference cases (Tests/Fixtures/models/*/
// reference, Hugging Face fp32 outputs) and reports the largest logit differences and whether the greedy
// tokens match: once per case alone, then all cases as one batch (which must give the same tokens).
// Used by CUDABackendTests and by `gptoss cuda-check` on GPU machines (which have no XCTest).
import Core
import Foundation

public struct FixtureCaseResult: Sendable {
    public var model: String
    public var name: String
    /// max |Δ| over the prompt's logits [T, V] (full pass) and over the greedy steps' logits [N, V].
    public var prefillMaxAbs: Float
    public var greedyMaxAbs: Float
    public var maxAbsReference: Float
    public var expectedTokens: [Int32]
    public var tokens: [Int32]
    /// Tokens of the same case decoded inside a batch with every other case.
    public var batchedTokens: [Int32]
    public var tokensMatch: Bool { tokens == expectedTokens && batchedTokens == expectedTokens }
}

public enum FixtureCheck {
    struct Case: Decodable {
        var name: String
        var prompt_ids: [Int32]
        var logits_file: String
        var greedy_ids: [Int32]
        var greedy_logits_file: String
    }
    struct Cases: Decodable { var model: String; var cases: [Case] }

    static func readF32(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func maxAbs(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        precondition(a.count == b.count)
        var m: Float = 0
        for (x, y) in zip(a, b) { let dd = abs(x - y); if !(dd <= m) { m = dd.isNaN ? .infinity : dd } }
        return m
    }

    /// Runs every case of the fixture in `modelDir` on `backend` (which must have been built from it).
    public static func run(backend: Backend, modelDir: URL) throws -> [FixtureCaseResult] {
        let refDir = modelDir.appendingPathComponent("reference")
        let spec = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: refDir.appendingPathComponent("cases.json")))
        let V = backend.config.vocabSize
        var results: [FixtureCaseResult] = []
        for c in spec.cases {
            let prefillRef = try readF32(refDir.appendingPathComponent(c.logits_file))
            let greedyRef = try readF32(refDir.appendingPathComponent(c.greedy_logits_file))
            let slot = try backend.allocateSlot()
            defer { backend.freeSlot(slot) }
            let T = c.prompt_ids.count
            var r = try backend.step([SequenceStep(slot: slot, tokens: c.prompt_ids, startPosition: 0, logits: .all)])[0]
            let prefillMax = maxAbs(r.logits[...], prefillRef[...])
            var greedyMax = maxAbs(r.logits[((T - 1) * V)...], greedyRef[0..<V])
            var toks: [Int32] = [r.token]
            for i in 1..<c.greedy_ids.count {
                r = try backend.step([SequenceStep(slot: slot, tokens: [toks[i - 1]], startPosition: T + i - 1, logits: .last)])[0]
                greedyMax = max(greedyMax, maxAbs(r.logits[...], greedyRef[(i * V)..<((i + 1) * V)]))
                toks.append(r.token)
            }
            let refMax = greedyRef.reduce(prefillRef.reduce(0) { max($0, abs($1)) }) { max($0, abs($1)) }
            results.append(FixtureCaseResult(model: spec.model, name: c.name, prefillMaxAbs: prefillMax, greedyMaxAbs: greedyMax,
                                             maxAbsReference: refMax, expectedTokens: c.greedy_ids, tokens: toks, batchedTokens: []))
        }
        // All cases at once: one prefill step holding every prompt, then batched decode steps.
        let n = spec.cases.count
        guard n <= backend.maxSlots else { return results }
        var slots: [Int] = []
        defer { slots.forEach { backend.freeSlot($0) } }
        for _ in 0..<n { slots.append(try backend.allocateSlot()) }
        var steps = spec.cases.enumerated().map { SequenceStep(slot: slots[$0.offset], tokens: $0.element.prompt_ids, startPosition: 0) }
        var out = try backend.step(steps)
        var batched = out.map { [$0.token] }
        for _ in 1..<(spec.cases.map { $0.greedy_ids.count }.min() ?? 1) {
            for i in 0..<n {
                steps[i].startPosition += steps[i].tokens.count
                steps[i].tokens = [batched[i].last!]
            }
            out = try backend.step(steps)
            for i in 0..<n { batched[i].append(out[i].token) }
        }
        for i in 0..<n { results[i].batchedTokens = batched[i] }
        return results
    }
}

extension FixtureCheck {
    /// Runs each case's prompt (all logits) and its greedy continuation on two backends and returns the
    /// largest |Δlogit| between them, the largest |logit| of `b`, and whether their greedy tokens are identical.
    public static func compare(_ a: Backend, _ b: Backend, modelDir: URL) throws -> (maxAbs: Float, maxRef: Float, tokensIdentical: Bool) {
        let spec = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: modelDir.appendingPathComponent("reference/cases.json")))
        var worst: Float = 0, ref: Float = 0
        var same = true
        for c in spec.cases {
            let sa = try a.allocateSlot(), sb = try b.allocateSlot()
            defer { a.freeSlot(sa); b.freeSlot(sb) }
            var ra = try a.step([SequenceStep(slot: sa, tokens: c.prompt_ids, startPosition: 0, logits: .all)])[0]
            var rb = try b.step([SequenceStep(slot: sb, tokens: c.prompt_ids, startPosition: 0, logits: .all)])[0]
            worst = max(worst, maxAbs(ra.logits[...], rb.logits[...]))
            ref = rb.logits.reduce(ref) { max($0, abs($1)) }
            same = same && ra.token == rb.token
            var pos = c.prompt_ids.count
            for _ in 1..<c.greedy_ids.count {
                ra = try a.step([SequenceStep(slot: sa, tokens: [ra.token], startPosition: pos, logits: .last)])[0]
                rb = try b.step([SequenceStep(slot: sb, tokens: [rb.token], startPosition: pos, logits: .last)])[0]
                worst = max(worst, maxAbs(ra.logits[...], rb.logits[...]))
                ref = rb.logits.reduce(ref) { max($0, abs($1)) }
                same = same && ra.token == rb.token
                pos += 1
            }
        }
        return (worst, ref, same)
    }
}

extension FixtureCheck {
    /// Same as `compare(_:_:modelDir:)` for any checkpoint (e.g. a synthetic full-size one): a random
    /// prompt of `promptTokens` ids, then `steps` greedy steps. Returns max |Δlogit|, max |logit| of `b`,
    /// and whether the greedy tokens agree.
    public static func compareRandom(_ a: Backend, _ b: Backend, promptTokens: Int, steps: Int, seed: UInt64 = 7)
        throws -> (maxAbs: Float, maxRef: Float, tokensA: [Int32], tokensB: [Int32]) {
        var s = seed
        let V = UInt64(a.config.vocabSize)
        let prompt: [Int32] = (0..<promptTokens).map { _ in s = CounterRNG.mix(s); return Int32(s % V) }
        let sa = try a.allocateSlot(), sb = try b.allocateSlot()
        defer { a.freeSlot(sa); b.freeSlot(sb) }
        var ra = try a.step([SequenceStep(slot: sa, tokens: prompt, startPosition: 0, logits: .all)])[0]
        var rb = try b.step([SequenceStep(slot: sb, tokens: prompt, startPosition: 0, logits: .all)])[0]
        var worst = maxAbs(ra.logits[...], rb.logits[...])
        var ref = rb.logits.reduce(0) { max($0, abs($1)) }
        var ta = [ra.token], tb = [rb.token]
        for i in 0..<steps {
            // Both continue with b's token so a single flip does not derail the comparison.
            ra = try a.step([SequenceStep(slot: sa, tokens: [rb.token], startPosition: promptTokens + i, logits: .last)])[0]
            rb = try b.step([SequenceStep(slot: sb, tokens: [rb.token], startPosition: promptTokens + i, logits: .last)])[0]
            worst = max(worst, maxAbs(ra.logits[...], rb.logits[...]))
            ref = rb.logits.reduce(ref) { max($0, abs($1)) }
            ta.append(ra.token); tb.append(rb.token)
        }
        return (worst, ref, ta, tb)
    }
}
