// swift-tools-version:6.0
import PackageDescription

// C targets build with warnings as errors; Swift targets use the Swift 6 language mode.
let strictC: [CSetting] = [.unsafeFlags(["-Wall", "-Wextra", "-Werror", "-O3"])]

let package = Package(
    name: "ShiftAdd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shiftadd", targets: ["shiftadd"]),
        .executable(name: "shiftadd-convert", targets: ["shiftadd-convert"]),
        // Libraries the fuzz package (Tests/Fuzz) links against.
        .library(name: "CShiftAddHTTP", targets: ["CShiftAddHTTP"]),
        .library(name: "ShiftAddServer", targets: ["ShiftAddServer"]),
        .library(name: "ShiftAddChatTemplate", targets: ["ShiftAddChatTemplate"]),
        .library(name: "ShiftAddModel", targets: ["ShiftAddModel"]),
        .library(name: "ShiftAddBundle", targets: ["ShiftAddBundle"]),
        .library(name: "ShiftAddTokenizer", targets: ["ShiftAddTokenizer"]),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2",
                       providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),

        // C kernels: CPU feature probe, numeric primitives.
        .target(name: "CShiftKernels", cSettings: strictC),

        // Text: tokenizers and chat templates.
        .target(name: "ShiftAddTokenizer"),
        .target(name: "ShiftAddChatTemplate"),

        // Checkpoint readers and the shared model description.
        .target(name: "ShiftAddModel", dependencies: ["ShiftAddTokenizer", "CShiftKernels"]),

        // The weight bundle: one versioned, checksummed file holding a converted model.
        .target(name: "ShiftAddBundle", dependencies: ["ShiftAddModel", "ShiftAddTokenizer", "COpenSSL", "CShiftKernels"]),

        // fp32 reference engine.
        .target(name: "ShiftAddEngine",
                dependencies: ["ShiftAddModel", "ShiftAddTokenizer", "ShiftAddBundle", "COpenBLAS", "CShiftKernels"]),

        // Converter: calibration, binary-coding quantization with power-of-two scales, rotation,
        // bit allocation.
        .target(name: "ShiftAddConvert",
                dependencies: ["ShiftAddModel", "ShiftAddEngine", "ShiftAddBundle", "ShiftAddTokenizer",
                               "ShiftAddChatTemplate", "COpenBLAS", "CShiftKernels"]),

        // Continuous batching over the paged KV cache: admission, prefix cache, sampling, streaming text.
        .target(name: "ShiftAddScheduler",
                dependencies: ["ShiftAddEngine", "ShiftAddModel", "ShiftAddTokenizer"]),

        // JSON Schema compiled to a byte-level grammar, enforced as a `TokenConstraint` over a vocabulary trie.
        .target(name: "ShiftAddGrammar", dependencies: ["ShiftAddScheduler", "ShiftAddTokenizer"]),

        // HTTP/1.1, h2c and TLS (h2, http/1.1 by ALPN) on an epoll loop over libnghttp2 and OpenSSL.
        .target(name: "CShiftAddHTTP", dependencies: ["CNGHTTP2", "COpenSSL"], cSettings: strictC),
        // Swift face of the C front end: requests in, responses and streams out, by opaque ids.
        .target(name: "ShiftAddHTTP", dependencies: ["CShiftAddHTTP"]),

        // The OpenAI-compatible API, health, metrics and configuration over the scheduler.
        .target(name: "ShiftAddServer",
                dependencies: ["ShiftAddHTTP", "ShiftAddScheduler", "ShiftAddGrammar", "ShiftAddEngine", "ShiftAddTokenizer",
                               "ShiftAddChatTemplate", "ShiftAddModel", "ShiftAddBundle", "ShiftAddCommandLine"]),

        // Small argument parser shared by the executables.
        .target(name: "ShiftAddCommandLine"),

        .executableTarget(name: "shiftadd-convert",
                          dependencies: ["ShiftAddConvert", "ShiftAddCommandLine", "ShiftAddModel", "ShiftAddBundle",
                                         "ShiftAddEngine"]),
        .executableTarget(name: "shiftadd",
                          dependencies: ["ShiftAddCommandLine", "ShiftAddModel", "ShiftAddEngine",
                                         "ShiftAddTokenizer", "ShiftAddBundle", "ShiftAddChatTemplate",
                                         "ShiftAddScheduler", "ShiftAddServer", "ShiftAddConvert"]),

        // Builders of small checkpoints and shared helpers for the test targets.
        .target(name: "ShiftAddTestSupport", dependencies: ["ShiftAddModel", "ShiftAddBundle", "ShiftAddEngine"],
                path: "Tests/ShiftAddTestSupport"),

        .testTarget(name: "ShiftAddTokenizerTests", dependencies: ["ShiftAddTestSupport", "ShiftAddTokenizer", "ShiftAddModel"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "ShiftAddChatTemplateTests", dependencies: ["ShiftAddChatTemplate"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "ShiftAddModelTests", dependencies: ["ShiftAddTestSupport", "ShiftAddModel", "ShiftAddEngine", "CShiftKernels"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "ShiftAddEngineTests", dependencies: ["ShiftAddTestSupport", "ShiftAddEngine", "ShiftAddModel"]),
        .testTarget(name: "ShiftAddCommandLineTests", dependencies: ["ShiftAddCommandLine"]),
        .testTarget(name: "ShiftAddConvertTests", dependencies: ["ShiftAddTestSupport", "ShiftAddConvert", "CShiftKernels"]),
        .testTarget(name: "ShiftAddKernelTests", dependencies: ["CShiftKernels"]),
        .testTarget(name: "ShiftAddSchedulerTests",
                    dependencies: ["ShiftAddTestSupport", "ShiftAddScheduler", "ShiftAddEngine", "ShiftAddModel",
                                   "ShiftAddTokenizer", "ShiftAddBundle"]),
        .testTarget(name: "ShiftAddGrammarTests", dependencies: ["ShiftAddGrammar", "ShiftAddScheduler"]),
        .testTarget(name: "ShiftAddHTTPTests", dependencies: ["ShiftAddHTTP"]),
        .testTarget(name: "ShiftAddServerTests",
                    dependencies: ["ShiftAddTestSupport", "ShiftAddServer", "ShiftAddHTTP", "ShiftAddScheduler",
                                   "ShiftAddEngine", "ShiftAddTokenizer", "ShiftAddModel", "ShiftAddBundle"]),
        .testTarget(name: "ShiftAddBundleTests", dependencies: ["ShiftAddTestSupport", "ShiftAddBundle", "ShiftAddModel"]),
    ]
)
