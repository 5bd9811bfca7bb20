// SyntheticCheckpoint: writes a gpt-oss checkpoint with random weights in the exact HF release
// format (config.json with quantization_config, zero-based sharded safetensors + index, MXFP4
// blocks/scales, bf16 everything else). Values keep activations finite and O(1): linear weights
// uniform with std 1/sqrt(fan_in), norms ≈ 1, small biases and sinks, MXFP4 scale bytes chosen so
// expert weights have the same magnitude. Streams tensor by tensor through a fixed-size buffer.
// Used by `gptoss synth` and by tests that need a model on disk.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum SyntheticCheckpoint {
    public enum Preset: String, CaseIterable, Sendable { case tiny, small, gptOss20b = "20b", gptOss120b = "120b" }

    /// The config of a preset. `tiny` is a 3-layer toy for tests; `small` a slightly larger one.
    public static func config(_ preset: Preset) -> ModelConfig {
        switch preset {
        case .tiny:
            return ModelConfig(numHiddenLayers: 3, hiddenSize: 64, intermediateSize: 64, numAttentionHeads: 4,
                               numKeyValueHeads: 2, headDim: 16, numLocalExperts: 4, numExpertsPerTok: 2,
                               vocabSize: 512, slidingWindow: 4)
        case .small:
            return ModelConfig(numHiddenLayers: 4, hiddenSize: 256, intermediateSize: 128, numAttentionHeads: 8,
                               numKeyValueHeads: 2, headDim: 32, numLocalExperts: 8, numExpertsPerTok: 4,
                               vocabSize: 2048, slidingWindow: 8)
        case .gptOss20b: return .gptOss20b
        case .gptOss120b: return .gptOss120b
        }
    }

    /// What a tensor is filled with.
    enum Fill {
        case uniform(std: Float)          // bf16, uniform in ±std·√3
        case around(mean: Float, std: Float)  // bf16, mean + uniform
        case fp4Codes                     // U8, random bytes (two random FP4 codes)
        case scales(base: UInt8)          // U8, base or base−1 at random
    }

    struct Spec { var name: String; var dtype: DType; var shape: [Int]; var fill: Fill
        var byteCount: Int { shape.reduce(dtype.byteSize, *) } }

    /// The tensor list in HF order (spec §2.1).
    static func tensors(_ c: ModelConfig) -> [Spec] {
        let H = c.hiddenSize, I = c.intermediateSize, E = c.numLocalExperts, V = c.vocabSize
        let q = c.qDim, kv = c.kvDim
        // RMS of a random FP4 code is sqrt(8.5625) ≈ 2.93; pick the power of two scale giving std ≈ 1/sqrt(fan_in).
        func scaleByte(fanIn: Int) -> UInt8 {
            let target = 1 / (2.93 * Double(fanIn).squareRoot())
            // Half the blocks use base, half base − 1: rms scale ≈ 0.8 · 2^round(log2 target).
            return UInt8(clamping: 127 + Int(log2(target).rounded()))
        }
        func w(_ fanIn: Int) -> Fill { .uniform(std: 1 / Float(fanIn).squareRoot()) }
        var out: [Spec] = [Spec(name: "model.embed_tokens.weight", dtype: .bf16, shape: [V, H], fill: .uniform(std: 1))]
        for l in 0..<c.numHiddenLayers {
            let p = "model.layers.\(l)."
            let x = p + "mlp.experts."
            out += [
                Spec(name: p + "input_layernorm.weight", dtype: .bf16, shape: [H], fill: .around(mean: 1, std: 0.1)),
                Spec(name: p + "self_attn.q_proj.weight", dtype: .bf16, shape: [q, H], fill: w(H)),
                Spec(name: p + "self_attn.q_proj.bias", dtype: .bf16, shape: [q], fill: .uniform(std: 0.05)),
                Spec(name: p + "self_attn.k_proj.weight", dtype: .bf16, shape: [kv, H], fill: w(H)),
                Spec(name: p + "self_attn.k_proj.bias", dtype: .bf16, shape: [kv], fill: .uniform(std: 0.05)),
                Spec(name: p + "self_attn.v_proj.weight", dtype: .bf16, shape: [kv, H], fill: w(H)),
                Spec(name: p + "self_attn.v_proj.bias", dtype: .bf16, shape: [kv], fill: .uniform(std: 0.05)),
                Spec(name: p + "self_attn.o_proj.weight", dtype: .bf16, shape: [H, q], fill: w(q)),
                Spec(name: p + "self_attn.o_proj.bias", dtype: .bf16, shape: [H], fill: .uniform(std: 0.05)),
                Spec(name: p + "self_attn.sinks", dtype: .bf16, shape: [c.numAttentionHeads], fill: .uniform(std: 0.5)),
                Spec(name: p + "post_attention_layernorm.weight", dtype: .bf16, shape: [H], fill: .around(mean: 1, std: 0.1)),
                Spec(name: p + "mlp.router.weight", dtype: .bf16, shape: [E, H], fill: w(H)),
                Spec(name: p + "mlp.router.bias", dtype: .bf16, shape: [E], fill: .uniform(std: 0.1)),
                Spec(name: x + "gate_up_proj_blocks", dtype: .u8, shape: [E, 2 * I, H / 32, 16], fill: .fp4Codes),
                Spec(name: x + "gate_up_proj_scales", dtype: .u8, shape: [E, 2 * I, H / 32], fill: .scales(base: scaleByte(fanIn: H))),
                Spec(name: x + "gate_up_proj_bias", dtype: .bf16, shape: [E, 2 * I], fill: .uniform(std: 0.05)),
                Spec(name: x + "down_proj_blocks", dtype: .u8, shape: [E, H, I / 32, 16], fill: .fp4Codes),
                Spec(name: x + "down_proj_scales", dtype: .u8, shape: [E, H, I / 32], fill: .scales(base: scaleByte(fanIn: I))),
                Spec(name: x + "down_proj_bias", dtype: .bf16, shape: [E, H], fill: .uniform(std: 0.05)),
            ]
        }
        out.append(Spec(name: "model.norm.weight", dtype: .bf16, shape: [H], fill: .around(mean: 1, std: 0.1)))
        out.append(Spec(name: "lm_head.weight", dtype: .bf16, shape: [V, H], fill: w(H)))
        return out
    }

    /// Default shard size: the real 20b release has 3 shards of ≤ 5 GB.
    public static func defaultMaxShardBytes(_ c: ModelConfig) -> Int {
        let specs = tensors(c)
        let total = specs.reduce(0) { $0 + $1.byteCount }
        // Small models: 2 shards (lm_head alone in the second) so the index path is exercised.
        return total > 1 << 30 ? 5_000_000_000 : total - specs[specs.count - 1].byteCount
    }

    /// Writes config.json, model-0000i-of-0000N.safetensors (zero-based, N = shards − 1) and
    /// model.safetensors.index.json into `directory` (created if needed). Returns the tensor bytes written.
    /// With `sparse`, tensor data is not written: each shard is extended to its full size with
    /// ftruncate (a sparse file reading as zeros, using no disk), so headers, index and loader can be
    /// checked at real 20b/120b shapes in a test.
    @discardableResult
    public static func write(config: ModelConfig, to directory: URL, seed: UInt64 = 0,
                             maxShardBytes: Int? = nil, sparse: Bool = false,
                             progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Int {
        try config.validate(file: "synthetic config")
        try makeDirectories(directory)
        try writeFile(try config.jsonData(), path: directory.appendingPathComponent("config.json").path)

        let specs = tensors(config)
        let limit = maxShardBytes ?? defaultMaxShardBytes(config)
        var shards: [[Int]] = [[]]       // tensor indices per shard
        var shardBytes = 0
        for (i, s) in specs.enumerated() {
            if shardBytes > 0 && shardBytes + s.byteCount > limit { shards.append([]); shardBytes = 0 }
            shards[shards.count - 1].append(i)
            shardBytes += s.byteCount
        }
        let total = specs.reduce(0) { $0 + $1.byteCount }
        let last = shards.count - 1
        func shardName(_ k: Int) -> String {
            "model-" + String(format: "%05d", k) + "-of-" + String(format: "%05d", last) + ".safetensors"
        }
        var weightMap: [String: String] = [:]
        for (k, members) in shards.enumerated() { for i in members { weightMap[specs[i].name] = shardName(k) } }
        // Shards are independent (each tensor has its own seed), so they are written in parallel.
        let lock = NSLock()
        var done = 0
        var firstError: Error?
        DispatchQueue.concurrentPerform(iterations: shards.count) { k in
            do {
                try writeShard(specs: specs, members: shards[k], path: directory.appendingPathComponent(shardName(k)).path,
                               seed: seed, sparse: sparse) { n in
                    lock.lock(); done += n; let d = done; lock.unlock()
                    progress?(d, total)
                }
            } catch {
                lock.lock(); if firstError == nil { firstError = error }; lock.unlock()
            }
        }
        if let firstError { throw firstError }
        // Index (keys sorted for stable output).
        let entries = weightMap.sorted { $0.key < $1.key }.map { "    \"\($0.key)\": \"\($0.value)\"" }.joined(separator: ",\n")
        let index = "{\n  \"metadata\": {\n    \"total_size\": \(total)\n  },\n  \"weight_map\": {\n\(entries)\n  }\n}\n"
        try writeFile(Data(index.utf8), path: directory.appendingPathComponent("model.safetensors.index.json").path)
        return total
    }

    /// Writes one shard: header, then each member tensor's bytes (or a sparse extension).
    private static func writeShard(specs: [Spec], members: [Int], path: String, seed: UInt64, sparse: Bool,
                                   advanced: (Int) -> Void) throws {
        var plan = SafetensorsWriterPlan()
        for i in members { plan.add(specs[i].name, specs[i].dtype, specs[i].shape) }
        guard let fp = fopen(path, "wb") else {
            throw CheckpointError.io(file: path, reason: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { fclose(fp) }
        func put(_ p: UnsafeRawPointer, _ n: Int) throws {
            if fwrite(p, 1, n, fp) != n {
                throw CheckpointError.io(file: path, reason: "write failed: \(String(cString: strerror(errno))) (disk full?)")
            }
        }
        let header = plan.header()
        try header.withUnsafeBytes { try put($0.baseAddress!, $0.count) }
        if sparse {
            fflush(fp)
            if ftruncate(fileno(fp), off_t(header.count + plan.dataBytes)) != 0 {
                throw CheckpointError.io(file: path, reason: "ftruncate failed: \(String(cString: strerror(errno)))")
            }
            advanced(plan.dataBytes)
            return
        }
        var buffer = [UInt8](repeating: 0, count: 16 << 20)   // streaming buffer, 16 MiB
        for i in members {
            let s = specs[i]
            var rng = Xorshift(seed: CounterRNG.mix(seed &+ CounterRNG.mix(UInt64(i) &+ 0x5EED)))
            var remaining = s.byteCount
            while remaining > 0 {
                let n = min(remaining, buffer.count)
                buffer.withUnsafeMutableBytes { fill($0.baseAddress!, bytes: n, s.fill, &rng) }
                try buffer.withUnsafeBytes { try put($0.baseAddress!, n) }
                remaining -= n
                advanced(n)
            }
        }
    }

    /// `mkdir -p directory`; a failure is `CheckpointError.io` with the system's reason (Foundation's
    /// errors here read "The operation could not be completed").
    static func makeDirectories(_ directory: URL) throws {
        var path = ""
        for component in directory.standardizedFileURL.pathComponents {
            path = component == "/" ? "/" : (path.hasSuffix("/") ? path : path + "/") + component
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                throw CheckpointError.io(file: directory.path, reason: "cannot create the directory: \(reason)"
                                         + (path == directory.standardizedFileURL.path ? "" : " (at \(path))"))
            }
        }
    }

    /// Writes `data` to `path` (created or truncated); a failure is `CheckpointError.io` with the reason.
    static func writeFile(_ data: Data, path: String) throws {
        guard let fp = fopen(path, "wb") else {
            throw CheckpointError.io(file: path, reason: "cannot create: \(String(cString: strerror(errno)))")
        }
        let written = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, fp) }
        let closed = fclose(fp)
        if written != data.count || closed != 0 {
            throw CheckpointError.io(file: path, reason: "write failed: \(String(cString: strerror(errno))) (disk full?)")
        }
    }

    /// xorshift64* — fast 64-bit words for bulk random bytes.
    struct Xorshift {
        var s: UInt64
        init(seed: UInt64) { s = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
        @inline(__always) mutating func next() -> UInt64 {
            s ^= s >> 12; s ^= s << 25; s ^= s >> 27
            return s &* 0x2545_F491_4F6C_DD1D
        }
    }

    /// Fills `bytes` bytes (a multiple of the dtype size) at `p`.
    static func fill(_ p: UnsafeMutableRawPointer, bytes: Int, _ fill: Fill, _ rng: inout Xorshift) {
        switch fill {
        case .fp4Codes:
            let words = bytes / 8
            let w = p.bindMemory(to: UInt64.self, capacity: words)
            for i in 0..<words { w[i] = rng.next() }
            let b = p.assumingMemoryBound(to: UInt8.self)
            for i in (words * 8)..<bytes { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
        case .scales(let base):
            let b = p.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < bytes {
                var r = rng.next()
                for _ in 0..<64 where i < bytes { b[i] = base &- UInt8(r & 1); r >>= 1; i += 1 }
            }
        case .uniform(let std):
            fillBF16(p, count: bytes / 2, mean: 0, std: std, &rng)
        case .around(let mean, let std):
            fillBF16(p, count: bytes / 2, mean: mean, std: std, &rng)
        }
    }

    /// bf16 values mean + uniform(±std·√3): four 16-bit draws per 64-bit word.
    static func fillBF16(_ p: UnsafeMutableRawPointer, count: Int, mean: Float, std: Float, _ rng: inout Xorshift) {
        let out = p.bindMemory(to: UInt16.self, capacity: count)
        let k = std * 1.7320508 / 32768
        var i = 0
        while i + 4 <= count {
            let r = rng.next()
            for j in 0..<4 {
                let v = Float(Int16(truncatingIfNeeded: r >> (16 * UInt64(j)))) * k + mean
                out[i + j] = BF16.fromFloat(v)
            }
            i += 4
        }
        while i < count {
            out[i] = BF16.fromFloat(Float(Int16(truncatingIfNeeded: rng.next())) * k + mean)
            i += 1
        }
    }
}
