// CUDABackend+TensorCores: the many-token path (prefill chunks, large decode batches). Steps with at
// least `tensorCoreMinRows` rows run QKV, o_proj, lm_head, the MXFP4 experts and attention on tensor
// cores (kernels/tc_gemm.cu, kernels/tc_attention.cu), accumulating in f32: the dense products and
// attention with bf16 activations and weights; the experts with bf16 activations and MXFP4 weights
// dequantized to bf16 exactly (128-assignment tiles), or, in steps of ≤ tcsMaxRows rows (decode
// batches), with f16 activations and exact f16 codes scaled per block after the mma (tcr tiles, 8 times
// finer). Steps of ≤ 128 rows take the 32-row dense tiles with split K (bf16_gemm_tcs). The router
// stays on the exact f32 kernel so expert choice matches the CPU except at true near-ties.
// Numerics: logits differ from the f32 path by ~1e-2 of max|logit| (stated tolerance in cuda-check).
import Foundation

extension CUDABackendOptions {
    /// 32 rows, or GPTOSS_TC_MIN_ROWS from the environment (0 disables the tensor-core path).
    public static var defaultTensorCoreMinRows: Int {
        if let s = ProcessInfo.processInfo.environment["GPTOSS_TC_MIN_ROWS"], let v = Int(s), v >= 0 { return v }
        return 32
    }
}

extension CUDABackend {
    /// Parts kept on the f32 kernels inside tensor-core steps, for bisecting numerics:
    /// GPTOSS_TC_OFF=attn,moe,dense (comma-separated).
    static let tcOff: Set<String> = Set((ProcessInfo.processInfo.environment["GPTOSS_TC_OFF"] ?? "").split(separator: ",").map(String.init))
    var tcDense: Bool { !Self.tcOff.contains("dense") }
    var tcMoE: Bool { !Self.tcOff.contains("moe") }

    /// Assignments per expert tile of the tensor-core expert GEMMs (the kernels' block M).
    static let tcTileRows = 128
    /// Assignments per tile of the small-tile expert GEMMs (f16_mf4w_moe_*_tcr, decode batches).
    static let tcsTileRows = 32
    /// Steps of at most this many rows run the experts in tiles of tcsTileRows (an expert then gets
    /// ≈ rows·k/E assignments, so few tiles re-read its weights): GPTOSS_TCS_MAX_ROWS, 0 = never.
    static let tcsMaxRows: Int = {
        if let s = ProcessInfo.processInfo.environment["GPTOSS_TCS_MAX_ROWS"], let v = Int(s), v >= 0 { return v }
        return 256
    }()
    /// GPTOSS_TCS_DENSE=0 keeps the dense products on bf16_gemm_tc (A/B switch).
    static let tcsDense = ProcessInfo.processInfo.environment["GPTOSS_TCS_DENSE"] != "0"
    /// The expert tile for a tensor-core step of `rows` rows: tcsTileRows up to `maxSmallRows` rows when the
    /// small-tile kernels fit (whole 32-wide scale blocks: hidden and intermediate sizes % 32 == 0), else tcTileRows.
    static func moeTileRows(rows: Int, hidden: Int, intermediate: Int, maxSmallRows: Int = tcsMaxRows) -> Int {
        rows <= maxSmallRows && hidden % 32 == 0 && intermediate % 32 == 0 ? tcsTileRows : tcTileRows
    }
    func moeTileRows(rows: Int) -> Int { Self.moeTileRows(rows: rows, hidden: H, intermediate: I) }

    /// Small decode batches below the tensor-core threshold (hlMinRows ... hlMaxRows rows) run the experts on
    /// tensor cores with f16 high/low activations (f16hl_mf4w_moe_*_tcr, f32-class like the batch-1 path) in
    /// tiles of hlTileRows assignments; GPTOSS_HL=0 keeps them on the f32 CUDA-core kernels (A/B switch).
    /// Measured on an H100 (20b): B = 8 / 16 / 24 +17 / +36 / +51 %, B = 4 equal, B = 2 −5 % (so from 4 rows).
    static let hlMinRows = 4
    static let hlMaxRows = 128
    static let hlTileRows = 16
    static let hlEnabled = ProcessInfo.processInfo.environment["GPTOSS_HL"] != "0"
    /// GPTOSS_TC_EXACT=1 (opt-in): steps of up to hlMaxRows rows stay on the exact path (f32-class: three-term
    /// dense, high/low experts, f32 attention and router; lm_head of ≥ 32 rows on bf16 tensor cores) instead of
    /// the bf16 tensor-core path.
    static let tcExact = ProcessInfo.processInfo.environment["GPTOSS_TC_EXACT"] == "1"
    static func hlExperts(rows: Int, hidden: Int, intermediate: Int, enabled: Bool = hlEnabled) -> Bool {
        enabled && rows >= hlMinRows && rows <= hlMaxRows && hidden % 32 == 0 && intermediate % 32 == 0
    }
    func hlExperts(rows: Int) -> Bool { Self.hlExperts(rows: rows, hidden: H, intermediate: I) }

