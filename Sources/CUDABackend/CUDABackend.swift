// CUDABackend: Core.Backend on one NVIDIA GPU. Owns the uploaded weights, the KV cache ([L, slots,
// ctx, nKV·d] f32 for K and for V), activation buffers sized for `maxTokensPerStep` rows, the layer loop
// (one kernel per op, see kernels/*.cu) and GPU sampling (greedy argmax on the device; temperature,
// top-k and top-p by kernels/sample.cu's f32_sample, Core.Sampler's rule; only token ids come back).
// Pure decode steps (one token per sequence) run as a CUDA graph captured once per batch size.
import Core
import Foundation

public struct CUDABackendOptions: Sendable {
    public var device = 0
    public var maxSlots = 4
    public var maxContext = 4096
    /// Rows (tokens over all sequences) one forward pass holds; longer steps are split into chunks.
    public var maxTokensPerStep = 512
    /// Capture pure decode steps into CUDA graphs.
    public var useGraphs = true
    /// Print load information to stderr.
    public var verbose = true
    /// Steps of at least this many rows run the matrix products (except the router) and attention on
    /// bf16 tensor cores (CUDABackend+TensorCores.swift); 0 keeps every step on the exact f32 kernels.
    /// Environment override: GPTOSS_TC_MIN_ROWS.
    public var tensorCoreMinRows = CUDABackendOptions.defaultTensorCoreMinRows
    public init() {}
}

public final class CUDABackend: Backend {
    public let config: ModelConfig
    public let name: String
    public let maxSlots: Int
    public let maxContext: Int
    public let device: CUDADevice
    public var loadStats: LoadStats { weights.stats }
    let options: CUDABackendOptions
    /// GPTOSS_GRAPH_REPEAT (measurement only; see run(chunk:)); read once.
    private let graphRepeat = max(1, ProcessInfo.processInfo.environment["GPTOSS_GRAPH_REPEAT"].flatMap { Int($0) } ?? 1)
    let weights: DeviceWeights
    let rope: RotaryEmbedding

    // Sizes
    let H, qDim, kvDim, qkvw, E, K, I, V, d, nH, nKV: Int
    let tMax: Int           // rows per forward
    let lrMax: Int          // logits rows per forward
    let bMax: Int           // sampled sequences per forward
    let maxSplit = 16, splitRows = 32
    let argmaxChunks = 64

    // Device buffers
    let kCache, vCache: DeviceBuffer         // [L, slots, ctx, nKV·d] f32
    let invFreq: DeviceBuffer                // [d/2] f32
    let h, a, qkv, attn, rlogits: DeviceBuffer
    let topkIdx, topkW, sorted, tiles, numTiles: DeviceBuffer
    let act, ye, part: DeviceBuffer
    let hn, logits, argV, argI, tokensOut: DeviceBuffer
    let xBF: DeviceBuffer                    // [tMax, max(H, qDim)] bf16: tensor-core A operand
    let denseSplit: DeviceBuffer             // [tcsSplitFloats] f32: bf16_gemm_tcs split-K partials [S, M, N]
    let xHL: DeviceBuffer                    // [2·hlMaxRows, H] f16: small-batch experts' input, high/low rows
    let xBF3: DeviceBuffer                   // [3·hlMaxRows, max(H, qDim)] bf16: small-batch dense inputs, 3 terms
    let actHL: DeviceBuffer                  // [2·hlMaxRows·K, I] f16: their SwiGLU output, high/low rows
    let actBF: DeviceBuffer                  // [tMax·K, I] bf16: expert activations (tensor-core path)
    let qTiles: DeviceBuffer                 // [tMax, 2] i32: attention query tiles (first row, rows)
    let routeCounts: DeviceBuffer            // [E] i32: assignments per expert (many-token routing)
    let qTilesHost: UnsafeMutablePointer<Int32>
    let meta: DeviceBuffer                   // [tMax tokens | tMax pos | tMax slot | lrMax logitSrc | bMax sampleRow] i32
    let metaHost: UnsafeMutablePointer<Int32>
    let decodeScratch: DecodeScratch        // state of the fused batch-1 decode kernels (DecodePath.swift)
    let tokHost: UnsafeMutablePointer<Int32>
    let sampleParams: DeviceBuffer           // [bMax] × 32 B SampleParams (CUDABackend+Sampling.swift)
    let sampleParamsHost: UnsafeMutableRawPointer
    let sampleScratch: GPUSampling.Scratch   // keys / weights of the sampled rows (f32_sample_prep*)

