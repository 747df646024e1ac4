/// The Yjs relay's limits and storage knobs (config section `yjs`).
public struct YjsSettings: Sendable, Equatable {
    /// Largest single update, in bytes (the decoded bytes, not the JSON text).
    public var maxUpdateBytes: Int = 1 << 20
    /// Largest document: its snapshot plus its log, in bytes. An update past it is refused. The relay
    /// keeps documents to half of `maxOutboundBytes` too, so that every joiner can be sent the state.
    public var maxDocumentBytes: Int = 2 << 20
    /// Most decoded values (structs, content elements, delete ranges) in one document: what a document
    /// costs in memory when it is merged (a few hundred bytes each), however few bytes encode them.
    public var maxDocumentValues: Int = 200_000
    /// Documents one connection may have joined at once.
    public var maxDocumentsPerConnection: Int = 20
    /// Largest awareness message, in bytes.
    public var maxAwarenessBytes: Int = 32 << 10
    /// Awareness messages per second per connection; bursts of the same size pass.
    /// Open WebUI's client sends at most 10 per second.
    public var awarenessPerSecond: Int = 20
    /// The log is merged into the snapshot once it holds this many updates…
    public var compactAfterUpdates: Int = 500
    /// …or this many bytes.
    public var compactAfterBytes: Int = 1 << 20
    /// Documents nobody wrote for this many days are deleted; 0 keeps them forever.
    public var retentionDays: Int = 0
    /// Content snapshots (`data.content`) wait this long for a newer one before `document_content` runs.
    public var contentDebounceMs: Int = 500

    public init() {}
}
