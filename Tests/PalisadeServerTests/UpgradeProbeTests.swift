import Testing

@testable import PalisadeServer

/// The upgrade's rules with plain objects for transports: what the session is told to do.
@Suite struct UpgradeProbeTests {
    private final class Transport {}

    private func describe(_ action: UpgradeProbe<Transport>.Action?) -> String {
        switch action {
        case .refuse?: "refuse"
        case .armDeadline?: "arm"
        case .answerProbe?: "answer"
        case .complete?: "complete"
        case .abandon?: "abandon"
        case nil: "nothing"
        }
    }

    @Test func probePingThenUpgradeCompletes() {
        var upgrade = UpgradeProbe<Transport>()
        let socket = Transport()
        let action1 = describe(upgrade.arrived(socket, canUpgrade: true))
        #expect(action1 == "arm")
        #expect(upgrade.isProbe(socket) && !upgrade.isAnswered)
        let action2 = describe(upgrade.received(isProbePing: true, isUpgrade: false))
        #expect(action2 == "answer")
        #expect(upgrade.isAnswered, "pending GETs now get a noop")
        let action3 = describe(upgrade.received(isProbePing: false, isUpgrade: true))
        #expect(action3 == "complete")
        #expect(!upgrade.isProbe(socket) && !upgrade.isAnswered)
    }

    @Test func anUpgradeBeforeTheProbeAnswerOrAnythingElseAbandons() {
        for (ping, upgradePacket) in [(false, true), (false, false)] {
            var upgrade = UpgradeProbe<Transport>()
            _ = upgrade.arrived(Transport(), canUpgrade: true)
            let action4 = describe(upgrade.received(isProbePing: ping, isUpgrade: upgradePacket))
            #expect(action4 == "abandon")
        }
        var upgrade = UpgradeProbe<Transport>()
        _ = upgrade.arrived(Transport(), canUpgrade: true)
        _ = upgrade.received(isProbePing: true, isUpgrade: false)
        let action5 = describe(upgrade.received(isProbePing: true, isUpgrade: false))
        #expect(action5 == "abandon", "a second 2probe")
    }

    @Test func aSecondSocketOrASessionThatCannotUpgradeIsRefused() {
        var upgrade = UpgradeProbe<Transport>()
        let refused = describe(upgrade.arrived(Transport(), canUpgrade: false))
        #expect(refused == "refuse")
        _ = upgrade.arrived(Transport(), canUpgrade: true)
        let second = describe(upgrade.arrived(Transport(), canUpgrade: true))
        #expect(second == "refuse")
    }

    @Test func theDeadlineOrTheProbesCloseEndsTheAttempt() {
        var upgrade = UpgradeProbe<Transport>()
        let socket = Transport()
        _ = upgrade.arrived(socket, canUpgrade: true)
        let action6 = describe(upgrade.deadlinePassed())
        #expect(action6 == "abandon")
        let action7 = describe(upgrade.deadlinePassed())
        #expect(action7 == "nothing")
        _ = upgrade.arrived(socket, canUpgrade: true)
        let result8 = upgrade.closed(Transport())
        #expect(!result8, "another socket's close is not the probe's")
        let result9 = upgrade.closed(socket)
        #expect(result9)
        let result10 = upgrade.end()
        #expect(result10 == nil)
        _ = upgrade.arrived(socket, canUpgrade: true)
        let result11 = upgrade.end()
        #expect(result11 === socket)
    }
}
