// DeviceWeights: the model's tensors uploaded once into one device arena, MXFP4 experts still packed
// (codes and scales as in the checkpoint), q/k/v rows and biases concatenated into one QKV matrix.
// The upload streams the memory-mapped checkpoint through two pinned staging buffers: worker threads
// copy (and so read from disk) into one while the DMA engine copies the other to the GPU.
import Core
import Foundation

struct DeviceLayer {
    var inputNorm: CUdeviceptr = 0      // [H] bf16
    var qkv: CUdeviceptr = 0            // [nH·d + 2·nKV·d, H] bf16 (q rows, k rows, v rows)
    var qkvBias: CUdeviceptr = 0        // [nH·d + 2·nKV·d] bf16
    var o: CUdeviceptr = 0              // [H, nH·d] bf16
    var oBias: CUdeviceptr = 0          // [H] bf16
    var sinks: CUdeviceptr = 0          // [nH] bf16
    var postNorm: CUdeviceptr = 0       // [H] bf16
    var router: CUdeviceptr = 0         // [E, H] bf16
    var routerBias: CUdeviceptr = 0     // [E] bf16
    var gateUpBlocks: CUdeviceptr = 0   // [E, 2I, H/32, 16] u8
    var gateUpScales: CUdeviceptr = 0   // [E, 2I, H/32] u8
    var gateUpBias: CUdeviceptr = 0     // [E, 2I] bf16
    var downBlocks: CUdeviceptr = 0     // [E, H, I/32, 16] u8
    var downScales: CUdeviceptr = 0     // [E, H, I/32] u8
    var downBias: CUdeviceptr = 0       // [E, H] bf16
}

public struct LoadStats: Sendable {
    public var bytes: Int
    public var seconds: Double
    public var gbPerSecond: Double { Double(bytes) / seconds / 1e9 }
}

final class DeviceWeights {
    let arena: DeviceBuffer
    var embedding: CUdeviceptr = 0      // [V, H] bf16
    var finalNorm: CUdeviceptr = 0      // [H] bf16
    var lmHead: CUdeviceptr = 0         // [V, H] bf16
    var layers: [DeviceLayer] = []
    let stats: LoadStats

    /// Pieces to copy: source bytes (in the mapping) and their offset in the arena.
    private struct Piece { var src: UnsafeRawBufferPointer; var offset: Int }

    init(_ w: ModelWeights, device: CUDADevice, log: (String) -> Void) throws {
        var pieces: [Piece] = []
        var size = 0
        func place(_ parts: [UnsafeRawBufferPointer]) -> Int {
            size = (size + 255) & ~255
            let start = size
            for p in parts { pieces.append(Piece(src: p, offset: size)); size += p.count }
            return start
        }
        var offs: [[Int]] = []
        let embOff = place([w.embedding.bytes])
        let normOff = place([w.finalNorm.bytes])
        let lmOff = place([w.lmHead.bytes])
        for l in w.layers {
            let x = l.experts
            offs.append([
                place([l.inputNorm.bytes]), place([l.q.bytes, l.k.bytes, l.v.bytes]),
                place([l.qBias.bytes, l.kBias.bytes, l.vBias.bytes]), place([l.o.bytes]), place([l.oBias.bytes]),
                place([l.sinks.bytes]), place([l.postNorm.bytes]), place([l.router.bytes]), place([l.routerBias.bytes]),
                place([x.gateUp.blockBytes]), place([x.gateUp.scaleBytes]), place([x.gateUpBias.bytes]),
                place([x.down.blockBytes]), place([x.down.scaleBytes]), place([x.downBias.bytes]),
            ])
        }
        let free = try device.memoryInfo().free
        if size > free {
            throw CUDAError.outOfMemory(device: device.name, neededBytes: size, freeBytes: free, what: "the model's weights")
        }
        arena = try device.alloc(size, what: "the model's weights")
        let base = arena.pointer
        embedding = base + CUdeviceptr(embOff); finalNorm = base + CUdeviceptr(normOff); lmHead = base + CUdeviceptr(lmOff)
        layers = offs.map { o in
            let p = o.map { base + CUdeviceptr($0) }
            return DeviceLayer(inputNorm: p[0], qkv: p[1], qkvBias: p[2], o: p[3], oBias: p[4], sinks: p[5],
                               postNorm: p[6], router: p[7], routerBias: p[8], gateUpBlocks: p[9], gateUpScales: p[10],
                               gateUpBias: p[11], downBlocks: p[12], downScales: p[13], downBias: p[14])
        }
        let t0 = Date()
        try DeviceWeights.stream(pieces, to: arena, device: device)
        stats = LoadStats(bytes: size, seconds: Date().timeIntervalSince(t0))
        log(String(format: "cuda: uploaded %.2f GB of weights in %.2f s (%.2f GB/s from disk/page cache to GPU)",
                   Double(size) / 1e9, stats.seconds, stats.gbPerSecond))
    }

    /// Copies every piece through two pinned staging buffers (chunk = 64 MiB), reading with several threads.
    private static func stream(_ pieces: [Piece], to arena: DeviceBuffer, device: CUDADevice) throws {
        let chunk = 64 << 20
        let driver = device.driver
        var staging: [UnsafeMutableRawPointer] = []
        var events: [OpaquePointer?] = [nil, nil]
        for i in 0..<2 {
            staging.append(try device.allocHost(chunk))
            try driver.check(driver.cuEventCreate(&events[i], 2 /* DISABLE_TIMING */), "cuEventCreate")
        }
        defer {
            for s in staging { device.freeHost(s) }
            for e in events { _ = driver.cuEventDestroy(e) }
        }
        // Split pieces into chunk-sized jobs.
        var jobs: [(src: UnsafeRawPointer, count: Int, offset: Int)] = []
        for p in pieces where p.src.count > 0 {
            var done = 0
            while done < p.src.count {
                let n = min(chunk, p.src.count - done)
                jobs.append((p.src.baseAddress! + done, n, p.offset + done))
                done += n
            }
        }
        // Pack consecutive small jobs into one staging fill.
        var i = 0, which = 0
        var recorded = [false, false]
        let threads = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
        while i < jobs.count {
            var batch: [(src: UnsafeRawPointer, count: Int, offset: Int, at: Int)] = []
            var used = 0
            while i < jobs.count && used + jobs[i].count <= chunk {
                batch.append((jobs[i].src, jobs[i].count, jobs[i].offset, used))
                used += jobs[i].count
                i += 1
            }
            if recorded[which] { try driver.check(driver.cuEventSynchronize(events[which]), "cuEventSynchronize") }
            let dst = staging[which]
            // Parallel fill: slices of ~1 MiB spread over threads (page faults read the file).
            var slices: [(src: UnsafeRawPointer, dst: UnsafeMutableRawPointer, n: Int)] = []
            for b in batch {
                var o = 0
                while o < b.count {
                    let n = min(1 << 20, b.count - o)
                    slices.append((b.src + o, dst + b.at + o, n))
                    o += n
                }
            }
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                var k = t
                while k < slices.count { memcpy(slices[k].dst, slices[k].src, slices[k].n); k += threads }
            }
            for b in batch { try device.copyToDevice(arena.at(b.offset), dst + b.at, b.count) }
            try driver.check(driver.cuEventRecord(events[which], device.stream), "cuEventRecord")
            recorded[which] = true
            which ^= 1
        }
        try device.synchronize()
    }
}
