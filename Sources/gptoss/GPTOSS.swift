// The `gptoss` command: one subcommand per file in this folder.
import ArgumentParser

@main
struct GPTOSS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gptoss",
        abstract: "Inference engine for gpt-oss-20b and gpt-oss-120b (CPU and CUDA).",
        subcommands: [Generate.self, Chat.self, Batch.self, Tokenize.self, Render.self, Synth.self, Logits.self,
                      Kernels.self, CUDACheck.self, Bench.self, Serve.self])
}
