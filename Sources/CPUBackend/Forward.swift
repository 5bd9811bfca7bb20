// The layer loop of the CPU backend (spec §3.1): embedding, per layer RMSNorm → attention (§3.4)
// → residual → RMSNorm → MoE (§3.5) → residual, final norm, lm_head (§3.6), sampling.
import Core
import CPUKernels
import Foundation

extension CPUBackend {
    /// A sequence's tokens inside the flattened step: rows `offset ..< offset + count` of every buffer.
    struct Span { var offset: Int; var count: Int; var start: Int; var cache: KVCache }

    func forward(_ batch: [SequenceStep]) -> [SequenceResult] {
        let c = config
        let H = c.hiddenSize
        let n = batch.reduce(0) { $0 + $1.tokens.count }
        scratch.ensure(tokens: n)
        let s = scratch
        profile.start()
        var spans: [Span] = []
        var offset = 0
        for b in batch {
            spans.append(Span(offset: offset, count: b.tokens.count, start: b.startPosition, cache: slots[b.slot]!))
            offset += b.tokens.count
        }

        // Embedding rows and RoPE tables, per token.
        let half = c.headDim / 2
        for (b, span) in zip(batch, spans) {
            for i in 0..<span.count {
                let t = span.offset + i
                let row = weights.embedding.row(Int(b.tokens[i]))
                for j in 0..<H { s.x[t * H + j] = BF16.toFloat(row[j]) }
                rope.cosSin(position: span.start + i, cos: s.cos + t * half, sin: s.sin + t * half)
            }
        }

        for layer in weights.layers {
            // Attention block.
            normRows(s.x, weight: layer.inputNorm, tokens: n, out: s.xn)
            profile.mark(.embed)
            linearQKV(layer: layer, tokens: n)
            profile.mark(.qkv)
            applyRope(tokens: n)
            for span in spans { attention(layer: layer, span: span) }
            profile.mark(.attention)
            linear(s.attn, tokens: n, weight: layer.o, bias: layer.oBias, out: s.tmp)
            for i in 0..<(n * H) { s.x[i] += s.tmp[i] }
            profile.mark(.oProj)

            // MoE block.
            normRows(s.x, weight: layer.postNorm, tokens: n, out: s.xn)
            route(layer: layer, tokens: n)
            profile.mark(.router)
            experts(layer: layer, tokens: n)
            for i in 0..<(n * H) { s.x[i] += s.tmp[i] }
            profile.mark(.combine)
        }
        for span in spans { span.cache.length += span.count }

        // Final norm + lm_head for the rows each sequence needs (always its last token, for sampling).
        var results: [SequenceResult] = []
        for (b, span) in zip(batch, spans) {
            let first = b.logits == .all ? 0 : span.count - 1
            let rows = span.count - first
            let V = c.vocabSize
            for r in 0..<rows {
                let t = span.offset + first + r
                Kernels.rmsNorm(s.x + t * H, weight: weights.finalNorm, eps: Float(c.rmsNormEps), n: H, out: s.xn + r * H)
            }
            // Logits go to scratch ([rows, V]; grown only for `.all` requests); an Array is made only
            // when the caller asked for logits.
            s.ensure(logitRows: rows)
            linear(s.xn, tokens: rows, weight: weights.lmHead, bias: nil, out: s.logits)
            let lastRow = UnsafeBufferPointer(start: s.logits + (rows - 1) * V, count: V)
            let token = Sampler.sample(lastRow, params: b.sampling, sampleIndex: b.sampleIndex)
            profile.mark(.lmHead)
            let logits: [Float]
            switch b.logits {
            case .none: logits = []
            case .last: logits = Array(lastRow)
            case .all: logits = Array(UnsafeBufferPointer(start: s.logits, count: rows * V))
            }
            results.append(SequenceResult(token: token, logits: logits))
        }
        return results
    }

