// `gptoss kernels`: compiles every embedded CUDA kernel source with NVRTC (no GPU needed). With
// --check, any error or warning fails the command and NVRTC's log is printed; CI runs this.
import ArgumentParser
import CUDABackend
import Foundation

struct Kernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile the embedded CUDA kernels with NVRTC (no GPU needed).")

    @Flag(help: "Fail on any NVRTC error or warning (CI), ignoring the cubin cache.")
    var check = false

    @Option(name: .long, help: "Target architecture, e.g. sm_90 (repeatable).")
    var arch: [String] = ["sm_90"]

    @Flag(help: "List the kernel sources and exit.")
    var list = false

    func run() throws {
        if list {
            for s in KernelSources.all { print("\(s.name)\t\(s.text.utf8.count) bytes") }
            return
        }
        var failures = 0
        for a in arch {
            let compiler: KernelCompiler
            do { compiler = try KernelCompiler(arch: a, useCache: !check) } catch {
                FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
                throw ExitCode(2)
            }
            for s in KernelSources.all {
                let t0 = Date()
                do {
                    let r = try compiler.cubin(for: s, check: check)
                    let ms = Int(Date().timeIntervalSince(t0) * 1000)
                    print("ok   \(a) \(s.name): \(r.cubin.count) bytes cubin\(r.cached ? " (cached)" : ", \(ms) ms") [nvrtc \(compiler.nvrtcVersion)]")
                } catch {
                    failures += 1
                    print("FAIL \(a) \(s.name)")
                    FileHandle.standardError.write("\(error)\n".data(using: .utf8)!)
                }
            }
        }
        if failures > 0 {
            FileHandle.standardError.write("error: \(failures) kernel compilation(s) failed\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }
}
