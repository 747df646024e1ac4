import Testing

@testable import PalisadePolicy

@Suite struct HookTableTests {
    /// Each hook has its own slot: an index repeated by mistake would mix two hooks' modules.
    @Test func everyHookIndexIsItsPositionInAllCases() {
        for (position, hook) in HookName.allCases.enumerated() {
            #expect(hook.index == position, "\(hook)")
        }
    }

    @Test func functionsStayWithTheirHookInModuleOrder() {
        var table = HookTable()
        table.append(("a", 1), to: .event)
        table.append(("b", 2), to: .connect)
        table.append(("c", 3), to: .event)
        #expect(table[.event]?.map(\.module) == ["a", "c"])
        #expect(table[.connect]?.map(\.function) == [2])
        #expect(table[.handshake] == nil, "a hook no module has is nil")
    }
}
