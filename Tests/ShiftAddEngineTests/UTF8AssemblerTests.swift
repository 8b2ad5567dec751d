import ShiftAddEngine
import Testing

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
