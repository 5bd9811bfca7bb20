// The `gptoss` command: one subcommand per file in this folder.
import ArgumentParser

@main
struct GPTOSS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gptoss",
        abstract: "Inference engine for gpt-oss-20b and gpt-oss-120b (CPU and CUDA).",
        subcommands: [Tokenize.self, Render.self, Synth.self, Logits.self, Kernels.self, CUDACheck.self, Bench.self])
}
