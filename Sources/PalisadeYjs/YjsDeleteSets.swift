/// Delete-set algorithms: union (Yjs's `mergeDeleteSets` + `sortAndMergeDeleteSet`) and lookup.
enum YjsDeleteSets {
    /// The union of delete sets: per client, ranges sorted by clock with overlapping or touching ranges
    /// joined; clients in descending order; clients without ranges dropped. Independent of input order.
    static func union(_ sets: [[YjsDeleteSetEntry]]) -> [YjsDeleteSetEntry] {
        var byClient: [UInt64: [YjsDeleteRange]] = [:]
        for set in sets {
            for entry in set where !entry.ranges.isEmpty {
                byClient[entry.client, default: []].append(contentsOf: entry.ranges)
            }
        }
        return byClient.keys.sorted(by: >).map { client in
            YjsDeleteSetEntry(client: client, ranges: joined(byClient[client]!))
        }
    }

    /// Sorted by clock, overlapping or touching ranges joined.
    static func joined(_ ranges: [YjsDeleteRange]) -> [YjsDeleteRange] {
        var result: [YjsDeleteRange] = []
        result.reserveCapacity(ranges.count)
        for range in ranges.sorted(by: { $0.clock < $1.clock }) {
            if let last = result.last, last.clock + last.length >= range.clock {
                let end = max(last.clock + last.length, range.clock + range.length)
                result[result.count - 1].length = end - last.clock
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// Answers "is this whole clock range deleted?" over a joined delete set in O(log n).
    struct Index {
        private let byClient: [UInt64: [YjsDeleteRange]]

        /// `entries` must be joined (as `union` returns them).
        init(joined entries: [YjsDeleteSetEntry]) {
            var byClient: [UInt64: [YjsDeleteRange]] = [:]
            for entry in entries { byClient[entry.client] = entry.ranges }
            self.byClient = byClient
        }

        func covers(client: UInt64, clock: UInt64, length: UInt64) -> Bool {
            guard let ranges = byClient[client] else { return false }
            // The last range starting at or before `clock`: joined ranges are disjoint, so it alone can cover.
            var low = 0
            var high = ranges.count
            while low < high {
                let middle = (low + high) / 2
                if ranges[middle].clock <= clock { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { return false }
            let range = ranges[low - 1]
            return range.clock + range.length >= clock + length
        }
    }
}
