import Foundation
import ShiftAddEngine
import Testing

@Suite struct SamplingTests {
    @Test func greedyPicksFirstMaximum() {
        let logits: [Float] = [0.5, 2, -1, 2]
        var s = Sampler(temperature: 0)
        #expect(logits.withUnsafeBufferPointer { s.sample($0) } == 1)
    }

    @Test func sameSeedSameTokens() {
        let logits: [Float] = (0..<100).map { Float(($0 * 37) % 11) / 3 }
        func draw(_ seed: UInt64) -> [Int] {
            var s = Sampler(temperature: 1, topK: 0, topP: 1, seed: seed)
            return (0..<50).map { _ in logits.withUnsafeBufferPointer { s.sample($0) } }
        }
        #expect(draw(42) == draw(42))
        #expect(draw(42) != draw(43))
    }

    @Test func topKAndTopPRestrictTheCandidates() {
        let logits: [Float] = [5, 4, 3, -10, -10, -10]
        var k = Sampler(temperature: 1, topK: 2, topP: 1, seed: 1)
        var p = Sampler(temperature: 1, topK: 0, topP: 0.5, seed: 1)
        for _ in 0..<200 {
            #expect([0, 1].contains(logits.withUnsafeBufferPointer { k.sample($0) }))
            #expect(logits.withUnsafeBufferPointer { p.sample($0) } == 0)
        }
    }

    @Test func frequenciesFollowTheDistribution() {
        let logits: [Float] = [log(0.6), log(0.3), log(0.1)]
        var s = Sampler(temperature: 1, seed: 7)
        var counts = [0, 0, 0]
        for _ in 0..<20000 { counts[logits.withUnsafeBufferPointer { s.sample($0) }] += 1 }
        #expect(abs(Double(counts[0]) / 20000 - 0.6) < 0.02)
        #expect(abs(Double(counts[2]) / 20000 - 0.1) < 0.02)
    }
}

@Suite struct UTF8AssemblerTests {
    @Test func holdsIncompleteCharactersUntilComplete() {
        var a = UTF8Assembler()
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let emoji: [UInt8] = [0xF0, 0x9F, 0x98, 0x80]
        #expect(a.append([0x41, euro[0]]) == "A")
        #expect(a.append([euro[1]]) == "")
        #expect(a.append([euro[2], emoji[0], emoji[1]]) == "€")
        #expect(a.append([emoji[2], emoji[3], 0x42]) == "😀B")
        #expect(a.flush() == "")
    }

    @Test func invalidBytesBecomeReplacementCharacters() {
        var a = UTF8Assembler()
        #expect(a.append([0xFF, 0x41]) == "\u{FFFD}A")
        #expect(a.append([0xE2, 0x82]) == "")
        #expect(a.flush() == "\u{FFFD}")
    }
}
