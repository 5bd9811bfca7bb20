// KernelSources: the CUDA C sources embedded in the binary (Sources/CUDABackend/kernels, linked by
// EmbeddedData/embed.c), so the static binary needs no files beside it.
import EmbeddedData

public struct KernelSource: Sendable {
    public let name: String
    public let text: String
}

public enum KernelSources {
    private static func blob(_ ptr: UnsafePointer<UInt8>, _ len: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: ptr, count: len), as: UTF8.self)
    }

    /// Headers our kernels may #include, passed to NVRTC by name.
    public static let headers: [KernelSource] = [
        KernelSource(name: "gptoss_common.h", text: blob(gptoss_kernel_gptoss_common_h_ptr(), gptoss_kernel_gptoss_common_h_len())),
        KernelSource(name: "tensor_core.h", text: blob(gptoss_kernel_tensor_core_h_ptr(), gptoss_kernel_tensor_core_h_len())),
    ]

    /// Every kernel translation unit (one NVRTC program each).
    public static let all: [KernelSource] = [
        KernelSource(name: "embedding.cu", text: blob(gptoss_kernel_embedding_cu_ptr(), gptoss_kernel_embedding_cu_len())),
        KernelSource(name: "matmul.cu", text: blob(gptoss_kernel_matmul_cu_ptr(), gptoss_kernel_matmul_cu_len())),
        KernelSource(name: "rope.cu", text: blob(gptoss_kernel_rope_cu_ptr(), gptoss_kernel_rope_cu_len())),
        KernelSource(name: "attention.cu", text: blob(gptoss_kernel_attention_cu_ptr(), gptoss_kernel_attention_cu_len())),
        KernelSource(name: "moe.cu", text: blob(gptoss_kernel_moe_cu_ptr(), gptoss_kernel_moe_cu_len())),
        KernelSource(name: "sample.cu", text: blob(gptoss_kernel_sample_cu_ptr(), gptoss_kernel_sample_cu_len())),
        KernelSource(name: "tc_gemm.cu", text: blob(gptoss_kernel_tc_gemm_cu_ptr(), gptoss_kernel_tc_gemm_cu_len())),
        KernelSource(name: "tc_attention.cu", text: blob(gptoss_kernel_tc_attention_cu_ptr(), gptoss_kernel_tc_attention_cu_len())),
        KernelSource(name: "decode.cu", text: blob(gptoss_kernel_decode_cu_ptr(), gptoss_kernel_decode_cu_len())),
    ]
}
