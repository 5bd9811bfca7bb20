// Wall-time profile of the CPU forward pass by phase, on when GPTOSS_CPU_PROFILE=1 (bench prints it):
// each `mark` charges the time since the previous mark to a phase. Off, a mark is one branch.
import Foundation

final class PhaseProfile {
    enum Phase: Int, CaseIterable {
        case embed, qkv, attention, oProj, router, gateUp, swiglu, down, combine, lmHead
        var name: String { ["embed+norms", "qkv", "attention", "o_proj", "router", "gate_up", "swiglu", "down", "combine", "lm_head"][rawValue] }
    }
    let enabled = ProcessInfo.processInfo.environment["GPTOSS_CPU_PROFILE"] == "1"
    private var seconds = [Double](repeating: 0, count: Phase.allCases.count)
    private var last: UInt64 = 0

    @inline(__always) func start() { if enabled { last = DispatchTime.now().uptimeNanoseconds } }
    @inline(__always) func mark(_ p: Phase) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        seconds[p.rawValue] += Double(now - last) * 1e-9
        last = now
    }
    func reset() { for i in seconds.indices { seconds[i] = 0 } }
    func report() -> String {
        let total = seconds.reduce(0, +)
        return Phase.allCases.map { String(format: "  %-12@ %8.3f s  %5.1f %%", $0.name, seconds[$0.rawValue], 100 * seconds[$0.rawValue] / max(total, 1e-12)) }
            .joined(separator: "\n")
    }
}

extension CPUBackend {
    /// Phase times since the last reset (GPTOSS_CPU_PROFILE=1), one line per phase; nil when off.
    public func profileReport() -> String? { profile.enabled ? profile.report() : nil }
    public func resetProfile() { profile.reset() }
}
