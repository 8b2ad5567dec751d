import ShiftAddBundle

/// Everything `shiftadd-convert` can be told, with the defaults it documents.
public struct ConversionOptions: Sendable, Equatable {
    public enum Bits: Sendable, Equatable {
        /// Every projection at this width.
        case uniform(Int)
        /// Widths of 1 to 4 chosen per projection by measured effect, so that the projections'
        /// stored bits (planes, scale codes, row exponents) average at most this per weight.
        case average(Double)
        /// Widths of 1 to 4 chosen per projection by measured effect, so that the whole file is at
        /// most this many bytes.
        case maxBytes(Int)
    }

    /// Widths an allocation chooses from.
    public static let allocationWidths = 1...4

    /// What each projection's quantization minimises.
    public enum Objective: String, Sendable, Equatable {
        /// The output error ‖(W − Ŵ)X‖² on the calibration inputs, by error feedback (the default).
        case output
        /// The weight error ‖W − Ŵ‖² alone (for the ablation).
        case weight
    }

    public enum Calibration: Sendable, Equatable {
        /// Sequences sampled from the model itself: conversion needs no outside data.
        case selfGenerated
        /// Token windows drawn from a UTF-8 text file.
        case text(path: String)
    }

    public var bits: Bits = .uniform(3)
    /// A file of measured effects (`--effects`): read when it holds a measurement of the same
    /// checkpoint and options, else measured and written there. Conversions of one model at several
    /// sizes measure once.
    public var effectsFile: String?
    public var groupSize = 64
    public var apotTerms = 3
    /// Randomized block Walsh–Hadamard rotation of each projection's input space.
    public var rotate = true
    public var rotationBlock = 64
    public var calibration: Calibration = .selfGenerated
    /// How `.selfGenerated` samples.
    public var selfSampling = CalibrationSet.Sampling()
    public var samples = 128
    public var sequenceLength = 512
    public var seed: UInt64 = 0
    public var threads = 2
    /// Alternating least-squares rounds per group fit.
    public var refinementRounds = 20
    /// Passes refitting scales against the output error after binarization (off by default: on
    /// held-out data it gained 0–3% at two to three times the time).
    public var scaleRefitPasses = 0
    public var objective: Objective = .output
    /// Scale fits tried for every row-group (all by default; fewer for the ablation).
    public var fitKinds: GroupFitKinds = .all
    /// End-to-end distillation of the scales after the sequential conversion (`ScaleDistiller`).
    /// Steps of one calibration sequence each by default: 64 of the 128 sequences, each seen once.
    public var distillSteps = 64
    public var distillSequencesPerStep = 1
    public var distillRate: Float = 0.001
    /// Output head storage: 8 for int8 rows, or 2 to 4 bit planes calibrated like a projection.
    public var headBits = 8

    /// Widths `headBits` takes.
    public static let headWidths: Set<Int> = [2, 3, 4, 8]

    public init() {}

    /// Fewer samples and rounds: for tests and first runs.
    public static var fast: ConversionOptions {
        var o = ConversionOptions()
        o.samples = 64
        o.sequenceLength = 256
        o.refinementRounds = 6
        o.distillSteps = 32
        o.distillSequencesPerStep = 2
        return o
    }

    /// Whether the head is stored as planes (`headBits` below 8).
    public var headPlanes: Bool { headBits != 8 }

    /// The rotation the bundle records for these options.
    public var rotation: BundleQuantization.Rotation {
        .init(kind: rotate ? "hadamard" : "none", block: rotationBlock, seed: seed)
    }

    /// The options as strings, recorded in the bundle's provenance.
    public var recorded: [String: String] {
        var r: [String: String] = [
            "group-size": "\(groupSize)", "apot-terms": "\(apotTerms)", "rotate": rotate ? "hadamard" : "none",
            "rotation-block": "\(rotationBlock)", "samples": "\(samples)", "seq-len": "\(sequenceLength)",
            "seed": "\(seed)", "refinement-rounds": "\(refinementRounds)", "scale-refit-passes": "\(scaleRefitPasses)",
        ]
        if objective != .output { r["objective"] = objective.rawValue }
        if fitKinds != .all { r["fits"] = fitKinds.name }
        if headBits != 8 { r["head-bits"] = "\(headBits)" }
        if distillSteps > 0 {
            r["distil-steps"] = "\(distillSteps)"
            r["distil-sequences"] = "\(distillSequencesPerStep)"
            r["distil-rate"] = "\(distillRate)"
        }
        switch bits {
        case let .uniform(b): r["bits"] = "\(b)"
        case let .average(a): r["avg-bits"] = "\(a)"
        case let .maxBytes(n): r["max-bytes"] = "\(n)"
        }
        switch calibration {
        case .selfGenerated:
            r["calibration"] = "self"
            r["self-chat"] = "\(selfSampling.chatShare)"
            r["self-temperatures"] = selfSampling.temperatures.map { "\($0)" }.joined(separator: ",")
        case let .text(path): r["calibration"] = path
        }
        return r
    }
}
