import Foundation
import ShiftAddServer
import Testing

/// Collects the lines a logger writes.
final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    var lines: [String] { lock.withLock { storage } }
    func append(_ line: String) { lock.withLock { storage.append(line) } }
}

@Suite struct LoggingTests {
    static func logger(_ level: LogLevel, _ format: LogFormat) -> (Logger, LineSink) {
        let sink = LineSink()
        return (Logger(level: level, format: format, sink: { sink.append($0) }), sink)
    }

    static func jsonObject(_ line: String) throws -> [String: String] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
    }

    @Test func textLineHasTimeLevelMessageAndFields() throws {
        let (log, sink) = Self.logger(.info, .text)
        log.info("request done", [("request_id", "abc-1"), ("path", "/v1/completions"), ("note", "two words"), ("empty", "")])
        let line = try #require(sink.lines.first)
        let pattern = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO request done request_id=abc-1 path=/v1/completions note="two words" empty=""\n$/#
        #expect(line.wholeMatch(of: pattern) != nil, "\(line)")
    }

    @Test func jsonLineIsOneObjectWithEscapedValues() throws {
        let (log, sink) = Self.logger(.debug, .json)
        log.warning("quote \" backslash \\ newline \n tab \t", [("request_id", "r1"), ("level", "field named level"), ("ctl", "\u{1}")])
        let lines = sink.lines
        #expect(lines.count == 1 && lines[0].hasSuffix("}\n") && lines[0].dropLast().allSatisfy { $0 != "\n" })
        let object = try Self.jsonObject(lines[0])
        #expect(object["level"] == "warning" && object["message"] == "quote \" backslash \\ newline \n tab \t")
        #expect(object["request_id"] == "r1" && object["_level"] == "field named level" && object["ctl"] == "\u{1}")
        let time = try #require(object["time"])
        #expect(time.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil)
    }

    @Test func textFormatCannotBeMadeToForgeALine() throws {
        let (log, sink) = Self.logger(.debug, .text)
        log.error("first\nINFO forged", [("user", "x\n2025-01-01T00:00:00.000Z INFO forged")])
        let line = try #require(sink.lines.first)
        #expect(sink.lines.count == 1 && line.filter { $0 == "\n" }.count == 1)
        #expect(line.contains(#"ERROR first\nINFO forged user="x\n2025-01-01T00:00:00.000Z INFO forged""#), "\(line)")
    }

    @Test func linesBelowTheLevelAreDropped() {
        let (log, sink) = Self.logger(.warning, .text)
        log.debug("d")
        log.info("i")
        log.warning("w")
        log.error("e")
        log.log(.info, "i2")
        #expect(sink.lines.map { $0.split(separator: " ")[1] } == ["WARNING", "ERROR"])
        #expect(!log.isEnabled(.info) && log.isEnabled(.warning) && log.isEnabled(.error))
        #expect(LogLevel.allCases.sorted() == [.debug, .info, .warning, .error])
    }

    @Test func concurrentLoggingKeepsEveryLineWhole() throws {
        let (log, sink) = Self.logger(.info, .json)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<500 {
                log.info("line", [("thread", String(thread)), ("i", String(i)), ("pad", String(repeating: "x", count: i % 97))])
            }
        }
        let lines = sink.lines
        #expect(lines.count == 4000)
        var seen = Set<String>()
        for line in lines {
            let object = try Self.jsonObject(line)
            seen.insert(object["thread"]! + "/" + object["i"]!)
            #expect(object["pad"]?.count == Int(object["i"]!)! % 97)
        }
        #expect(seen.count == 4000)
    }

    @Test func configuredLevelAndFormatReachTheLogger() throws {
        let c = try ServerConfiguration.load(arguments: ["--log-format", "json"], environment: ["SHIFTADD_LOG_LEVEL": "debug"])
        let log = Logger(level: c.logLevel, format: c.logFormat)
        #expect(log.level == .debug && log.format == .json)
    }
}
