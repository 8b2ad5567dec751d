/// Blocks in least-recently-released order, with removal of any member in O(1): a doubly linked
/// list threaded through arrays indexed by block.
struct BlockLRU {
    private static let none: Int32 = -1
    private var previous: [Int32]
    private var next: [Int32]
    private var member: [Bool]
    private var head = BlockLRU.none
    private var tail = BlockLRU.none
    private(set) var count = 0

    init(blocks: Int) {
        previous = [Int32](repeating: Self.none, count: blocks)
        next = previous
        member = [Bool](repeating: false, count: blocks)
    }

    func contains(_ b: Int32) -> Bool { member[Int(b)] }

    /// Adds `b` as the most recent.
    mutating func append(_ b: Int32) {
        precondition(!member[Int(b)])
        member[Int(b)] = true
        previous[Int(b)] = tail
        next[Int(b)] = Self.none
        if tail == Self.none { head = b } else { next[Int(tail)] = b }
        tail = b
        count += 1
    }

    mutating func remove(_ b: Int32) {
        precondition(member[Int(b)])
        let p = previous[Int(b)], n = next[Int(b)]
        if p == Self.none { head = n } else { next[Int(p)] = n }
        if n == Self.none { tail = p } else { previous[Int(n)] = p }
        member[Int(b)] = false
        count -= 1
    }

    /// Removes and returns the least recent block.
    mutating func popOldest() -> Int32? {
        guard head != Self.none else { return nil }
        let b = head
        remove(b)
        return b
    }
}
