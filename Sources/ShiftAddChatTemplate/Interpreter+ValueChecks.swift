/// Bounds on the values a template builds. Templates come from model files: a loop that keeps
/// wrapping a value in a list makes it as deep as the loop is long, and printing, comparing or
/// freeing such a value recurses once per level; a namespace set to hold itself is a cycle.
extension Interpreter {
    /// Checks a list, tuple, dict or namespace just built: nested at most `maxValueDepth` deep, with
    /// at most `maxOutputBytes` of items and text, so printing it stays within the output limit.
    @discardableResult
    func checkBuilt(_ value: Value) throws -> Value {
        var size = 0
        try check(value, level: 1, size: &size)
        return value
    }

    private func check(_ value: Value, level: Int, size: inout Int) throws {
        let items: [Value]
        switch value {
        case .string(let text):
            size += text.utf8.count
            try checkSize(size)
            return
        case .list(let list), .tuple(let list): items = list
        case .dict(let dict): items = dict.keys + dict.values
        case .namespace(let namespace): items = namespace.attributes.values
        case .loop(let loop): items = loop.items
        case .undefined, .none, .bool, .int, .double, .function: return
        }
        guard level <= limits.maxValueDepth else {
            throw TemplateError.limit("a value is nested deeper than \(limits.maxValueDepth) levels")
        }
        valueItemsChecked += items.count
        guard valueItemsChecked <= limits.maxValueItemsChecked else {
            throw TemplateError.limit("the values the template built hold more than \(limits.maxValueItemsChecked) items in all")
        }
        size += items.count
        try checkSize(size)
        for item in items { try check(item, level: level + 1, size: &size) }
    }

    private func checkSize(_ size: Int) throws {
        guard size <= limits.maxOutputBytes else {
            throw TemplateError.limit("a value exceeds the limit of \(limits.maxOutputBytes) bytes")
        }
    }
}
