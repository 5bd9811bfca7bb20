// ModelWeights: typed, validated views of every tensor the forward pass reads, carved out of the
// checkpoint's memory maps with no copies (spec §2). bf16 tensors are `BF16Tensor` (pointer + shape);
// MXFP4 expert matrices are `MXFP4Tensor` (blocks + scales pointers). Shapes and dtypes are checked
// against the config at load; the views stay valid as long as the ModelWeights (which holds the
// Checkpoint and its mappings) is alive. Backends that upload weights use `.bytes` of each view.
import Foundation

/// A bf16 tensor in the mapping: row-major `shape`, little-endian bf16 bits.
public struct BF16Tensor: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let pointer: UnsafePointer<UInt16>
    public var count: Int { shape.reduce(1, *) }
    /// The raw bytes (count × 2).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count * 2) }
    /// Last dimension (the input dimension of a linear weight).
    public var cols: Int { shape.last ?? 1 }
    /// Product of the leading dimensions.
    public var rows: Int { count / max(cols, 1) }

    public init(name: String, shape: [Int], pointer: UnsafePointer<UInt16>) {
        self.name = name; self.shape = shape; self.pointer = pointer
    }
    /// Row r of the tensor viewed as [rows, cols].
    @inline(__always) public func row(_ r: Int) -> UnsafePointer<UInt16> { pointer + r * cols }
    @inline(__always) public subscript(i: Int) -> Float { BF16.toFloat(pointer[i]) }
    /// A copy as f32 (tests, small tensors).
    public func floats() -> [Float] { BF16.toFloats(pointer, count: count) }
    /// Rows `range` of a [rows, cols] tensor as a new view (original layout's fused qkv split).
    public func rows(_ range: Range<Int>, name: String) -> BF16Tensor {
        var s = shape; s[0] = range.count
        return BF16Tensor(name: name, shape: s, pointer: pointer + range.lowerBound * (count / shape[0]))
    }
}

/// Experts' MXFP4 matrices: logical [experts, rows, cols] ([E, out, in]); blocks [E, rows, cols/32, 16] U8,
/// scales [E, rows, cols/32] U8 (spec §2.2). Each row's codes and scales are contiguous.
public struct MXFP4Tensor: @unchecked Sendable {
    public let name: String            // e.g. model.layers.0.mlp.experts.gate_up_proj
    public let experts: Int
    public let rows: Int
    public let cols: Int
    public let blocks: UnsafePointer<UInt8>
    public let scales: UnsafePointer<UInt8>
    public var blocksPerRow: Int { cols / 32 }
    public var blockBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: blocks, count: experts * rows * cols / 2) }
    public var scaleBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: scales, count: experts * rows * cols / 32) }

    public init(name: String, experts: Int, rows: Int, cols: Int, blocks: UnsafePointer<UInt8>, scales: UnsafePointer<UInt8>) {
        self.name = name; self.experts = experts; self.rows = rows; self.cols = cols
        self.blocks = blocks; self.scales = scales
    }
    /// cols/2 bytes of FP4 codes of row `row` of expert `expert`.
    @inline(__always) public func rowBlocks(expert: Int, row: Int) -> UnsafePointer<UInt8> {
        blocks + (expert * rows + row) * (cols / 2)
    }
    /// cols/32 scale bytes of row `row` of expert `expert`.
    @inline(__always) public func rowScales(expert: Int, row: Int) -> UnsafePointer<UInt8> {
        scales + (expert * rows + row) * (cols / 32)
    }
    /// Dequantizes one row into `out` (cols floats).
    public func dequantizeRow(expert: Int, row: Int, into out: UnsafeMutablePointer<Float>) {
        MXFP4.dequantizeRow(blocks: rowBlocks(expert: expert, row: row), scales: rowScales(expert: expert, row: row),
                            cols: cols, into: out)
    }
}

