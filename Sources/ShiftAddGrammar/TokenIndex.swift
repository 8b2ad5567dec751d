import ShiftAddTokenizer

/// A tokenizer's vocabulary as a byte trie, built once per tokenizer: a mask walks it together with
/// a grammar state, so tokens that share a prefix share its steps and a dead prefix drops all of
/// them at once. Special tokens (end of turn, …) and empty tokens are left out: they never continue
/// a document.
public final class TokenIndex: Sendable {
    /// Token ids are below this.
    public let vocabularySize: Int
    /// Per trie node: its children as a range of `edgeByte`/`edgeChild`.
    let firstEdge: [Int32]
    let edgeByte: [UInt8]
    let edgeChild: [Int32]
    /// Per trie node: the tokens spelled by the path to it, as a range of `tokens`.
    let firstToken: [Int32]
    let tokens: [Int32]
    /// Each token's bytes (empty for the ones left out).
    let spelling: [[UInt8]]

    public convenience init(tokenizer: Tokenizer) {
        self.init(vocabulary: (0..<tokenizer.vocabularySize).map {
            tokenizer.isSpecial($0) ? [] : tokenizer.tokenBytes($0)
        })
    }

    /// `vocabulary[id]`: the token's bytes; empty = never allowed.
    public init(vocabulary: [[UInt8]]) {
        vocabularySize = vocabulary.count
        spelling = vocabulary
        // A pointer trie first, then flattened breadth-first into arrays.
        var children: [[UInt8: Int32]] = [[:]]
        var ending: [[Int32]] = [[]]
        for (id, bytes) in vocabulary.enumerated() where !bytes.isEmpty {
            var node = 0
            for b in bytes {
                if let c = children[node][b] {
                    node = Int(c)
                } else {
                    children.append([:])
                    ending.append([])
                    children[node][b] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            ending[node].append(Int32(id))
        }
        var order = [0]
        var position = [Int32](repeating: 0, count: children.count)
        var i = 0
        while i < order.count {
            for (_, c) in children[order[i]].sorted(by: { $0.key < $1.key }) {
                position[Int(c)] = Int32(order.count)
                order.append(Int(c))
            }
            i += 1
        }
        var firstEdge: [Int32] = [], edgeByte: [UInt8] = [], edgeChild: [Int32] = []
        var firstToken: [Int32] = [], tokens: [Int32] = []
        for node in order {
            firstEdge.append(Int32(edgeByte.count))
            for (b, c) in children[node].sorted(by: { $0.key < $1.key }) {
                edgeByte.append(b)
                edgeChild.append(position[Int(c)])
            }
            firstToken.append(Int32(tokens.count))
            tokens += ending[node]
        }
        firstEdge.append(Int32(edgeByte.count))
        firstToken.append(Int32(tokens.count))
        self.firstEdge = firstEdge
        self.edgeByte = edgeByte
        self.edgeChild = edgeChild
        self.firstToken = firstToken
        self.tokens = tokens
    }
}