    private var slotUsed: [Bool]
    private var graphs: [Int: CUDAGraph] = [:]

    public init(weights w: ModelWeights, options: CUDABackendOptions = CUDABackendOptions()) throws {
        let c = w.config
        config = c
        self.options = options
        H = c.hiddenSize; qDim = c.qDim; kvDim = c.kvDim; qkvw = c.qDim + 2 * c.kvDim
        E = c.numLocalExperts; K = c.numExpertsPerTok; I = c.intermediateSize; V = c.vocabSize
        d = c.headDim; nH = c.numAttentionHeads; nKV = c.numKeyValueHeads
        guard H % 32 == 0, I % 32 == 0, qDim % 8 == 0, d % 2 == 0, d <= 128, c.gqaGroupSize <= 32,
              nH % nKV == 0, E <= 256, K <= 8, K <= E else {
            throw CUDAError.invalidArgument("model shape unsupported by the CUDA kernels (need H, I multiples of 32, head_dim ≤ 128, ≤ 32 query heads per KV head, ≤ 256 experts, top-k ≤ 8)")
        }
        maxSlots = max(1, options.maxSlots)
        maxContext = max(1, options.maxContext)
        tMax = max(1, options.maxTokensPerStep)
        bMax = max(maxSlots, 1)
        lrMax = max(bMax, min(tMax, 64))
        rope = RotaryEmbedding(config: c)

        let dev = try CUDADevice(ordinal: options.device)
        device = dev
        name = "cuda: \(dev.name) (\(dev.arch), \(dev.multiprocessors) SMs)"
        let log: (String) -> Void = { msg in
            if options.verbose { FileHandle.standardError.write(Data((msg + "\n").utf8)) }
        }

        // Everything we will allocate, checked against free memory before the first allocation.
        let L = c.numHiddenLayers
        let kvBytes = 2 * L * maxSlots * maxContext * kvDim * 4
        let maxTiles = tMax * K + min(E, tMax * K)
        let actBytes = 4 * (2 * tMax * H + tMax * qkvw + tMax * qDim + tMax * E + 3 * tMax * K + 3 * maxTiles + 1
            + tMax * K * I + tMax * K * H + splitRows * nH * maxSplit * (d + 2) + lrMax * H + lrMax * V
            + 2 * bMax * argmaxChunks + bMax + 3 * tMax + lrMax + bMax + 2 * tMax)
            + 2 * (tMax * max(H, qDim) + tMax * K * I) + GPUSampling.Scratch.bytes(sequences: bMax, vocab: V)
            + 4 * Self.tcsSplitFloats + 2 * 2 * Self.hlMaxRows * (H + K * I) + 2 * 3 * Self.hlMaxRows * max(H, qDim)
        let weightBytes = w.checkpoint.totalTensorBytes
        let need = weightBytes + kvBytes + actBytes + (256 << 20)
        let free = try dev.memoryInfo().free
        if need > free {
            throw CUDAError.outOfMemory(device: dev.name, neededBytes: need, freeBytes: free,
                                        what: String(format: "this model (%.2f GB weights + %.2f GB KV cache for %d slots × %d tokens + %.2f GB activations)",
                                                     Double(weightBytes) / 1e9, Double(kvBytes) / 1e9, maxSlots, maxContext, Double(actBytes) / 1e9))
        }

        let tk = Date()
        try dev.loadKernels()
        log(String(format: "cuda: %@, kernels ready in %.2f s (NVRTC or cubin cache)", name, Date().timeIntervalSince(tk)))
        weights = try DeviceWeights(w, device: dev, log: log)

        func f32(_ n: Int, _ what: String) throws -> DeviceBuffer { try dev.alloc(4 * max(n, 1), what: what) }
        kCache = try f32(L * maxSlots * maxContext * kvDim, "K cache")
        vCache = try f32(L * maxSlots * maxContext * kvDim, "V cache")
        invFreq = try f32(d / 2, "RoPE frequencies")
        h = try f32(tMax * H, "residual stream")
        a = try f32(tMax * H, "normed activations")
        qkv = try f32(tMax * qkvw, "qkv")
        attn = try f32(tMax * qDim, "attention output")
        rlogits = try f32(tMax * E, "router logits")
        topkIdx = try f32(tMax * K, "top-k ids")
        topkW = try f32(tMax * K, "top-k weights")
        sorted = try f32(tMax * K, "expert assignments")
        tiles = try f32(3 * maxTiles, "expert tiles")
        numTiles = try f32(1, "tile count")
        act = try f32(tMax * K * I, "expert activations")
        ye = try f32(tMax * K * H, "expert outputs")
        part = try f32(splitRows * nH * maxSplit * (d + 2), "attention partials")
        hn = try f32(lrMax * H, "final norm rows")
        logits = try f32(lrMax * V, "logits")
        argV = try f32(bMax * argmaxChunks, "argmax partials")
        argI = try f32(bMax * argmaxChunks, "argmax partials")
        tokensOut = try f32(bMax, "sampled tokens")
        xBF = try dev.alloc(2 * tMax * max(H, qDim), what: "bf16 activations")
        denseSplit = try f32(Self.tcsSplitFloats, "dense split-K partials")
        xHL = try dev.alloc(2 * 2 * Self.hlMaxRows * H, what: "f16 high/low expert inputs")
        xBF3 = try dev.alloc(2 * 3 * Self.hlMaxRows * max(H, qDim), what: "bf16 three-term dense inputs")
        actHL = try dev.alloc(2 * 2 * Self.hlMaxRows * K * I, what: "f16 high/low expert activations")
        actBF = try dev.alloc(2 * tMax * K * I, what: "bf16 expert activations")
        qTiles = try f32(2 * tMax, "attention query tiles")
        routeCounts = try f32(E, "expert counts")
        qTilesHost = try dev.allocHost(4 * 2 * tMax).bindMemory(to: Int32.self, capacity: 2 * tMax)
        meta = try f32(3 * tMax + lrMax + bMax, "step metadata")
        metaHost = try dev.allocHost(4 * (3 * tMax + lrMax + bMax)).bindMemory(to: Int32.self, capacity: 3 * tMax + lrMax + bMax)
        tokHost = try dev.allocHost(4 * bMax).bindMemory(to: Int32.self, capacity: bMax)
        sampleParams = try dev.alloc(GPUSampling.paramsStride * bMax, what: "sampling parameters")
        sampleParamsHost = try dev.allocHost(GPUSampling.paramsStride * bMax)
        sampleScratch = try GPUSampling.Scratch(device: dev, sequences: bMax, vocab: V)
        try dev.upload(rope.inverseFrequencies, to: invFreq.pointer)
        decodeScratch = try DecodeScratch(device: dev, config: c)
        slotUsed = [Bool](repeating: false, count: maxSlots)
        log(String(format: "cuda: KV cache %.2f GB (%d slots × %d tokens), device memory allocated %.2f GB",
                   Double(kvBytes) / 1e9, maxSlots, maxContext, Double(dev.allocatedBytes) / 1e9))
    }