    /// The bf16 linear layer through the fast or the reference kernels.
    func linear(_ x: UnsafePointer<Float>, tokens: Int, weight: BF16Tensor, bias: BF16Tensor?, out: UnsafeMutablePointer<Float>) {
        if useReferenceKernels {
            Kernels.referenceLinear(x, tokens: tokens, weight: weight, bias: bias, out: out, parallel: parallel)
        } else {
            Kernels.linear(x, tokens: tokens, weight: weight, bias: bias, out: out, parallel: parallel)
        }
    }

    /// q, k and v projections in one parallel pass over their rows together (one barrier, not three).
    func linearQKV(layer: LayerWeights, tokens: Int) {
        let s = scratch
        if useReferenceKernels {
            linear(s.xn, tokens: tokens, weight: layer.q, bias: layer.qBias, out: s.q)
            linear(s.xn, tokens: tokens, weight: layer.k, bias: layer.kBias, out: s.k)
            linear(s.xn, tokens: tokens, weight: layer.v, bias: layer.vBias, out: s.v)
            return
        }
        let q = layer.q, k = layer.k, v = layer.v
        let cols = q.cols
        let x = UnsafePointer(s.xn!)
        // Rows 0 ..< q.rows are q's, then k's, then v's.
        func part(_ range: Range<Int>, _ base: Int, _ w: BF16Tensor, _ b: BF16Tensor?, _ out: UnsafeMutablePointer<Float>) {
            let lo = max(range.lowerBound, base), hi = min(range.upperBound, base + w.rows)
            guard lo < hi else { return }
            let r0 = lo - base
            gk_bf16_gemm(w.pointer + r0 * cols, cols, Int32(hi - lo), Int32(cols), x, cols, Int32(tokens),
                         b.map { $0.pointer + r0 }, out + r0, w.rows)
        }
        parallel.forEach(q.rows + k.rows + v.rows, minChunk: 64, align: 4) { range, _ in
            part(range, 0, q, layer.qBias, s.q)
            part(range, q.rows, k, layer.kBias, s.k)
            part(range, q.rows + k.rows, v, layer.vBias, s.v)
        }
    }

    func normRows(_ x: UnsafeMutablePointer<Float>, weight: BF16Tensor, tokens: Int, out: UnsafeMutablePointer<Float>) {
        let H = config.hiddenSize
        let eps = Float(config.rmsNormEps)
        for t in 0..<tokens { Kernels.rmsNorm(x + t * H, weight: weight, eps: eps, n: H, out: out + t * H) }
    }

    /// Half-split RoPE on every query and key head (spec §3.4).
    func applyRope(tokens: Int) {
        let c = config, s = scratch
        let d = c.headDim, half = d / 2
        for t in 0..<tokens {
            let cs = s.cos + t * half, sn = s.sin + t * half
            func rotate(_ base: UnsafeMutablePointer<Float>, heads: Int) {
                for h in 0..<heads {
                    let x = base + h * d
                    for j in 0..<half {
                        let x1 = x[j], x2 = x[j + half]
                        x[j] = x1 * cs[j] - x2 * sn[j]
                        x[j + half] = x2 * cs[j] + x1 * sn[j]
                    }
                }
            }
            rotate(s.q + t * c.qDim, heads: c.numAttentionHeads)
            rotate(s.k + t * c.kvDim, heads: c.numKeyValueHeads)
        }
    }

