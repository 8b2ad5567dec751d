/// Variables visible at one point of a render. A `for` iteration and a macro call each get a child
/// scope, so `set` inside them does not leak out (hence `namespace()`); `if` blocks share their scope.
final class Scope {
    private(set) var variables: [String: Value] = [:]
    let parent: Scope?

    init(parent: Scope?) {
        self.parent = parent
    }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }

    func set(_ name: String, _ value: Value) {
        variables[name] = value
    }

    /// Drops every variable, breaking reference cycles between a scope and the macros defined in it.
    func clear() {
        variables.removeAll()
    }
}
