import ShiftAddCommandLine
import ShiftAddEngine

/// `shiftadd kernels`: the instruction set the kernels run on, for scripts (`make test` runs the
/// kernel suites again on each one this CPU has).
enum KernelsCommand: CLICommand {
    static let spec = CommandSpec(
        name: "kernels", summary: "Print the instruction set the kernels run on: scalar, avx2 or avx512",
        usage: "shiftadd kernels", options: [])

    static func run(_ arguments: ParsedArguments) throws {
        print(try KernelPath.current().name)
    }
}
