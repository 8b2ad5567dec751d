/// The `loop` variable inside a `for` body.
final class LoopContext {
    let items: [Value]
    var index0 = 0
    private var lastChangedValue: Value?

    init(items: [Value]) {
        self.items = items
    }

    func attribute(_ name: String) -> Value? {
        let count = items.count
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(count - index0)
        case "revindex0": return .int(count - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == count - 1)
        case "length": return .int(count)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined("there is no previous item")
        case "nextitem": return index0 + 1 < count ? items[index0 + 1] : .undefined("there is no next item")
        case "cycle":
            return .function(Function(name: "cycle") { _, arguments in
                guard !arguments.positional.isEmpty else { throw TemplateError.runtime("no items for cycling given") }
                return arguments.positional[self.index0 % arguments.positional.count]
            })
        case "changed":
            return .function(Function(name: "changed") { _, arguments in
                let current = Value.tuple(arguments.positional)
                defer { self.lastChangedValue = current }
                guard let last = self.lastChangedValue else { return .bool(true) }
                return .bool(!Operators.equal(last, current))
            })
        default: return nil
        }
    }
}
