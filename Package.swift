// swift-tools-version:6.0
// gpt-oss-swift: an inference engine for gpt-oss-20b / gpt-oss-120b.
// Targets follow docs/ARCHITECTURE.md: Core <- Tokenizer <- Harmony; Core <- CPUBackend, CUDABackend;
// Engine ties backends to requests; the `gptoss` executable has one subcommand per file.
import PackageDescription

// Release builds target haswell (AVX2 + FMA; the x86-64-v3 level, which this toolchain does not accept by name): without a target CPU, Swift's
// SIMD types lower to scalar fmaf calls (9x slower dot products). v3 rather than native so that a
// binary built here also runs on the GPU machines' hosts.
let optimized: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release)),
]

let package = Package(
    name: "gpt-oss-swift",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gptoss", targets: ["gptoss"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Files embedded into the binary at build time with C23 #embed (vocabulary, CUDA kernel sources);
        // clang reports them as dependencies of embed.c, so editing a kernel rebuilds it.
        .target(name: "EmbeddedData", exclude: ["data"], cSettings: [.headerSearchPath(".")]),
        .target(name: "Core", swiftSettings: optimized),
        .target(name: "Tokenizer", dependencies: ["Core", "EmbeddedData"], swiftSettings: optimized),
        .target(name: "Harmony", dependencies: ["Tokenizer"], swiftSettings: optimized),
        // CPUKernels: the innermost CPU loops in C (AVX-512 / AVX2 chosen at run time by cpuid), optimized in
        // every configuration.
        .target(name: "CPUKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // CPUBackend is optimized in debug builds too, so the forward-pass tests stay quick.
        .target(name: "CPUBackend", dependencies: ["Core", "CPUKernels"],
                swiftSettings: optimized + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "CUDABackend", dependencies: ["Core", "EmbeddedData"], exclude: ["kernels"], swiftSettings: optimized),
        .target(name: "Engine", dependencies: ["Core", "Harmony", "CPUBackend", "CUDABackend"], swiftSettings: optimized),
        .target(name: "Server", dependencies: [
            "Engine", "Harmony", "Tokenizer", .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(
            name: "gptoss",
            dependencies: [
                "Core", "Tokenizer", "Harmony", "CPUBackend", "CUDABackend", "Engine", "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimized),
        .testTarget(name: "CoreTests", dependencies: ["Core"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Core", "CPUBackend"]),
        // Drives the built gptoss binary as a subprocess (built by `swift build --build-tests`).
        .testTarget(name: "CLITests", dependencies: ["Harmony", "Tokenizer"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"]),
        .testTarget(name: "HarmonyTests", dependencies: ["Harmony", "Tokenizer"]),
        .testTarget(name: "CPUBackendTests", dependencies: ["Core", "CPUBackend", "CPUKernels"]),
        .testTarget(name: "CUDABackendTests", dependencies: ["CUDABackend", "Core"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Engine", "Harmony", "Tokenizer", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        // Each module's test target is added with its first tests:
        // TokenizerTests, HarmonyTests, CPUBackendTests, CUDABackendTests, EngineTests, CLITests.
    ],
    swiftLanguageModes: [.v5]
)
