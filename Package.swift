// swift-tools-version:6.0
import PackageDescription

// Leaf-first modules: OCI <- Layering <- Runner <- Build <- crib. C libraries come in
// through system-library targets that hold only a module map; the Swift file that
// wraps each library is the only place its pointers are handled.
let package = Package(
    name: "crib",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "crib", targets: ["crib"]),
        .executable(name: "crib-shim", targets: ["crib-shim"]),
    ],
    targets: [
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),
        .systemLibrary(name: "CSeccomp", path: "Sources/CSeccomp"),
        .target(name: "CRunnerShim", path: "Sources/CRunnerShim"),

        .target(name: "OCI", dependencies: ["CCrypto", "CZlib"]),
        .target(name: "Layering", dependencies: ["OCI", "CArchive", "CZlib", "CZstd", "CDeflate"]),
        .target(name: "Runner", dependencies: ["OCI", "Layering", "CRunnerShim", "CSeccomp"]),
        .target(name: "Build", dependencies: ["OCI", "Layering", "Runner"]),
        .executableTarget(name: "crib", dependencies: ["OCI", "Layering", "Runner", "Build"]),
        // The shim alone, which crib spawns when it finds it beside its own executable.
        .executableTarget(name: "crib-shim", dependencies: ["CRunnerShim"], path: "Sources/crib-shim"),

        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "LayeringTests", dependencies: ["OCI", "Layering"]),
        .testTarget(name: "RunnerTests", dependencies: ["OCI", "Layering", "Runner"]),
        .testTarget(name: "BuildTests", dependencies: ["OCI", "Layering", "Runner", "Build"]),
        .testTarget(name: "CribTests", dependencies: ["crib", "OCI", "Layering"]),
    ],
    // Swift 5 language mode: the runner forks and execs and wraps C libraries whose globals
    // (stdout, errno) Swift 6's strict checking rejects without adding safety here.
    swiftLanguageModes: [.v5]
)
