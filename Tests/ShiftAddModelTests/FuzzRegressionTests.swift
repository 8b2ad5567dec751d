import ShiftAddModel
import ShiftAddTestSupport
import Testing

/// Inputs found by fuzzing the GGUF reader (Tests/Fuzz, target `gguf`), kept as tests.
@Suite struct FuzzRegressionTests {
    /// Four dimensions of 2^31 - 1 elements each are accepted one by one, but their product does
    /// not fit an Int: computing the element count trapped the process.
    @Test func tensorWhoseElementCountOverflowsIsMalformed() throws {
        var b = GGUFBuilder()
        let huge = Int(Int32.max)
        b.tensors.append((name: "huge", ne: [huge, huge, huge, huge], type: 0, data: [UInt8](repeating: 0, count: 64)))
        let path = temporaryPath("element-count-overflow.gguf")
        try b.write(to: path)
        #expect(throws: ModelError.malformed(file: path, reason: "tensor 'huge' of type F32 has invalid shape [\(huge), \(huge), \(huge), \(huge)]")) {
            try GGUFFile(path: path)
        }
    }

    /// The same for a block-quantized type (Q8_0), whose rows are whole blocks.
    @Test func quantizedTensorWhoseElementCountOverflowsIsMalformed() throws {
        var b = GGUFBuilder()
        let huge = Int(Int32.max)
        b.tensors.append((name: "q", ne: [32, huge, huge, huge], type: 8, data: [UInt8](repeating: 0, count: 64)))
        let path = temporaryPath("block-count-overflow.gguf")
        try b.write(to: path)
        #expect(throws: ModelError.malformed(file: path, reason: "tensor 'q' of type Q8_0 has invalid shape [\(huge), \(huge), \(huge), 32]")) {
            try GGUFFile(path: path)
        }
    }
}
