/// A binary min-heap of (deadline, key): the store's index of keys by expiry, for the sweep
/// (pop what is due) and for eviction (pop what is closest to expiry).
///
/// Items are never updated in place. When a key is overwritten or deleted its old item stays and
/// is recognised as stale when popped (its deadline no longer matches the entry); the store
/// rebuilds the heap when stale items outnumber live ones.
struct ExpiryHeap: Sendable {
    struct Item: Sendable {
        let deadline: Int64
        let key: ByteKey
    }

    private var items: [Item] = []

    init() {}

    /// Builds a heap from unordered items in O(n).
    init(_ items: [Item]) {
        self.items = items
        var index = items.count / 2 - 1
        while index >= 0 {
            siftDown(index)
            index -= 1
        }
    }

    var count: Int { items.count }
    var min: Item? { items.first }

    mutating func push(_ item: Item) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].deadline < items[parent].deadline else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func popMin() -> Item? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let item = items.removeLast()
        siftDown(0)
        return item
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { return }
            let right = left + 1
            let smaller = right < items.count && items[right].deadline < items[left].deadline ? right : left
            guard items[smaller].deadline < items[parent].deadline else { return }
            items.swapAt(smaller, parent)
            parent = smaller
        }
    }
}
