/// A map from key to value that remembers use order: an intrusive doubly linked list over an
/// array of nodes, with a free list. Lookup, use, insert and removal are O(1); walking from the
/// least recently used end finds eviction candidates without scanning the whole table.
struct LRUTable<Value> {
    /// A position in the table, valid until that entry is removed.
    typealias Handle = Int

    fileprivate struct Node {
        var key: ByteKey?
        var value: Value?
        var newer: Handle = -1
        var older: Handle = -1
    }

    private var handles: [ByteKey: Handle] = [:]
    private var nodes: [Node] = []
    private var free: [Handle] = []
    private var newest: Handle = -1
    private var oldest: Handle = -1

    init() {}

    var count: Int { handles.count }

    /// Runs `body` on the value for `key` and makes it the most recently used; nil when absent.
    mutating func use<Output>(_ key: ByteKey, _ body: (inout Value) -> Output) -> Output? {
        guard let handle = handles[key] else { return nil }
        unlink(handle)
        linkAsNewest(handle)
        return body(&nodes[handle].value!)
    }

    /// Adds `key`, which must be absent, as the most recently used.
    mutating func insert(_ key: ByteKey, _ value: Value) {
        precondition(handles[key] == nil, "LRUTable.insert of a key already present")
        let handle: Handle
        if let reused = free.popLast() {
            handle = reused
            nodes[handle] = Node(key: key, value: value)
        } else {
            handle = nodes.count
            nodes.append(Node(key: key, value: value))
        }
        handles[key] = handle
        linkAsNewest(handle)
    }

    /// The least recently used entry.
    var oldestHandle: Handle? { oldest >= 0 ? oldest : nil }

    /// Makes the entry at `handle` the most recently used.
    mutating func makeNewest(_ handle: Handle) {
        unlink(handle)
        linkAsNewest(handle)
    }

    /// The entry used just after `handle`.
    func newer(than handle: Handle) -> Handle? {
        let next = nodes[handle].newer
        return next >= 0 ? next : nil
    }

    func value(at handle: Handle) -> Value { nodes[handle].value! }

    mutating func remove(at handle: Handle) {
        unlink(handle)
        handles[nodes[handle].key!] = nil
        nodes[handle] = Node()
        free.append(handle)
    }

    // MARK: the list

    private mutating func unlink(_ handle: Handle) {
        let newer = nodes[handle].newer
        let older = nodes[handle].older
        if newer >= 0 { nodes[newer].older = older } else { newest = older }
        if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        nodes[handle].newer = -1
        nodes[handle].older = -1
    }

    private mutating func linkAsNewest(_ handle: Handle) {
        nodes[handle].older = newest
        nodes[handle].newer = -1
        if newest >= 0 { nodes[newest].newer = handle } else { oldest = handle }
        newest = handle
    }
}

extension LRUTable: Sendable where Value: Sendable {}
extension LRUTable.Node: Sendable where Value: Sendable {}
