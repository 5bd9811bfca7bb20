// NVRTC: the runtime compiler (libnvrtc.so.13, then .12) loaded with dlopen from GPTOSS_NVRTC_PATH,
// the loader path, $CUDA_HOME/lib64, /usr/local/cuda/lib64 or a PyPI nvidia-cuda-nvrtc wheel, and
// `compile` that turns one kernel source (+ our headers) into a cubin for one architecture, returning
// NVRTC's log with every failure.
import Foundation

final class NVRTC {
    typealias FVersion = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    typealias FCreate = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                        Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    typealias FCompile = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    typealias FGetSize = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> Int32
    typealias FGetData = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int32
    typealias FDestroy = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias FErrorString = @convention(c) (Int32) -> UnsafePointer<CChar>?

    let lib: DynamicLibrary
    let version: (major: Int, minor: Int)
    private let nvrtcCreateProgram: FCreate
    private let nvrtcCompileProgram: FCompile
    private let nvrtcGetProgramLogSize: FGetSize
    private let nvrtcGetProgramLog: FGetData
    private let nvrtcGetCUBINSize: FGetSize
    private let nvrtcGetCUBIN: FGetData
    private let nvrtcDestroyProgram: FDestroy
    private let nvrtcGetErrorString: FErrorString

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Result<NVRTC, Error>?

    static func shared() throws -> NVRTC {
        lock.lock(); defer { lock.unlock() }
        if let c = cached { return try c.get() }
        let r = Result { try NVRTC() }
        cached = r
        return try r.get()
    }

    /// Where we look for libnvrtc, in order.
    static func candidates(environment env: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let names = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"]
        var dirs: [String] = []
        if let p = env["GPTOSS_NVRTC_PATH"], !p.isEmpty {
            if p.hasSuffix(".so") || p.contains(".so.") { dirs.append("FILE:" + p) } else { dirs.append(p) }
        }
        dirs.append("")  // the loader's own search path (LD_LIBRARY_PATH, ldconfig)
        for key in ["CUDA_HOME", "CUDA_PATH"] { if let h = env[key], !h.isEmpty { dirs.append(h + "/lib64") } }
        dirs.append("/usr/local/cuda/lib64")
        // PyPI wheel (nvidia-cuda-nvrtc): site-packages/nvidia/cu13/lib or nvidia/cuda_nvrtc/lib.
        var sitePackages: [String] = []
        if let v = env["VIRTUAL_ENV"] { sitePackages += pythonSitePackages(under: v + "/lib") }
        if let home = env["HOME"] { sitePackages += pythonSitePackages(under: home + "/.local/lib") }
        sitePackages += pythonSitePackages(under: "/usr/local/lib") + pythonSitePackages(under: "/usr/lib")
        for sp in sitePackages { dirs += [sp + "/nvidia/cu13/lib", sp + "/nvidia/cuda_nvrtc/lib"] }
        var out: [String] = []
        for d in dirs {
            if d.hasPrefix("FILE:") { out.append(String(d.dropFirst(5))); continue }
            for n in names { out.append(d.isEmpty ? n : d + "/" + n) }
        }
        return out
    }

