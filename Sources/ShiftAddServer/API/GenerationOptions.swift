/// The generation fields shared by `/v1/completions` and `/v1/chat/completions`, validated.
public struct GenerationOptions: Sendable, Equatable {
    /// The model the client asked for; nil = the served one.
    public var model: String?
    /// nil = until the context is full.
    public var maxTokens: Int?
    public var temperature: Double = 1
    public var topP: Double = 1
    public var topK = 0
    public var minP: Double = 0
    public var seed: UInt64?
    public var stop: [String] = []
    public var presencePenalty: Double = 0
    public var frequencyPenalty: Double = 0
    public var repetitionPenalty: Double = 1
    /// Alternatives reported per token; nil = no logprobs at all, 0 = only the chosen token's.
    public var logprobs: Int?
    public var ignoreEOS = false
    public var stream = false
    /// With `stream`: a last chunk carries the usage.
    public var includeUsage = false
    /// Choices to generate (`n`); the server caps it.
    public var choices = 1
    /// Added to the logits of these token ids before sampling and log-probabilities.
    public var logitBias: [Int: Double] = [:]
    /// Fields present that change nothing (see `FieldRule`), for the debug log.
    public var ignoredFields: [String] = []
    /// A JSON object or schema the output must be; nil = free text.
    public var responseFormat: ResponseFormat?

    public init() {}

    /// The fields `init(_:)` reads.
    static let fields: Set<String> = [
        "model", "temperature", "top_p", "top_k", "min_p", "seed", "stop", "presence_penalty", "frequency_penalty",
        "repetition_penalty", "n", "logit_bias", "ignore_eos", "stream", "stream_options", "response_format",
    ]

    /// Reads every shared field except `max_tokens` and `logprobs`, whose meaning differs per route,
    /// after checking the whole body against the field rule: `routeFields` are the route's own.
    init(_ f: JSONFields, routeFields: Set<String>, refused: [String: String]) throws(APIError) {
        ignoredFields = try FieldRule.check(f, read: Self.fields.union(routeFields), refused: refused)
        model = try f.string("model")
        temperature = try f.number("temperature", .between(0, 2)) ?? 1
        topP = try f.number("top_p", .between(0, 1)) ?? 1
        topK = try f.integer("top_k", .atLeast(0)) ?? 0
        minP = try f.number("min_p", .between(0, 1)) ?? 0
        seed = try f.seed("seed")
        stop = try Self.stop(f)
        presencePenalty = try f.number("presence_penalty", .between(-2, 2)) ?? 0
        frequencyPenalty = try f.number("frequency_penalty", .between(-2, 2)) ?? 0
        repetitionPenalty = try f.number("repetition_penalty", .above(0)) ?? 1
        choices = try f.integer("n", .atLeast(1)) ?? 1
        logitBias = try Self.logitBias(f)
        ignoreEOS = try f.bool("ignore_eos") ?? false
        stream = try f.bool("stream") ?? false
        if let options = try f.object("stream_options") {
            ignoredFields += try FieldRule.check(options, read: ["include_usage"], refused: [:],
                                                 ignorable: FieldRule.meaninglessStreamOptions).map { "stream_options." + $0 }
            includeUsage = try options.bool("include_usage") ?? false
        }
        responseFormat = try ResponseFormat.parse(f)
    }

    static let maxStopStrings = 4
    static let maxLogitBias = 100.0

    /// `logit_bias`: an object from token ids (decimal strings) to numbers between -100 and 100.
    private static func logitBias(_ f: JSONFields) throws(APIError) -> [Int: Double] {
        guard let bias = try f.object("logit_bias") else { return [:] }
        var result: [Int: Double] = [:]
        for (key, value) in bias.values {
            guard let id = Int(key), id >= 0, String(id) == key else {
                throw .invalid("logit_bias keys must be token ids (decimal integers >= 0), got \"\(key)\"", param: "logit_bias")
            }
            guard let b = JSONFields.number(value), Bound.between(-maxLogitBias, maxLogitBias).contains(b) else {
                throw .invalid("logit_bias values must be numbers between -100 and 100", param: "logit_bias")
            }
            result[id] = b
        }
        return result
    }

    /// `stop`: a string or an array of up to four non-empty strings.
    private static func stop(_ f: JSONFields) throws(APIError) -> [String] {
        let message = "stop must be a non-empty string or an array of at most \(maxStopStrings) non-empty strings"
        guard let v = f.value("stop") else { return [] }
        if let s = v as? String {
            guard !s.isEmpty else { throw .invalid(message, param: "stop") }
            return [s]
        }
        guard let items = v as? [Any], items.count <= maxStopStrings else { throw .invalid(message, param: "stop") }
        var strings: [String] = []
        for item in items {
            guard let s = item as? String, !s.isEmpty else { throw .invalid(message, param: "stop") }
            strings.append(s)
        }
        return strings
    }
}