    deinit {
        device.freeHost(UnsafeMutableRawPointer(metaHost))
        device.freeHost(UnsafeMutableRawPointer(tokHost))
        device.freeHost(sampleParamsHost)
        device.freeHost(UnsafeMutableRawPointer(qTilesHost))
    }

    // MARK: slots

    public func allocateSlot() throws -> Int {
        guard let s = slotUsed.firstIndex(of: false) else {
            throw CUDAError.invalidArgument("all \(maxSlots) KV slots are in use")
        }
        slotUsed[s] = true
        return s
    }

    public func freeSlot(_ slot: Int) {
        if slot >= 0 && slot < maxSlots { slotUsed[slot] = false }
    }

    /// Every layer's cache keeps every position ([slots, maxContext, nKV·d]) and positions come with each
    /// step; attention reads keys ≤ the query's position, so entries past `length` are rewritten before
    /// they are read: any cut is valid.
    public func keepPrefix(ofSlot slot: Int, length: Int) -> Int {
        slot >= 0 && slot < maxSlots && slotUsed[slot] ? max(0, length) : 0
    }

    // MARK: step

    private struct Row { var seq: Int; var index: Int; var token: Int32; var pos: Int; var slot: Int; var isLogit: Bool; var isLast: Bool }

    public func step(_ batch: [SequenceStep]) throws -> [SequenceResult] {
        try device.makeCurrent()
        var rows: [Row] = []
        for (si, s) in batch.enumerated() {
            guard s.slot >= 0, s.slot < maxSlots, slotUsed[s.slot] else {
                throw CUDAError.invalidArgument("sequence \(si): slot \(s.slot) is not allocated")
            }
            guard !s.tokens.isEmpty else { throw CUDAError.invalidArgument("sequence \(si): no tokens") }
            guard s.startPosition >= 0, s.startPosition + s.tokens.count <= maxContext else {
                throw CUDAError.invalidArgument("sequence \(si): positions \(s.startPosition)..<\(s.startPosition + s.tokens.count) exceed the context of \(maxContext)")
            }
            for (j, t) in s.tokens.enumerated() {
                guard t >= 0, Int(t) < V else { throw CUDAError.invalidArgument("sequence \(si): token id \(t) outside the vocabulary (\(V))") }
                let last = j == s.tokens.count - 1
                rows.append(Row(seq: si, index: j, token: t, pos: s.startPosition + j, slot: s.slot,
                                isLogit: last || s.logits == .all, isLast: last))
            }
        }
        var results = batch.map { _ in SequenceResult(token: 0) }
        var start = 0
        while start < rows.count {
            var end = start, lr = 0, b = 0
            while end < rows.count && end - start < tMax {
                let r = rows[end]
                if r.isLogit && lr == lrMax { break }
                if r.isLast && b == bMax { break }
                if r.isLogit { lr += 1 }
                if r.isLast { b += 1 }
                end += 1
            }
            try run(chunk: Array(rows[start..<end]), batch: batch, results: &results)
            start = end
        }
        return results
    }

