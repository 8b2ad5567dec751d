// swift-tools-version:6.0
import PackageDescription

// Fuzz targets for libFuzzer, kept out of the main package. Build with
// `swift build --sanitize=fuzzer --sanitize=address` (Scripts/fuzz.sh does).
let package = Package(
    name: "ShiftAddFuzz",
    dependencies: [.package(name: "ShiftAdd", path: "../..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzHTTP1Parser",
                          dependencies: [.product(name: "CShiftAddHTTP", package: "ShiftAdd")]),
        .executableTarget(name: "FuzzHTTP1Connection",
                          dependencies: [.product(name: "CShiftAddHTTP", package: "ShiftAdd")]),
        .executableTarget(name: "FuzzHTTP2Session",
                          dependencies: [.product(name: "CShiftAddHTTP", package: "ShiftAdd")]),
        .executableTarget(name: "FuzzAPIRequest",
                          dependencies: ["FuzzSupport", .product(name: "ShiftAddServer", package: "ShiftAdd")]),
        .executableTarget(name: "FuzzChatTemplate",
                          dependencies: ["FuzzSupport", .product(name: "ShiftAddChatTemplate", package: "ShiftAdd")]),
        .executableTarget(name: "FuzzGGUF",
                          dependencies: ["FuzzSupport", .product(name: "ShiftAddModel", package: "ShiftAdd"),
                                         .product(name: "ShiftAddTokenizer", package: "ShiftAdd")]),
        .executableTarget(name: "FuzzBundle",
                          dependencies: ["FuzzSupport", .product(name: "ShiftAddBundle", package: "ShiftAdd"),
                                         .product(name: "ShiftAddModel", package: "ShiftAdd"),
                                         .product(name: "ShiftAddTokenizer", package: "ShiftAdd")]),
        .executableTarget(name: "FuzzTokenizer",
                          dependencies: ["FuzzSupport", .product(name: "ShiftAddTokenizer", package: "ShiftAdd"),
                                         .product(name: "ShiftAddModel", package: "ShiftAdd")]),
    ]
)
