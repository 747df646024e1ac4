import PalisadeState
import Synchronization

/// A clock the test moves by hand, readable from any thread. Starts at 1,000,000 ms, a multiple
/// of every bucket length the tests use, so bucket edges fall on round numbers.
final class ManualClock: Sendable {
    static let start: Int64 = 1_000_000

    private let current = Atomic<Int64>(ManualClock.start)

    var now: Int64 { current.load(ordering: .sequentiallyConsistent) }

    func advance(by milliseconds: Int64) {
        current.wrappingAdd(milliseconds, ordering: .sequentiallyConsistent)
    }

    func set(_ milliseconds: Int64) {
        current.store(milliseconds, ordering: .sequentiallyConsistent)
    }

    var stateClock: StateClock { StateClock { [self] in now } }
}
