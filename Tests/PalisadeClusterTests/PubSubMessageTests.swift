import NIOCore
import PalisadeJSON
import Testing

@testable import PalisadeCluster

/// The pub/sub JSON against python-socketio 5.16.2's (`async_pubsub_manager.py`), as Open WebUI 0.12.4
/// publishes it (reference §3.3). The expected texts are what `orjson.dumps` writes for psio's dicts.
@Suite("python-socketio pub/sub messages")
struct PubSubMessageTests {
    private func text(_ message: PubSubMessage) -> String { String(buffer: message.encoded()) }

    private func decode(_ text: String) -> PubSubMessage? { PubSubMessage(decoding: ByteBuffer(string: text)) }

    @Test func anEmitToOneRoomIsWrittenAsPythonSocketIOWritesIt() {
        let emit = PubSubMessage.Emit(
            event: "events", arguments: [.object(["chat_id": .string("c1"), "n": JSONValue(2)])], room: .one("user:42"),
            skip: ["sid1"], hostID: "0123456789abcdef0123456789abcdef")
        #expect(
            text(.emit(emit))
                == #"{"method":"emit","event":"events","data":[{"chat_id":"c1","n":2}],"binary":false,"namespace":"/","room":"user:42","#
                + #""skip_sid":"sid1","callback":null,"host_id":"0123456789abcdef0123456789abcdef"}"#)
    }

    @Test func aBroadcastToEveryoneHasNullRoomAndSkip() {
        let emit = PubSubMessage.Emit(event: "e", arguments: [.string("a"), .string("b")], room: .everyone, hostID: "h")
        #expect(
            text(.emit(emit))
                == #"{"method":"emit","event":"e","data":["a","b"],"binary":false,"namespace":"/","room":null,"skip_sid":null,"#
                + #""callback":null,"host_id":"h"}"#)
    }

    @Test func binaryAttachmentsArePlaceholdersAndBase64() {
        let bytes = ByteBuffer(bytes: [0, 1, 2, 255])
        let emit = PubSubMessage.Emit(
            event: "bin", arguments: [.object(["blob": .binary(bytes)]), .string("x")], room: .one("r"), hostID: "h")
        let expected =
            #"{"method":"emit","event":"bin","data":[[{"blob":{"_placeholder":true,"num":0}},"x"],"AAEC/w=="],"binary":true,"#
            + #""namespace":"/","room":"r","skip_sid":null,"callback":null,"host_id":"h"}"#
        #expect(text(.emit(emit)) == expected)
        #expect(decode(expected) == .emit(emit))
    }

    @Test func theCallbackCarriesTheOriginHostAndTheAnswer() {
        let callback = PubSubMessage.Callback(hostID: "origin", sid: "abc", namespace: "/", id: JSONValue(7), arguments: [.string("ok")])
        #expect(text(.callback(callback)) == #"{"method":"callback","host_id":"origin","sid":"abc","namespace":"/","id":7,"args":["ok"]}"#)
    }

