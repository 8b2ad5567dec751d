import CShiftKernels
import Foundation
import ShiftAddBundle
import ShiftAddModel

/// Runs a bundle on the shift/LUT-add kernels: every q, k, v, o, gate, up and down projection is
/// a table build plus lookups over binary planes; norms, rotary embeddings and attention over the
/// paged cache run in fp32 C loops, and the output head in int8 (`sa_i8_head_apply`) or, when the
/// bundle stores it as planes, on the lookup kernels like a projection. All compute runs on the
/// model's own thread pool. Each family's block recipe is in Architectures/, built from the steps
/// in QuantizedForward.swift.
///
/// Not thread-safe: one owner (the scheduler's engine thread) drives it.
public final class QuantizedModel {
    public let config: ModelConfig
    public let maxBatchTokens: Int
    let bundle: WeightBundle
    let pool: OpaquePointer
    let blocks: [QuantizedBlock]
    let outputNorm: [Float]
    /// The output head: the bundle's int8 rows (`sa_i8_head`) or planes (`sa_qlinear`).
    let head: VocabularyHead
    /// The token embedding's int8 rows when the bundle stores them; nil when the embedding is
    /// tied to the head, whose rows (int8 or planes) then serve as the embedding too.
    let embedding: OpaquePointer?
    /// The head's planes in the bundle's decoded form, from which a tied embedding dequantizes
    /// one row per token; nil unless the head is planes and tied.
    let embeddingPlanes: BundleVocabularyPlanes?
    /// Input rotations by width; empty when the bundle was converted without rotation.
    let rotations: [Int: [Float]]
    let rotationBlock: Int
    /// One table per input width, reused by every layer.
    let tables: [Int: OpaquePointer]
    /// Rotary angles of each layer; layers with the same base share one table.
    let layerRotary: [RotaryAngles]
    /// Activations of the forward passes, kept between them.
    let buffers: ForwardBuffers

    public init(bundle: WeightBundle, threads: Int, maxBatchTokens: Int = 512) throws {
        let m = bundle.manifest
        let c = m.config
        config = c
        buffers = ForwardBuffers(config: c)
        self.bundle = bundle
        self.maxBatchTokens = maxBatchTokens
        var err: Int32 = 0
        guard let pool = sa_threadpool_create(Int32(max(1, threads)), &err) else {
            throw EngineError.kernel("thread pool", status: err)
        }
        self.pool = pool
        // Built into a local so that a failure part way frees the blocks already made.
        var built: [QuantizedBlock] = []
        do {
            for l in 0..<c.layerCount { built.append(try QuantizedBlock(bundle: bundle, layer: l)) }
            outputNorm = try bundle.floats(TensorName.outputNorm, shape: [c.dim])
            func vocabulary(_ name: String) throws -> OpaquePointer {
                try BundleVocabularyRows(bundle: bundle, name: name, rows: c.vocabSize, cols: c.dim).makeHead(file: bundle.path)
            }
            let planes = try BundleVocabularyPlanes(bundle: bundle)
            if let planes {
                head = .planes(try planes.projection.makeKernel())
            } else {
                head = .rows(try vocabulary(c.tiedEmbeddings ? TensorName.tokenEmbedding : TensorName.output))
            }
            embeddingPlanes = c.tiedEmbeddings ? planes : nil
            do {
                embedding = c.tiedEmbeddings ? nil : try vocabulary(TensorName.tokenEmbedding)
            } catch {
                head.free()
                throw error
            }
        } catch {
            built.forEach { $0.free() }
            sa_threadpool_free(pool)
            throw error
        }
        blocks = built
        let q = m.quantization
        let widths = Set([c.dim, c.qDim, c.hiddenDim])
        rotationBlock = q.rotation.block
        var rotations: [Int: [Float]] = [:]
        for w in widths { rotations[w] = q.rotation.signs(width: w) }
        self.rotations = rotations
        var tables: [Int: OpaquePointer] = [:]
        for w in widths {
            guard let t = sa_lut_create(Int32(maxBatchTokens), Int32(w), Int32(q.groupSize), -1, &err) else {
                tables.values.forEach { sa_lut_free($0) }
                head.free()
                sa_i8_head_free(embedding)
                blocks.forEach { $0.free() }
                sa_threadpool_free(pool)
                throw EngineError.kernel("lookup table for width \(w)", status: err)
            }
            tables[w] = t
        }
        self.tables = tables
        var byBase: [Float: RotaryAngles] = [:]
        layerRotary = (0..<c.layerCount).map { l in
            let theta = c.ropeTheta(layer: l)
            if let angles = byBase[theta] { return angles }
            let angles = RotaryAngles(config: c, theta: theta)
            byBase[theta] = angles
            return angles
        }
    }

    /// Hands back the bundle memory of every tensor (the model has copied all of them into its own
    /// layout, the tied embedding's planes included), so the weights are not held twice. The
    /// bundle must not be read afterwards (another engine on it would fail to load).
    public func releaseBundleCopies() {
        bundle.release(bundle.manifest.tensors.map(\.name))
    }

    deinit {
        head.free()
        sa_i8_head_free(embedding)
        blocks.forEach { $0.free() }
        tables.values.forEach { sa_lut_free($0) }
        sa_threadpool_free(pool)
    }

    /// A paged cache for this model holding `blocks` blocks of `blockSize` positions, and as many
    /// window slots for its sliding-window layers, if any.
    public func makeCache(blocks: Int, blockSize: Int = 16) -> PagedKVCache {
        makeCache(blocks: blocks, windowSlots: blocks, blockSize: blockSize)
    }

