/// One open value of the document: which node, how far into it, and what it has seen.
struct Frame: Hashable, Sendable {
    var node: Int32
    var phase: UInt8
    /// Trie node (literals, keys), item count (arrays) or current property (objects).
    var aux: Int32 = 0
    /// Objects: the properties written so far.
    var seen: UInt64 = 0
}

/// Where a document stands after some bytes: every stack of open values still consistent with
/// them (more than one only inside `anyOf`), and the structural whitespace just written.
/// An empty stack means the document is complete.
struct GrammarState: Hashable, Sendable {
    var stacks: [[Frame]]
    var whitespace: UInt8 = 0

    var isComplete: Bool { stacks.contains { $0.isEmpty } }
}

// Phases. Every frame starts in phase 0, before its first byte.
private enum StringPhase {
    static let inside: UInt8 = 1, escape: UInt8 = 2
    /// 3 + hex digits still due after `\u` (1...4); 7 + UTF-8 continuation bytes still due (1...3).
    static let hex: UInt8 = 3, continuation: UInt8 = 7
    /// After the lead bytes E0, ED, F0 and F4, whose next byte has a narrower range (no overlong
    /// forms, surrogates or code points past U+10FFFF): index into `narrowed`.
    static let narrow: UInt8 = 11
    static let narrowed: [(low: UInt8, high: UInt8, then: UInt8)] = [
        (0xA0, 0xBF, continuation + 1), (0x80, 0x9F, continuation + 1), (0x90, 0xBF, continuation + 2),
        (0x80, 0x8F, continuation + 2),
    ]
}

private enum NumberPhase {
    static let minus: UInt8 = 1, zero: UInt8 = 2, integer: UInt8 = 3, point: UInt8 = 4, fraction: UInt8 = 5
    static let exponent: UInt8 = 6, exponentSign: UInt8 = 7, exponentDigits: UInt8 = 8
}

private enum ContainerPhase {
    /// Arrays: after `[`; objects: after `{`.
    static let open: UInt8 = 1
    /// Objects: inside a declared key (aux = key trie node).
    static let key: UInt8 = 2
    /// Objects: after the key (aux = property, -1 for an `additional` key), before `:`.
    static let colon: UInt8 = 3
    /// After a value, before `,` or the closing bracket (arrays: aux = items so far).
    static let afterValue: UInt8 = 5
    /// After `,`.
    static let comma: UInt8 = 6
}

extension Grammar {
    /// Structural whitespace: one space at a time (`{"a": 1, "b": [2, 3]}`), no line breaks. Small
    /// models pad JSON with blank lines when they may, which costs tokens and says nothing.
    static let maxWhitespace: UInt8 = 1
    /// Digits of a number's integer and fraction parts, and of its exponent.
    static let maxDigits: Int32 = 16, maxExponentDigits: Int32 = 2

    /// The document starts with its first byte: the start counts as having used up the whitespace.
    var start: GrammarState { GrammarState(stacks: dedup(push(root, onto: [])), whitespace: Self.maxWhitespace) }

    /// The state after `byte`, or nil when no document continues that way.
    func step(_ state: GrammarState, _ byte: UInt8) -> GrammarState? {
        if keeps(state, byte) { return state }
        let isSpace = byte == 0x20
        var out: [[Frame]] = []
        var spaced = false
        for stack in state.stacks where !stack.isEmpty {
            var s = stack
            if feed(&s, byte, into: &out) == .space { spaced = true }
        }
        // Whether a byte is structural whitespace depends on the bytes before only (inside a
        // string or not), so every stack agrees.
        guard !out.isEmpty, !(spaced && state.whitespace >= Self.maxWhitespace) else { return nil }
        return GrammarState(stacks: out.count == 1 ? out : dedup(out), whitespace: spaced && isSpace ? state.whitespace + 1 : 0)
    }

    /// The common case inside a string: plain text changes nothing.
    func keeps(_ state: GrammarState, _ byte: UInt8) -> Bool {
        guard byte >= 0x20, byte < 0x80, byte != 0x22, byte != 0x5C, state.stacks.count == 1,
              let top = state.stacks[0].last, top.phase == StringPhase.inside, case .string = nodes[Int(top.node)] else {
            return false
        }
        return true
    }

    private enum Feed { case rejected, space, consumed }

