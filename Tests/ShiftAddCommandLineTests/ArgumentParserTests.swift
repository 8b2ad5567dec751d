import ShiftAddCommandLine
import Testing

@Suite struct ArgumentParserTests {
    let spec = CommandSpec(name: "demo", summary: "A demo command", usage: "demo [options]", options: [
        .init("model", value: "PATH", help: "Model path"),
        .init("max-tokens", value: "N", default: "16", help: "Tokens"),
        .init("temperature", value: "T", help: "Temperature"),
        .init("ignore-eos", help: "Flag"),
    ])

    @Test func parsesBothValueFormsFlagsAndPositionals() throws {
        let a = try ArgumentParser.parse(["--model", "m.gguf", "--max-tokens=32", "--ignore-eos", "extra", "--", "--not-an-option"],
                                         spec: spec, environment: [:])
        #expect(a.string("model") == "m.gguf")
        #expect(try a.int("max-tokens") == 32)
        #expect(try a.flag("ignore-eos"))
        #expect(a.positionals == ["extra", "--not-an-option"])
    }

    @Test func precedenceIsFlagThenEnvironmentThenDefault() throws {
        let env = ["SHIFTADD_MAX_TOKENS": "64", "SHIFTADD_MODEL": "env.gguf", "SHIFTADD_IGNORE_EOS": "yes"]
        let fromEnv = try ArgumentParser.parse([], spec: spec, environment: env)
        #expect(try fromEnv.int("max-tokens") == 64)
        #expect(fromEnv.string("model") == "env.gguf")
        #expect(try fromEnv.flag("ignore-eos"))
        let fromFlag = try ArgumentParser.parse(["--max-tokens", "8", "--ignore-eos=false"], spec: spec, environment: env)
        #expect(try fromFlag.int("max-tokens") == 8)
        #expect(try !fromFlag.flag("ignore-eos"))
        let defaults = try ArgumentParser.parse([], spec: spec, environment: [:])
        #expect(try defaults.int("max-tokens") == 16)
        #expect(defaults.string("temperature") == nil)
    }

    @Test func reportsErrorsByName() throws {
        #expect(throws: ArgumentError.unknownOption("--nope")) { try ArgumentParser.parse(["--nope"], spec: spec, environment: [:]) }
        #expect(throws: ArgumentError.missingValue("model")) { try ArgumentParser.parse(["--model"], spec: spec, environment: [:]) }
        let bad = try ArgumentParser.parse(["--max-tokens", "lots", "--temperature", "9"], spec: spec, environment: [:])
        #expect(throws: ArgumentError.invalidValue(option: "max-tokens", value: "lots", reason: "not an integer")) { try bad.int("max-tokens") }
        #expect(throws: ArgumentError.invalidValue(option: "temperature", value: "9", reason: "must be in 0.0...2.0")) {
            try bad.double("temperature", range: 0...2)
        }
        #expect(throws: ArgumentError.missingRequired("model")) { try bad.required("model") }
        let badFlag = try ArgumentParser.parse([], spec: spec, environment: ["SHIFTADD_IGNORE_EOS": "maybe"])
        #expect(throws: ArgumentError.self) { try badFlag.flag("ignore-eos") }
    }

    @Test func helpListsEveryOptionWithItsEnvironmentVariable() {
        do {
            _ = try ArgumentParser.parse(["--help"], spec: spec, environment: [:])
            Issue.record("--help did not stop parsing")
        } catch let ArgumentError.helpRequested(text) {
            for name in ["--model PATH", "--max-tokens N", "--ignore-eos", "SHIFTADD_MAX_TOKENS", "(default: 16)", "Usage: demo"] {
                #expect(text.contains(name), "\(name)")
            }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