    @Test func roomMethodsAreWrittenInPythonSocketIOsOrder() {
        #expect(
            text(.disconnect(sid: "s", namespace: "/", hostID: "h")) == #"{"method":"disconnect","sid":"s","namespace":"/","host_id":"h"}"#)
        #expect(
            text(.enterRoom(sid: "s", room: "r", namespace: "/", hostID: "h"))
                == #"{"method":"enter_room","sid":"s","room":"r","namespace":"/","host_id":"h"}"#)
        #expect(
            text(.leaveRoom(sid: "s", room: "r", namespace: "/", hostID: "h"))
                == #"{"method":"leave_room","sid":"s","room":"r","namespace":"/","host_id":"h"}"#)
        #expect(
            text(.closeRoom(room: "r", namespace: "/", hostID: "h")) == #"{"method":"close_room","room":"r","namespace":"/","host_id":"h"}"#
        )
    }

    /// What stdlib `json.dumps` writes (Open WebUI with `ENABLE_ORJSON=False`): spaces after separators.
    @Test func aSioCallEmitFromStdlibJSONIsRead() {
        let text =
            #"{"method": "emit", "event": "execute:tool", "data": [{"a": 1}], "binary": false, "namespace": "/", "room": "SID", "#
            + #""skip_sid": null, "callback": ["SID", "/", 3], "host_id": "py"}"#
        let expected = PubSubMessage.Emit(
            event: "execute:tool", arguments: [.object(["a": JSONValue(1)])], room: .one("SID"),
            callback: .init(room: "SID", namespace: "/", id: JSONValue(3)), hostID: "py")
        #expect(decode(text) == .emit(expected))
    }

    @Test func skipSidMayBeAListAndRoomAList() {
        let text = #"{"method":"emit","event":"e","data":["a"],"namespace":"/","room":["r1","r2"],"skip_sid":["s1","s2"],"host_id":"h"}"#
        guard case .emit(let emit)? = decode(text) else { return #expect(Bool(false)) }
        #expect(emit.room == .many(["r1", "r2"]))
        #expect(emit.skip == ["s1", "s2"])
        #expect(emit.callback == nil)
    }

    @Test func aNonListDataIsOneArgumentAndAMissingNamespaceIsTheDefault() {
        guard case .emit(let emit)? = decode(#"{"method":"emit","event":"e","data":"only","host_id":"h"}"#) else {
            return #expect(Bool(false))
        }
        #expect(emit.arguments == [.string("only")])
        #expect(emit.namespace == "/")
        #expect(emit.room == .everyone)
    }

    @Test func messagesThatAreNotPythonSocketIOsAreIgnored() {
        #expect(decode("not json") == nil)
        #expect(decode(#"{"event":"e"}"#) == nil)
        #expect(decode(#"{"method":"publish"}"#) == nil)
        #expect(decode(#"{"method":"emit","data":[]}"#) == nil)
        #expect(decode(#"{"method":"callback","sid":"s","id":1,"args":[]}"#) == nil)
        // A placeholder without its attachment, and an attachment that is not base64.
        #expect(decode(#"{"method":"emit","event":"e","binary":true,"data":[[{"_placeholder":true,"num":1}],"AA=="]}"#) == nil)
        #expect(decode(#"{"method":"emit","event":"e","binary":true,"data":[[1],"@@@"]}"#) == nil)
    }

    @Test func everyMessageRoundTrips() {
        let messages: [PubSubMessage] = [
            .emit(
                .init(
                    event: "e", arguments: [.null, .bool(true)], namespace: "/x", room: .many(["a", "b"]), skip: ["s", "t"], hostID: "h")),
            .callback(.init(hostID: "h", sid: "s", namespace: "/", id: .string("id"), arguments: [])),
            .disconnect(sid: "s", namespace: "/", hostID: nil),
            .enterRoom(sid: "s", room: "r#1", namespace: "/", hostID: "h"),
            .leaveRoom(sid: "s", room: "r", namespace: "/", hostID: "h"),
            .closeRoom(room: "r", namespace: "/", hostID: "h"),
        ]
        for message in messages { #expect(PubSubMessage(decoding: message.encoded()) == message) }
    }
}

@Suite("Room channels")
struct RoomChannelTests {
    @Test func channelNamesAreOpenWebUIs() {
        let settings = RedisRoomAdapterSettings()
        #expect(settings.roomChannel("user:2f0c", namespace: "/") == "socketio#/#user:2f0c")
        #expect(settings.roomChannel("a#b", namespace: "/ns") == "socketio#/ns#a#b")
    }

    @Test func theSettingFollowsOpenWebUIsParsing() {
        #expect(RedisRoomAdapterSettings.roomChannels(fromEnvironmentValue: nil))
        #expect(RedisRoomAdapterSettings.roomChannels(fromEnvironmentValue: "True"))
        #expect(!RedisRoomAdapterSettings.roomChannels(fromEnvironmentValue: "false"))
        #expect(!RedisRoomAdapterSettings.roomChannels(fromEnvironmentValue: "1"))
    }

    @Test func aChannelIsSubscribedOnTheFirstMemberAndUnsubscribedAfterTheLast() {
        var subscriptions = ChannelSubscriptions()
        #expect(subscriptions.add("c") == .subscribe("c"))
        #expect(subscriptions.add("c") == nil)
        #expect(subscriptions.remove("c") == nil)
        #expect(subscriptions.remove("c") == .unsubscribe("c"))
        #expect(subscriptions.remove("c") == nil)
        #expect(subscriptions.channels.isEmpty)
    }
}