public struct ExpertWeights: Sendable {
    /// [E, 2I, H]: row 2j = gate unit j, row 2j+1 = up unit j (interleaved).
    public let gateUp: MXFP4Tensor
    /// [E, 2I] bf16, interleaved like the rows.
    public let gateUpBias: BF16Tensor
    /// [E, H, I].
    public let down: MXFP4Tensor
    /// [E, H] bf16.
    public let downBias: BF16Tensor
}

public struct LayerWeights: Sendable {
    public let index: Int
    public let isSliding: Bool
    public let inputNorm: BF16Tensor        // [H]
    public let q: BF16Tensor                // [nH·d, H]
    public let qBias: BF16Tensor            // [nH·d]
    public let k: BF16Tensor                // [nKV·d, H]
    public let kBias: BF16Tensor            // [nKV·d]
    public let v: BF16Tensor                // [nKV·d, H]
    public let vBias: BF16Tensor            // [nKV·d]
    public let o: BF16Tensor                // [H, nH·d]
    public let oBias: BF16Tensor            // [H]
    public let sinks: BF16Tensor            // [nH]
    public let postNorm: BF16Tensor         // [H]
    public let router: BF16Tensor           // [E, H]
    public let routerBias: BF16Tensor       // [E]
    public let experts: ExpertWeights
}

public struct ModelWeights: @unchecked Sendable {
    public let config: ModelConfig
    /// Keeps the mappings alive.
    public let checkpoint: Checkpoint
    public let embedding: BF16Tensor        // [V, H]
    public let layers: [LayerWeights]
    public let finalNorm: BF16Tensor        // [H]
    public let lmHead: BF16Tensor           // [V, H]

    /// Opens `directory` and carves out every view (see Checkpoint for the accepted layouts).
    public static func load(directory: URL) throws -> ModelWeights {
        try ModelWeights(checkpoint: try Checkpoint(directory: directory))
    }