    private func run(chunk: [Row], batch: [SequenceStep], results: inout [SequenceResult]) throws {
        let T = chunk.count
        var logitRows: [Int] = []     // chunk row index of each logits row
        var sampleRows: [(logitRow: Int, seq: Int)] = []
        for (i, r) in chunk.enumerated() where r.isLogit {
            if r.isLast { sampleRows.append((logitRows.count, r.seq)) }
            logitRows.append(i)
        }
        let R = logitRows.count, B = sampleRows.count
        let m = metaHost
        for (i, r) in chunk.enumerated() { m[i] = r.token; m[tMax + i] = Int32(r.pos); m[2 * tMax + i] = Int32(r.slot) }
        for (j, i) in logitRows.enumerated() { m[3 * tMax + j] = Int32(i) }
        for (j, s) in sampleRows.enumerated() { m[3 * tMax + lrMax + j] = Int32(s.logitRow) }
        try device.copyToDevice(meta.pointer, UnsafeRawPointer(m), 4 * (3 * tMax + lrMax + bMax))
        let nq = usesTensorCores(rows: T) ? try uploadQueryTiles(chunk.map { ($0.slot, $0.pos) }) : 0

        let pureDecode = T == B && T == R && chunk.allSatisfy { batch[$0.seq].tokens.count == 1 }
        if pureDecode && options.useGraphs && !device.profiling {
            let g: CUDAGraph
            if let cached = graphs[T] { g = cached } else {
                g = try device.capture { try encode(T: T, R: R, B: B, queryTiles: nq) }
                graphs[T] = g
            }
            // GPTOSS_GRAPH_REPEAT=N (measurement only): replay the step N times back to back (same inputs,
            // same outputs), so N·(GPU step) + (host gap) is timed: separates the host's per-step gap from
            // the GPU's step time (docs/perf-notes.md "Version 13").
            for _ in 0..<graphRepeat { try device.launchGraph(g) }
        } else {
            try encode(T: T, R: R, B: B, queryTiles: nq)
        }
        // Non-greedy sequences: f32_sample overwrites their argmax token (outside the graph, same stream).
        if sampleRows.contains(where: { !batch[$0.seq].sampling.isGreedy }) {
            try encodeSampling(sampleRows.map { (batch[$0.seq].sampling, batch[$0.seq].sampleIndex) })
        }
        if B > 0 { try device.copyToHost(UnsafeMutableRawPointer(tokHost), tokensOut.pointer, 4 * B) }
        // Logits come back only when asked for.
        let needLogits = chunk.contains { $0.isLogit && batch[$0.seq].logits != .none }
        var host: [Float] = []
        if needLogits {
            host = [Float](repeating: 0, count: R * V)
            try host.withUnsafeMutableBytes { try device.copyToHost($0.baseAddress!, logits.pointer, $0.count) }
        }
        try device.synchronize()
        for (j, s) in sampleRows.enumerated() { results[s.seq].token = tokHost[j] }
        if needLogits {
            for (j, i) in logitRows.enumerated() {
                let r = chunk[i]
                let want = batch[r.seq].logits
                if want == .all || (want == .last && r.isLast) {
                    results[r.seq].logits.append(contentsOf: host[(j * V)..<((j + 1) * V)])
                }
            }
        }
    }

