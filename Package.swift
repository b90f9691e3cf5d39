// swift-tools-version:6.0
import PackageDescription

// Data flows one way: Kernels → Checkpoint → Model → Text → MRC → Training → Distillation → CLI.
// Each library target imports only the stages before it. Serving (the HTTP API of `mrc-distill serve`)
// sits beside Distillation: it needs Training's Predictor, not the distillation machinery.
//
// SIMD kernels are 1.5–4× faster when compiled for the host CPU; `make` picks the target CPU at
// build time (scripts/target-cpu) and passes it with -Xswiftc, so a plain `swift build` still
// produces a binary that runs on any x86-64.

let package = Package(
    name: "mrc-distill",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mrc-distill", targets: ["mrc-distill"]),
        .executable(name: "mrc-bench", targets: ["mrc-bench"]),
        .library(name: "MRCDistill", targets: ["Kernels", "Checkpoint", "Model", "Text", "MRC", "Training", "Distillation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Serving: HTTP server, lifecycle, logging, metrics; property-based fuzzing of the request path.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // BLAS: OpenBLAS on Linux (Debian libopenblas-dev), Accelerate on Apple platforms.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // oneDNN (Debian libdnnl-dev): the bf16/int8 matmuls, dispatched at run time to AMX, AVX-512 BF16/VNNI
        // or plain AVX-512/AVX2 code. A small C face of its matmul primitive (describe once, execute many).
        .target(
            name: "COneDNN",
            path: "Sources/COneDNN",
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]
        ),
        // zlib (Debian zlib1g-dev): the gzip layer of MRQA and other data files, inflated in process.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Open MPI for data-parallel train/distill, loaded at run time (dlopen of libmpi.so.40): nothing of MPI
        // is needed to build, and single-process runs never load it.
        .target(name: "CMPIShim", path: "Sources/CMPIShim", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // Kernels in C where Swift cannot reach the instructions (AVX-512 BF16), chosen at run time.
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "Kernels", dependencies: ["CKernels", .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                                                .target(name: "COneDNN", condition: .when(platforms: [.linux]))]),
        .target(name: "Checkpoint"),
        .target(name: "Model", dependencies: ["Kernels", "Checkpoint"]),
        .target(name: "Text", dependencies: ["Checkpoint"]),
        .target(name: "MRC", dependencies: ["Text", "Checkpoint", "CZlib"]),
        .target(name: "Training", dependencies: ["Kernels", "Model", "Checkpoint", "Text", "MRC", "CMPIShim"]),
        // Distillation: teachers, the soft-label store, KD and MLM losses, the distilling trainer's tasks.
        .target(name: "Distillation", dependencies: ["Kernels", "Model", "Checkpoint", "Text", "MRC", "Training"]),
        // Serving: `mrc-distill serve` — request parsing, the dynamic batcher, the HTTP routes, metrics.
        .target(
            name: "Serving",
            dependencies: [
                "Kernels", "Model", "Checkpoint", "Text", "MRC", "Training",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "mrc-distill",
            dependencies: [
                "Kernels", "Checkpoint", "Model", "Text", "MRC", "Training", "Distillation", "Serving",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fuzzing (docs/FUZZING.md): the readers' targets, replayed by the tests; `mrc-fuzz` drives them under
        // libFuzzer in the sanitised build scripts/fuzz makes, and replays inputs in any build.
        .target(name: "FuzzTargets", dependencies: ["Checkpoint", "Text", "MRC", "Training", "Distillation", "Serving"]),
        .target(name: "CFuzzDriver", path: "Sources/CFuzzDriver"),
        .executableTarget(name: "mrc-fuzz", dependencies: ["FuzzTargets", "CFuzzDriver"]),
        .executableTarget(
            name: "mrc-bench",
            dependencies: ["Kernels", "Model", "Checkpoint", "Training", "Distillation", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Checkpoint", "Kernels", "Text", "TestSupport"]),
        .testTarget(name: "TextTests", dependencies: ["Text", "Checkpoint", "TestSupport"]),
        .testTarget(name: "MRCTests", dependencies: ["MRC", "Text", "Checkpoint", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Model", "Kernels", "Text", "MRC", "TestSupport"]),
        .testTarget(name: "DistillationTests",
                    dependencies: ["Distillation", "Training", "Model", "Kernels", "Checkpoint", "Text", "MRC", "TestSupport"]),
        .testTarget(name: "FuzzRegressionTests",
                    dependencies: ["FuzzTargets", "Checkpoint", "MRC", "Training", "Distillation", "TestSupport",
                                   .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "ServingTests",
                    dependencies: ["Serving", "Training", "Model", "Checkpoint", "Text", "MRC", "TestSupport",
                                   .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                   .product(name: "Logging", package: "swift-log"),
                                   .product(name: "NIOCore", package: "swift-nio"),
                                   .product(name: "NIOEmbedded", package: "swift-nio"),
                                   .product(name: "PropertyBased", package: "swift-property-based")]),
    ]
)
