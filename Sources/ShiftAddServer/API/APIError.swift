/// An error answered in OpenAI's shape: `{"error":{"message","type","param","code"}}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var type: String
    /// The request field at fault, when there is one.
    public var param: String?
    public var code: String?
    /// Extra response headers, e.g. `Allow` on 405.
    public var headers: [String: String]

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil,
                headers: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers
    }

    public var description: String { "\(status) \(type): \(message)" }

    public var json: JSONValue {
        .object([("error", .object([
            ("message", .string(message)), ("type", .string(type)), ("param", .optional(param)), ("code", .optional(code)),
        ]))])
    }

    /// A bad field or body (400); `param` names the field.
    public static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static func missingAPIKey() -> APIError {
        APIError(status: 401, message: "missing API key: send it as `Authorization: Bearer KEY` or `X-Api-Key: KEY`",
                 type: "authentication_error", code: "missing_api_key", headers: ["WWW-Authenticate": "Bearer"])
    }

    public static func wrongAPIKey() -> APIError {
        APIError(status: 401, message: "invalid API key", type: "authentication_error", code: "invalid_api_key",
                 headers: ["WWW-Authenticate": "Bearer"])
    }

    public static func notFound(path: String) -> APIError {
        APIError(status: 404, message: "no route for \(path)", type: "not_found_error", code: "not_found")
    }

    public static func modelNotFound(_ model: String, served: String) -> APIError {
        APIError(status: 404, message: "the model `\(model)` does not exist; this server serves `\(served)`",
                 type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    public static func methodNotAllowed(_ method: String, path: String, allowed: [String]) -> APIError {
        APIError(status: 405, message: "\(method) is not allowed on \(path); use \(allowed.joined(separator: " or "))",
                 type: "invalid_request_error", code: "method_not_allowed",
                 headers: ["Allow": (allowed + ["OPTIONS"]).joined(separator: ", ")])
    }

    public static func overloaded(queued: Int, limit: Int) -> APIError {
        APIError(status: 429, message: "the server is overloaded (\(queued) requests queued, limit \(limit)); retry later",
                 type: "rate_limit_error", code: "overloaded", headers: ["Retry-After": "1"])
    }

    public static func unavailable(_ message: String, code: String) -> APIError {
        APIError(status: 503, message: message, type: "service_unavailable_error", code: code, headers: ["Retry-After": "1"])
    }

    public static func server(_ message: String) -> APIError {
        APIError(status: 500, message: message, type: "server_error", code: "internal_error")
    }
}