    /// A paged cache of `blocks` blocks and `windowSlots` window slots of `blockSize` positions.
    public func makeCache(blocks: Int, windowSlots: Int, blockSize: Int) -> PagedKVCache {
        PagedKVCache(layers: config.layerCount, kvDim: config.kvDim, blockSize: blockSize, blockCount: blocks,
                     window: attentionWindow, windowedLayers: windowedLayers, windowSlots: windowSlots)
    }

    /// Positions a query of the sliding-window layers reads; nil when every layer reads the whole context.
    public var attentionWindow: Int? { windowedLayers.first.flatMap { config.attentionWindow(layer: $0) } }

    /// Layers attending to a sliding window (they all share one window).
    var windowedLayers: Set<Int> { Set((0..<config.layerCount).filter { config.attentionWindow(layer: $0) != nil }) }

    /// Bytes one cache block of `blockSize` positions takes in the whole-context layers (keys and
    /// values), for sizing a cache to a memory budget.
    public func cacheBytesPerBlock(blockSize: Int = 16) -> Int {
        PagedKVCache.bytesPerBlock(layers: config.layerCount - windowedLayers.count, kvDim: config.kvDim, blockSize: blockSize)
    }

    /// Bytes one window slot of `blockSize` positions takes in the sliding-window layers.
    public func cacheBytesPerWindowSlot(blockSize: Int = 16) -> Int {
        PagedKVCache.bytesPerBlock(layers: windowedLayers.count, kvDim: config.kvDim, blockSize: blockSize)
    }

    /// Bytes of kernel-native weights, the head and embedding and tables the model holds beyond
    /// the bundle.
    public var nativeBytes: Int {
        blocks.reduce(0) { $0 + $1.nativeBytes } + tables.values.reduce(0) { $0 + sa_lut_bytes($1) } + head.bytes
            + sa_i8_head_bytes(embedding) + (embeddingPlanes.map { $0.projection.linear.storedBytes } ?? 0)
    }
}

/// cos and sin of the rotary angle of every position up to the context length and every pair of a
/// head, [position][headDim / 2], for one rotary base.
struct RotaryAngles {
    let cosines: [Float]
    let sines: [Float]

    init(config c: ModelConfig, theta: Float) {
        let half = c.headDim / 2
        let frequencies = RotaryTable.inverseFrequencies(headDim: c.headDim, theta: theta)
        var cosines = [Float](repeating: 0, count: c.contextLength * half)
        var sines = cosines
        for p in 0..<c.contextLength {
            for i in 0..<half {
                let angle = Float(p) * frequencies[i]
                cosines[p * half + i] = Foundation.cos(angle)
                sines[p * half + i] = Foundation.sin(angle)
            }
        }
        self.cosines = cosines
        self.sines = sines
    }
}

/// The output head in kernel form: int8 rows or binary planes.
enum VocabularyHead {
    case rows(OpaquePointer)
    case planes(OpaquePointer)

    /// The int8 rows, or nil for planes.
    var rows: OpaquePointer? {
        if case let .rows(h) = self { h } else { nil }
    }

    var bytes: Int {
        switch self {
        case let .rows(h): sa_i8_head_bytes(h)
        case let .planes(q): sa_qlinear_bytes(q)
        }
    }

    func free() {
        switch self {
        case let .rows(h): sa_i8_head_free(h)
        case let .planes(q): sa_qlinear_free(q)
        }
    }
}

/// The seven projections and the norms of one decoder block, in kernel-native form.
struct QuantizedBlock {
    let attentionNorm: [Float]
    let ffnNorm: [Float]
    let projections: [TensorName.Projection: OpaquePointer]
    let biases: [TensorName.Projection: [Float]]
    /// Gemma 3's further norms; nil in other families.
    let gemma3: Gemma3Norms?

    init(bundle: WeightBundle, layer l: Int) throws {
        let m = bundle.manifest
        let c = m.config
        attentionNorm = try bundle.floats(TensorName.attentionNorm(l), shape: [c.dim])
        ffnNorm = try bundle.floats(TensorName.ffnNorm(l), shape: [c.dim])
        gemma3 = c.family == .gemma3 ? try Gemma3Norms(BundleWeights(bundle: bundle), layer: l) : nil
        var projections: [TensorName.Projection: OpaquePointer] = [:]
        var biases: [TensorName.Projection: [Float]] = [:]
        do {
            for p in TensorName.Projection.allCases {
                let linear = try BundleProjection(bundle: bundle, layer: l, projection: p)
                projections[p] = try linear.makeKernel()
                if c.attentionBias, [.q, .k, .v].contains(p) {
                    biases[p] = try bundle.floats(TensorName.bias(p, layer: l), shape: [linear.rows])
                }
            }
        } catch {
            projections.values.forEach { sa_qlinear_free($0) }
            throw error
        }
        self.projections = projections
        self.biases = biases
    }

    var nativeBytes: Int { projections.values.reduce(0) { $0 + sa_qlinear_bytes($1) } }

    /// Frees the kernel objects; the block is unusable afterwards.
    func free() { projections.values.forEach { sa_qlinear_free($0) } }
}

/// Failures of the kernel library, with its status code.
public enum EngineError: Error, CustomStringConvertible {
    case kernel(String, status: Int32)
    case invalidRequest(String)

    public var description: String {
        switch self {
        case let .kernel(what, status): return "kernel error \(status) creating \(what)"
        case let .invalidRequest(m): return m
        }
    }
}
