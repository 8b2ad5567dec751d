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
        switch value {
        case .string(let text):
            size += text.utf8.count
            try checkSize(size)
        case .list(let items), .tuple(let items): try check(container: [items], level: level, size: &size)
        case .dict(let dict): try check(container: [dict.keys, dict.values], level: level, size: &size)
        case .namespace(let namespace): try check(container: [namespace.attributes.values], level: level, size: &size)
        case .loop(let loop): try check(container: [loop.items], level: level, size: &size)
        case .undefined, .none, .bool, .int, .double, .function: break
        }
    }

    /// A container at `level` whose items are `parts` (a dict's keys and its values).
    private func check(container parts: [[Value]], level: Int, size: inout Int) throws {
        guard level <= limits.maxValueDepth else {
            throw TemplateError.limit("a value is nested deeper than \(limits.maxValueDepth) levels")
        }
        let count = parts.reduce(0) { $0 + $1.count }
        valueItemsChecked += count
        guard valueItemsChecked <= limits.maxValueItemsChecked else {
            throw TemplateError.limit("the values the template built hold more than \(limits.maxValueItemsChecked) items in all")
        }
        size += count
        try checkSize(size)
        for items in parts {
            for item in items { try check(item, level: level + 1, size: &size) }
        }
    }

    private func checkSize(_ size: Int) throws {
        guard size <= limits.maxOutputBytes else {
            throw TemplateError.limit("a value exceeds the limit of \(limits.maxOutputBytes) bytes")
        }
    }
}
