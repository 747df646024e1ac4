import Logging
import PalisadeJSON

extension Logger.Metadata {
    /// Audit or alert fields as log metadata: strings as they are, other values as JSON text.
    package init(logging fields: [JSONMember]) {
        self.init(minimumCapacity: fields.count + 1)
        for field in fields {
            self[field.key] = "\(field.value.stringValue ?? JSONWriter.string(field.value))"
        }
    }
}
