// KernelCompiler: compiles embedded kernel sources with NVRTC for one architecture and caches the
// cubins on disk, keyed by a hash of (source, headers, arch, flags, NVRTC version), in
// $GPTOSS_CACHE_DIR or ~/.cache/gpt-oss-swift/cubin.
import Foundation

public struct KernelCompiler {
    /// Flags every kernel is compiled with (NVRTC rejects -O3; it optimizes by default).
    public static let baseFlags = ["--std=c++17", "-default-device", "--fmad=true", "-DGPTOSS_WARP=32"]

    let nvrtc: NVRTC
    /// e.g. "sm_90".
    public let arch: String
    public let cacheDir: URL?
    public var nvrtcVersion: String { "\(nvrtc.version.major).\(nvrtc.version.minor)" }

    public init(arch: String, useCache: Bool = true) throws {
        nvrtc = try NVRTC.shared()
        self.arch = arch
        cacheDir = useCache ? KernelCompiler.defaultCacheDir() : nil
    }

    public static func defaultCacheDir() -> URL {
        let env = ProcessInfo.processInfo.environment
        if let d = env["GPTOSS_CACHE_DIR"], !d.isEmpty { return URL(fileURLWithPath: d).appendingPathComponent("cubin") }
        let home = env["HOME"] ?? NSTemporaryDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/gpt-oss-swift/cubin")
    }

    func flags(extra: [String]) -> [String] {
        ["--gpu-architecture=\(arch)"] + KernelCompiler.baseFlags + KernelCompiler.envDefines + extra
    }
    /// GPTOSS_NVRTC_DEFINES=NAME=V,NAME2=V (kernel-variant A/B in one binary, e.g. GPTOSS_FP4_DECODE=0):
    /// passed to every compile as -D flags, so they are part of the cache key.
    static let envDefines: [String] = (ProcessInfo.processInfo.environment["GPTOSS_NVRTC_DEFINES"] ?? "")
        .split(separator: ",").filter { !$0.isEmpty && !$0.contains(" ") }.map { "-D\($0)" }

    /// Cache key: FNV-1a (two 64-bit lanes) over everything that changes the cubin.
    func cacheKey(_ source: KernelSource, flags: [String]) -> String {
        var parts = [source.text] + KernelSources.headers.map { $0.name + "\u{1}" + $0.text }
        parts += flags + ["nvrtc \(nvrtcVersion)"]
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325, h2: UInt64 = 0x8422_2325_cbf2_9ce4 ^ 0x9E37_79B9_7F4A_7C15
        for p in parts {
            for b in p.utf8 {
                h1 = (h1 ^ UInt64(b)) &* 0x0000_0100_0000_01B3
                h2 = (h2 ^ UInt64(b)) &* 0x0000_0100_0000_01B3 ^ (h2 >> 29)
            }
            h1 = (h1 ^ 0xff) &* 0x0000_0100_0000_01B3
            h2 = (h2 ^ 0xfe) &* 0x0000_0100_0000_01B3
        }
        return String(format: "%016llx%016llx", h1, h2)
    }

    /// Compiles (or loads from the cache) one source. `check`: also fail on any warning (NVRTC 13 has
    /// no -Werror, so any text in the log counts as one).
    public func cubin(for source: KernelSource, extraFlags: [String] = [], check: Bool = false) throws -> (cubin: [UInt8], log: String, cached: Bool) {
        let f = flags(extra: extraFlags)
        let key = cacheKey(source, flags: f)
        let file = cacheDir?.appendingPathComponent("\(source.name)-\(arch)-\(key).cubin")
        if !check, let file, let data = try? Data(contentsOf: file), !data.isEmpty {
            return ([UInt8](data), "", true)
        }
        let out = try nvrtc.compile(source: source.text, name: source.name,
                                    headers: KernelSources.headers.map { ($0.name, $0.text) }, options: f, arch: arch)
        if check && !out.log.isEmpty {
            throw CUDAError.compile(source: source.name, arch: arch, log: out.log)
        }
        if let file, let dir = cacheDir {
            // Best effort: a read-only home only costs a recompile next time.
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let tmp = dir.appendingPathComponent(".\(key).\(getpid()).tmp")
            if (try? Data(out.cubin).write(to: tmp)) != nil {
                _ = try? FileManager.default.removeItem(at: file)
                try? FileManager.default.moveItem(at: tmp, to: file)
            }
        }
        return (out.cubin, out.log, false)
    }
}
