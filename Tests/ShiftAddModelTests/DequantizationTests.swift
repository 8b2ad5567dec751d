import CShiftKernels
import Foundation
import ShiftAddModel
import Testing

@Suite struct DequantizationTests {
    struct Case: Decodable { let type: Int; let name: String; let data: String; let expected: [Float] }

    /// Golden values decoded by an independent implementation (Scripts/make_dequant_golden.py).
    @Test func matchesGoldenBlocks() throws {
        let url = try #require(Bundle.module.url(forResource: "dequant", withExtension: "json", subdirectory: "Golden"))
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
        #expect(cases.map(\.type).sorted() == TensorType.allCases.map(\.rawValue).sorted())
        for c in cases {
            let bytes = try #require(Data(base64Encoded: c.data))
            let type = try #require(TensorType(rawValue: c.type))
            #expect(type.name == c.name)
            #expect(type.byteCount(elements: c.expected.count) == bytes.count, "\(c.name)")
            var out = [Float](repeating: .nan, count: c.expected.count)
            let status = bytes.withUnsafeBytes { sa_dequantize(Int32(c.type), $0.baseAddress, &out, c.expected.count) }
            #expect(status == 0, "\(c.name)")
            #expect(out == c.expected, "\(c.name)")
        }
    }

    @Test func rejectsPartialBlocksAndUnknownTypes() {
        var out = [Float](repeating: 0, count: 64)
        let src = [UInt8](repeating: 0, count: 64)
        #expect(sa_dequantize(Int32(TensorType.q4_0.rawValue), src, &out, 31) == -1)
        #expect(sa_dequantize(15, src, &out, 32) == -1) // Q8_K, which checkpoints do not use
    }

    @Test func halfConversionRoundTripsEveryFiniteHalf() {
        for bits in UInt16(0)...UInt16.max where bits & 0x7C00 != 0x7C00 {
            let f = sa_half_to_float(bits)
            #expect(sa_float_to_half(f) == bits || (f == 0 && bits & 0x7FFF == 0))
            #expect(f == Float(Float16(bitPattern: bits)))
        }
        #expect(sa_float_to_half(65520) == 0x7C00)
        #expect(sa_float_to_half(1e-8) == 0)
        #expect(sa_float_to_half(Float(Float16(bitPattern: 1)) * 1.5) == 2) // ties to even
    }
}