    public init(checkpoint ck: Checkpoint) throws {
        let c = ck.config
        config = c
        checkpoint = ck
        let H = c.hiddenSize, V = c.vocabSize, E = c.numLocalExperts, I = c.intermediateSize
        let q = c.qDim, kv = c.kvDim
        let original = ck.layout == .original

        func bf16(_ name: String, _ shape: [Int]) throws -> BF16Tensor {
            let t = try ck.tensor(name, dtype: .bf16, shape: shape)
            return BF16Tensor(name: name, shape: shape, pointer: t.bytes.baseAddress!.assumingMemoryBound(to: UInt16.self))
        }
        func u8(_ name: String, _ shape: [Int]) throws -> UnsafePointer<UInt8> {
            let t = try ck.tensor(name, dtype: .u8, shape: shape)
            return t.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        }
        func mxfp4(_ base: String, blocksName: String, scalesName: String, rows: Int, cols: Int) throws -> MXFP4Tensor {
            if !ck.contains(blocksName), ck.contains(base) {
                throw CheckpointError.unsupported(
                    file: (try? ck.tensor(base).path) ?? ck.directory.path,
                    reason: "tensor '\(base)' holds unquantized (bf16) experts; only the MXFP4 release format (\(blocksName) + scales) is supported")
            }
            return MXFP4Tensor(name: base, experts: E, rows: rows, cols: cols,
                               blocks: try u8(blocksName, [E, rows, cols / 32, 16]),
                               scales: try u8(scalesName, [E, rows, cols / 32]))
        }

        if original {
            embedding = try bf16("embedding.weight", [V, H])
            finalNorm = try bf16("norm.scale", [H])
            lmHead = try bf16("unembedding.weight", [V, H])
        } else {
            embedding = try bf16("model.embed_tokens.weight", [V, H])
            finalNorm = try bf16("model.norm.weight", [H])
            lmHead = try bf16("lm_head.weight", [V, H])
        }

        // The two layouts name the same tensors differently (and the original fuses q, k and v).
        func expertWeights(gateUp: String, gateUpBias: String, down: String, downBias: String,
                           separator sep: String) throws -> ExpertWeights {
            ExpertWeights(
                gateUp: try mxfp4(gateUp, blocksName: gateUp + sep + "blocks", scalesName: gateUp + sep + "scales",
                                  rows: 2 * I, cols: H),
                gateUpBias: try bf16(gateUpBias, [E, 2 * I]),
                down: try mxfp4(down, blocksName: down + sep + "blocks", scalesName: down + sep + "scales", rows: H, cols: I),
                downBias: try bf16(downBias, [E, H]))
        }

        var layers: [LayerWeights] = []
        for l in 0..<c.numHiddenLayers {
            let names: LayerTensorNames
            let qw, qb, kw, kb, vw, vb: BF16Tensor
            let experts: ExpertWeights
            if original {
                let p = "block.\(l)."
                names = LayerTensorNames(inputNorm: p + "attn.norm.scale", o: p + "attn.out.weight", oBias: p + "attn.out.bias",
                                         sinks: p + "attn.sinks", postNorm: p + "mlp.norm.scale",
                                         router: p + "mlp.gate.weight", routerBias: p + "mlp.gate.bias")
                let qkv = try bf16(p + "attn.qkv.weight", [q + 2 * kv, H])            // [nH·d + 2·nKV·d, H]
                let qkvBias = try bf16(p + "attn.qkv.bias", [q + 2 * kv])
                experts = try expertWeights(gateUp: p + "mlp.mlp1_weight", gateUpBias: p + "mlp.mlp1_bias",
                                            down: p + "mlp.mlp2_weight", downBias: p + "mlp.mlp2_bias", separator: ".")
                qw = qkv.rows(0..<q, name: p + "attn.qkv.weight[q]")
                qb = qkvBias.rows(0..<q, name: p + "attn.qkv.bias[q]")
                kw = qkv.rows(q..<(q + kv), name: p + "attn.qkv.weight[k]")
                kb = qkvBias.rows(q..<(q + kv), name: p + "attn.qkv.bias[k]")
                vw = qkv.rows((q + kv)..<(q + 2 * kv), name: p + "attn.qkv.weight[v]")
                vb = qkvBias.rows((q + kv)..<(q + 2 * kv), name: p + "attn.qkv.bias[v]")
            } else {
                let p = "model.layers.\(l)."
                let x = p + "mlp.experts."
                names = LayerTensorNames(inputNorm: p + "input_layernorm.weight", o: p + "self_attn.o_proj.weight",
                                         oBias: p + "self_attn.o_proj.bias", sinks: p + "self_attn.sinks",
                                         postNorm: p + "post_attention_layernorm.weight",
                                         router: p + "mlp.router.weight", routerBias: p + "mlp.router.bias")
                experts = try expertWeights(gateUp: x + "gate_up_proj", gateUpBias: x + "gate_up_proj_bias",
                                            down: x + "down_proj", downBias: x + "down_proj_bias", separator: "_")
                qw = try bf16(p + "self_attn.q_proj.weight", [q, H])
                qb = try bf16(p + "self_attn.q_proj.bias", [q])
                kw = try bf16(p + "self_attn.k_proj.weight", [kv, H])
                kb = try bf16(p + "self_attn.k_proj.bias", [kv])
                vw = try bf16(p + "self_attn.v_proj.weight", [kv, H])
                vb = try bf16(p + "self_attn.v_proj.bias", [kv])
            }
            layers.append(LayerWeights(
                index: l, isSliding: c.isSliding(layer: l),
                inputNorm: try bf16(names.inputNorm, [H]),
                q: qw, qBias: qb, k: kw, kBias: kb, v: vw, vBias: vb,
                o: try bf16(names.o, [H, q]),
                oBias: try bf16(names.oBias, [H]),
                sinks: try bf16(names.sinks, [c.numAttentionHeads]),
                postNorm: try bf16(names.postNorm, [H]),
                router: try bf16(names.router, [E, H]),
                routerBias: try bf16(names.routerBias, [E]),
                experts: experts))
        }
        self.layers = layers
    }
}

/// Names of a layer's unfused tensors in one checkpoint layout (HF or openai original).
private struct LayerTensorNames {
    let inputNorm, o, oBias, sinks, postNorm, router, routerBias: String
}
