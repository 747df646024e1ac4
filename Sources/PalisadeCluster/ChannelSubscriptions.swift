/// How many local members each room channel has, and so when to SUBSCRIBE (the first member) and
/// UNSUBSCRIBE (the last one leaves). A plain value; `RedisRoomAdapter` keeps it under a lock.
struct ChannelSubscriptions {
    enum Change: Equatable {
        case subscribe(String)
        case unsubscribe(String)
    }

    private var members: [String: Int] = [:]

    /// A local member entered `channel`'s room.
    mutating func add(_ channel: String) -> Change? {
        members[channel, default: 0] += 1
        return members[channel] == 1 ? .subscribe(channel) : nil
    }

    /// A local member left `channel`'s room. A leave without a join (it cannot happen through
    /// `Socket`, which joins and leaves each room once) changes nothing.
    mutating func remove(_ channel: String) -> Change? {
        guard let count = members[channel] else { return nil }
        if count > 1 {
            members[channel] = count - 1
            return nil
        }
        members.removeValue(forKey: channel)
        return .unsubscribe(channel)
    }

    var channels: Set<String> { Set(members.keys) }
}