    private static func pythonSitePackages(under lib: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: lib) else { return [] }
        var out: [String] = []
        for e in entries.sorted() where e.hasPrefix("python3") {
            let base: String = lib + "/" + e
            out.append(base + "/site-packages")
            out.append(base + "/dist-packages")
        }
        return out
    }

    private init() throws {
        lib = try DynamicLibrary.open(
            NVRTC.candidates(), library: "libnvrtc (CUDA runtime compiler)",
            hint: "Install the CUDA toolkit or `pip install nvidia-cuda-nvrtc==13.0.88`, then set GPTOSS_NVRTC_PATH to the folder holding libnvrtc.so.13 (site-packages/nvidia/cu13/lib).")
        // libnvrtc dlopens libnvrtc-builtins by bare name at compile time; when we found libnvrtc in a
        // folder that is not on the loader path (a PyPI wheel), load the builtins from that folder first.
        if lib.path.hasPrefix("/") {
            let dir = (lib.path as NSString).deletingLastPathComponent
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for e in entries.sorted() where e.hasPrefix("libnvrtc-builtins.so") && !e.contains(".alt.") {
                _ = dlopen(dir + "/" + e, RTLD_NOW | RTLD_GLOBAL)
            }
        }
        let ver = try lib.symbol("nvrtcVersion", as: FVersion.self)
        nvrtcCreateProgram = try lib.symbol("nvrtcCreateProgram", as: FCreate.self)
        nvrtcCompileProgram = try lib.symbol("nvrtcCompileProgram", as: FCompile.self)
        nvrtcGetProgramLogSize = try lib.symbol("nvrtcGetProgramLogSize", as: FGetSize.self)
        nvrtcGetProgramLog = try lib.symbol("nvrtcGetProgramLog", as: FGetData.self)
        nvrtcGetCUBINSize = try lib.symbol("nvrtcGetCUBINSize", as: FGetSize.self)
        nvrtcGetCUBIN = try lib.symbol("nvrtcGetCUBIN", as: FGetData.self)
        nvrtcDestroyProgram = try lib.symbol("nvrtcDestroyProgram", as: FDestroy.self)
        nvrtcGetErrorString = try lib.symbol("nvrtcGetErrorString", as: FErrorString.self)
        var major: Int32 = 0, minor: Int32 = 0
        let r = ver(&major, &minor)
        if r != 0 { throw CUDAError.nvrtc(call: "nvrtcVersion", code: r, message: "") }
        version = (Int(major), Int(minor))
    }

    private func check(_ r: Int32, _ call: String) throws {
        if r != 0 {
            let msg = nvrtcGetErrorString(r).map { String(cString: $0) } ?? "NVRTC error \(r)"
            throw CUDAError.nvrtc(call: call, code: r, message: msg)
        }
    }

    struct Output { var cubin: [UInt8]; var log: String }

    /// Compiles `source` (named `name` in diagnostics) with `headers` (include name -> text) and `options`.
    /// Throws CUDAError.compile with NVRTC's log when compilation fails.
    func compile(source: String, name: String, headers: [(name: String, text: String)], options: [String],
                 arch: String) throws -> Output {
        var prog: OpaquePointer?
        let headerTexts = headers.map { strdup($0.text) }
        let headerNames = headers.map { strdup($0.name) }
        let opts = options.map { strdup($0) }
        defer { (headerTexts + headerNames + opts).forEach { free($0) } }
        let hT: [UnsafePointer<CChar>?] = headerTexts.map { UnsafePointer($0) }
        let hN: [UnsafePointer<CChar>?] = headerNames.map { UnsafePointer($0) }
        let op: [UnsafePointer<CChar>?] = opts.map { UnsafePointer($0) }
        try check(nvrtcCreateProgram(&prog, source, name, Int32(headers.count), hT, hN), "nvrtcCreateProgram(\(name))")
        defer { _ = nvrtcDestroyProgram(&prog) }
        let rc = nvrtcCompileProgram(prog, Int32(op.count), op)
        var logSize = 0
        try check(nvrtcGetProgramLogSize(prog, &logSize), "nvrtcGetProgramLogSize")
        var logBuf = [CChar](repeating: 0, count: max(logSize, 1))
        try check(nvrtcGetProgramLog(prog, &logBuf), "nvrtcGetProgramLog")
        let log = String(cString: logBuf).trimmingCharacters(in: .whitespacesAndNewlines)
        if rc != 0 {
            let msg = nvrtcGetErrorString(rc).map { String(cString: $0) } ?? "error \(rc)"
            throw CUDAError.compile(source: name, arch: arch, log: log.isEmpty ? msg : msg + "\n" + log)
        }
        var size = 0
        try check(nvrtcGetCUBINSize(prog, &size), "nvrtcGetCUBINSize(\(name))")
        var bytes = [CChar](repeating: 0, count: size)
        try check(nvrtcGetCUBIN(prog, &bytes), "nvrtcGetCUBIN(\(name))")
        return Output(cubin: bytes.map { UInt8(bitPattern: $0) }, log: log)
    }
}
