/// A fixed name passed to the Lua C API (a metatable's registry key), kept as a C string.
///
/// A Swift `String` argument to a `const char *` parameter is converted on every call (an
/// array allocated, copied and freed), which showed in profiles for names used per event.
struct LuaName: @unchecked Sendable {  // points at immutable static memory
    let cString: UnsafePointer<CChar>

    /// `literal` is NUL-terminated static memory, so the pointer lives as long as the process.
    init(_ literal: StaticString) {
        precondition(literal.hasPointerRepresentation, "a Lua name must be a plain string literal")
        cString = UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
