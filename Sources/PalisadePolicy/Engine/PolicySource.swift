/// One Lua module file as read at (re)load time.
public struct PolicySource: Sendable, Equatable {
    /// The module name: the file name without `.lua` (`10-auth`).
    public var name: String
    /// The path shown in errors (`policies/10-auth.lua`).
    public var path: String
    public var code: String

    public init(name: String, path: String, code: String) {
        self.name = name
        self.path = path
        self.code = code
    }
}

/// The hook points of DESIGN.md, by the name a module defines them under.
package enum HookName: String, CaseIterable, Sendable {
    case handshake, authenticate, connect, event, authorize, disconnect, tick
    case documentContent = "document_content"
    case documentSeed = "document_seed"
    case selftest
}
