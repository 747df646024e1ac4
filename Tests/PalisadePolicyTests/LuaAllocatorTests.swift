import CLua
import CPalisadeShims
import Testing

@testable import PalisadePolicy

/// The Lua states' allocator (`px_memory_alloc`): small blocks come back from per-class free
/// lists, every block keeps its bytes across a resize, and `used` and the cap count exactly
/// what Lua asked for.
@Suite struct LuaAllocatorTests {
    /// A fresh allocator state with `cap` (0: none); released and freed after `body`.
    private func withMemory<T>(cap: Int = 0, _ body: (UnsafeMutablePointer<px_memory>) throws -> T) rethrows -> T {
        let memory = UnsafeMutablePointer<px_memory>.allocate(capacity: 1)
        var empty = px_memory()
        empty.cap = cap
        empty.enforcing = 1  // as while Lua runs
        memory.initialize(to: empty)
        defer {
            px_memory_release(memory)
            memory.deallocate()
        }
        return try body(memory)
    }

    private func allocate(_ memory: UnsafeMutablePointer<px_memory>, _ size: Int) -> UnsafeMutableRawPointer {
        px_memory_alloc(memory, nil, 0, size)!
    }

    private func free(_ memory: UnsafeMutablePointer<px_memory>, _ block: UnsafeMutableRawPointer, _ size: Int) {
        #expect(px_memory_alloc(memory, block, size, 0) == nil)
    }

    private func fill(_ block: UnsafeMutableRawPointer, _ size: Int, seed: UInt8) {
        for offset in 0..<size { block.storeBytes(of: seed &+ UInt8(truncatingIfNeeded: offset), toByteOffset: offset, as: UInt8.self) }
    }

    private func holds(_ block: UnsafeMutableRawPointer, _ size: Int, seed: UInt8) -> Bool {
        (0..<size).allSatisfy { block.load(fromByteOffset: $0, as: UInt8.self) == seed &+ UInt8(truncatingIfNeeded: $0) }
    }

    private func pooled(_ memory: UnsafeMutablePointer<px_memory>, class index: Int) -> UInt32 {
        withUnsafeBytes(of: &memory.pointee.pooled) { $0.load(fromByteOffset: index * 4, as: UInt32.self) }
    }

    /// A burst of frees (a collection's sweep) is taken back in full by the next allocations of
    /// the class: every block handed out again is one that was freed. (glibc's cache keeps 7.)
    @Test func freedBlocksAreHandedOutAgain() {
        withMemory { memory in
            let blocks = (0..<200).map { _ in allocate(memory, 56) }
            for block in blocks { free(memory, block, 56) }
            #expect(pooled(memory, class: 3) == 200)
            let again = (0..<200).map { _ in allocate(memory, 49) }  // 49...64 is the same class
            #expect(Set(again).symmetricDifference(blocks).isEmpty)
            #expect(pooled(memory, class: 3) == 0)
            for block in again { free(memory, block, 49) }
        }
    }

    /// A class keeps at most PX_POOL_KEEP_BYTES of free blocks; the rest go back to malloc.
    @Test func freeListsAreBounded() {
        withMemory { memory in
            let blocks = (0..<3000).map { _ in allocate(memory, 32) }
            for block in blocks { free(memory, block, 32) }
            #expect(pooled(memory, class: 1) == UInt32(Int(PX_POOL_KEEP_BYTES) / 32))
            px_memory_release(memory)
            #expect(pooled(memory, class: 1) == 0)
        }
    }

    /// Growing and shrinking across classes and past PX_POOL_MAX keeps the bytes both sizes
    /// share; a resize within a class keeps the block.
    @Test func resizesKeepTheirBytes() {
        withMemory { memory in
            let sizes = [1, 15, 16, 17, 40, 48, 100, 511, 512, 513, 1000, 4096, 300, 64, 8, 700, 2]
            var block = allocate(memory, sizes[0])
            fill(block, sizes[0], seed: 7)
            for (old, new) in zip(sizes, sizes.dropFirst()) {
                let moved = px_memory_alloc(memory, block, old, new)!
                if (old - 1) / 16 == (new - 1) / 16, old <= 512, new <= 512 { #expect(moved == block) }
                #expect(holds(moved, min(old, new), seed: 7), "\(old) → \(new)")
                fill(moved, new, seed: UInt8(truncatingIfNeeded: new))
                #expect(holds(moved, new, seed: UInt8(truncatingIfNeeded: new)))
                block = moved
                fill(block, new, seed: 7)
            }
            free(memory, block, sizes.last!)
            #expect(memory.pointee.used == 0)
        }
    }

    /// `used` is what Lua asked for (not the rounded class sizes), and the cap refuses growth
    /// past it without touching the block or the count.
    @Test func usedCountsRequestedBytesAndTheCapRefuses() {
        withMemory(cap: 1000) { memory in
            let a = allocate(memory, 100)
            let b = allocate(memory, 33)
            #expect(memory.pointee.used == 133)
            fill(b, 33, seed: 1)
            #expect(px_memory_alloc(memory, b, 33, 950) == nil)
            #expect(memory.pointee.refused == 1 && memory.pointee.used == 133 && holds(b, 33, seed: 1))
            let c = px_memory_alloc(memory, b, 33, 20)!  // shrinking is never refused
            #expect(memory.pointee.used == 120 && holds(c, 20, seed: 1))
            free(memory, a, 100)
            free(memory, c, 20)
            #expect(memory.pointee.used == 0)
        }
    }

    /// In a real state (with Lua's full libraries, for `collectgarbage`) the count matches
    /// Lua's own after a workload of strings and tables of every size, grown and collected.
    @Test func aStateCountsWhatLuaCounts() throws {
        try withMemory { memory in
            let L = try #require(px_newstate(memory))
            defer { lua_close(L) }
            luaL_openlibs(L)
            let workload = """
                local kept = {}
                for round = 1, 20 do
                  local t = {}
                  for i = 1, round * 37 do t[i] = string.rep("x", i % 700) .. i end
                  kept[round % 5] = { t, table.concat(t, ",", 1, math.min(50, #t)) }
                  collectgarbage("step", 10)
                end
                collectgarbage()
                assert(#kept[1][2] > 0)
                return collectgarbage("count") * 1024
                """
            #expect(luaL_loadstring(L, workload) == LUA_OK)
            #expect(lua_pcallk(L, 0, 1, 0, 0, nil) == LUA_OK)
            #expect(memory.pointee.used > 100_000)
            #expect(lua_tonumberx(L, -1, nil) == Double(memory.pointee.used))
        }
    }
}