    /// Attention with sinks, GQA and the sliding window for one sequence. Tokens go in chunks of at
    /// most `KVCache.chunk`: the chunk's K/V enter the cache, then every (token, head) of the chunk
    /// attends in one parallel pass, each query over its own allowed keys (so the result is the same
    /// as token by token).
    func attention(layer: LayerWeights, span: Span) {
        let c = config, s = scratch
        let d = c.headDim, kvDim = c.kvDim, qDim = c.qDim
        let nH = c.numAttentionHeads, group = c.gqaGroupSize
        let scale = c.attentionScale
        let cache = span.cache
        let l = layer.index
        let window = layer.isSliding ? c.slidingWindow : Int.max
        s.ensure(keys: min(span.start + span.count, window))
        let scoreWidth = s.scoreWidth
        var done = 0
        while done < span.count {
            let n = min(KVCache.chunk, span.count - done)
            for i in done..<(done + n) {
                let t = span.offset + i, pos = span.start + i
                let kDst = cache.key(layer: l, position: pos), vDst = cache.value(layer: l, position: pos)
                for j in 0..<kvDim { kDst[j] = s.k[t * kvDim + j]; vDst[j] = s.v[t * kvDim + j] }
            }
            let base = done
            let work = n * nH * min(span.start + base + n, window) * d
            parallel.forEach(n * nH, minChunk: work < 1 << 15 ? n * nH : 1) { tasks, worker in
                let sc = s.scores + worker * scoreWidth
                for task in tasks {
                    let i = base + task / nH, h = task % nH
                    let t = span.offset + i, pos = span.start + i
                    let first = layer.isSliding ? max(0, pos - window + 1) : 0
                    let keys = pos - first + 1
                    let g = h / group
                    let qh = s.q + t * qDim + h * d
                    let sink = layer.sinks[h]
                    var m = sink
                    for u in 0..<keys {
                        let v = scale * Kernels.dot(qh, cache.key(layer: l, position: first + u) + g * d, d)
                        sc[u] = v
                        if v > m { m = v }
                    }
                    var z = expf(sink - m)
                    for u in 0..<keys { let e = expf(sc[u] - m); sc[u] = e; z += e }
                    let out = s.attn + t * qDim + h * d
                    for j in 0..<d { out[j] = 0 }
                    for u in 0..<keys {
                        let p = sc[u] / z
                        let vu = cache.value(layer: l, position: first + u) + g * d
                        for j in 0..<d { out[j] += p * vu[j] }
                    }
                }
            }
            done += n
        }
    }

    /// Router logits, top-k (descending, ties → lower index) and softmax over the selected logits.
    func route(layer: LayerWeights, tokens: Int) {
        let c = config, s = scratch
        let E = c.numLocalExperts, k = c.numExpertsPerTok
        linear(s.xn, tokens: tokens, weight: layer.router, bias: layer.routerBias, out: s.router)
        for t in 0..<tokens {
            let r = s.router + t * E
            let chosen = s.topExpert + t * k        // [k] written in descending-logit order
            let weight = s.topWeight + t * k
            for j in 0..<k {
                var best = -1
                for e in 0..<E {
                    var taken = false
                    for i in 0..<j where chosen[i] == e { taken = true }
                    if !taken && (best < 0 || r[e] > r[best]) { best = e }   // strict >: ties keep the lower index
                }
                chosen[j] = best
            }
            let m = r[chosen[0]]
            var sum: Float = 0
            for j in 0..<k {
                weight[j] = expf(r[chosen[j]] - m)
                sum += weight[j]
            }
            for j in 0..<k { weight[j] /= sum }
        }
    }

    /// The selected experts for every token (spec §3.5); result (weighted sum in selection order)
    /// in `scratch.tmp`.
    func experts(layer: LayerWeights, tokens: Int) {
        if useReferenceKernels { referenceExperts(layer: layer, tokens: tokens) } else { fastExperts(layer: layer, tokens: tokens) }
    }

    /// Pairs p = t·k + j grouped by expert (counting sort): pairs of expert e are
    /// pairOrder[expertStart[e] ..< expertStart[e + 1]], and pairSlot[p] is p's index in that order.
    /// Returns the experts with at least one pair, ascending, in `scratch.active`.
    func groupPairs(tokens: Int) -> Int {
        let c = config, s = scratch
        let E = c.numLocalExperts, P = tokens * c.numExpertsPerTok
        for e in 0...E { s.expertStart[e] = 0 }
        for p in 0..<P { s.expertStart[s.topExpert[p] + 1] += 1 }
        for e in 0..<E { s.expertStart[e + 1] += s.expertStart[e] }
        var activeCount = 0
        for e in 0..<E where s.expertStart[e + 1] > s.expertStart[e] { s.active[activeCount] = e; activeCount += 1 }
        for e in 0..<E { s.fill[e] = s.expertStart[e] }
        for p in 0..<P {
            let e = s.topExpert[p]
            s.pairOrder[s.fill[e]] = p
            s.pairSlot[p] = s.fill[e]
            s.fill[e] += 1
        }
        return activeCount
    }

