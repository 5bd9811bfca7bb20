// `gptoss bench`: load time, prefill throughput, time to first token, decode throughput and peak
// device memory for B sequences of P random prompt tokens and G generated tokens each, plus the
// device copy bandwidth and the weight-bytes-per-token floor it implies (spec §7.3). On the CPU
// (`--device cpu`, or auto without a GPU): a warm-up step, `--repeats` timed rounds reported as min and
// median, and host memory read bandwidth for the floor.
import ArgumentParser
import CPUBackend
import CUDABackend
import Core
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark prefill and decode on a checkpoint.")

    @Option(help: "Checkpoint directory.") var model: String
    @Option(help: "cuda, cpu or auto (cuda if a GPU is usable, else cpu).") var device: String = "auto"
    @Option(help: "Sequences decoded together.") var batch: Int = 1
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length per sequence.") var promptTokens: Int = 128
    @Option(name: .customLong("gen-tokens"), help: "Tokens generated per sequence.") var genTokens: Int = 128
    @Option(name: .customLong("max-tokens-per-step"), help: "Rows per forward pass (prefill chunk).") var chunk: Int = 2048
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @Option(help: "Sampling temperature (0: greedy argmax).") var temperature: Float = 0
    @Option(name: .customLong("top-p"), help: "Nucleus threshold (1 disables).") var topP: Float = 1
    @Option(name: .customLong("top-k"), help: "Top-k (0 disables).") var topK: Int = 0
    @Flag(name: .customLong("no-graphs"), help: "Launch decode kernels one by one instead of a CUDA graph.") var noGraphs = false
    @Option(help: "CPU worker threads (--device cpu; default: every core).") var threads: Int?
    @Option(help: "Timed repetitions (--device cpu): prefill and decode are each reported as min and median.") var repeats: Int = 1

    func validate() throws {
        guard ["cuda", "cpu", "auto"].contains(device) else { throw ValidationError("--device must be cuda, cpu or auto") }
        guard batch >= 1, promptTokens >= 1, genTokens >= 1 else { throw ValidationError("--batch, --prompt-tokens and --gen-tokens must be ≥ 1") }
    }

    func run() throws {
        let t0 = Date()
        let weights: ModelWeights
        do { weights = try ModelWeights.load(directory: URL(fileURLWithPath: model)) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8)); throw ExitCode(1)
        }
        let c = weights.config
        var backend: Backend
        var cuda: CUDABackend?
        if device == "cpu" {
            do { try measureCPU(weights, loadSeconds: Date().timeIntervalSince(t0)) } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8)); throw ExitCode(1)
            }
            return
        } else {
            do {
                var o = CUDABackendOptions()
                o.maxSlots = batch + 1
                o.maxContext = promptTokens + genTokens + 8
                o.maxTokensPerStep = max(64, min(chunk, batch * promptTokens))
                o.useGraphs = !noGraphs
                o.verbose = !json
                cuda = try CUDABackend(weights: weights, options: o)
                backend = cuda!
            } catch {
                guard device == "auto" else {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8)); throw ExitCode(1)
                }
                FileHandle.standardError.write(Data("notice: CUDA unavailable (\(error)); falling back to the CPU backend\n".utf8))
                do { try measureCPU(weights, loadSeconds: Date().timeIntervalSince(t0)) } catch {
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8)); throw ExitCode(1)
                }
                return
            }
        }
        let loadSeconds = Date().timeIntervalSince(t0)
        do {
            try measure(backend, cuda, c, loadSeconds: loadSeconds)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8)); throw ExitCode(1)
        }
    }

    func measure(_ backend: Backend, _ cuda: CUDABackend?, _ c: ModelConfig, loadSeconds: Double) throws {
        // Deterministic random prompts.
        var rng: UInt64 = 0x1234_5678
        func next() -> Int32 { rng = CounterRNG.mix(rng); return Int32(rng % UInt64(c.vocabSize)) }
        // Warm-up: kernels, graph capture for this batch size.
        var slots = try (0..<batch).map { _ in try backend.allocateSlot() }
        let sampling = SamplingParams(temperature: temperature, topP: topP, topK: topK, seed: 1)
        var warm = slots.map { SequenceStep(slot: $0, tokens: [next(), next()], startPosition: 0, sampling: sampling) }
        for _ in 0..<3 {
            let out = try backend.step(warm)
            for i in warm.indices { warm[i].startPosition += warm[i].tokens.count; warm[i].tokens = [out[i].token] }
        }
        slots.forEach { backend.freeSlot($0) }
        slots = try (0..<batch).map { _ in try backend.allocateSlot() }

        let bw = try cuda?.device.measureCopyBandwidth() ?? .nan
        var steps = slots.map { SequenceStep(slot: $0, tokens: (0..<promptTokens).map { _ in next() }, startPosition: 0, sampling: sampling) }
        let p0 = Date()
        cuda?.device.resetProfile()
        var out = try backend.step(steps)
        let prefill = Date().timeIntervalSince(p0)
        if let d = cuda?.device, d.profiling { FileHandle.standardError.write(Data("profile: prefill\n\(d.profileReport())\n".utf8)); d.resetProfile() }
        let d0 = Date()
        for _ in 0..<genTokens {
            for i in steps.indices {
                steps[i].startPosition += steps[i].tokens.count; steps[i].tokens = [out[i].token]; steps[i].sampleIndex += 1
            }
            out = try backend.step(steps)
        }
        let decode = Date().timeIntervalSince(d0)
        if let d = cuda?.device, d.profiling { FileHandle.standardError.write(Data("profile: decode\n\(d.profileReport())\n".utf8)) }
        let mem = try cuda?.device.memoryInfo() ?? (free: 0, total: 0)
        let bpt = Double(DecodeRoofline.weightBytesPerToken(c))
        let floorTokS = bw / bpt
        let decodeTokS = Double(batch * genTokens) / decode
        let r: [(String, Any)] = [
            ("device", backend.name), ("batch", batch), ("sampling", sampling.isGreedy ? "greedy" : "T=\(temperature) top-k \(topK) top-p \(topP)"), ("prompt_tokens", promptTokens), ("gen_tokens", genTokens),
            ("load_s", loadSeconds), ("weights_upload_s", cuda?.loadStats.seconds ?? .nan),
            ("weights_gb", Double(cuda?.loadStats.bytes ?? 0) / 1e9), ("upload_gb_per_s", cuda?.loadStats.gbPerSecond ?? .nan),
            ("prefill_tok_s", Double(batch * promptTokens) / prefill), ("ttft_ms", prefill * 1000),
            ("decode_tok_s", decodeTokS), ("decode_ms_per_step", decode * 1000 / Double(genTokens)),
            ("peak_device_alloc_gb", Double(cuda?.device.peakAllocatedBytes ?? 0) / 1e9), ("device_used_gb", Double(mem.total - mem.free) / 1e9),
            ("copy_bandwidth_tb_s", bw / 1e12), ("weight_gb_per_token", bpt / 1e9), ("floor_tok_s", floorTokS),
            ("fraction_of_floor", batch == 1 && cuda != nil ? decodeTokS / floorTokS : Double.nan),
        ]
        report(r)
    }

    /// CPU: `repeats` rounds of (prefill of P tokens, G decode steps) on fresh slots; min and median
    /// of each. The floor uses the host's read bandwidth (a 1 GiB buffer read by every worker).
    func measureCPU(_ weights: ModelWeights, loadSeconds: Double) throws {
        let c = weights.config
        let backend = CPUBackend(weights: weights, maxSlots: batch + 1, maxContext: promptTokens + genTokens + 8, threads: threads)
        var rng: UInt64 = 0x1234_5678
        func next() -> Int32 { rng = CounterRNG.mix(rng); return Int32(rng % UInt64(c.vocabSize)) }
        let bw = CPUBackend.measureReadBandwidth(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        do {   // warm-up: page faults of the mapped weights, scratch growth, worker threads
            let slot = try backend.allocateSlot()
            let r = try backend.step([SequenceStep(slot: slot, tokens: (0..<8).map { _ in next() }, startPosition: 0)])
            _ = try backend.step([SequenceStep(slot: slot, tokens: [r[0].token], startPosition: 8)])
            backend.freeSlot(slot)
        }
        backend.resetProfile()
        var prefills: [Double] = [], decodes: [Double] = []
        var prefillCPU: [Double] = [], decodeCPU: [Double] = []   // process CPU seconds (all threads)
        func cpuSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }
        for _ in 0..<max(1, repeats) {
            let slots = try (0..<batch).map { _ in try backend.allocateSlot() }
            var steps = slots.map { SequenceStep(slot: $0, tokens: (0..<promptTokens).map { _ in next() }, startPosition: 0) }
            let p0 = Date(), pc = cpuSeconds()
            var out = try backend.step(steps)
            prefills.append(Date().timeIntervalSince(p0))
            prefillCPU.append(cpuSeconds() - pc)
            if let p = backend.profileReport() {
                FileHandle.standardError.write(Data("profile, prefill:\n\(p)\n".utf8))
                backend.resetProfile()
            }
            let d0 = Date(), dc = cpuSeconds()
            for _ in 0..<genTokens {
                for i in steps.indices { steps[i].startPosition += steps[i].tokens.count; steps[i].tokens = [out[i].token] }
                out = try backend.step(steps)
            }
            decodes.append(Date().timeIntervalSince(d0))
            decodeCPU.append(cpuSeconds() - dc)
            if let p = backend.profileReport() {
                FileHandle.standardError.write(Data("profile, decode (\(genTokens) steps):\n\(p)\n".utf8))
                backend.resetProfile()
            }
            slots.forEach { backend.freeSlot($0) }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        let bpt = Double(DecodeRoofline.weightBytesPerToken(c))
        let floorTokS = bw / bpt
        let prefillBest = Double(batch * promptTokens) / prefills.min()!, prefillMedian = Double(batch * promptTokens) / median(prefills)
        let decodeBest = Double(batch * genTokens) / decodes.min()!, decodeMedian = Double(batch * genTokens) / median(decodes)
        report([
            ("device", backend.name), ("batch", batch), ("prompt_tokens", promptTokens), ("gen_tokens", genTokens), ("repeats", max(1, repeats)),
            ("load_s", loadSeconds),
            ("prefill_tok_s", prefillBest), ("prefill_tok_s_median", prefillMedian), ("ttft_ms", prefills.min()! * 1000),
            ("decode_tok_s", decodeBest), ("decode_tok_s_median", decodeMedian), ("decode_ms_per_step", decodes.min()! * 1000 / Double(genTokens)),
            // CPU seconds (all threads) of the fastest round: on a shared machine, wall time over CPU time
            // says how much of the cores this process actually got.
            ("prefill_cpu_s", prefillCPU[prefills.firstIndex(of: prefills.min()!)!]),
            ("decode_cpu_s_per_step", decodeCPU[decodes.firstIndex(of: decodes.min()!)!] / Double(genTokens)),
            ("read_bandwidth_gb_s", bw / 1e9), ("weight_gb_per_token", bpt / 1e9), ("floor_tok_s", floorTokS),
            ("fraction_of_floor", batch == 1 ? decodeBest / floorTokS : Double.nan),
        ])
    }

    func report(_ r: [(String, Any)]) {
        if json {
            let body = r.map { k, v -> String in
                if let s = v as? String { return "\"\(k)\": \"\(s)\"" }
                if let d = v as? Double { return "\"\(k)\": " + (d.isNaN ? "null" : String(format: "%.4f", d)) }
                return "\"\(k)\": \(v)"
            }
            print("{" + body.joined(separator: ", ") + "}")
        } else {
            for (k, v) in r {
                let key = k.padding(toLength: 22, withPad: " ", startingAt: 0)
                if let d = v as? Double { print(key + " " + String(format: "%.3f", d)) } else { print("\(key) \(v)") }
            }
        }
    }
}
