import Foundation
@testable import ShiftAddGrammar
import ShiftAddScheduler
import Testing

/// A tiny vocabulary: every byte, a few JSON-shaped pieces, and one special token (empty).
let tinyVocabulary: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    + ["{\"", "\":", "\":\"", "\",\"", "\"}", "}}", "true", "null", "na", "name", "kind", "cat", "dog", ", ", "\n  ",
       "[\"", "\"]", "{}", "12", ".5", "é", "\"},{\"", "]}", "   ", "Oslo", "\\n", "\\u00"].map { Array($0.utf8) }
    + [[]]

/// A deterministic generator for the walks.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Checks an instance of `personSchema` (GrammarTests) the way a validator would.
func validPerson(_ value: Any) -> Bool {
    guard let o = value as? [String: Any], Set(o.keys).isSubset(of: ["name", "kind", "tags", "address", "score", "ok",
                                                                      "parent", "version"]),
          o["name"] is String, ["cat", "dog", "cow"].contains(o["kind"] as? String ?? ""),
          let tags = o["tags"] as? [Any], (1...3).contains(tags.count), tags.allSatisfy({ $0 is String }),
          let address = o["address"] as? [String: Any], address["city"] is String,
          Set(address.keys).isSubset(of: ["city", "zip"]), o["score"] is NSNumber, o["ok"] is Bool,
          let parent = o["parent"], parent is NSNull || validNode(parent) else { return false }
    if let zip = address["zip"] { guard let n = zip as? NSNumber, n.doubleValue == n.doubleValue.rounded() else { return false } }
    if let version = o["version"] { guard (version as? NSNumber)?.intValue == 2 else { return false } }
    return true
}

func validNode(_ value: Any) -> Bool {
    guard let o = value as? [String: Any], Set(o.keys) == ["id", "children"], o["id"] is NSNumber,
          let children = o["children"] as? [Any], children.count <= 2 else { return false }
    return children.allSatisfy(validNode)
}

@Suite struct MaskTests {
    let index = TokenIndex(vocabulary: tinyVocabulary)

    /// The tokens `cursor` allows, on logits with 3 padding rows (masked unless the text is free).
    func allowed(_ cursor: any TokenConstraintState, remaining: Int, free: Bool = false) -> [Int] {
        var logits = [Float](repeating: 0, count: tinyVocabulary.count + 3)
        logits.withUnsafeMutableBufferPointer { cursor.mask($0, remaining: remaining) }
        #expect(free || logits[tinyVocabulary.count...].allSatisfy { $0 == -.infinity }, "padding rows are masked")
        return logits.indices.filter { logits[$0] == 0 }
    }

    /// Random walks over the allowed tokens, with budgets from generous to the tightest that still
    /// fits: the mask is never empty before the end, and every walk ends in a valid document
    /// within its budget.
    @Test func randomWalksAlwaysYieldValidDocuments() throws {
        let grammar = try compile(personSchema)
        let constraint = GrammarConstraint(grammar: grammar, index: index)
        let shortest = grammar.minClose(grammar.start)
        var rng = SplitMix(state: 7)
        for walk in 0..<60 {
            let budget = [shortest, shortest + 3, shortest + 40, 400][walk % 4]
            let cursor = constraint.start()
            var bytes: [UInt8] = []
            var used = 0
            while !cursor.isComplete {
                #expect(used < budget, "walk \(walk) ran out of budget")
                if used >= budget { break }
                let choices = allowed(cursor, remaining: budget - used)
                #expect(!choices.isEmpty, "empty mask after \(String(decoding: bytes, as: UTF8.self))")
                guard let token = choices.randomElement(using: &rng) else { break }
                cursor.advance(token)
                bytes += tinyVocabulary[token]
                used += 1
            }
            let value = try? JSONSerialization.jsonObject(with: Data(bytes))
            #expect(value.map(validPerson) == true, "walk \(walk): \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func theMaskHoldsExactlyTheTokensThatContinue() throws {
        let grammar = try compile(personSchema)
        let cursor = GrammarConstraint(grammar: grammar, index: index).start()
        let first = Set(allowed(cursor, remaining: 1000).map { tinyVocabulary[$0] })
        #expect(first == [Array("{".utf8), Array("{\"".utf8)])
        for piece in ["{\"", "na"] { cursor.advance(tinyVocabulary.firstIndex(of: Array(piece.utf8))!) }
        let next = Set(allowed(cursor, remaining: 1000).map { String(decoding: tinyVocabulary[$0], as: UTF8.self) })
        #expect(next == ["m"], "only `name` starts with `na`")
    }

    @Test func theSpecialTokenIsNeverAllowedInADocument() throws {
        let cursor = GrammarConstraint(grammar: JSONSchemaCompiler.anyObject(), index: index).start()
        let special = tinyVocabulary.count - 1
        for piece in ["{\"", "a", "\":", "12", "}"] {
            #expect(!allowed(cursor, remaining: 100).contains(special))
            cursor.advance(tinyVocabulary.firstIndex(of: Array(piece.utf8))!)
        }
        #expect(cursor.isComplete)
    }

    @Test func textOrToolCallCommitsOnTheFirstToken() throws {
        let weather = try JSONSerialization.jsonObject(with: Data(
            #"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#.utf8))
        let tools = try JSONSchemaCompiler.toolCall([("get_weather", weather), ("get_time", ["type": "object"])],
                                                    path: { "tools[\($0)].function.parameters" })
        let choice = TextOrGrammarConstraint(GrammarConstraint(grammar: tools, index: index))
        let text = choice.start()
        let first = allowed(text, remaining: 100)
        #expect(first.contains(tinyVocabulary.count - 1), "the end of turn may come first")
        #expect(first.contains(tinyVocabulary.firstIndex(of: Array("{\"".utf8))!), "a call may come first")
        #expect(!first.contains(tinyVocabulary.firstIndex(of: Array("{}".utf8))!), "a call has its fields")
        text.advance(tinyVocabulary.firstIndex(of: Array("Oslo".utf8))!)
        #expect(allowed(text, remaining: 100, free: true).count == tinyVocabulary.count + 3, "text is free")
        let call = choice.start()
        var rng = SplitMix(state: 3)
        var bytes: [UInt8] = []
        call.advance(tinyVocabulary.firstIndex(of: Array("{\"".utf8))!)
        bytes += Array("{\"".utf8)
        var steps = 0
        while !call.isComplete, steps < 200 {
            let t = allowed(call, remaining: 200 - steps).randomElement(using: &rng)!
            call.advance(t)
            bytes += tinyVocabulary[t]
            steps += 1
        }
        let value = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        let arguments = value?["arguments"] as? [String: Any]
        #expect(value?["name"] as? String == "get_time" || arguments?["city"] is String, "\(String(decoding: bytes, as: UTF8.self))")
        #expect(value?.count == 2)
        #expect(throws: SchemaError("must describe an object (\"type\": \"object\")", path: "tools[0].function.parameters")) {
            try JSONSchemaCompiler.toolCall([("f", ["type": "string"])], path: { "tools[\($0)].function.parameters" })
        }
    }
}