    /// The f32-class small-batch experts for the assignments grouped by f32_moe_route (tile = hlTileRows): `a` →
    /// f16 high/low rows (xHL), gate_up + SwiGLU → actHL (high/low rows), down + bias → ye (the combine follows).
    func hlExperts(_ lw: DeviceLayer, rows T: Int, maxTiles: Int) throws {
        let blocks = min(4 * device.multiprocessors, (T * H / 8 + 255) / 256 + 1)
        try device.launch("f32_to_f16hl_perm8", grid: (blocks, 1, 1), block: 256, [.ptr(a.pointer), .ptr(xHL.pointer), .int(T), .int(H)])
        try expertPair(lw, gateUp: "f16hl_mf4w_moe_gate_up_swiglu_tcr", down: "f16hl_mf4w_moe_down_tcr", x: xHL, mid: actHL,
                       maxTiles: maxTiles)
    }

    /// One of the tensor-core expert kernel pairs over the grouped assignments: gate_up + SwiGLU on x → mid, then
    /// down + bias on mid → ye; 128 output rows per block, one block row per tile.
    func expertPair(_ lw: DeviceLayer, gateUp: String, down: String, x: DeviceBuffer, mid: DeviceBuffer, maxTiles: Int) throws {
        let c = config
        try device.launch(gateUp, grid: ((2 * I + 127) / 128, maxTiles, 1), block: 256,
                          [.ptr(x.pointer), .ptr(lw.gateUpBlocks), .ptr(lw.gateUpScales), .ptr(lw.gateUpBias),
                           .ptr(sorted.pointer), .ptr(tiles.pointer), .ptr(numTiles.pointer), .ptr(mid.pointer),
                           .int(H), .int(I), .int(K), .f32(Float(c.swigluLimit)), .f32(Float(c.swigluAlpha))])
        try device.launch(down, grid: ((H + 127) / 128, maxTiles, 1), block: 256,
                          [.ptr(mid.pointer), .ptr(lw.downBlocks), .ptr(lw.downScales), .ptr(lw.downBias),
                           .ptr(sorted.pointer), .ptr(tiles.pointer), .ptr(numTiles.pointer), .ptr(ye.pointer),
                           .int(H), .int(I)])
    }

    /// Query positions per attention tile (tc_attention.cu TA_BQ).
    public static let tcQueryTile = 16

    func usesTensorCores(rows: Int) -> Bool {
        let m = options.tensorCoreMinRows
        if Self.tcExact && rows <= Self.hlMaxRows { return false }
        return m > 0 && rows >= m && H % 32 == 0 && qDim % 32 == 0 && I % 32 == 0
    }

    /// The tensor-core attention kernel handles head_dim 64 with ≤ 8 query heads per KV head.
    var tcAttentionFits: Bool { d == 64 && nH / nKV <= 8 && !Self.tcOff.contains("attn") }

    /// Splits a step's rows into attention query tiles: runs of ≤ `maxRows` consecutive rows of one slot
    /// at consecutive positions, as (first row, rows) pairs.
    public static func queryTiles(_ rows: [(slot: Int, pos: Int)], maxRows: Int = tcQueryTile) -> [(first: Int32, count: Int32)] {
        var out: [(first: Int32, count: Int32)] = []
        var i = 0
        while i < rows.count {
            var j = i + 1
            while j < rows.count && j - i < maxRows && rows[j].slot == rows[i].slot && rows[j].pos == rows[j - 1].pos + 1 { j += 1 }
            out.append((Int32(i), Int32(j - i)))
            i = j
        }
        return out
    }

    /// Uploads the step's query tiles (see `queryTiles`); returns the tile count.
    func uploadQueryTiles(_ rows: [(slot: Int, pos: Int)]) throws -> Int {
        let tiles = Self.queryTiles(rows)
        for (n, t) in tiles.enumerated() { qTilesHost[2 * n] = t.first; qTilesHost[2 * n + 1] = t.count }
        try device.copyToDevice(qTiles.pointer, UnsafeRawPointer(qTilesHost), 4 * 2 * tiles.count)
        return tiles.count
    }

