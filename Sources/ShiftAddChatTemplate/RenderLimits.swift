/// Bounds on one render, because templates come from model files and may loop or grow without end.
/// The defaults are far above what real chat templates need.
public struct RenderLimits: Sendable, Equatable {
    /// Largest output, and largest string or list built along the way (bytes or items).
    public var maxOutputBytes: Int
    /// Total `for` iterations across the whole render, nested loops included.
    public var maxLoopIterations: Int
    /// Deepest chain of macro calls.
    public var maxCallDepth: Int
    /// Deepest nesting of blocks and expressions being evaluated, across macro calls; bounds the
    /// stack a render uses (about 1.5 MiB at the default in an optimized build).
    public var maxDepth: Int
    /// Deepest nesting of a list, tuple, dict or namespace the template builds: printing, comparing
    /// and freeing a value recurse through it.
    public var maxValueDepth: Int
    /// Items looked at, across the render, when checking the values a template builds; bounds that
    /// work when a loop keeps wrapping a large value.
    public var maxValueItemsChecked: Int

    public init(maxOutputBytes: Int = 32 << 20, maxLoopIterations: Int = 1_000_000, maxCallDepth: Int = 40,
                maxDepth: Int = 400, maxValueDepth: Int = 100, maxValueItemsChecked: Int = 10_000_000) {
        self.maxOutputBytes = maxOutputBytes
        self.maxLoopIterations = maxLoopIterations
        self.maxCallDepth = maxCallDepth
        self.maxDepth = maxDepth
        self.maxValueDepth = maxValueDepth
        self.maxValueItemsChecked = maxValueItemsChecked
    }

    func checkSize(_ size: Int) throws {
        guard size <= maxOutputBytes else {
            throw TemplateError.limit("output exceeds the limit of \(maxOutputBytes) bytes")
        }
    }
}