    /// Feeds one byte to the top of `stack`; accepted stacks go to `out` (several after an `anyOf`),
    /// except for structural whitespace, which leaves `stack` as it is and returns `.space`.
    private func feed(_ stack: inout [Frame], _ byte: UInt8, into out: inout [[Frame]]) -> Feed {
        guard var f = stack.last else { return .rejected }
        let isSpace = byte == 0x20
        /// Replaces the top frame and accepts.
        func keep() -> Feed {
            stack[stack.count - 1] = f
            out.append(stack)
            return .consumed
        }
        /// Structural whitespace: the stack stays as it is.
        func space() -> Feed {
            out.append(stack)
            return .space
        }
        func pop() -> Feed {
            stack.removeLast()
            out.append(stack)
            return .consumed
        }
        /// The value ended before `byte`: the enclosing frame takes it.
        func popAndRetry() -> Feed {
            stack.removeLast()
            return feed(&stack, byte, into: &out)
        }
        /// Sets the top frame, then opens a value of `node` and feeds it `byte`.
        func openAndRetry(_ node: Int) -> Feed {
            stack[stack.count - 1] = f
            var result = Feed.rejected
            for var s in push(node, onto: stack) {
                let r = feed(&s, byte, into: &out)
                if r != .rejected { result = r }
            }
            return result
        }

        switch nodes[Int(f.node)] {
        case .string:
            switch f.phase {
            case 0:
                if isSpace { return space() }
                guard byte == 0x22 else { return .rejected }
                f.phase = StringPhase.inside
                return keep()
            case StringPhase.inside:
                switch byte {
                case 0x22: return pop()
                case 0x5C: f.phase = StringPhase.escape
                case 0x00..<0x20: return .rejected
                case 0x20..<0x80: break
                case 0xC2...0xDF: f.phase = StringPhase.continuation + 1
                case 0xE0: f.phase = StringPhase.narrow
                case 0xED: f.phase = StringPhase.narrow + 1
                case 0xE1...0xEF: f.phase = StringPhase.continuation + 2
                case 0xF0: f.phase = StringPhase.narrow + 2
                case 0xF4: f.phase = StringPhase.narrow + 3
                case 0xF1...0xF3: f.phase = StringPhase.continuation + 3
                default: return .rejected
                }
                return keep()
            case StringPhase.escape:
                switch byte {
                case 0x22, 0x5C, 0x2F, UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"),
                     UInt8(ascii: "t"):
                    f.phase = StringPhase.inside
                case UInt8(ascii: "u"): f.phase = StringPhase.hex + 3
                default: return .rejected
                }
                return keep()
            case StringPhase.hex...(StringPhase.hex + 3):
                // No surrogate escapes: a lone one is not valid text (characters past U+FFFF go as UTF-8).
                guard Self.isHex(byte), f.phase != StringPhase.hex + 3 || (byte | 0x20) != UInt8(ascii: "d") else {
                    return .rejected
                }
                f.phase = f.phase == StringPhase.hex ? StringPhase.inside : f.phase - 1
                return keep()
            case StringPhase.narrow...:
                let range = StringPhase.narrowed[Int(f.phase - StringPhase.narrow)]
                guard byte >= range.low, byte <= range.high else { return .rejected }
                f.phase = range.then
                return keep()
            default:
                guard byte >= 0x80, byte < 0xC0 else { return .rejected }
                f.phase = f.phase == StringPhase.continuation + 1 ? StringPhase.inside : f.phase - 1
                return keep()
            }

        case .number(let integerOnly):
            // aux counts the digits of the current part, bounded so every number fits a double.
            let digit = byte >= 0x30 && byte <= 0x39
            func digits(_ phase: UInt8, limit: Int32) -> Feed {
                if f.phase == phase {
                    guard f.aux < limit else { return .rejected }
                    f.aux += 1
                } else {
                    f.phase = phase
                    f.aux = 1
                }
                return keep()
            }
            switch f.phase {
            case 0:
                if isSpace { return space() }
                if byte == 0x2D { f.phase = NumberPhase.minus } else if byte == 0x30 { f.phase = NumberPhase.zero }
                else if digit { return digits(NumberPhase.integer, limit: Self.maxDigits) } else { return .rejected }
                return keep()
            case NumberPhase.minus:
                guard digit else { return .rejected }
                if byte == 0x30 {
                    f.phase = NumberPhase.zero
                    return keep()
                }
                return digits(NumberPhase.integer, limit: Self.maxDigits)
            case NumberPhase.zero, NumberPhase.integer, NumberPhase.fraction:
                if digit, f.phase != NumberPhase.zero {
                    return digits(f.phase, limit: Self.maxDigits)
                }
                if !integerOnly, byte == 0x2E, f.phase != NumberPhase.fraction {
                    f.phase = NumberPhase.point
                    return keep()
                }
                if !integerOnly, byte == 0x65 || byte == 0x45 {
                    f.phase = NumberPhase.exponent
                    return keep()
                }
                return popAndRetry()
            case NumberPhase.point:
                return digit ? digits(NumberPhase.fraction, limit: Self.maxDigits) : .rejected
            case NumberPhase.exponent:
                if byte == 0x2B || byte == 0x2D {
                    f.phase = NumberPhase.exponentSign
                    return keep()
                }
                return digit ? digits(NumberPhase.exponentDigits, limit: Self.maxExponentDigits) : .rejected
            case NumberPhase.exponentSign:
                return digit ? digits(NumberPhase.exponentDigits, limit: Self.maxExponentDigits) : .rejected
            default:
                return digit ? digits(NumberPhase.exponentDigits, limit: Self.maxExponentDigits) : popAndRetry()
            }

        case .literals(let trie):
            if f.phase == 0 {
                if isSpace { return space() }
                f.phase = 1
            }
            if let c = trie.child(Int(f.aux), byte) {
                if trie.terminal[c] >= 0, trie.edges[c].isEmpty { return pop() }
                f.aux = Int32(c)
                return keep()
            }
            return trie.terminal[Int(f.aux)] >= 0 ? popAndRetry() : .rejected

        case let .array(items, minItems, maxItems):
            switch f.phase {
            case 0:
                if isSpace { return space() }
                guard byte == 0x5B else { return .rejected }
                f.phase = ContainerPhase.open
                return keep()
            case ContainerPhase.open:
                if isSpace { return space() }
                if byte == 0x5D { return minItems == 0 ? pop() : .rejected }
                guard maxItems > 0 else { return .rejected }
                f.phase = ContainerPhase.afterValue
                f.aux = 1
                return openAndRetry(items)
            case ContainerPhase.afterValue:
                if isSpace { return space() }
                if byte == 0x5D { return Int(f.aux) >= minItems ? pop() : .rejected }
                guard byte == 0x2C, Int(f.aux) < maxItems else { return .rejected }
                f.phase = ContainerPhase.comma
                return keep()
            default:
                f.phase = ContainerPhase.afterValue
                f.aux += 1
                return openAndRetry(items)
            }

        case .object(let shape):
            let missing = shape.required & ~f.seen
            switch f.phase {
            case 0:
                if isSpace { return space() }
                guard byte == 0x7B else { return .rejected }
                f.phase = ContainerPhase.open
                return keep()
            case ContainerPhase.open, ContainerPhase.comma:
                if isSpace { return space() }
                if byte == 0x7D, f.phase == ContainerPhase.open { return missing == 0 ? pop() : .rejected }
                guard byte == 0x22 else { return .rejected }
                if shape.additional != nil {
                    f.phase = ContainerPhase.colon
                    f.aux = -1
                    return openAndRetry(shape.keyString)
                }
                guard let c = shape.keys.child(0, byte), shape.keys.reach[c] & ~f.seen != 0 else { return .rejected }
                f.phase = ContainerPhase.key
                f.aux = Int32(c)
                return keep()
            case ContainerPhase.key:
                guard let c = shape.keys.child(Int(f.aux), byte), shape.keys.reach[c] & ~f.seen != 0 else { return .rejected }
                let p = shape.keys.terminal[c]
                if p >= 0 {
                    f.seen |= 1 << UInt64(p)
                    f.phase = ContainerPhase.colon
                    f.aux = p
                } else {
                    f.aux = Int32(c)
                }
                return keep()
            case ContainerPhase.colon:
                if isSpace { return space() }
                guard byte == 0x3A else { return .rejected }
                let value = f.aux >= 0 ? shape.values[Int(f.aux)] : shape.additional!
                f.phase = ContainerPhase.afterValue
                stack[stack.count - 1] = f
                for s in push(value, onto: stack) { out.append(s) }
                return .consumed
            default:
                if isSpace { return space() }
                if byte == 0x7D { return missing == 0 ? pop() : .rejected }
                let more = shape.additional != nil || (f.seen | ~UInt64.allOnes(shape.values.count)) != .max
                guard byte == 0x2C, more else { return .rejected }
                f.phase = ContainerPhase.comma
                return keep()
            }

        case .anyOf:
            // Alternatives are expanded when pushed; an `anyOf` frame never stays on a stack.
            return .rejected
        }
    }

