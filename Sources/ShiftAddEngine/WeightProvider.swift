import ShiftAddModel

/// Anything that can hand the engine a model's configuration and fp32 tensors by canonical name:
/// a checkpoint (`ModelDescription`) or a converted bundle decoded to fp32.
public protocol WeightProvider {
    var config: ModelConfig { get }
    func floats(_ name: String, shape: [Int]) throws -> [Float]
}

extension ModelDescription: WeightProvider {}
