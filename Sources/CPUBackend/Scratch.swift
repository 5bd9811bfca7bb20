// Activation buffers of the CPU backend, allocated once for a token capacity and grown (never
// shrunk) when a step carries more tokens. N = capacity in tokens, P = N·k (token, expert) pairs.
import Core
import CPUKernels

final class Scratch {
    private(set) var capacity = 0
    let config: ModelConfig
    let workers: Int
    let rowWidth: Int
    /// Floats per prepared MXFP4 activation vector (gk_mxfp4_prepare) of hiddenSize / intermediateSize
    /// columns: the row strides of expertIn and act.
    let inStride: Int
    let actStride: Int

    var x: UnsafeMutablePointer<Float>!        // [N, H] residual stream
    var xn: UnsafeMutablePointer<Float>!       // [N, H] normed input of attention / MoE
    var q: UnsafeMutablePointer<Float>!        // [N, nH·d] queries (post-RoPE)
    var k: UnsafeMutablePointer<Float>!        // [N, nKV·d] keys (post-RoPE)
    var v: UnsafeMutablePointer<Float>!        // [N, nKV·d] values
    var attn: UnsafeMutablePointer<Float>!     // [N, nH·d] attention output, heads concatenated
    var tmp: UnsafeMutablePointer<Float>!      // [N, H] o_proj / MoE output before the residual add
    var router: UnsafeMutablePointer<Float>!   // [N, E] router logits
    var topExpert: UnsafeMutablePointer<Int>!  // [N, k] selected experts, descending logit
    var topWeight: UnsafeMutablePointer<Float>! // [N, k] softmax over the selected logits
    var pairOrder: UnsafeMutablePointer<Int>!  // [P] pair indices (t·k + j) grouped by expert
    let expertStart: UnsafeMutablePointer<Int> // [E + 1] group bounds in pairOrder
    let active: UnsafeMutablePointer<Int>      // [E] experts with at least one pair this step
    let fill: UnsafeMutablePointer<Int>        // [E] counting-sort cursors
    var pairSlot: UnsafeMutablePointer<Int>!   // [P] pair p → its row q in the expert-grouped buffers (fast path)
    var expertIn: UnsafeMutablePointer<Float>! // [P, inStride] normed MoE inputs, expert-grouped rows, gk_mxfp4_prepare'd (fast path)
    var gateUp: UnsafeMutablePointer<Float>!   // [P, 2I] expert gate_up outputs (interleaved)
    var act: UnsafeMutablePointer<Float>!      // [P, I] clamped SwiGLU activations (fast path: [P, actStride], grouped rows, gk_mxfp4_prepare'd)
    var expertOut: UnsafeMutablePointer<Float>! // [P, H] expert outputs incl. down bias
    var cos: UnsafeMutablePointer<Float>!      // [N, d/2] m·cos(p·f_j)
    var sin: UnsafeMutablePointer<Float>!      // [N, d/2] m·sin(p·f_j)
    /// [logitRows, V] f32: lm_head output of one sequence (one row unless all positions were asked for).
    private(set) var logits: UnsafeMutablePointer<Float>
    private(set) var logitRows: Int
    /// [workers, rowWidth] f32: one dequantized MXFP4 row per worker.
    let rows: UnsafeMutablePointer<Float>
    /// [workers, scoreWidth] f32: attention scores of one head per worker.
    private(set) var scores: UnsafeMutablePointer<Float>
    private(set) var scoreWidth: Int

    init(config: ModelConfig, tokens: Int, workers: Int) {
        self.config = config
        self.workers = workers
        rowWidth = max(config.hiddenSize, config.intermediateSize)
        inStride = gk_mxfp4_prepared_floats(Int32(config.hiddenSize))
        actStride = max(gk_mxfp4_prepared_floats(Int32(config.intermediateSize)), config.intermediateSize)
        rows = .allocate(capacity: workers * rowWidth)
        expertStart = .allocate(capacity: config.numLocalExperts + 1)
        active = .allocate(capacity: config.numLocalExperts)
        fill = .allocate(capacity: config.numLocalExperts)
        scoreWidth = 256
        logitRows = 1
        logits = .allocate(capacity: config.vocabSize)
        scores = .allocate(capacity: workers * scoreWidth)
        ensure(tokens: tokens)
    }

    deinit {
        freeAll()
        rows.deallocate()
        scores.deallocate()
        logits.deallocate()
        expertStart.deallocate()
        active.deallocate()
        fill.deallocate()
    }

    private func freeAll() {
        guard capacity > 0 else { return }
        for p in [x, xn, q, k, v, attn, tmp, router, topWeight, gateUp, act, expertOut, cos, sin] { p?.deallocate() }
        topExpert?.deallocate()
        pairOrder?.deallocate()
        pairSlot?.deallocate()
        expertIn?.deallocate()
    }

    func ensure(tokens n: Int) {
        guard n > capacity else { return }
        freeAll()
        let c = config
        let pairs = n * c.numExpertsPerTok
        x = .allocate(capacity: n * c.hiddenSize)
        xn = .allocate(capacity: n * c.hiddenSize)
        q = .allocate(capacity: n * c.qDim)
        k = .allocate(capacity: n * c.kvDim)
        v = .allocate(capacity: n * c.kvDim)
        attn = .allocate(capacity: n * c.qDim)
        tmp = .allocate(capacity: n * c.hiddenSize)
        router = .allocate(capacity: n * c.numLocalExperts)
        topExpert = .allocate(capacity: pairs)
        topWeight = .allocate(capacity: pairs)
        pairOrder = .allocate(capacity: pairs)
        pairSlot = .allocate(capacity: pairs)
        expertIn = .allocate(capacity: pairs * inStride)
        gateUp = .allocate(capacity: pairs * 2 * c.intermediateSize)
        act = .allocate(capacity: pairs * actStride)
        expertOut = .allocate(capacity: pairs * c.hiddenSize)
        cos = .allocate(capacity: n * c.headDim / 2)
        sin = .allocate(capacity: n * c.headDim / 2)
        capacity = n
    }

    /// Makes the logits buffer hold at least `n` rows.
    func ensure(logitRows n: Int) {
        guard n > logitRows else { return }
        logits.deallocate()
        logitRows = n
        logits = .allocate(capacity: n * config.vocabSize)
    }

    /// Makes each worker's score buffer hold at least `n` keys.
    func ensure(keys n: Int) {
        guard n > scoreWidth else { return }
        scores.deallocate()
        scoreWidth = max(n, scoreWidth * 2)
        scores = .allocate(capacity: workers * scoreWidth)
    }
}