    /// The fast expert path: each active expert's rows go through `gk_mxfp4_gemm` over its pairs
    /// (rows q ∈ expertStart[e] ..< expertStart[e+1] of the grouped buffers), so each weight row is
    /// decoded once per step and reused across that expert's tokens in registers.
    func fastExperts(layer: LayerWeights, tokens: Int) {
        let c = config, s = scratch
        let H = c.hiddenSize, I = c.intermediateSize, k = c.numExpertsPerTok
        let ex = layer.experts
        let P = tokens * k
        let activeCount = groupPairs(tokens: tokens)
        let active = UnsafeBufferPointer(start: s.active, count: activeCount)
        // Inputs in expert order, in the MXFP4 kernel's layout (permuted f32, or int8 hi/lo at level 3).
        let inStride = s.inStride, actStride = s.actStride
        for q in 0..<P { gk_mxfp4_prepare(s.xn + (s.pairOrder[q] / k) * H, Int32(H), s.expertIn + q * inStride) }
        profile.mark(.router)

        // gate_up: u[q, r] = W1_e[r]·z + b1_e[r].
        let gateUpBias = ex.gateUpBias.pointer, downBias = ex.downBias.pointer
        runExpertRows(active: active, rows: 2 * I) { e, range, _ in
            let q0 = s.expertStart[e], n = s.expertStart[e + 1] - q0, r0 = range.lowerBound
            gk_mxfp4_gemm(ex.gateUp.rowBlocks(expert: e, row: r0), ex.gateUp.rowScales(expert: e, row: r0),
                          Int32(range.count), Int32(H), s.expertIn + q0 * inStride, inStride, Int32(n),
                          gateUpBias + e * 2 * I + r0, s.gateUp + q0 * 2 * I + r0, 2 * I)
        }
        profile.mark(.gateUp)
        // Clamped SwiGLU into a worker row, then into the layout the down kernel reads.
        let limit = Float(c.swigluLimit), alpha = Float(c.swigluAlpha)
        parallel.forEach(P, minChunk: 16) { qs, worker in   // decode (P = k): inline, no barrier
            let a = s.rows + worker * s.rowWidth   // [I] f32
            for q in qs {
                let u = s.gateUp + q * 2 * I
                for j in 0..<I {
                    let gate = min(u[2 * j], limit)
                    let up = min(max(u[2 * j + 1], -limit), limit)
                    let glu = gate * (1 / (1 + expf(-(gate * alpha))))
                    a[j] = (up + 1) * glu
                }
                gk_mxfp4_prepare(a, Int32(I), s.act + q * actStride)
            }
        }
        profile.mark(.swiglu)
        // down: y[q, r] = W2_e[r]·a_q + b2_e[r].
        runExpertRows(active: active, rows: H) { e, range, _ in
            let q0 = s.expertStart[e], n = s.expertStart[e + 1] - q0, r0 = range.lowerBound
            gk_mxfp4_gemm(ex.down.rowBlocks(expert: e, row: r0), ex.down.rowScales(expert: e, row: r0),
                          Int32(range.count), Int32(I), s.act + q0 * actStride, actStride, Int32(n),
                          downBias + e * H + r0, s.expertOut + q0 * H + r0, H)
        }
        profile.mark(.down)
        // Combine in selection order: out_t = Σ_j w_{t,j} · y_{t,j}.
        for t in 0..<tokens {
            let out = s.tmp + t * H
            for i in 0..<H { out[i] = 0 }
            for j in 0..<k {
                let w = s.topWeight[t * k + j]
                let y = s.expertOut + s.pairSlot[t * k + j] * H
                for i in 0..<H { out[i] += w * y[i] }
            }
        }
    }