    /// `stack` with a new value of `node` opened on top: one stack per alternative of an `anyOf`.
    func push(_ node: Int, onto stack: [Frame]) -> [[Frame]] {
        if case .anyOf(let alternatives) = nodes[node] {
            return alternatives.flatMap { push($0, onto: stack) }
        }
        return [stack + [Frame(node: Int32(node), phase: 0)]]
    }

    private func dedup(_ stacks: [[Frame]]) -> [[Frame]] {
        var out: [[Frame]] = []
        for s in stacks where !out.contains(s) { out.append(s) }
        return out
    }

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
    }

    // MARK: Closing

    /// The fewest bytes that complete a document from `state`.
    func minClose(_ state: GrammarState) -> Int {
        state.stacks.map { $0.reduce(0) { min(Self.unbounded, $0 + rest($1)) } }.min() ?? Self.unbounded
    }

    /// The fewest bytes that close frame `f`, the frames above it already closed.
    private func rest(_ f: Frame) -> Int {
        let node = Int(f.node)
        if f.phase == 0 { return minLength[node] }
        switch nodes[node] {
        case .string:
            switch f.phase {
            case StringPhase.inside: return 1
            case StringPhase.escape: return 2
            case StringPhase.hex...(StringPhase.hex + 3): return Int(f.phase - StringPhase.hex) + 2
            case StringPhase.narrow...: return Int(StringPhase.narrowed[Int(f.phase - StringPhase.narrow)].then
                                                   - StringPhase.continuation) + 2
            default: return Int(f.phase - StringPhase.continuation) + 1
            }
        case .number:
            switch f.phase {
            case NumberPhase.zero, NumberPhase.integer, NumberPhase.fraction, NumberPhase.exponentDigits: return 0
            default: return 1
            }
        case .literals(let trie):
            return trie.minRest[Int(f.aux)]
        case let .array(items, minItems, _):
            let item = minLength[items]
            let count = Int(f.aux)
            switch f.phase {
            case ContainerPhase.open: return minItems == 0 ? 1 : minItems * item + minItems
            case ContainerPhase.afterValue: return max(0, minItems - count) * (1 + item) + 1
            default: return item + max(0, minItems - count - 1) * (1 + item) + 1
            }
        case .object(let shape):
            return objectRest(shape, f)
        case .anyOf:
            return Self.unbounded
        }
    }

    private func objectRest(_ shape: ObjectShape, _ f: Frame) -> Int {
        let missing = shape.indices(shape.required & ~f.seen)
        let missingCost = missing.reduce(0) { $0 + 1 + shape.entryLength($1, minLength) }
        if let additional = shape.additional {
            switch f.phase {
            case ContainerPhase.colon: return 1 + minLength[additional] + 1
            case ContainerPhase.comma: return 2 + 1 + minLength[additional] + 1
            default: return 1
            }
        }
        switch f.phase {
        case ContainerPhase.open:
            return missing.isEmpty ? 1 : missingCost
        case ContainerPhase.afterValue:
            return missingCost + 1
        case ContainerPhase.colon:
            return 1 + minLength[shape.values[Int(f.aux)]] + missingCost + 1
        case ContainerPhase.comma:
            if !missing.isEmpty { return missingCost }
            let unseen = shape.indices(~f.seen & UInt64.allOnes(shape.values.count))
            return (unseen.map { shape.entryLength($0, minLength) }.min() ?? Self.unbounded) + 1
        default:
            // Inside a key: finish one unseen key below this trie node, its value, then the rest.
            let node = Int(f.aux)
            let candidates = shape.indices(shape.keys.reach[node] & ~f.seen)
            return candidates.map { p -> Int in
                let key = shape.keys.depthOfValue[p] - shape.keys.depth[node]
                let others = shape.required & ~f.seen & ~(1 << UInt64(p)) == shape.required & ~f.seen
                    ? missingCost : missingCost - 1 - shape.entryLength(p, minLength)
                return key + 1 + minLength[shape.values[p]] + others + 1
            }.min() ?? Self.unbounded
        }
    }
}

extension UInt64 {
    /// The low `count` bits set.
    static func allOnes(_ count: Int) -> UInt64 { count >= 64 ? .max : (1 << UInt64(count)) - 1 }
}
