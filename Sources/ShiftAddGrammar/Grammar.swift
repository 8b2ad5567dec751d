/// A JSON grammar as a table of nodes, each the set of JSON texts one (sub)schema accepts.
/// Nodes refer to each other by index, so recursive schemas (`$ref`) are plain cycles.
public struct Grammar: Sendable {
    enum Node: Sendable {
        case object(ObjectShape)
        /// `maxItems` is `Int.max` when unbounded.
        case array(items: Int, minItems: Int, maxItems: Int)
        case string
        case number(integerOnly: Bool)
        /// Exact JSON texts: `enum`, `const`, `true`, `false`, `null`.
        case literals(LiteralTrie)
        /// Any of the alternatives; the state follows every one still possible.
        case anyOf([Int])
    }

    var nodes: [Node]
    var root: Int
    /// Bytes of the shortest text of each node: what closing it costs at least.
    private(set) var minLength: [Int] = []

    static let unbounded = Int.max / 4

    init(nodes: [Node], root: Int) {
        self.nodes = nodes
        self.root = root
        minLength = Self.minimumLengths(nodes)
    }

    /// True when every node has a finite shortest text (no required self-recursion).
    var isFinite: Bool { minLength.allSatisfy { $0 < Self.unbounded } }

    /// Shortest texts by fixed-point iteration: recursion through `$ref` only resolves once the
    /// non-recursive alternatives are known.
    private static func minimumLengths(_ nodes: [Node]) -> [Int] {
        var length = [Int](repeating: unbounded, count: nodes.count)
        var changed = true
        while changed {
            changed = false
            for (i, node) in nodes.enumerated() {
                let value: Int
                switch node {
                case .string: value = 2
                case .number: value = 1
                case .literals(let trie): value = trie.minRest[0]
                case .anyOf(let alternatives): value = alternatives.map { length[$0] }.min() ?? unbounded
                case let .array(items, minItems, _):
                    value = minItems == 0 ? 2 : min(unbounded, 2 + minItems * length[items] + minItems - 1)
                case .object(let shape):
                    let required = shape.indices(shape.required)
                    value = min(unbounded, 2 + required.reduce(0) { $0 + shape.entryLength($1, length) }
                        + max(0, required.count - 1))
                }
                if value < length[i] {
                    length[i] = value
                    changed = true
                }
            }
        }
        return length
    }
}

/// An object's declared properties, or (with no properties) any keys whose values follow `additional`.
struct ObjectShape: Sendable {
    /// The quoted keys (`"name"`), each ending at the property's index.
    var keys: LiteralTrie
    /// Property index → value node.
    var values: [Int]
    /// Bit i: property i is required.
    var required: UInt64
    /// With no declared properties: the value node of any key; nil = no other keys.
    var additional: Int?
    /// The node of a key string, for objects with `additional`.
    var keyString: Int

    static let maxProperties = 64

    func indices(_ mask: UInt64) -> [Int] {
        var out: [Int] = []
        var m = mask
        while m != 0 {
            out.append(m.trailingZeroBitCount)
            m &= m - 1
        }
        return out
    }

    /// Bytes of the shortest `"key":value` of property `p`.
    func entryLength(_ p: Int, _ minLength: [Int]) -> Int {
        min(Grammar.unbounded, keys.depthOfValue[p] + 1 + minLength[values[p]])
    }
}

/// A byte trie of exact texts. Node 0 is the root; a node where a text ends holds its index.
struct LiteralTrie: Sendable {
    private(set) var edges: [[(byte: UInt8, child: Int32)]] = [[]]
    /// Index of the text ending at each node, or -1.
    private(set) var terminal: [Int32] = [-1]
    /// Texts ending at or below each node, as a bit set (texts 0..<64 only: used for object keys).
    private(set) var reach: [UInt64] = [0]
    /// Bytes from each node to the nearest end of a text.
    private(set) var minRest: [Int] = [0]
    private(set) var depth: [Int] = [0]
    /// Length of each text.
    private(set) var depthOfValue: [Int] = []

    init(_ texts: [[UInt8]]) {
        for (index, text) in texts.enumerated() {
            var node = 0
            for byte in text {
                if let c = child(node, byte) {
                    node = c
                } else {
                    edges.append([])
                    terminal.append(-1)
                    reach.append(0)
                    depth.append(depth[node] + 1)
                    edges[node].append((byte, Int32(edges.count - 1)))
                    node = edges.count - 1
                }
            }
            if terminal[node] < 0 { terminal[node] = Int32(index) }
            depthOfValue.append(text.count)
        }
        minRest = [Int](repeating: Grammar.unbounded, count: edges.count)
        // Children always have larger indices than their parents: one backward pass settles both.
        for node in edges.indices.reversed() {
            if terminal[node] >= 0 {
                minRest[node] = 0
                if terminal[node] < 64 { reach[node] |= 1 << UInt64(terminal[node]) }
            }
            for e in edges[node] {
                minRest[node] = min(minRest[node], minRest[Int(e.child)] + 1)
                reach[node] |= reach[Int(e.child)]
            }
        }
    }

    func child(_ node: Int, _ byte: UInt8) -> Int? {
        for e in edges[node] where e.byte == byte { return Int(e.child) }
        return nil
    }
}