    /// The reference expert path: MXFP4 rows decoded into a per-worker scratch row, one dot product
    /// per (row, pair).
    func referenceExperts(layer: LayerWeights, tokens: Int) {
        let c = config, s = scratch
        let H = c.hiddenSize, I = c.intermediateSize, k = c.numExpertsPerTok
        let ex = layer.experts
        let activeCount = groupPairs(tokens: tokens)
        let active = UnsafeBufferPointer(start: s.active, count: activeCount)
        func members(_ e: Int) -> UnsafeMutableBufferPointer<Int> {
            UnsafeMutableBufferPointer(start: s.pairOrder + s.expertStart[e], count: s.expertStart[e + 1] - s.expertStart[e])
        }

        // gate_up: u[p, r] = W1_e[r]·z_t + b1_e[r].
        runExpertRows(active: active, rows: 2 * I) { e, range, worker in
            let row = s.rows + worker * s.rowWidth
            for r in range {
                Kernels.dequantizeRow(blocks: ex.gateUp.rowBlocks(expert: e, row: r), scales: ex.gateUp.rowScales(expert: e, row: r),
                                      cols: H, pairs: fp4Pairs, into: row)
                let b = ex.gateUpBias[e * 2 * I + r]
                for p in members(e) {
                    s.gateUp[p * 2 * I + r] = Kernels.dot(row, s.xn + (p / k) * H, H) + b
                }
            }
        }
        // Clamped SwiGLU: gate = u[2j] (≤ limit), up = u[2j+1] (in ±limit), a = gate·σ(α·gate)·(up + 1).
        let limit = Float(c.swigluLimit), alpha = Float(c.swigluAlpha)
        for e in active {
            for p in members(e) {
                let u = s.gateUp + p * 2 * I, a = s.act + p * I
                for j in 0..<I {
                    let gate = min(u[2 * j], limit)
                    let up = min(max(u[2 * j + 1], -limit), limit)
                    let glu = gate * (1 / (1 + expf(-(gate * alpha))))
                    a[j] = (up + 1) * glu
                }
            }
        }
        // down: y[p, r] = W2_e[r]·a_p + b2_e[r].
        runExpertRows(active: active, rows: H) { e, range, worker in
            let row = s.rows + worker * s.rowWidth
            for r in range {
                Kernels.dequantizeRow(blocks: ex.down.rowBlocks(expert: e, row: r), scales: ex.down.rowScales(expert: e, row: r),
                                      cols: I, pairs: fp4Pairs, into: row)
                let b = ex.downBias[e * H + r]
                for p in members(e) {
                    s.expertOut[p * H + r] = Kernels.dot(row, s.act + p * I, I) + b
                }
            }
        }
        // Combine in selection order: out_t = Σ_j w_{t,j} · y_{t,j}.
        for t in 0..<tokens {
            let out = s.tmp + t * H
            for i in 0..<H { out[i] = 0 }
            for j in 0..<k {
                let w = s.topWeight[t * k + j]
                let y = s.expertOut + (t * k + j) * H
                for i in 0..<H { out[i] += w * y[i] }
            }
        }
    }

    /// Splits (active expert × rows) into parallel tasks of row ranges.
    private func runExpertRows(active: UnsafeBufferPointer<Int>, rows: Int, _ body: (Int, Range<Int>, Int) -> Void) {
        let per = (max(16, (active.count * rows + parallel.maxChunks - 1) / parallel.maxChunks) + 3) / 4 * 4
        let chunksPerExpert = (rows + per - 1) / per
        let tasks = active.count * chunksPerExpert
        let perChunk = ((rows + chunksPerExpert - 1) / chunksPerExpert + 3) / 4 * 4   // whole 4-row kernel tiles
        // Each task index → (expert, row range); `forEach` hands out task ranges to workers.
        parallel.forEach(tasks) { taskRange, worker in
            for task in taskRange {
                let e = active[task / chunksPerExpert]
                let lo = (task % chunksPerExpert) * perChunk
                let hi = min(rows, lo + perChunk)
                if lo < hi { body(e, lo..<hi, worker) }
            }
        }
    }
}