    /// f32 slots of the dense split-K workspace (16 MB): S·M·N ≤ this, else S shrinks.
    static let tcsSplitFloats = 4 << 20
    /// bf16_gemm_tcs's cp.async stages (kernel TCS_NS) and its dynamic shared memory.
    static let tcsStages = 4
    static var tcsDenseSmem: Int { tcsStages * (32 + 128) * 72 * 2 }
    /// Dense products take bf16_gemm_tcs up to this many rows (at 256 the 128-row tiles measured faster:
    /// 0.101 vs 0.128 ms for 256 × 5,120 × 2,880 on an H100).
    static let tcsDenseMaxRows = 128

    /// K splits of the small-M dense GEMM: enough blocks for two per SM, at most 8, and S·M·N within the
    /// workspace; 1 when the grid is already large (lm_head).
    static func denseSplits(rows M: Int, n N: Int, k K: Int, multiprocessors: Int) -> Int {
        let blocks = ((N + 127) / 128) * ((M + 31) / 32)
        var s = max(1, min(8, (2 * multiprocessors + blocks - 1) / blocks, K / 64 / 4))
        while s > 1 && s * M * N > tcsSplitFloats { s -= 1 }
        return s
    }

    /// y [tokens, n] (+)= A·Wᵀ + bias by bf16_gemm_tcs on A [terms·tokens, k] bf16: terms = 1 (one bf16 row per
    /// token) or 3 (f32_to_bf16x3's three rows per token, summed with the split-K partials by the reduce). ws: the
    /// split workspace (tcsSplitFloats f32; terms·tokens·n must fit).
    static func denseTcs(_ dev: CUDADevice, a: CUdeviceptr, terms: Int, tokens: Int, w: CUdeviceptr, bias: CUdeviceptr,
                         y: CUdeviceptr, ws: CUdeviceptr, n: Int, k: Int, accumulate: Bool) throws {
        let rows = terms * tokens
        let s = denseSplits(rows: rows, n: n, k: k, multiprocessors: dev.multiprocessors)
        let toPart = s > 1 || terms > 1
        try dev.launch("bf16_gemm_tcs", grid: ((n + 127) / 128, (rows + 31) / 32, s), block: 256, sharedBytes: tcsDenseSmem,
                       [.ptr(a), .ptr(w), .ptr(bias), .ptr(y), .ptr(ws), .int(rows), .int(n), .int(k), .int(n),
                        .i32(accumulate ? 1 : 0), .i32(toPart ? 1 : 0)])
        if toPart {
            let blocks = min(4 * dev.multiprocessors, (tokens * n + 255) / 256)
            try dev.launch("bf16_gemm_tcs_reduce", grid: (blocks, 1, 1), block: 256,
                           [.ptr(ws), .ptr(bias), .ptr(y), .int(tokens), .int(n), .int(s), .int(n), .i32(accumulate ? 1 : 0),
                            .int(terms)])
        }
    }

    /// Small batches on the exact path (hlMinRows ... hlMaxRows rows, below the tensor-core threshold) run their
    /// dense products on tensor cores with three bf16 terms per activation (f32-class) when K is a multiple of 64,
    /// the output is wide enough to fill tiles (n ≥ 128: not the router) and the partials fit the workspace (not
    /// lm_head); GPTOSS_HL_DENSE=0 keeps them on the f32 CUDA-core kernels (A/B switch).
    static let hlDenseEnabled = ProcessInfo.processInfo.environment["GPTOSS_HL_DENSE"] != "0"
    static func hlDense(rows: Int, k: Int, n: Int, enabled: Bool = hlDenseEnabled) -> Bool {
        enabled && rows >= hlMinRows && rows <= hlMaxRows && k % 64 == 0 && n >= 128 && 3 * rows * n <= tcsSplitFloats
    }

    /// x [rows, k] f32 → three bf16 rows per token (xBF3), then y (+)= x·Wᵀ + bias (hlDense's steps).
    func hlMatmul(_ x: CUdeviceptr, _ w: CUdeviceptr, _ bias: CUdeviceptr, _ y: CUdeviceptr, rows: Int, k: Int, n: Int,
                  accumulate: Bool) throws {
        let blocks = min(4 * device.multiprocessors, (rows * k + 255) / 256)
        try device.launch("f32_to_bf16x3", grid: (blocks, 1, 1), block: 256, [.ptr(x), .ptr(xBF3.pointer), .int(rows), .int(k)])
        try Self.denseTcs(device, a: xBF3.pointer, terms: 3, tokens: rows, w: w, bias: bias, y: y, ws: denseSplit.pointer,
                          n: n, k: k, accumulate: accumulate)
    }

