import COpenSSL

/// Constants of the bundle file layout (Docs/bundle-format.md):
///
///     0   magic "SHIFTADD" (8 bytes)
///     8   u32 format version
///     12  u32 header size (64)
///     16  u64 manifest offset (64)
///     24  u64 manifest length
///     32  SHA-256 of the manifest bytes (32 bytes)
///     64  manifest JSON, then zero padding to a multiple of 64
///     D   data section: each tensor at a 64-byte aligned offset from D, zero padding between
///
/// All integers little-endian. Tensor offsets in the manifest are relative to D, so the manifest
/// does not depend on its own length; the file ends at D + manifest.dataSize.
public enum BundleFormat {
    public static let magic = Array("SHIFTADD".utf8)
    public static let version = 2
    public static let headerSize = 64
    public static let alignment = 64
    /// Manifests beyond this size are refused before being read.
    public static let maxManifestBytes = 64 << 20

    static func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

/// SHA-256 through OpenSSL.
public enum Digest {
    /// Lowercase hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String { hex(sha256(bytes)) }

    static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = EVP_Digest(bytes.baseAddress, bytes.count, &out, &length, EVP_sha256(), nil)
        precondition(ok == 1 && length == 32, "SHA-256 failed")
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var s = [UInt8]()
        s.reserveCapacity(bytes.count * 2)
        for b in bytes {
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 15)])
        }
        return String(decoding: s, as: UTF8.self)
    }
}
