/// Where `RedisDocumentStore` keeps a document: Open WebUI 0.12.4's layout (`YdocManager`) where it
/// has keys, under `K = {prefix}:ydoc:documents`, with the document id as it is (colons included):
///
/// | key | type | content |
/// | --- | --- | --- |
/// | `K:{doc}:updates` | LIST | each element the JSON text of an int array (one Yjs v1 update); after a compaction the first is the snapshot |
/// | `K:{doc}:size` | STRING int | bytes of every element (decoded), as Open WebUI counts them |
/// | `K:{doc}:users` | SET | sids of the document's editors, on every instance |
/// | `K:session:{sid}:documents` | SET | the documents of a sid (Open WebUI's reverse index) |
/// | `K:{doc}:snapshot_sequence` | STRING int | Palisade: the sequence number the list's first element covers once compacted (absent: no snapshot, element i is update i+1) |
/// | `K:{doc}:log_size` | STRING int | Palisade: bytes of the updates after the snapshot (the compaction threshold) |
/// | `K:{doc}:writers` | SET | Palisade: sids of the editors that may write (`sessions`) |
/// | `K:{doc}:value_counts` | LIST | Palisade: each element's decoded values (`YjsUpdate.valueCount`), aligned with `updates` |
/// | `K:{doc}:values` | STRING int | Palisade: their sum, checked against `yjs.max_document_values` |
struct RedisDocumentKeys: Sendable {
    let root: String

    init(prefix: String) {
        root = "\(prefix):ydoc:documents"
    }

    func updates(_ id: String) -> String { "\(root):\(id):updates" }
    func size(_ id: String) -> String { "\(root):\(id):size" }
    func snapshotSequence(_ id: String) -> String { "\(root):\(id):snapshot_sequence" }
    func logSize(_ id: String) -> String { "\(root):\(id):log_size" }
    func users(_ id: String) -> String { "\(root):\(id):users" }
    func writers(_ id: String) -> String { "\(root):\(id):writers" }
    func valueCounts(_ id: String) -> String { "\(root):\(id):value_counts" }
    func values(_ id: String) -> String { "\(root):\(id):values" }
    func documents(ofSession sid: String) -> String { "\(root):session:\(sid):documents" }

    /// The keys every script of a document takes, in this order: KEYS[1…6].
    func log(_ id: String) -> [String] {
        [updates(id), size(id), snapshotSequence(id), logSize(id), valueCounts(id), values(id)]
    }
}