    // MARK: forward

    private func meta(_ i: Int) -> CUdeviceptr { meta.pointer + CUdeviceptr(4 * i) }

    /// Issues the whole forward for T rows (metadata already on the device), R logits rows and
    /// B sampled sequences. Only kernel launches: safe to capture into a graph. `queryTiles`: attention
    /// query tiles uploaded for the tensor-core path (steps of ≥ tensorCoreMinRows rows).
    func encode(T: Int, R: Int, B: Int, queryTiles: Int = 0) throws {
        if T == 1 && R == 1 && B == 1 && decodeScratch.enabled { return try encodeDecodeStep() }
        let c = config
        let tokens = meta(0), pos = meta(tMax), slot = meta(2 * tMax), logitSrc = meta(3 * tMax), sampleRow = meta(3 * tMax + lrMax)
        let dev = device
        let mmKernel = T <= 1 ? "f32_bf16w_matmul_bias_t1" : (T <= 4 ? "f32_bf16w_matmul_bias_t4" : "f32_bf16w_matmul_bias_t8")
        let mmTB = T <= 1 ? 1 : (T <= 4 ? 4 : 8)
        func matmul(_ x: CUdeviceptr, _ w: CUdeviceptr, _ bias: CUdeviceptr, _ y: CUdeviceptr, rows: Int, k: Int, n: Int, accumulate: Bool) throws {
            if Self.hlDense(rows: rows, k: k, n: n) {
                return try hlMatmul(x, w, bias, y, rows: rows, k: k, n: n, accumulate: accumulate)
            }
            let kern = rows <= 1 ? "f32_bf16w_matmul_bias_t1" : (rows <= 4 ? "f32_bf16w_matmul_bias_t4" : "f32_bf16w_matmul_bias_t8")
            let tb = rows <= 1 ? 1 : (rows <= 4 ? 4 : 8)
            try dev.launch(kern, grid: ((n + 15) / 16, (rows + tb - 1) / tb, 1), block: 256,
                           [.ptr(x), .ptr(w), .ptr(bias), .ptr(y), .int(rows), .int(k), .int(n), .int(n), .i32(accumulate ? 1 : 0)])
        }
        _ = (mmKernel, mmTB)
        let eps = Float(c.rmsNormEps)
        let tc = usesTensorCores(rows: T)
        let hl = !tc && hlExperts(rows: T)
        let moeTB = tc && tcMoE ? moeTileRows(rows: T) : (hl ? Self.hlTileRows : (T == 1 ? 1 : 8))
        let maxTiles = T * K / moeTB + min(E, T * K)
        let G = nH / nKV
        let nsplit = T <= splitRows ? max(1, min(maxSplit, (2 * dev.multiprocessors) / (nKV * T))) : 1
        let attSmem = 4 * (G * d + 32 * (d + 1) + 32 * d)
        let layerKV = maxSlots * maxContext * kvDim * 4

        try dev.launch("f32_bf16w_embedding", grid: (T, 1, 1), block: 256, [.ptr(tokens), .ptr(weights.embedding), .ptr(h.pointer), .int(H)])
        for (l, lw) in weights.layers.enumerated() {
            let kc = kCache.at(l * layerKV), vc = vCache.at(l * layerKV)
            try dev.launch("f32_bf16w_rmsnorm", grid: (T, 1, 1), block: 256,
                           [.ptr(h.pointer), .ptr(lw.inputNorm), .ptr(a.pointer), .ptr(0), .int(H), .f32(eps)])
            if tc && tcDense {
                try tcMatmul(a.pointer, lw.qkv, lw.qkvBias, qkv.pointer, rows: T, k: H, n: qkvw, accumulate: false)
            } else {
                try matmul(a.pointer, lw.qkv, lw.qkvBias, qkv.pointer, rows: T, k: H, n: qkvw, accumulate: false)
            }
            try dev.launch("f32_rope_kv_write", grid: (T, 1, 1), block: 256,
                           [.ptr(qkv.pointer), .ptr(invFreq.pointer), .ptr(kc), .ptr(vc), .ptr(pos), .ptr(slot),
                            .int(nH), .int(nKV), .int(d), .int(maxContext), .f32(rope.attentionFactor)])
            let window = c.isSliding(layer: l) ? c.slidingWindow : 0
            if tc && tcAttentionFits {
                try tcAttention(l: l, queryTiles: queryTiles, window: window)
            } else {
            try dev.launch("f32_attention_sinks", grid: (nKV, T, nsplit), block: G * 32, sharedBytes: attSmem,
                           [.ptr(qkv.pointer), .int(qkvw), .ptr(kc), .ptr(vc), .ptr(lw.sinks), .ptr(pos), .ptr(slot),
                            .ptr(attn.pointer), .ptr(part.pointer), .int(nH), .int(nKV), .int(d), .int(maxContext),
                            .int(window), .f32(c.attentionScale), .int(nsplit)])
            if nsplit > 1 {
                try dev.launch("f32_attention_combine", grid: (nH, T, 1), block: 32,
                               [.ptr(part.pointer), .ptr(attn.pointer), .int(nH), .int(d), .int(nsplit)])
            }
            }
            if tc && tcDense {
                try tcMatmul(attn.pointer, lw.o, lw.oBias, h.pointer, rows: T, k: qDim, n: H, accumulate: true)
            } else {
                try matmul(attn.pointer, lw.o, lw.oBias, h.pointer, rows: T, k: qDim, n: H, accumulate: true)
            }
            try dev.launch("f32_bf16w_rmsnorm", grid: (T, 1, 1), block: 256,
                           [.ptr(h.pointer), .ptr(lw.postNorm), .ptr(a.pointer), .ptr(0), .int(H), .f32(eps)])
            try matmul(a.pointer, lw.router, lw.routerBias, rlogits.pointer, rows: T, k: H, n: E, accumulate: false)
            if tc && tcMoE {
                try tcRoute(rows: T, maxTiles: maxTiles)
            } else {
            try dev.launch("f32_moe_route", grid: (1, 1, 1), block: 1024,
                           [.ptr(rlogits.pointer), .int(T), .int(E), .int(K), .int(moeTB), .ptr(topkIdx.pointer),
                            .ptr(topkW.pointer), .ptr(sorted.pointer), .ptr(tiles.pointer), .ptr(numTiles.pointer), .int(maxTiles)])
            }
            if tc && tcMoE {
                try tcExperts(lw, rows: T, maxTiles: maxTiles)
            } else if hl {
                try hlExperts(lw, rows: T, maxTiles: maxTiles)
            } else {
            try dev.launch(moeTB == 1 ? "f32_mf4w_moe_gate_up_swiglu_t1" : "f32_mf4w_moe_gate_up_swiglu_t8",
                           grid: ((I + 15) / 16, maxTiles, 1), block: 256,
                           [.ptr(a.pointer), .ptr(lw.gateUpBlocks), .ptr(lw.gateUpScales), .ptr(lw.gateUpBias),
                            .ptr(sorted.pointer), .ptr(tiles.pointer), .ptr(numTiles.pointer), .ptr(act.pointer),
                            .int(H), .int(I), .int(K), .f32(Float(c.swigluLimit)), .f32(Float(c.swigluAlpha))])
            try dev.launch(moeTB == 1 ? "f32_mf4w_moe_down_t1" : "f32_mf4w_moe_down_t8",
                           grid: ((H + 31) / 32, maxTiles, 1), block: 256,
                           [.ptr(act.pointer), .ptr(lw.downBlocks), .ptr(lw.downScales), .ptr(lw.downBias),
                            .ptr(sorted.pointer), .ptr(tiles.pointer), .ptr(numTiles.pointer), .ptr(ye.pointer), .int(H), .int(I)])
            }
            try dev.launch("f32_moe_combine", grid: (T, 1, 1), block: 256,
                           [.ptr(h.pointer), .ptr(ye.pointer), .ptr(topkW.pointer), .int(H), .int(K)])
        }
        guard R > 0 else { return }
        try dev.launch("f32_bf16w_rmsnorm", grid: (R, 1, 1), block: 256,
                       [.ptr(h.pointer), .ptr(weights.finalNorm), .ptr(hn.pointer), .ptr(logitSrc), .int(H), .f32(eps)])
        if (usesTensorCores(rows: R) || (Self.tcExact && R >= 32 && !Self.hlDense(rows: R, k: H, n: V))) && tcDense {
            try tcMatmul(hn.pointer, weights.lmHead, 0, logits.pointer, rows: R, k: H, n: V, accumulate: false)
        } else {
            try matmul(hn.pointer, weights.lmHead, 0, logits.pointer, rows: R, k: H, n: V, accumulate: false)
        }
        guard B > 0 else { return }
        try dev.launch("f32_argmax_partial", grid: (argmaxChunks, B, 1), block: 256,
                       [.ptr(logits.pointer), .ptr(sampleRow), .int(V), .ptr(argV.pointer), .ptr(argI.pointer)])
        try dev.launch("f32_argmax_final", grid: (B, 1, 1), block: 32,
                       [.ptr(argV.pointer), .ptr(argI.pointer), .int(argmaxChunks), .ptr(tokensOut.pointer)])
    }
}
