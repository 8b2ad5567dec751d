/// What one full context takes in a model's paged cache, and how a byte budget divides between
/// blocks (the whole-context layers) and window slots (the sliding-window layers).
///
/// A sequence holds a block per `blockSize` positions but a window slot only for the blocks its
/// next query reads (`slotsPerContext`), so a long context costs its windowed layers a window's
/// worth. A budget of up to `maxRunning` contexts first gives slots for that many windows (so the
/// running sequences' windows fit whatever their lengths), as far as it leaves one context's
/// blocks, and the rest to blocks; a larger budget buys whole contexts of both (the remainder in
/// slots), so the prefix cache keeps windows in proportion to its blocks. Without windowed layers every byte buys blocks.
struct KVPoolShape {
    let blocksPerContext: Int
    let slotsPerContext: Int
    let blockBytes: Int
    let slotBytes: Int

    /// For contexts of `contextBlocks` blocks of `blockSize` positions, with windowed layers reading
    /// `window` positions: a sequence holds slots for the blocks spanning its next query's window.
    init(contextBlocks: Int, blockSize: Int, window: Int?, blockBytes: Int, slotBytes: Int) {
        blocksPerContext = contextBlocks
        slotsPerContext = window.map { min(contextBlocks, ($0 - 1 + blockSize - 1) / blockSize + 1) } ?? 0
        self.blockBytes = blockBytes
        self.slotBytes = slotBytes
    }

    var contextBytes: Int { blocksPerContext * blockBytes + slotsPerContext * slotBytes }

    /// Blocks and window slots for `bytes`, which must hold one context.
    func split(bytes: Int, maxRunning: Int) -> (blocks: Int, windowSlots: Int) {
        precondition(bytes >= contextBytes, "a budget below one context")
        guard slotsPerContext > 0 else { return (bytes / blockBytes, 0) }
        let slots: Int
        if bytes >= maxRunning * contextBytes {
            slots = (bytes - bytes / contextBytes * blocksPerContext * blockBytes) / slotBytes
        } else {
            slots = min(maxRunning * slotsPerContext, (bytes - blocksPerContext * blockBytes) / slotBytes)
        }
        return ((bytes - slots * slotBytes) / blockBytes, slots)
    }
}
