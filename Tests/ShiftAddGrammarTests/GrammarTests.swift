import Foundation
@testable import ShiftAddGrammar
import Testing

/// A nested schema with every supported construct: the grammar must accept its instances and
/// nothing else.
let personSchema = """
{"type":"object","additionalProperties":false,"required":["name","kind","tags","address","score","ok","parent"],
 "properties":{
  "name":{"type":"string","description":"a name"},
  "kind":{"enum":["cat","dog","cow"]},
  "tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3},
  "address":{"type":"object","additionalProperties":false,"required":["city"],
             "properties":{"city":{"type":"string"},"zip":{"type":"integer"}}},
  "score":{"type":"number"},
  "ok":{"type":"boolean"},
  "parent":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]},
  "version":{"const":2}},
 "$defs":{"node":{"type":"object","additionalProperties":false,"required":["id","children"],
   "properties":{"id":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}}}}}
"""

func compile(_ text: String) throws -> Grammar {
    try JSONSchemaCompiler.compile(try JSONSerialization.jsonObject(with: Data(text.utf8)))
}

/// Feeds `text` byte by byte: nil when a byte is refused, else whether the document is complete.
func run(_ g: Grammar, _ text: String) -> Bool? {
    var s = g.start
    for b in text.utf8 {
        guard let next = g.step(s, b) else { return nil }
        s = next
    }
    return s.isComplete
}

@Suite struct GrammarTests {
    @Test func acceptsInstancesOfTheSchema() throws {
        let g = try compile(personSchema)
        let valid = [
            #"{"name":"Rex","kind":"dog","tags":["a"],"address":{"city":"Oslo"},"score":-1.5e3,"ok":true,"parent":null}"#,
            #"{"parent":{"id":1,"children":[{"id":2,"children":[]}]},"ok":false,"score":0,"address":{"zip":7,"city":"\u00e9\n"},"#
                + #""tags":["x","y","z"],"kind":"cow","name":"é😀","version":2}"#,
            "{ \"name\" : \"a\", \"kind\": \"cat\", \"tags\": [ \"b\" ], \"address\": {\"city\": \"c\"},"
                + " \"score\": 1.25, \"ok\": true, \"parent\": null }",
        ]
        for text in valid { #expect(run(g, text) == true, "\(text)") }
    }

    @Test func refusesWhatTheSchemaRules_out() throws {
        let g = try compile(personSchema)
        let base = #"{"name":"Rex","kind":"dog","tags":["a"],"address":{"city":"Oslo"},"score":1,"ok":true,"parent":null"#
        #expect(run(g, base + "}") == true)
        #expect(run(g, base) == false, "open object is not complete")
        for bad in [
            base + #","name":"again"}"#,                          // a property twice
            base + #","extra":1}"#,                               // additionalProperties false
            base.replacingOccurrences(of: "dog", with: "dogs") + "}", // not in the enum
            base.replacingOccurrences(of: #"["a"]"#, with: "[]") + "}", // minItems 1
            base.replacingOccurrences(of: #"["a"]"#, with: #"["a","b","c","d"]"#) + "}", // maxItems 3
            base.replacingOccurrences(of: #""score":1"#, with: #""score":01"#) + "}",
            base.replacingOccurrences(of: #""ok":true"#, with: #""ok":1"#) + "}",
            base.replacingOccurrences(of: #""parent":null"#, with: #""parent":{"id":1.5,"children":[]}"#) + "}",
            base.replacingOccurrences(of: #""Oslo""#, with: "\"Os\u{1}lo\"") + "}", // control character
            #"{"name":"Rex","kind":"dog"}"#,                      // required properties missing
            base + "} ",                                          // nothing after the document
            " " + base + "}",                                     // the root starts with its brace
            base.replacingOccurrences(of: ",", with: ",\n") + "}", // no line breaks between values
        ] {
            #expect(run(g, bad) != true, "\(bad)")
        }
        #expect(run(g, "{" + String(repeating: " ", count: Int(Grammar.maxWhitespace))) == false)
        #expect(run(g, "{" + String(repeating: " ", count: Int(Grammar.maxWhitespace) + 1)) == nil)
    }

    @Test func anyObjectTakesAnyJSONObject() {
        let g = JSONSchemaCompiler.anyObject()
        #expect(run(g, #"{"a":[1,{"b":null},"x",true,-0.5E+2],"c":{}}"#) == true)
        #expect(run(g, "{}") == true)
        #expect(run(g, "[]") == nil)
        #expect(run(g, #"{"a":}"#) == nil)
        #expect(run(g, #"{"a":1,}"#) == nil)
    }

    @Test func everyUnsupportedKeywordIsNamed() throws {
        for keyword in ["pattern", "format", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
                        "exclusiveMaximum", "multipleOf", "oneOf", "allOf", "not", "if", "then", "else",
                        "patternProperties", "propertyNames", "minProperties", "maxProperties", "uniqueItems",
                        "contains", "prefixItems", "dependentRequired", "unevaluatedProperties"] {
            let schema = #"{"type":"object","properties":{"a":{"type":"string","\#(keyword)":1}},"required":["a"]}"#
            #expect(throws: SchemaError("the keyword `\(keyword)` is not supported", path: "properties.a.\(keyword)")) {
                try compile(schema)
            }
        }
        #expect(throws: SchemaError("the root must be an object (\"type\": \"object\")", path: "type")) {
            try compile(#"{"type":"string"}"#)
        }
        #expect(throws: SchemaError("unknown type `str`", path: "properties.a.type")) {
            try compile(#"{"type":"object","properties":{"a":{"type":"str"}}}"#)
        }
        #expect(throws: SchemaError("names `b`, which is not in `properties`", path: "required")) {
            try compile(#"{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}"#)
        }
        #expect(throws: SchemaError("`#/$defs/x` does not name an entry of `$defs` or `definitions`", path: "properties.a.$ref")) {
            try compile(##"{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}}}"##)
        }
        #expect(throws: SchemaError("the schema has no finite instance (required recursion)", path: "$ref")) {
            try compile(##"{"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]}"##)
        }
    }

    @Test func minCloseIsTheShortestCompletion() throws {
        let g = try compile(personSchema)
        let shortest = #"{"address":{"city":""},"kind":"cat","name":"","ok":true,"parent":null,"score":0,"tags":[""]}"#
        #expect(run(g, shortest) == true)
        #expect(g.minClose(g.start) == shortest.utf8.count)
        var s = g.start
        for (i, b) in shortest.utf8.enumerated() {
            s = g.step(s, b)!
            #expect(g.minClose(s) == shortest.utf8.count - i - 1)
        }
    }
}
