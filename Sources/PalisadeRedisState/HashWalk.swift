import NIOCore
import PalisadeState

/// Walks a hash of the store in `HSCAN` pages, one page at a time: `visit` answers for each
/// page (its work done) before the next is asked for, so a large pool is never held whole
/// and the loop is free between pages.
public struct HashWalk: Sendable {
    public let store: any StateStore
    public let key: String
    /// Fields asked for per page (`HSCAN … COUNT`).
    public var pageSize = 200

    public init(store: any StateStore, key: String, pageSize: Int = 200) {
        self.store = store
        self.key = key
        self.pageSize = pageSize
    }

    /// Sums what `visit` answers over every page.
    public func run(
        on loop: any EventLoop, visit: @escaping @Sendable ([HashField]) -> EventLoopFuture<Int>
    ) -> EventLoopFuture<Int> {
        page(cursor: "0", total: 0, on: loop, visit: visit)
    }

    private func page(
        cursor: String, total: Int, on loop: any EventLoop, visit: @escaping @Sendable ([HashField]) -> EventLoopFuture<Int>
    ) -> EventLoopFuture<Int> {
        store.hscan(key, cursor: cursor, count: pageSize, on: loop).flatMap { page in
            visit(page.fields).flatMap { count in
                page.isLast
                    ? loop.makeSucceededFuture(total + count)
                    : self.page(cursor: page.cursor, total: total + count, on: loop, visit: visit)
            }
        }
    }
}
