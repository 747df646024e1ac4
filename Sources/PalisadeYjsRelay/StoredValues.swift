import PalisadeDocuments
import PalisadeYjs

/// The value counts (`YjsUpdate.valueCount`) of a stored document's parts, for its memory budget.
enum StoredValues {
    /// The snapshot's count and each logged update's, read with `limits` (the stored limits).
    /// A part that does not decode counts its byte size, a bound on the count of anything it could hold.
    static func of(_ stored: StoredDocument?, limits: YjsDecodingLimits) -> (snapshot: Int, log: [Int]) {
        guard let stored else { return (0, []) }
        let snapshot = stored.snapshot.map { count(of: $0, limits: limits) } ?? 0
        return (snapshot, stored.updates.map { count(of: $0.bytes, limits: limits) })
    }

    private static func count(of bytes: [UInt8], limits: YjsDecodingLimits) -> Int {
        (try? YjsUpdate.decode(bytes, limits: limits).valueCount) ?? bytes.count
    }
}
