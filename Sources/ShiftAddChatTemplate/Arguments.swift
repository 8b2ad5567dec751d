/// Arguments of a call, before they are matched to parameters.
struct Arguments {
    var positional: [Value] = []
    var keywords: [(name: String, value: Value)] = []

    /// Matches the arguments to `parameters` by position, then by name; returns one slot per parameter
    /// (nil when not given) and rejects surplus or unknown arguments like Python does.
    func bind(_ parameters: [String], function: String) throws -> [Value?] {
        guard positional.count <= parameters.count else {
            throw TemplateError.runtime(
                "\(function)() takes at most \(parameters.count) argument\(parameters.count == 1 ? "" : "s") "
                    + "(\(positional.count) given)")
        }
        var slots: [Value?] = positional.map { $0 }
        slots += Array(repeating: nil, count: parameters.count - positional.count)
        for (name, value) in keywords {
            guard let index = parameters.firstIndex(of: name) else {
                throw TemplateError.runtime("\(function)() got an unexpected keyword argument '\(name)'")
            }
            guard slots[index] == nil else {
                throw TemplateError.runtime("\(function)() got multiple values for argument '\(name)'")
            }
            slots[index] = value
        }
        return slots
    }
}
