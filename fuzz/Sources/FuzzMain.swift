/// libFuzzer's driver (compiler-rt's `FuzzerInterface.h`). Declared by its symbol: the fuzz
/// target has no C module of its own, and pointers and an int pass the same in Swift's and C's
/// calling conventions.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The program's entry point. SwiftPM links an executable target's `main` to this symbol
/// (`<module>_main`), so libFuzzer's own `main` is not used: this one hands over to its driver.
@_cdecl("palisade_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
