import FuzzSupport
import ShiftAddBundle
import ShiftAddModel
import ShiftAddTokenizer

/// Input: a bundle file. Before it is read, the manifest checksum in the header is recomputed (when
/// the header's manifest length fits the input), so mutations reach the manifest decoding and the
/// tensor checks instead of stopping at the checksum. The reader must refuse anything malformed with
/// an error; what it accepts must hand out every tensor and every projection of its layers.
private let scratch = ScratchFile("bundle")
/// Projections larger than this are not dequantized, to keep each input fast.
private let maxDequantized = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBundle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var bytes = Fuzz.bytes(data, size)
    fixManifestChecksum(&bytes)
    scratch.write(bytes)
    defer { scratch.remove() }
    let bundle: WeightBundle
    do {
        bundle = try WeightBundle(path: scratch.path, verifyChecksums: false)
    } catch {
        Fuzz.note("read: \(error)")
        return 0
    }
    let m = bundle.manifest
    Fuzz.check(bundle.fileSize == bytes.count, "file size \(bundle.fileSize) for \(bytes.count) bytes")
    for entry in m.tensors {
        do {
            let raw = try bundle.bytes(entry.name, dtype: entry.dtype, shape: entry.shape)
            Fuzz.check(raw.count == entry.length, "tensor \(entry.name) has \(raw.count) bytes, not \(entry.length)")
            switch entry.dtype {
            case .f32, .f16: _ = try bundle.floats(entry.name, shape: entry.shape)
            case .u64: _ = try bundle.u64(entry.name, shape: entry.shape)
            default: break
            }
        } catch {
            Fuzz.check(false, "listed tensor \(entry.name) refused: \(error)")
        }
    }
    do {
        try m.config.validate(source: scratch.path)
        for layer in 0..<min(m.config.layerCount, 2) {
            for projection in TensorName.Projection.allCases {
                do {
                    let p = try BundleProjection(bundle: bundle, layer: layer, projection: projection)
                    if p.rows * p.cols <= maxDequantized { _ = p.dequantized() }
                } catch {
                    Fuzz.note("projection \(layer) \(projection): \(error)")
                }
            }
        }
        if let spec = m.tokenizer {
            let tokenizer = try Tokenizer(spec: spec)
            _ = tokenizer.decode(tokenizer.encode("Hello, world!"))
        }
    } catch {
        Fuzz.note("model: \(error)")
    }
    // The checksum pass over data the structural checks accepted.
    do {
        _ = try WeightBundle(path: scratch.path, verifyChecksums: true)
    } catch {
        Fuzz.note("checksums: \(error)")
    }
    return 0
}

/// Writes the SHA-256 of the manifest bytes at offset 32, as a writer would have.
private func fixManifestChecksum(_ bytes: inout [UInt8]) {
    guard bytes.count >= BundleFormat.headerSize else { return }
    var length: UInt64 = 0
    for i in 0..<8 { length |= UInt64(bytes[24 + i]) << (8 * UInt64(i)) }
    guard length <= UInt64(bytes.count - BundleFormat.headerSize) else { return }
    let start = BundleFormat.headerSize
    let hex = bytes.withUnsafeBytes { raw in
        Digest.sha256Hex(UnsafeRawBufferPointer(rebasing: raw[start..<(start + Int(length))]))
    }
    let digits = Array(hex.utf8).map { $0 <= UInt8(ascii: "9") ? $0 - UInt8(ascii: "0") : $0 - UInt8(ascii: "a") + 10 }
    for i in 0..<32 { bytes[32 + i] = digits[2 * i] << 4 | digits[2 * i + 1] }
}
