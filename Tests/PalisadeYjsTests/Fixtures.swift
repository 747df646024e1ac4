import Foundation  // Tests only: reading the fixture file.

/// One update made by pycrdt (`Fixtures/make_fixtures.py`), with the state vector pycrdt reported.
struct YjsFixture: Sendable, CustomStringConvertible {
    let name: String
    let update: [UInt8]
    let stateVector: [UInt64: UInt64]

    var description: String { name }

    static let directory: String = {
        let file = #filePath
        return String(file[..<file.lastIndex(of: "/")!]) + "/Fixtures"
    }()

    /// All fixtures of updates.json. A missing or malformed file is a broken checkout: stop loudly.
    static let all: [YjsFixture] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: directory + "/updates.json"))
        let list = try! JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return list.map { entry in
            let bytes = (entry["update"] as! [NSNumber]).map { UInt8($0.intValue) }
            var vector: [UInt64: UInt64] = [:]
            for (client, clock) in entry["state_vector"] as! [String: NSNumber] {
                vector[UInt64(client)!] = clock.uint64Value
            }
            return YjsFixture(name: entry["name"] as! String, update: bytes, stateVector: vector)
        }
    }()
}