    /// x [rows, k] f32 → bf16 (xBF), then y [rows, n] (+)= x·Wᵀ + bias on tensor cores. W [n, k] bf16.
    /// Decode batches (rows ≤ tcsMaxRows) take bf16_gemm_tcs (32-row tiles, split K), larger steps bf16_gemm_tc.
    func tcMatmul(_ x: CUdeviceptr, _ w: CUdeviceptr, _ bias: CUdeviceptr, _ y: CUdeviceptr, rows: Int, k: Int, n: Int,
                  accumulate: Bool) throws {
        try toBF16(x, count: rows * k)
        if rows <= min(Self.tcsMaxRows, Self.tcsDenseMaxRows) && k % 64 == 0 && Self.tcsDense {
            try Self.denseTcs(device, a: xBF.pointer, terms: 1, tokens: rows, w: w, bias: bias, y: y, ws: denseSplit.pointer,
                              n: n, k: k, accumulate: accumulate)
            return
        }
        try device.launch("bf16_gemm_tc", grid: ((n + 127) / 128, (rows + 127) / 128, 1), block: 256,
                          [.ptr(xBF.pointer), .ptr(w), .ptr(bias), .ptr(y), .int(rows), .int(n), .int(k), .int(n),
                           .i32(accumulate ? 1 : 0)])
    }

    func toBF16(_ x: CUdeviceptr, count: Int) throws {
        let blocks = min(4 * device.multiprocessors, (count / 4 + 255) / 256 + 1)
        try device.launch("f32_to_bf16", grid: (blocks, 1, 1), block: 256, [.ptr(x), .ptr(xBF.pointer), .int(count)])
    }

    /// Router top-k over many blocks, then grouping by expert into tiles of moeTileRows(rows: T) assignments
    /// (same outputs as f32_moe_route, which runs in one block).
    func tcRoute(rows T: Int, maxTiles: Int) throws {
        try device.memset32(routeCounts.pointer, 0, count: E)
        try device.launch("f32_moe_topk_many", grid: ((T + 7) / 8, 1, 1), block: 256,
                          [.ptr(rlogits.pointer), .int(T), .int(E), .int(K), .ptr(topkIdx.pointer), .ptr(topkW.pointer),
                           .ptr(routeCounts.pointer)])
        try device.launch("f32_moe_group_many", grid: (1, 1, 1), block: 1024,
                          [.ptr(topkIdx.pointer), .ptr(routeCounts.pointer), .int(T), .int(E), .int(K), .int(moeTileRows(rows: T)),
                           .ptr(sorted.pointer), .ptr(tiles.pointer), .ptr(numTiles.pointer), .int(maxTiles)])
    }

    /// MoE experts for the assignments grouped by tcRoute (tile = moeTileRows(rows: T)): the normed
    /// activations `a` → bf16 (128-assignment tiles) or f16 (small tiles), gate_up + SwiGLU → actBF (same
    /// format), down + bias → ye (the combine follows).
    func tcExperts(_ lw: DeviceLayer, rows T: Int, maxTiles: Int) throws {
        let small = moeTileRows(rows: T) == Self.tcsTileRows
        if small {   // f16 in the per-8 order of the small-tile kernels (tc_gemm.cu f32_to_f16_perm8)
            let blocks = min(4 * device.multiprocessors, (T * H / 8 + 255) / 256 + 1)
            try device.launch("f32_to_f16_perm8", grid: (blocks, 1, 1), block: 256, [.ptr(a.pointer), .ptr(xBF.pointer), .int(T * H)])
            try expertPair(lw, gateUp: "f16_mf4w_moe_gate_up_swiglu_tcr", down: "f16_mf4w_moe_down_tcr", x: xBF, mid: actBF,
                           maxTiles: maxTiles)
        } else {
            try toBF16(a.pointer, count: T * H)
            try expertPair(lw, gateUp: "bf16_mf4w_moe_gate_up_swiglu_tc", down: "bf16_mf4w_moe_down_tc", x: xBF, mid: actBF,
                           maxTiles: maxTiles)
        }
    }

    /// Attention of layer `l` for the uploaded query tiles (q from qkv after RoPE, K/V from the cache).
    func tcAttention(l: Int, queryTiles: Int, window: Int) throws {
        let layerKV = maxSlots * maxContext * kvDim * 4
        try device.launch("bf16_attention_sinks_tc", grid: (queryTiles, nKV, 1), block: (nH / nKV) * 32,
                          [.ptr(qkv.pointer), .int(qkvw), .ptr(kCache.at(l * layerKV)), .ptr(vCache.at(l * layerKV)),
                           .ptr(weights.layers[l].sinks), .ptr(meta.pointer + CUdeviceptr(4 * tMax)),
                           .ptr(meta.pointer + CUdeviceptr(4 * 2 * tMax)), .ptr(qTiles.pointer), .ptr(attn.pointer),
                           .int(nH), .int(nKV), .int(maxContext), .int(window), .f32(config.attentionScale)])
    }
}
