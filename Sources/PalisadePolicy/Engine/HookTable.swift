/// The modules' functions for each hook point, in module order, in an array indexed by the
/// hook: a dictionary keyed by `HookName` hashed its raw string with SipHash on every lookup,
/// five times per connect.
package struct HookTable {
    package typealias Entry = (module: String, function: Int32)

    private var entries = [[Entry]](repeating: [], count: HookName.allCases.count)

    /// The functions of `hook`; nil when no module has one.
    package subscript(hook: HookName) -> [Entry]? {
        let found = entries[hook.index]
        return found.isEmpty ? nil : found
    }

    mutating func append(_ entry: Entry, to hook: HookName) {
        entries[hook.index].append(entry)
    }
}

extension HookName {
    /// The case's position in `allCases`.
    var index: Int {
        switch self {
        case .handshake: 0
        case .authenticate: 1
        case .connect: 2
        case .event: 3
        case .authorize: 4
        case .disconnect: 5
        case .tick: 6
        case .documentContent: 7
        case .documentSeed: 8
        case .selftest: 9
        }
    }
}
